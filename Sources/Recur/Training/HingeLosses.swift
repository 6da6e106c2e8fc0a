/// Keras's hinge losses for scores ŷ (not probabilities). `Hinge` and `SquaredHinge` take labels in
/// {−1, 1}, or in {0, 1}, which they map to {−1, 1} when every label of the batch is 0 or 1, as Keras.

/// max(1 − y·ŷ, 0) averaged over the last axis (Keras's `Hinge`).
public struct Hinge: Loss, Sendable {
    public init() {}
    public var name: String { "hinge" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        try hingeMargins(yTrue, yPred, op: "Hinge").mean(alongAxis: -1)
    }
}

/// max(1 − y·ŷ, 0)² averaged over the last axis (Keras's `SquaredHinge`).
public struct SquaredHinge: Loss, Sendable {
    public init() {}
    public var name: String { "squared_hinge" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        try hingeMargins(yTrue, yPred, op: "SquaredHinge").squared().mean(alongAxis: -1)
    }
}

/// max(maxₖ (1 − yₖ)·ŷₖ − Σₖ yₖ·ŷₖ + 1, 0) for one-hot targets (Keras's `CategoricalHinge`).
public struct CategoricalHinge: Loss, Sendable {
    public init() {}
    public var name: String { "categorical_hinge" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let y = try sameShapeTargets(yTrue, yPred, op: "CategoricalHinge")
        let positive = try (y * yPred).sum(alongAxis: -1)
        let negative = try ((1 - y) * yPred).max(alongAxis: -1)
        return try (negative - positive + 1).relu()
    }
}

/// max(1 − y·ŷ, 0) with the labels mapped from {0, 1} to {−1, 1} when all of them are 0 or 1.
private func hingeMargins(_ yTrue: Tensor, _ yPred: Tensor, op: String) throws -> Tensor {
    let y = try sameShapeTargets(yTrue, yPred, op: op)
    // Tensor ops, so that labels on a GPU stay there: the count of labels that are neither 0 nor 1.
    let other = try (1 - y.equal(Tensor(0)) - y.equal(Tensor(1))).sum()
    let labels = try Tensor.select(other.equal(Tensor(0)), y * 2 - 1, y)
    return try (1 - labels * yPred).relu()
}
