import Foundation
import Testing
@testable import Recur

/// Keras's GroupNormalization, UnitNormalization and RMSNormalization, LayerNormalization over any
/// axes, Rescaling and ActivityRegularization: the layer fixtures (layers/groupnorm_*.json and kin,
/// KerasLayerFixtureTests) and the trained model (RegularizationTests) compare them with Keras; here
/// are what those cannot show: files both ways, edge values and the refusals.
@Suite("Normalization layers")
struct NormalizationLayerTests {
    /// Recur's file of Keras's model keeps every layer's config and predicts alike.
    @Test func filesRoundTrip() throws {
        let model = try loadModel(path: ParityFixtures.path("regularized_normalizations.keras"))
        let x = try #require(try NumpyFile.loadNpz(path: ParityFixtures.path("regularized_normalizations.npz"))["input_0"])
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.keras").path
        try model.save(to: path)
        let reloaded = try loadModel(path: path)
        for (a, b) in zip(model.layers, reloaded.layers) where !(a is InputLayer) {
            #expect(try a.kerasConfig() == b.kerasConfig(), "\(a.name)")
        }
        expectClose(try reloaded.predict(x), try model.predict(x), tolerance: 0, "reloaded predictions")
        let regularization = try #require(reloaded.layers.first { $0 is ActivityRegularization } as? ActivityRegularization)
        #expect(regularization.activityRegularizer == .l1l2(l1: 0.01, l2: 0.05))
        let entry = try KerasLayerRegistry.entry(of: regularization)
        #expect(entry["config"]?["activity_regularizer"] == nil, "Keras's ActivityRegularization takes l1 and l2, not activity_regularizer")
        let rescaling = try #require(reloaded.layers.first { $0 is Rescaling } as? Rescaling)
        #expect(rescaling.scale.scalars == [0.5, 2, -1, 1.5] && rescaling.offset.shape == [4])
    }

    /// An all-zero vector stays zero (its inverse norm capped at 10¹², as Keras's), and a unit one unchanged.
    @Test func unitNormalizationEdgeValues() throws {
        let x = try Tensor(shape: [2, 3], scalars: [0, 0, 0, 3, 0, 4])
        let y = try UnitNormalization().run(LayerInput([x])).tensors[0]
        #expect(y.scalars == [0, 0, 0, 0.6, 0, 0.8])
    }

    /// Shapes and arguments Keras refuses, refused with the layer's name and the values.
    @Test func refusals() throws {
        let groups = thrownMessage { _ = try GroupNormalization(groups: 3, name: "gn").outputs([Input(shape: [5, 4])]) }
        #expect(groups.contains("gn") && groups.contains("3 groups") && groups.contains("(None, 5, 4)"), "\(groups)")
        let batchAxis = thrownMessage { _ = try GroupNormalization(groups: 1, axis: 0, name: "gn0").outputs([Input(shape: [5, 4])]) }
        #expect(batchAxis.contains("gn0") && batchAxis.contains("batch axis"), "\(batchAxis)")
        let unknown = thrownMessage { _ = try GroupNormalization(groups: 2, axis: 1, name: "gn1").outputs([Input(shape: [nil, 4])]) }
        #expect(unknown.contains("gn1") && unknown.contains("known size at axis 1"), "\(unknown)")
        let rms = thrownMessage { _ = try RMSNormalization(axes: [1], name: "rms").outputs([Input(shape: [5, 4])]) }
        #expect(rms.contains("rms") && rms.contains("only the last axes"), "\(rms)")
        let unit = thrownMessage { _ = try UnitNormalization(axes: [3], name: "un").outputs([Input(shape: [5, 4])]) }
        #expect(unit.contains("un") && unit.contains("rank 3"), "\(unit)")
        let scale = thrownMessage { _ = try Rescaling(scale: Tensor([1, 2, 3]), name: "rs").outputs([Input(shape: [5, 4])]) }
        #expect(scale.contains("rs") && scale.contains("(3,)") && scale.contains("(None, 5, 4)"), "\(scale)")
        let layerNorm = try LayerNormalization(axes: [1], name: "ln")
        _ = try layerNorm.outputs([Input(shape: [5, 4])])
        let wrongSize = thrownMessage { _ = try layerNorm.run(LayerInput([Tensor.zeros([2, 6, 4])])) }
        #expect(wrongSize.contains("ln") && wrongSize.contains("(..., 5, ...)") && wrongSize.contains("(2, 6, 4)"), "\(wrongSize)")

        func message(_ className: String, _ config: [String: JSONValue]) -> String {
            thrownMessage { _ = try KerasLayerRegistry.layer(className: className, config: config) }
        }
        #expect(message("GroupNormalization", ["groups": .number(0)]).contains("'groups'"))
        #expect(message("GroupNormalization", ["groups": .number(-2)]).contains("'groups'"))
        #expect(message("UnitNormalization", ["axis": .array([])]).contains("'axis'"))
        #expect(message("RMSNormalization", ["axis": .string("last")]).contains("'axis'"))
        #expect(message("Rescaling", [:]).contains("'scale'"))
        #expect(message("Rescaling", ["scale": .array([.number(1), .array([.number(2)])])]).contains("scale"))
        #expect(message("ActivityRegularization", ["l1": .string("a lot")]).contains("'l1'"))
    }

    /// With RECUR_KERAS_EXPORT_DIR set, writes the model as Recur saves it, for `--check-recur DIR`.
    @Test(.enabled(if: kerasExportDirectory != nil))
    func exportForKerasCheck() throws {
        let arrays = try NumpyFile.loadNpz(path: ParityFixtures.path("regularized_normalizations.npz"))
        let model = try loadModel(path: ParityFixtures.path("regularized_normalizations.keras"))
        try writeForKerasCheck([("regularized_normalizations", model, [try #require(arrays["input_0"])])], to: kerasExportDirectory!)
    }
}
