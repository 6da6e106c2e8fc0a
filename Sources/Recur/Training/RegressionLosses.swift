/// Keras's regression losses beyond MSE and MAE: per-sample values averaged over the last axis
/// (`CosineSimilarity`: summed over its axis). Targets of rank one lower than predictions ending in 1
/// (or the reverse) are brought to the same rank first, as Keras does; other shapes must equal.

/// ½e² where |e| ≤ δ, δ(|e| − ½δ) beyond, e = ŷ − y (Keras's `Huber`, logged as `huber_loss`).
public struct Huber: Loss, Sendable {
    public let delta: Float
    public init(delta: Float = 1) { self.delta = delta }
    public var name: String { "huber_loss" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let e = try regressionError(yTrue, yPred, op: "Huber")
        let size = try e.abs()
        let quadratic = try e.squared() * 0.5, linear = size * delta - 0.5 * delta * delta
        return try Tensor.select(size.greater(Tensor(delta)), linear, quadratic).mean(alongAxis: -1)
    }
}

/// log cosh(e) = e + softplus(−2e) − log 2, e = ŷ − y (Keras's `LogCosh`).
public struct LogCosh: Loss, Sendable {
    public init() {}
    public var name: String { "log_cosh" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let e = try regressionError(yTrue, yPred, op: "LogCosh")
        return try (e + Activation.softplus(e * -2) - Float(0.693147180559945309)).mean(alongAxis: -1)
    }
}

/// (log(max(ŷ, ε) + 1) − log(max(y, ε) + 1))², ε = 10⁻⁷ (Keras's `MeanSquaredLogarithmicError`).
public struct MeanSquaredLogarithmicError: Loss, Sendable {
    public init() {}
    public var name: String { "mean_squared_logarithmic_error" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let y = try sameShapeTargets(yTrue, yPred, op: "MeanSquaredLogarithmicError")
        let first = try (yPred.maximum(Tensor(probabilityEpsilon)) + 1).log()
        let second = try (y.maximum(Tensor(probabilityEpsilon)) + 1).log()
        return try (first - second).squared().mean(alongAxis: -1)
    }
}

/// 100 · |y − ŷ| / max(|y|, ε), ε = 10⁻⁷ (Keras's `MeanAbsolutePercentageError`).
public struct MeanAbsolutePercentageError: Loss, Sendable {
    public init() {}
    public var name: String { "mean_absolute_percentage_error" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let y = try sameShapeTargets(yTrue, yPred, op: "MeanAbsolutePercentageError")
        return try ((yPred - y) / y.abs().maximum(Tensor(probabilityEpsilon))).abs().mean(alongAxis: -1) * 100
    }
}

/// −Σ ŷ/‖ŷ‖ · y/‖y‖ over the last axis, each norm at least ε = 10⁻⁷ (Keras's `CosineSimilarity`
/// loss: −1 for the same direction; the metric of that name has the opposite sign).
public struct CosineSimilarity: Loss, Sendable {
    public init() {}
    public var name: String { "cosine_similarity" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let y = try sameShapeTargets(yTrue, yPred, op: "CosineSimilarity")
        return try -(unitLength(y) * unitLength(yPred)).sum(alongAxis: -1)
    }

    /// x / max(‖x‖, ε) along the last axis, as Keras's `normalize`: x · min(1/√Σx², 1/ε).
    private func unitLength(_ x: Tensor) throws -> Tensor {
        try x * (1 / x.squared().sum(alongAxis: -1, keepingDimensions: true).sqrt()).minimum(Tensor(1 / probabilityEpsilon))
    }
}

/// The targets at the predictions' rank (`matchingRank`); throws unless they then have its shape.
func sameShapeTargets(_ yTrue: Tensor, _ yPred: Tensor, op: String) throws -> Tensor {
    let y = try matchingRank(yTrue, yPred)
    guard y.shape == yPred.shape else {
        throw RecurError.shapeMismatch(op: op, expected: describeShape(yPred.shape), actual: describeShape(yTrue.shape))
    }
    return y
}
