/// A Keras loss: maps targets and predictions of one output to a scalar, the mean over the batch of
/// per-sample losses (Keras's "sum_over_batch_size" reduction).
public protocol Loss: LossConvertible {
    /// The Keras name used in configs and logs (`mean_squared_error`, ...).
    var name: String { get }
    /// Per-sample losses, shape (batch, ...) with the class/feature axis reduced.
    func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor
    /// The target shape this loss takes for predictions of `shape` (for error messages): the same
    /// shape, or without the class axis for class ids.
    func targetShape(forPredictions shape: [Int]) -> [Int]
}

extension Loss {
    public func targetShape(forPredictions shape: [Int]) -> [Int] { shape }
}

extension Loss {
    public func makeLoss() throws -> any Loss { self }

    /// The mean per-sample loss: a scalar tensor.
    public func callAsFunction(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        try perSample(yTrue, yPred).mean()
    }

    /// The mean over the positions a mask keeps (Keras: Σ loss·mask / (Σ mask + ε)); without a mask, the mean.
    /// The mask has the shape of the per-sample losses, e.g. (batch, time) for sequence outputs.
    public func callAsFunction(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor?) throws -> Tensor {
        try callAsFunction(yTrue, yPred, mask: mask, sampleWeight: nil)
    }

    /// With sample weights w (batch,) or the per-sample losses' shape, as Keras's
    /// "sum_over_batch_size": Σ loss·w / (number of losses) — not divided by Σ w; with a mask as well,
    /// Σ loss·w·mask / Σ mask.
    public func callAsFunction(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor?, sampleWeight: Tensor?) throws -> Tensor {
        var values = try perSample(yTrue, yPred)
        if let sampleWeight { values = try values * sampleWeight.broadcastable(to: values.shape, what: "\(name) sample weights") }
        guard let mask else { return values.mean() }
        guard mask.shape == values.shape else {
            throw RecurError.shapeMismatch(op: "\(name) mask", expected: describeShape(values.shape), actual: describeShape(mask.shape))
        }
        let kept = mask.sum().scalar
        return try (values * mask).sum().scaled(by: 1 / (kept + 1e-7))
    }
}

extension Tensor {
    /// Sample weights of shape (batch,) — or already of `shape` — reshaped to broadcast against
    /// values of `shape` (batch, ...).
    func broadcastable(to shape: [Int], what: String) throws -> Tensor {
        if self.shape == shape { return self }
        guard rank == 1, self.shape.first == shape.first else {
            throw RecurError.shapeMismatch(op: what, expected: "(\(shape.first ?? 0),) or \(describeShape(shape))", actual: describeShape(self.shape))
        }
        return try reshaped(to: self.shape + Array(repeating: 1, count: shape.count - 1))
    }
}

/// Keras's epsilon for clipping probabilities.
let probabilityEpsilon: Float = 1e-7

/// Cross-entropy of integer class ids (batch, ...) against class scores (batch, ..., classes).
public struct SparseCategoricalCrossentropy: Loss, Sendable {
    public var fromLogits: Bool
    public init(fromLogits: Bool = false) { self.fromLogits = fromLogits }
    public var name: String { "sparse_categorical_crossentropy" }
    public func targetShape(forPredictions shape: [Int]) -> [Int] { Array(shape.dropLast()) }

    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        var labels = yTrue
        if labels.rank == yPred.rank, labels.shape.last == 1 { labels = try labels.reshaped(to: Array(labels.shape.dropLast())) }
        guard labels.shape == Array(yPred.shape.dropLast()) else {
            throw RecurError.shapeMismatch(op: "SparseCategoricalCrossentropy", expected: "labels of shape \(describeShape(Array(yPred.shape.dropLast())))", actual: describeShape(yTrue.shape))
        }
        let classes = yPred.shape.last!
        let logProbabilities = fromLogits ? try yPred.logSoftmax() : try probabilityLog(yPred)
        // The label's log-probability picked, not Σ one-hot · log p: the same number, without a one-hot
        // tensor and a product and a sum (three more gradient nodes) a step.
        let picked: Tensor
        do { picked = try logProbabilities.picking(alongLastAxis: labels) } catch {
            throw RecurError.invalidArgument(op: "SparseCategoricalCrossentropy", message: "labels must be whole numbers in 0..<\(classes)")
        }
        return -picked
    }
}

/// Cross-entropy of one-hot (or soft) targets against class scores, both (batch, ..., classes).
public struct CategoricalCrossentropy: Loss, Sendable {
    public var fromLogits: Bool
    public init(fromLogits: Bool = false) { self.fromLogits = fromLogits }
    public var name: String { "categorical_crossentropy" }

    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        guard yTrue.shape == yPred.shape else {
            throw RecurError.shapeMismatch(op: "CategoricalCrossentropy", expected: describeShape(yPred.shape), actual: describeShape(yTrue.shape))
        }
        let logProbabilities = fromLogits ? try yPred.logSoftmax() : try probabilityLog(yPred)
        return try -(yTrue * logProbabilities).sum(alongAxis: -1)
    }
}

/// log of probabilities normalised over the last axis and clipped to [ε, 1 − ε], as Keras.
func probabilityLog(_ p: Tensor) throws -> Tensor {
    let normalised = try p / p.sum(alongAxis: -1, keepingDimensions: true)
    return try normalised.clipped(min: probabilityEpsilon, max: 1 - probabilityEpsilon).log()
}

/// Binary cross-entropy averaged over the last axis; targets in [0, 1].
public struct BinaryCrossentropy: Loss, Sendable {
    public var fromLogits: Bool
    public init(fromLogits: Bool = false) { self.fromLogits = fromLogits }
    public var name: String { "binary_crossentropy" }

    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        let y = try matchingRank(yTrue, yPred) + Tensor.zeros(yPred.shape)
        let elementwise: Tensor
        if fromLogits {
            // max(x, 0) − x·y + log(1 + e^−|x|), stable for any x.
            elementwise = try yPred.relu() - yPred * y + (try yPred.abs()).scaled(by: -1).exp().plusOneLog()
        } else {
            let p = try yPred.clipped(min: probabilityEpsilon, max: 1 - probabilityEpsilon)
            elementwise = try -(y * p.log() + (1 - y) * (1 - p).log())
        }
        return try elementwise.mean(alongAxis: -1)
    }
}

extension Tensor {
    /// log(1 + x).
    fileprivate func plusOneLog() -> Tensor { (self + 1).log() }
}

/// Keras's `squeeze_or_expand_to_same_rank` for regression losses: targets (batch,) against
/// predictions (batch, 1) (or the reverse) are given the same rank.
func matchingRank(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
    if yTrue.rank + 1 == yPred.rank, yPred.shape.last == 1 { return try yTrue.expandingDimensions(at: -1) }
    if yPred.rank + 1 == yTrue.rank, yTrue.shape.last == 1 { return try yTrue.reshaped(to: Array(yTrue.shape.dropLast())) }
    return yTrue
}

/// ŷ − y for a regression loss `op`, after `matchingRank`; throws unless it has the predictions' shape.
func regressionError(_ yTrue: Tensor, _ yPred: Tensor, op: String) throws -> Tensor {
    let d = try yPred - matchingRank(yTrue, yPred)
    guard d.shape == yPred.shape else {
        throw RecurError.shapeMismatch(op: op, expected: describeShape(yPred.shape), actual: describeShape(yTrue.shape))
    }
    return d
}

/// Mean of (y − ŷ)² over the last axis.
public struct MeanSquaredError: Loss, Sendable {
    public init() {}
    public var name: String { "mean_squared_error" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        try regressionError(yTrue, yPred, op: "MeanSquaredError").squared().mean(alongAxis: -1)
    }
}

/// Mean of |y − ŷ| over the last axis.
public struct MeanAbsoluteError: Loss, Sendable {
    public init() {}
    public var name: String { "mean_absolute_error" }
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        try regressionError(yTrue, yPred, op: "MeanAbsoluteError").abs().mean(alongAxis: -1)
    }
}

/// The loss Keras means by a string name.
public func lossNamed(_ name: String) throws -> any Loss {
    switch name {
    case "mse", "MSE", "mean_squared_error", "MeanSquaredError": return MeanSquaredError()
    case "mae", "MAE", "mean_absolute_error", "MeanAbsoluteError": return MeanAbsoluteError()
    case "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy": return SparseCategoricalCrossentropy()
    case "categorical_crossentropy", "CategoricalCrossentropy": return CategoricalCrossentropy()
    case "binary_crossentropy", "BinaryCrossentropy", "bce", "BCE": return BinaryCrossentropy()
    case "huber", "huber_loss", "Huber": return Huber()
    case "log_cosh", "logcosh", "LogCosh": return LogCosh()
    case "msle", "MSLE", "mean_squared_logarithmic_error", "MeanSquaredLogarithmicError": return MeanSquaredLogarithmicError()
    case "mape", "MAPE", "mean_absolute_percentage_error", "MeanAbsolutePercentageError": return MeanAbsolutePercentageError()
    case "cosine_similarity", "CosineSimilarity": return CosineSimilarity()
    case "kld", "KLD", "kl_divergence", "KLDivergence": return KLDivergence()
    case "poisson", "Poisson": return Poisson()
    case "hinge", "Hinge": return Hinge()
    case "squared_hinge", "SquaredHinge": return SquaredHinge()
    case "categorical_hinge", "CategoricalHinge": return CategoricalHinge()
    case "ctc", "CTC": return CTC()
    case "binary_focal_crossentropy", "BinaryFocalCrossentropy": return BinaryFocalCrossentropy()
    case "categorical_focal_crossentropy", "CategoricalFocalCrossentropy": return CategoricalFocalCrossentropy()
    default: throw RecurError.invalidArgument(op: "compile", message: "unknown loss '\(name)'")
    }
}
