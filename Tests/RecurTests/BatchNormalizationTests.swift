import Testing
@testable import Recur

/// BatchNormalization's inference keeps its folded scale and shift between calls; every change of its
/// weights — `setWeights`, a training step, gradients through γ — must still show in the next call.
@Suite("BatchNormalization inference follows its weights")
struct BatchNormalizationTests {
    /// y = γ·(x − μ)/√(σ² + ε) + β per feature, computed on the host.
    static func expected(_ x: Tensor, _ layer: BatchNormalization) throws -> [Float] {
        let (gamma, beta) = (try layer.gamma!.value.hostScalars(), try layer.beta!.value.hostScalars())
        let (mean, variance) = (try layer.movingMean!.value.hostScalars(), try layer.movingVariance!.value.hostScalars())
        let features = gamma.count
        return try x.hostScalars().enumerated().map { i, v in
            let f = i % features
            return gamma[f] * (v - mean[f]) / (variance[f] + layer.epsilon).squareRoot() + beta[f]
        }
    }

    static func expectMatches(_ x: Tensor, _ layer: BatchNormalization, _ what: String) throws {
        let y = try layer(x).hostScalars(), want = try expected(x, layer)
        let difference = zip(y, want).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= 1e-5, "\(what): max difference \(difference)")
    }

    @Test func inferenceSeesEveryWeightChange() throws {
        var g = SeededGenerator(seed: 4)
        let x = Tensor.randomUniform([5, 3], low: -2, high: 2, generator: &g)
        let layer = BatchNormalization()
        try layer.buildIfNeeded(inputShapes: [[5, 3]])
        try Self.expectMatches(x, layer, "initial weights")
        try Self.expectMatches(x, layer, "the same weights again")
        for round in 0..<2 {
            try layer.setWeights(layer.getWeights().map { Tensor.randomUniform($0.shape, low: 0.5, high: 1.5, generator: &g) })
            try Self.expectMatches(x, layer, "after setWeights \(round)")
        }
        // A training call moves the moving statistics (reassigned values).
        _ = try layer(x, training: true)
        try Self.expectMatches(x, layer, "after a training call")
        // An optimizer updates γ and β in place: storage shared with the kept fold is copied first.
        let sgd = SGD(learningRate: 0.5)
        try sgd.apply([Tensor(repeating: 1, shape: [3]), Tensor(repeating: -1, shape: [3])], to: [layer.gamma!, layer.beta!])
        try Self.expectMatches(x, layer, "after an optimizer step")
        // Gradients through γ in inference: recorded, not served from the fold.
        let gamma = layer.gamma!.value
        layer.gamma!.value = gamma.requiringGradient()
        let dGamma = try gradients(of: layer(x).sum(), wrt: [layer.gamma!.value])[0]
        layer.gamma!.value = gamma
        let normalized = try Self.expected(x, layer).enumerated().map { i, y in
            (y - (try layer.beta!.value.hostScalars())[i % 3]) / (try gamma.hostScalars())[i % 3]
        }
        let want = (0..<3).map { f in stride(from: f, to: normalized.count, by: 3).map { normalized[$0] }.reduce(0, +) }
        let difference = zip(try dGamma.hostScalars(), want).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= 1e-4, "∂Σy/∂γ: max difference \(difference)")
    }
}
