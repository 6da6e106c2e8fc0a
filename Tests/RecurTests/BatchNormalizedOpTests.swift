import Testing
@testable import Recur

/// `Tensor.batchNormalized` (one op, one gradient node) against the same formula written with
/// elementwise ops and reductions, which autodiff differentiates op by op: values, μ, σ² and the
/// gradients with respect to x, γ and β, for rank 2 and 3, with and without γ and β.
@Suite("The batch-normalization op")
struct BatchNormalizedOpTests {
    static func composed(_ x: Tensor, gamma: Tensor?, beta: Tensor?, epsilon: Float) throws -> (Tensor, Tensor, Tensor) {
        let axes = Array(0..<(x.rank - 1))
        let mean = try x.mean(alongAxes: axes)
        let variance = try (x - mean).squared().mean(alongAxes: axes)
        var scale = try 1 / (variance + epsilon).sqrt()
        if let gamma { scale = try scale * gamma }
        var shift = try -(mean * scale)
        if let beta { shift = try shift + beta }
        return (try x * scale + shift, mean, variance)
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) throws -> Float {
        #expect(a.shape == b.shape)
        return zip(try a.hostScalars(), try b.hostScalars()).map { abs($0 - $1) }.max() ?? 0
    }

    @Test(arguments: [[7, 5], [3, 4, 6]], [true, false])
    func matchesTheComposedOps(shape: [Int], affine: Bool) throws {
        var g = SeededGenerator(seed: 11)
        let features = shape.last!
        let x = Tensor.randomUniform(shape, low: -3, high: 2, generator: &g).requiringGradient()
        let gamma = affine ? Tensor.randomUniform([features], low: 0.5, high: 1.5, generator: &g).requiringGradient() : nil
        let beta = affine ? Tensor.randomUniform([features], low: -1, high: 1, generator: &g).requiringGradient() : nil
        // A weighted sum, so that ∂L/∂y differs between elements (Σy alone has a zero gradient for x).
        let weights = Tensor.randomUniform(shape, low: -1, high: 1, generator: &g)
        let wrt = [x] + [gamma, beta].compactMap { $0 }

        let (y, mean, variance) = try x.batchNormalized(gamma: gamma, beta: beta, epsilon: 1e-3)
        let (wantY, wantMean, wantVariance) = try Self.composed(x, gamma: gamma, beta: beta, epsilon: 1e-3)
        #expect(try Self.maxDifference(y, wantY) <= 1e-5)
        #expect(try Self.maxDifference(mean, wantMean.detached) <= 1e-6)
        #expect(try Self.maxDifference(variance, wantVariance.detached) <= 1e-6)

        let grads = try gradients(of: (y * weights).sum(), wrt: wrt)
        let wantGrads = try gradients(of: (wantY * weights).sum(), wrt: wrt)
        for (name, (got, want)) in zip(["x", "gamma", "beta"], zip(grads, wantGrads)) {
            let difference = try Self.maxDifference(got, want)
            #expect(difference <= 1e-5, "∂L/∂\(name) of \(shape): max difference \(difference)")
        }
    }

    @Test func refusesMismatchedParameters() {
        let x = Tensor(repeating: 1, shape: [4, 3])
        #expect(throws: RecurError.self) { try x.batchNormalized(gamma: Tensor(repeating: 1, shape: [2]), beta: nil, epsilon: 1e-3) }
        #expect(throws: RecurError.self) { try x.batchNormalized(gamma: nil, beta: Tensor(repeating: 0, shape: [3, 1]), epsilon: 1e-3) }
        #expect(throws: RecurError.self) { try x.batchNormalized(gamma: nil, beta: nil, epsilon: -1) }
        #expect(throws: RecurError.self) { try Tensor(repeating: 1, shape: [0, 3]).batchNormalized(gamma: nil, beta: nil, epsilon: 1e-3) }
    }
}
