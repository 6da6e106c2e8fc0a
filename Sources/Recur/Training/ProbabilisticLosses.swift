/// Keras's losses between distributions or counts, beyond the cross-entropies: `KLDivergence` and
/// `Poisson`. Targets must have the predictions' shape (after `matchingRank`).

/// Σ y · log(y / ŷ) over the last axis, both clipped to [ε, 1], ε = 10⁻⁷ (Keras's `KLDivergence`).
public struct KLDivergence: Loss, Sendable {
    public init() {}
    public var name: String { "kl_divergence" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let y = try sameShapeTargets(yTrue, yPred, op: "KLDivergence").clipped(min: probabilityEpsilon, max: 1)
        let p = try yPred.clipped(min: probabilityEpsilon, max: 1)
        return try (y * (y / p).log()).sum(alongAxis: -1)
    }
}

/// ŷ − y · log(ŷ + ε), ε = 10⁻⁷, averaged over the last axis (Keras's `Poisson`).
public struct Poisson: Loss, Sendable {
    public init() {}
    public var name: String { "poisson" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let y = try sameShapeTargets(yTrue, yPred, op: "Poisson")
        return try (yPred - y * (yPred + probabilityEpsilon).log()).mean(alongAxis: -1)
    }
}
