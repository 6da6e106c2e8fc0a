import Foundation
import Testing
@testable import Recur

struct OptimizerFixture: Decodable {
    let optimizer: String
    let config: [String: JSONValue]
    let initial: FixtureTensor
    let grads: [FixtureTensor]
    let after_each_step: [FixtureTensor]
}

struct LossFixture: Decodable {
    let loss: String
    let config: [String: JSONValue]
    let y_true: FixtureTensor
    let y_pred: FixtureTensor
    let value: Float
    let grad_y_pred: FixtureTensor
}

struct MetricFixture: Decodable {
    let metric: String
    let y_true: FixtureTensor
    let y_pred: FixtureTensor
    let value: Float
}

func makeOptimizer(_ f: OptimizerFixture) -> Optimizer {
    let c = f.config
    func value(_ key: String) -> Float? { c[key]?.double.map(Float.init) }
    switch f.optimizer {
    case "SGD":
        return SGD(learningRate: value("learning_rate") ?? 0.01, momentum: value("momentum") ?? 0,
                   nesterov: c["nesterov"]?.bool ?? false, clipNorm: value("clipnorm"), clipValue: value("clipvalue"))
    case "Adam":
        return Adam(learningRate: value("learning_rate") ?? 0.001, clipNorm: value("clipnorm"), clipValue: value("clipvalue"))
    default:
        return RMSprop(learningRate: value("learning_rate") ?? 0.001, momentum: value("momentum") ?? 0,
                       clipNorm: value("clipnorm"), clipValue: value("clipvalue"))
    }
}

/// The loss's value and gradient with respect to the predictions on the fixture's data, against Keras's.
func expectLossMatchesKeras(_ loss: any Loss, _ f: LossFixture, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let prediction = f.y_pred.tensor.requiringGradient()
    let value = try loss(f.y_true.tensor, prediction)
    #expect(abs(value.scalar - f.value) <= 1e-5 * max(1, abs(f.value)), "\(f.loss) \(f.config): \(value.scalar) vs \(f.value)",
            sourceLocation: sourceLocation)
    let g = try gradients(of: value, wrt: [prediction])[0]
    expectClose(g, f.grad_y_pred.tensor, "\(f.loss) \(f.config) gradient", sourceLocation: sourceLocation)
}

func makeLoss(_ name: String, fromLogits: Bool) -> any Loss {
    switch name {
    case "SparseCategoricalCrossentropy": return SparseCategoricalCrossentropy(fromLogits: fromLogits)
    case "CategoricalCrossentropy": return CategoricalCrossentropy(fromLogits: fromLogits)
    case "BinaryCrossentropy": return BinaryCrossentropy(fromLogits: fromLogits)
    case "MeanSquaredError": return MeanSquaredError()
    default: return MeanAbsoluteError()
    }
}

@Suite("Optimizers, losses and metrics match real Keras")
struct TrainingFixtureTests {
    static let optimizers = try! JSONDecoder().decode([OptimizerFixture].self, from: Fixtures.data("optimizers.json"))
    static let losses = try! JSONDecoder().decode([LossFixture].self, from: Fixtures.data("losses.json"))
    static let metrics = try! JSONDecoder().decode([MetricFixture].self, from: Fixtures.data("metrics.json"))

    @Test(arguments: 0..<optimizers.count)
    func optimizerStepsMatchKeras(_ index: Int) throws {
        let f = Self.optimizers[index]
        let optimizer = makeOptimizer(f)
        let v = Variable(name: "w", value: f.initial.tensor)
        for (g, expected) in zip(f.grads, f.after_each_step) {
            try optimizer.apply([g.tensor], to: [v])
            expectClose(v.value, expected.tensor, tolerance: 2e-6, "\(f.optimizer) \(f.config)")
        }
    }

    @Test(arguments: 0..<losses.count)
    func lossValueAndGradientMatchKeras(_ index: Int) throws {
        let f = Self.losses[index]
        try expectLossMatchesKeras(makeLoss(f.loss, fromLogits: f.config["from_logits"]?.bool ?? false), f)
    }

    @Test(arguments: 0..<metrics.count)
    func metricMatchesKeras(_ index: Int) throws {
        let f = Self.metrics[index]
        var metric: Metric
        switch f.metric {
        case "SparseCategoricalAccuracy": metric = .sparseCategoricalAccuracy
        case "CategoricalAccuracy": metric = .categoricalAccuracy
        case "BinaryAccuracy": metric = .binaryAccuracy
        case "MeanAbsoluteError": metric = .meanAbsoluteError
        default: metric = .meanSquaredError
        }
        try metric.update(f.y_true.tensor, f.y_pred.tensor)
        #expect(abs(metric.result - f.value) <= 1e-6, "\(f.metric): \(metric.result) vs \(f.value)")
    }
}

@Suite("Optimizer updates against hand-computed steps")
struct OptimizerHandTests {
    func step(_ optimizer: Optimizer, from w: Float, gradients: [Float]) throws -> [Float] {
        let v = Variable(name: "w", value: Tensor([w]))
        return try gradients.map { g in
            try optimizer.apply([Tensor([g])], to: [v])
            return v.value.scalars[0]
        }
    }

    @Test func sgd() throws {
        #expect(try step(SGD(learningRate: 0.1), from: 1, gradients: [0.5]) == [0.95])
        // v₁ = −0.05, w₁ = 0.95; v₂ = 0.9·(−0.05) − 0.1·0.5 = −0.095, w₂ = 0.855.
        let momentum = try step(SGD(learningRate: 0.1, momentum: 0.9), from: 1, gradients: [0.5, 0.5])
        #expect(abs(momentum[0] - 0.95) < 1e-6 && abs(momentum[1] - 0.855) < 1e-6)
        // Nesterov: w₁ = 1 + 0.9·(−0.05) − 0.05 = 0.905.
        let nesterov = try step(SGD(learningRate: 0.1, momentum: 0.9, nesterov: true), from: 1, gradients: [0.5])
        #expect(abs(nesterov[0] - 0.905) < 1e-6)
    }

    @Test func adam() throws {
        // First step: m̂ = g, v̂ = g², so w moves by lr·g/(|g| + ε) ≈ lr.
        let w = try step(Adam(learningRate: 0.01), from: 1, gradients: [0.3])
        #expect(abs(w[0] - (1 - 0.01 * 0.3 / (0.3 + 1e-7 * sqrt(1 - 0.999) / (1 - 0.9) ))) < 1e-6)
    }

    @Test func rmsprop() throws {
        // a = 0.1·g², Δ = lr·g/√(a + ε) = 0.01·0.3/√(0.009 + 1e-7).
        let w = try step(RMSprop(learningRate: 0.01), from: 1, gradients: [0.3])
        #expect(abs(w[0] - (1 - 0.01 * 0.3 / sqrt(0.009 + 1e-7))) < 1e-6)
    }

    @Test func clipping() throws {
        let byNorm = Variable(name: "w", value: Tensor([0, 0]))
        try SGD(learningRate: 1, clipNorm: 1).apply([Tensor([3, 4])], to: [byNorm])
        #expect(byNorm.value.isAlmostEqual(to: Tensor([-0.6, -0.8])))
        let byValue = Variable(name: "w", value: Tensor([0, 0]))
        try SGD(learningRate: 1, clipValue: 0.5).apply([Tensor([3, -0.2])], to: [byValue])
        #expect(byValue.value.isAlmostEqual(to: Tensor([-0.5, 0.2])))
    }

    @Test func namesGiveKerasDefaults() throws {
        #expect((try optimizerNamed("sgd") as? SGD)?.learningRate == 0.01)
        #expect((try optimizerNamed("adam") as? Adam)?.epsilon == 1e-7)
        #expect((try optimizerNamed("rmsprop") as? RMSprop)?.rho == 0.9)
        #expect(throws: RecurError.self) { try optimizerNamed("muon") }
    }

    /// Keras's global clipping scales all the gradients together to the bound, and a bound of zero
    /// clips nothing (Keras's `if clipnorm and clipnorm > 0`).
    @Test func globalClippingAndZeroBounds() throws {
        let (a, b) = (Variable(name: "a", value: Tensor([0, 0])), Variable(name: "b", value: Tensor([0])))
        try SGD(learningRate: 1, globalClipNorm: 6.5).apply([Tensor([3, 4]), Tensor([12])], to: [a, b])
        #expect(a.value.isAlmostEqual(to: Tensor([-1.5, -2])) && b.value.isAlmostEqual(to: Tensor([-6])))
        let unclipped = Variable(name: "w", value: Tensor([0, 0]))
        try SGD(learningRate: 1, clipNorm: 0, clipValue: 0).apply([Tensor([3, 4])], to: [unclipped])
        #expect(unclipped.value.isAlmostEqual(to: Tensor([-3, -4])))
        // Options that add state must come before the first update.
        let late = SGD(learningRate: 0.1, momentum: 0.5), w = Variable(name: "w", value: Tensor([1]))
        try late.apply([Tensor([1])], to: [w])
        late.movingAverage = .init()
        #expect(thrownMessage { try late.apply([Tensor([1])], to: [w]) }.contains("before the first update"))
        let decayed = Variable(name: "w", value: Tensor([2, -4]))
        try SGD(learningRate: 0.5, weightDecay: 0.1).apply([Tensor([0, 0])], to: [decayed])
        #expect(decayed.value.isAlmostEqual(to: Tensor([1.9, -3.8])))
    }
}
