import Foundation
import Testing
@testable import Recur

@Suite("Metrics and losses match Keras")
struct MetricAndLossTests {
    static let accuracyCases: [String] = {
        (try? ParityFixtures.json("binary_accuracy.json"))?["cases"]?.array?.compactMap { $0["case"]?.string } ?? []
    }()

    /// `evaluate` with `metrics: ["accuracy"]` on every label/prediction shape Keras accepts, against
    /// Keras's own `evaluate` (labels (n,) against a sigmoid's (n, 1) used to broadcast to (n, n)).
    @Test(arguments: accuracyCases)
    func accuracyAndLossMatchKerasEvaluate(_ name: String) throws {
        let all = try ParityFixtures.json("binary_accuracy.json")["cases"]!.array!
        let c = all.first { $0["case"]?.string == name }!
        let spec = c["model"]!["layers"]!.array![0]
        let x = try c["x"]!.fixtureTensor, y = try c["y"]!.fixtureTensor
        let model = withFreshLayerNames {
            Sequential([Dense(spec["units"]!.int!, activation: Activation(rawValue: spec["activation"]!.string!)!)],
                           inputShape: spec["input_shape"]!.array!.map(\.int))
        }
        try model.setWeights(c["model"]!["weights"]!.array!.map { try $0.fixtureTensor })
        try model.compile(optimizer: SGD(), loss: lossNamed(c["compile"]!["loss"]!.string!), metrics: ["accuracy"])
        let logs = try model.evaluate(x, y, batchSize: x.shape[0], verbose: 0)
        let expected = c["evaluate"]!
        #expect(abs(logs["accuracy"]! - Float(expected["accuracy"]!.double!)) < 1e-6, "\(name): \(logs)")
        #expect(abs(logs["loss"]! - Float(expected["loss"]!.double!)) < 1e-6, "\(name): \(logs)")
    }

    @Test func mismatchedLabelsAreAnErrorNotABroadcast() throws {
        let p = try Tensor(shape: [4, 1], scalars: [0.9, 0.1, 0.8, 0.3])
        #expect(throws: RecurError.self) { _ = try Metric.binaryAccuracy.perSample(Tensor.zeros([3]), p) }
        #expect(throws: RecurError.self) { _ = try Metric.sparseCategoricalAccuracy.perSample(Tensor.zeros([4, 2]), Tensor.zeros([4, 3])) }
    }
}

@Suite("Sample and class weights match Keras")
struct SampleWeightTests {
    static func model(_ c: JSONValue) throws -> Model {
        let spec = c["model"]!["layers"]!.array![0]
        let model = withFreshLayerNames {
            Sequential([Dense(spec["units"]!.int!, activation: Activation(rawValue: spec["activation"]!.string!)!)],
                           inputShape: spec["input_shape"]!.array!.map(\.int))
        }
        try model.setWeights(c["model"]!["weights"]!.array!.map { try $0.fixtureTensor })
        try model.compile(optimizer: SGD(learningRate: 0.1), loss: lossNamed(c["compile"]!["loss"]!.string!),
                          metrics: ["accuracy"], weightedMetrics: ["accuracy"])
        return model
    }

    static func expectLogs(_ logs: Logs, _ expected: JSONValue, _ what: String) {
        for key in ["loss", "accuracy", "weighted_accuracy"] {
            let want = Float(expected[key]!.double!)
            #expect(logs[key].map { abs($0 - want) < 1e-6 } == true, "\(what) \(key): \(logs[key] ?? .nan) vs Keras \(want)")
        }
    }

    static func expectWeights(_ model: Model, _ expected: JSONValue, _ what: String) throws {
        for (w, k) in zip(model.getWeights(), try expected.array!.map { try $0.fixtureTensor }) {
            let worst = zip(w.scalars, k.scalars).map { abs($0 - $1) }.max() ?? 1
            #expect(worst < 1e-6, "\(what): weights differ from Keras by \(worst)")
        }
    }

    @Test(arguments: ["binary", "sparse"])
    func weightedLossesMetricsAndStepsMatchKeras(_ name: String) throws {
        let c = try ParityFixtures.json("sample_class_weights.json")["cases"]!.array!.first { $0["case"]?.string == name }!
        let x = try c["x"]!.fixtureTensor, y = try c["y"]!.fixtureTensor, sw = try c["sample_weight"]!.fixtureTensor
        let classWeight = Dictionary(uniqueKeysWithValues: c["class_weight"]!.object!.map { (Int($0.key)!, Float($0.value.double!)) })
        Self.expectLogs(try Self.model(c).evaluate(x, y, batchSize: 64, verbose: 0), c["evaluate"]!, "\(name) evaluate")
        Self.expectLogs(try Self.model(c).evaluate(x, y, batchSize: 64, sampleWeight: sw, verbose: 0), c["evaluate_sample_weight"]!, "\(name) evaluate(sampleWeight)")
        let byClass = try Self.model(c)
        Self.expectLogs(try byClass.trainOnBatch([x], [y], classWeight: classWeight), c["train_on_batch_class_weight"]!["result"]!, "\(name) trainOnBatch(classWeight)")
        try Self.expectWeights(byClass, c["train_on_batch_class_weight"]!["weights_after"]!, "\(name) classWeight step")
        let bySample = try Self.model(c)
        Self.expectLogs(try bySample.trainOnBatch([x], [y], sampleWeight: sw), c["train_on_batch_sample_weight"]!["result"]!, "\(name) trainOnBatch(sampleWeight)")
        try Self.expectWeights(bySample, c["train_on_batch_sample_weight"]!["weights_after"]!, "\(name) sampleWeight step")
        let fitted = try Self.model(c)
        let history = try fitted.fit(x, y, batchSize: 64, epochs: 1, shuffle: false, classWeight: classWeight, verbose: 0)
        #expect(abs((history.history["loss"]?.first ?? .nan) - Float(c["fit_class_weight_loss"]!.double!)) < 1e-6)
    }
}

/// `picking(alongLastAxis:)`, which the sparse cross-entropy reads a label's log-probability with:
/// the same values and gradients as the one-hot product it replaced, and refused labels.
@Suite("Picking along the last axis")
struct PickingTests {
    @Test func matchesTheOneHotProduct() throws {
        var g = SeededGenerator(seed: 8)
        let x = Tensor.randomUniform([2, 3, 5], low: -2, high: 2, generator: &g).requiringGradient()
        let labels = try Tensor(shape: [2, 3], scalars: [4, 0, 2, 1, 3, 4])
        let weights = Tensor.randomUniform([2, 3], low: -1, high: 1, generator: &g)
        let picked = try x.picking(alongLastAxis: labels)
        let product = try (labels.oneHot(depth: 5) * x).sum(alongAxis: -1)
        #expect(picked.shape == [2, 3])
        #expect(try picked.hostScalars() == product.hostScalars())
        let got = try gradients(of: (picked * weights).sum(), wrt: [x])[0]
        let want = try gradients(of: (product * weights).sum(), wrt: [x])[0]
        #expect(try got.hostScalars() == want.hostScalars())
    }

    @Test func refusesLabelsOutOfRangeOrOfAnotherShape() throws {
        let x = Tensor.zeros([2, 3])
        #expect(throws: RecurError.self) { _ = try x.picking(alongLastAxis: Tensor([0, 3])) }
        #expect(throws: RecurError.self) { _ = try x.picking(alongLastAxis: Tensor([0, 1.5])) }
        #expect(throws: RecurError.self) { _ = try x.picking(alongLastAxis: Tensor([0, -1])) }
        #expect(throws: RecurError.self) { _ = try x.picking(alongLastAxis: Tensor([0, 1, 2])) }
        let loss = SparseCategoricalCrossentropy(fromLogits: true)
        #expect(throws: RecurError.self) { _ = try loss.perSample(Tensor([0, 7]), x) }
    }
}
