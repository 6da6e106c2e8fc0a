import Testing
@testable import RecurTensor

/// Checks the gradient that autodiff computes for `f` against central finite differences.
/// The scalar checked is L = Σ f(x) ⊙ R for a fixed random R, so every output element matters.
func checkGradients(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 2e-2,
                    sourceLocation: SourceLocation = #_sourceLocation,
                    _ f: ([Tensor]) throws -> Tensor) throws {
    var generator = SeededGenerator(seed: 99)
    let probe = try f(inputs)
    let r = Tensor.randomUniform(probe.shape, low: -1, high: 1, generator: &generator)
    func loss(_ xs: [Tensor]) throws -> Tensor { try (f(xs) * r).sum() }

    let leaves = inputs.map { $0.requiringGradient() }
    let analytic = try gradients(of: loss(leaves), wrt: leaves)
    for (k, x) in inputs.enumerated() {
        #expect(analytic[k].shape == x.shape, sourceLocation: sourceLocation)
        for i in 0..<x.count {
            var plus = inputs, minus = inputs
            try plus[k].withUnsafeMutableBufferPointer { $0[i] += epsilon }
            try minus[k].withUnsafeMutableBufferPointer { $0[i] -= epsilon }
            let numeric = (try loss(plus).scalar - loss(minus).scalar) / (2 * epsilon)
            let a = analytic[k].scalars[i]
            #expect(abs(a - numeric) <= tolerance * max(1, abs(numeric)),
                    "input \(k) element \(i): autodiff \(a) vs finite difference \(numeric)", sourceLocation: sourceLocation)
        }
    }
}

func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.randomUniform(shape, low: low, high: high, generator: &g)
}
