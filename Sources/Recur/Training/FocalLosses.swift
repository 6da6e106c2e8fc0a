/// Keras's focal cross-entropies (Lin et al., 2017): cross-entropies that weigh each term by
/// (1 − p)^γ, p the probability given to the true outcome, so that well-classified examples count
/// less. `fromLogits` applies a sigmoid (binary) or softmax (categorical) first; probabilities are
/// clipped to [ε, 1 − ε] (ε = 1e-7) inside the logarithm as in Keras's cross-entropies.

/// Binary focal cross-entropy averaged over the last axis (Keras's `BinaryFocalCrossentropy`): with p
/// the probability (after a sigmoid for logits) and pₜ = y·p + (1 − y)(1 − p),
/// loss = (1 − pₜ)^γ · bce(y, p), times y·α + (1 − y)(1 − α) with `applyClassBalancing`.
public struct BinaryFocalCrossentropy: Loss, Sendable {
    public var applyClassBalancing: Bool
    public var alpha: Float
    public var gamma: Float
    public var fromLogits: Bool

    public init(applyClassBalancing: Bool = false, alpha: Float = 0.25, gamma: Float = 2, fromLogits: Bool = false) {
        (self.applyClassBalancing, self.alpha, self.gamma, self.fromLogits) = (applyClassBalancing, alpha, gamma, fromLogits)
    }

    public var name: String { "binary_focal_crossentropy" }

    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let y = try matchingRank(yTrue, yPred) + Tensor.zeros(yPred.shape)
        let p = fromLogits ? yPred.sigmoid() : yPred
        let clipped = try p.clipped(min: probabilityEpsilon, max: 1 - probabilityEpsilon)
        let crossEntropy = try -(y * clipped.log() + (1 - y) * (1 - clipped).log())
        let trueProbability = try y * p + (1 - y) * (1 - p)
        var focal = try focalFactor(1 - trueProbability, gamma: gamma) * crossEntropy
        if applyClassBalancing { focal = try (y * alpha + (1 - y) * (1 - alpha)) * focal }
        return try focal.mean(alongAxis: -1)
    }
}

/// Categorical focal cross-entropy summed over the classes (Keras's `CategoricalFocalCrossentropy`):
/// with p the probabilities normalised over the last axis (after a softmax for logits) and clipped,
/// loss = Σₖ α·(1 − pₖ)^γ · (−yₖ log pₖ), for one-hot (or soft) targets y.
public struct CategoricalFocalCrossentropy: Loss, Sendable {
    public var alpha: Float
    public var gamma: Float
    public var fromLogits: Bool

    public init(alpha: Float = 0.25, gamma: Float = 2, fromLogits: Bool = false) {
        (self.alpha, self.gamma, self.fromLogits) = (alpha, gamma, fromLogits)
    }

    public var name: String { "categorical_focal_crossentropy" }

    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        guard yTrue.shape == yPred.shape else {
            throw RecurError.shapeMismatch(op: "CategoricalFocalCrossentropy", expected: describeShape(yPred.shape), actual: describeShape(yTrue.shape))
        }
        let probabilities = fromLogits ? try yPred.softmax() : yPred
        let p = try (probabilities / probabilities.sum(alongAxis: -1, keepingDimensions: true))
            .clipped(min: probabilityEpsilon, max: 1 - probabilityEpsilon)
        let crossEntropy = try -yTrue * p.log()
        return try (focalFactor(1 - p, gamma: gamma) * alpha * crossEntropy).sum(alongAxis: -1)
    }
}

/// x^γ for x in [0, 1]: repeated products for a whole γ up to 8 (exact, and a zero gradient at 0, as
/// Keras's power), else e^(γ·log x) with x kept above 10⁻³⁰ (whose power is 0 in float32).
private func focalFactor(_ x: Tensor, gamma: Float) throws -> Tensor {
    if gamma == gamma.rounded(), (0...8).contains(gamma) {
        return try (0..<Int(gamma)).reduce(Tensor.ones(x.shape)) { power, _ in try power * x }
    }
    return try (x.maximum(Tensor(1e-30)).log() * gamma).exp()
}
