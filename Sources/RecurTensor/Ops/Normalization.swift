extension Tensor {
    /// Batch normalization by this batch's own statistics, over every axis but the last (the features,
    /// F of them): per feature the mean μ = Σx/N and the biased variance σ² = Σ(x − μ)²/N over the N rows,
    /// and y = (x − μ)·γ/√(σ² + ε) + β, computed as Keras does, x·s + (β − μ·s) with s = γ/√(σ² + ε).
    /// `gamma` and `beta` are (F) or nil (1 and 0). One op and one gradient node, where the same formula
    /// from elementwise ops and reductions records about fifteen.
    ///
    /// - Returns: y (this tensor's shape) with its gradient recorded (with respect to x, γ and β), and
    ///   μ and σ² (F), not recorded (for a layer's moving statistics).
    public func batchNormalized(gamma: Tensor?, beta: Tensor?, epsilon: Float) throws -> (output: Tensor, mean: Tensor, variance: Tensor) {
        guard rank >= 1, let features = shape.last, features > 0, count > 0 else {
            throw RecurError.shapeMismatch(op: "batchNormalized", expected: "a non-empty tensor with a non-empty last axis", actual: describeShape(shape))
        }
        for (name, parameter) in [("gamma", gamma), ("beta", beta)] {
            if let parameter, parameter.shape != [features] {
                throw RecurError.shapeMismatch(op: "batchNormalized", expected: "\(name) of shape (\(features))", actual: describeShape(parameter.shape))
            }
        }
        guard epsilon >= 0, epsilon.isFinite else {
            throw RecurError.invalidArgument(op: "batchNormalized", message: "epsilon must be finite and at least 0, got \(epsilon)")
        }
        let inputs = [self] + [gamma, beta].compactMap { $0 }
        Tensor.untraceable(inputs, "batch normalization")
        let (backend, operands) = try Tensor.onCommonDevice(inputs, op: "batchNormalized")
        let x = operands[0].detached
        let gammaValue = gamma == nil ? nil : operands[1].detached
        let betaValue = beta == nil ? nil : operands[gamma == nil ? 1 : 2].detached
        var (output, mean, variance) = backend.batchNormalization(x, features: features, gamma: gammaValue, beta: betaValue, epsilon: epsilon)
        Tensor.record(&output, inputs: inputs) { g, _ in
            let (dx, dGamma, dBeta) = g.deviceBackend.batchNormalizationGradients(x, gradient: g.detached, features: features, mean: mean,
                                                                                  variance: variance, gamma: gammaValue, epsilon: epsilon)
            return [dx] + (gammaValue == nil ? [] : [dGamma]) + (betaValue == nil ? [] : [dBeta])
        }
        return (output, mean, variance)
    }
}
