import Foundation
import Testing
@testable import Recur

/// Keras's `Normalization` preprocessing layer: a Keras model with adapted, given and inverted
/// statistics (scripts/make_keras_normalization_fixtures.py), `adapt(_:)` against Keras's, files both
/// ways and the refusals.
@Suite("Normalization")
struct NormalizationTests {
    @Test func kerasModelMatchesKeras() throws {
        try expectParityModelMatchesKeras("normalization_adapted")
    }

    /// `adapt(_:)` learns Keras's mean and (population) variance, per feature and per (step, feature),
    /// and leaves `count` as Keras 3 does.
    @Test func adaptMatchesKeras() throws {
        let arrays = try NumpyFile.loadNpz(path: ParityFixtures.path("normalization_adapted.npz"))
        for (k, axes) in [[-1], [1, 2]].enumerated() {
            let layer = Normalization(axes: axes)
            try layer.adapt(try #require(arrays["adapt_\(k)"]))
            expectClose(try #require(layer.mean).value, try #require(arrays["mean_\(k)"]), "mean \(k)")
            expectClose(try #require(layer.variance).value, try #require(arrays["variance_\(k)"]), tolerance: 1e-4, "variance \(k)")
            #expect(layer.count?.value.scalar == arrays["count_\(k)"]?.scalar)
            // Adapted data comes out standardized: mean 0, variance 1 per kept position.
            let y = try layer.run(LayerInput([try #require(arrays["adapt_\(k)"])])).tensors[0]
            #expect(abs(y.mean().scalar) < 1e-5)
        }
    }

    @Test func refusals() throws {
        #expect(throws: RecurError.self) { try Normalization(axes: [3]).buildIfNeeded(inputShapes: [[nil, 5, 3]]) }
        #expect(throws: RecurError.self) { try Normalization(axes: [1]).buildIfNeeded(inputShapes: [[nil, nil, 3]]) }
        #expect(throws: RecurError.self) {
            try Normalization(mean: Tensor([1, 2]), variance: Tensor([1, 2])).buildIfNeeded(inputShapes: [[nil, 5, 3]])
        }
        #expect(throws: RecurError.self) { try Normalization(mean: Tensor(1), variance: Tensor(1)).adapt(Tensor.zeros([2, 3])) }
        let bad: [JSONValue] = [.array([.number(1), .array([.number(2)])]), .string("mean"), .array([]), .number(.infinity)]
        for mean in bad {
            #expect(throws: RecurError.self) {
                try KerasLayerRegistry.layer(className: "Normalization", config: ["mean": mean, "variance": mean])
            }
        }
    }

    /// With RECUR_KERAS_EXPORT_DIR set, writes the model as Recur saves it, for `--check-recur DIR`.
    @Test(.enabled(if: kerasExportDirectory != nil))
    func exportForKerasCheck() throws {
        let (model, inputs, _) = try ParityFixtures.model("normalization_adapted")
        try writeForKerasCheck([("normalization_adapted", model, inputs)], to: kerasExportDirectory!)
    }
}
