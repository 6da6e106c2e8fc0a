/// Keras's metrics beyond accuracy, MAE and MSE: the running means of the losses of the same name
/// (Keras's `MeanMetricWrapper`s; `cosineSimilarity` with the opposite sign of the loss, +1 for the
/// same direction), and the stateful `RootMeanSquaredError`, `Precision`, `Recall` and `AUC`.
extension Metric {
    public static var meanAbsolutePercentageError: Metric { wrapping(MeanAbsolutePercentageError()) }
    public static var meanSquaredLogarithmicError: Metric { wrapping(MeanSquaredLogarithmicError()) }
    public static var klDivergence: Metric { wrapping(KLDivergence()) }
    public static var poisson: Metric { wrapping(Poisson()) }
    public static var hinge: Metric { wrapping(Hinge()) }
    public static var squaredHinge: Metric { wrapping(SquaredHinge()) }
    public static var categoricalHinge: Metric { wrapping(CategoricalHinge()) }
    /// Cross-entropies of probabilities (Keras's metric default, `from_logits: false`).
    public static var binaryCrossentropy: Metric { wrapping(BinaryCrossentropy()) }
    public static var categoricalCrossentropy: Metric { wrapping(CategoricalCrossentropy()) }
    public static var sparseCategoricalCrossentropy: Metric { wrapping(SparseCategoricalCrossentropy()) }
    /// Σ y/‖y‖ · ŷ/‖ŷ‖ over the last axis: +1 for the same direction.
    public static var cosineSimilarity: Metric {
        Metric(name: "cosine_similarity") { y, p in try -CosineSimilarity().perSample(y, p) }
    }
    public static var rootMeanSquaredError: Metric { RootMeanSquaredError() }
    public static var precision: Metric { Precision() }
    public static var recall: Metric { Recall() }
    public static var auc: Metric { AUC() }
    /// Whether the class id y is among the k highest scores: its rank, 1 + the number of scores
    /// strictly above its own, is at most k (Keras's `SparseTopKCategoricalAccuracy`, `in_top_k`).
    public static func sparseTopKCategoricalAccuracy(k: Int = 5) -> Metric {
        Metric(name: "sparse_top_k_categorical_accuracy") { y, p in try classRankAtMost(k, labels: y, scores: p) }
    }
    /// The same for one-hot targets, whose class is their argmax (Keras's `TopKCategoricalAccuracy`).
    public static func topKCategoricalAccuracy(k: Int = 5) -> Metric {
        Metric(name: "top_k_categorical_accuracy") { y, p in
            guard y.shape == p.shape else {
                throw RecurError.shapeMismatch(op: "top_k_categorical_accuracy", expected: describeShape(p.shape), actual: describeShape(y.shape))
            }
            return try classRankAtMost(k, labels: y.argmax(alongAxis: -1), scores: p)
        }
    }

    private static func classRankAtMost(_ k: Int, labels y: Tensor, scores p: Tensor) throws -> Tensor {
        var labels = y
        if labels.rank == p.rank, labels.shape.last == 1 { labels = try labels.reshaped(to: Array(labels.shape.dropLast())) }
        let own = try p.picking(alongLastAxis: labels).expandingDimensions(at: -1)
        let above = try p.greater(own).sum(alongAxis: -1)
        return try above.less(Tensor(Float(k)))
    }

    /// The running mean of `loss`'s per-sample values, under the loss's Keras name.
    private static func wrapping(_ loss: some Loss) -> Metric {
        Metric(name: loss.name) { y, p in try loss.perSample(y, p) }
    }
}

/// √(mean of (ŷ − y)²) over everything seen since the last reset (Keras's `RootMeanSquaredError`):
/// the square root of the running mean of squared errors, weighted as every mean metric.
public final class RootMeanSquaredError: Metric {
    public override init(name: String = "root_mean_squared_error") {
        super.init(name: name) { y, p in try MeanSquaredError().perSample(y, p) }
    }

    public override var result: Float { super.result.squareRoot() }

    override func independentCopy() -> Metric { RootMeanSquaredError(name: name) }
    override func renamed(_ name: String) -> Metric { RootMeanSquaredError(name: name) }
}

/// What `Precision` and `Recall` share: predictions above `threshold` count as positive, targets
/// that are not 0 as positive, over every element seen since the last reset, each weighted by its
/// sample's weight and mask (Keras's confusion-matrix metrics with one threshold).
public class ConfusionMetric: Metric {
    public let threshold: Float
    var truePositives = 0.0, falsePositives = 0.0, falseNegatives = 0.0

    public required init(name: String, threshold: Float = 0.5) {
        self.threshold = threshold
        super.init(name: name)
    }

    public override func update(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor? = nil, sampleWeight: Tensor? = nil) throws {
        let labels = try sameShapeTargets(yTrue, yPred, op: name).notEqual(Tensor(0))
        let predicted = try yPred.greater(Tensor(threshold))
        let weights = try elementWeights(of: yPred, mask: mask, sampleWeight: sampleWeight, metric: name)
        truePositives += Double(try (predicted * labels * weights).sum().scalar)
        falsePositives += Double(try (predicted * (1 - labels) * weights).sum().scalar)
        falseNegatives += Double(try ((1 - predicted) * labels * weights).sum().scalar)
    }

    public override func reset() { (truePositives, falsePositives, falseNegatives) = (0, 0, 0) }

    override func independentCopy() -> Metric { type(of: self).init(name: name, threshold: threshold) }
    override func renamed(_ name: String) -> Metric { type(of: self).init(name: name, threshold: threshold) }

    static func ratio(_ a: Double, _ b: Double) -> Float { b > 0 ? Float(a / b) : 0 }
}

/// TP / (TP + FP): the share of predicted positives that are positive (Keras's `Precision`; 0 before
/// any positive prediction).
public final class Precision: ConfusionMetric {
    public convenience init(threshold: Float = 0.5) { self.init(name: "precision", threshold: threshold) }
    public override var result: Float { Self.ratio(truePositives, truePositives + falsePositives) }
}

/// TP / (TP + FN): the share of positives predicted positive (Keras's `Recall`; 0 before any positive).
public final class Recall: ConfusionMetric {
    public convenience init(threshold: Float = 0.5) { self.init(name: "recall", threshold: threshold) }
    public override var result: Float { Self.ratio(truePositives, truePositives + falseNegatives) }
}

/// The area under the ROC curve (Keras's `AUC` with `curve="ROC"`, `summation_method="interpolation"`;
/// with `fromLogits` the predictions go through a sigmoid first): predictions above each of
/// `numThresholds` thresholds — 0 − ε,
/// then (1 … numThresholds − 2)/(numThresholds − 1), then 1 + ε, ε = 10⁻⁷ — count as positive, targets
/// that are not 0 as positive, every element of every batch since the last reset (weighted by its
/// sample's weight and mask); the area is the trapezoid sum of the true-positive rate over the
/// false-positive rate between neighbouring thresholds.
public final class AUC: Metric {
    public let numThresholds: Int
    public let fromLogits: Bool
    private let thresholds: [Float]
    private var truePositives: [Double], falsePositives: [Double], trueNegatives: [Double], falseNegatives: [Double]

    /// `numThresholds` is at least 2 (a precondition, as Keras's "num_thresholds must be > 1").
    public init(numThresholds: Int = 200, fromLogits: Bool = false, name: String = "auc") {
        precondition(numThresholds > 1, "AUC needs more than one threshold")
        self.numThresholds = numThresholds
        self.fromLogits = fromLogits
        let inner: [Float] = (1..<(numThresholds - 1)).map { k in Float(Double(k) / Double(numThresholds - 1)) }
        thresholds = [-probabilityEpsilon] + inner + [1 + probabilityEpsilon]
        (truePositives, falsePositives, trueNegatives, falseNegatives) = ([], [], [], [])
        super.init(name: name)
        reset()
    }

    public override func update(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor? = nil, sampleWeight: Tensor? = nil) throws {
        let labels = try sameShapeTargets(yTrue, yPred, op: name).to(.cpu).scalars
        let predictions = try (fromLogits ? yPred.sigmoid() : yPred).to(.cpu).scalars
        let weights = try elementWeights(of: yPred, mask: mask, sampleWeight: sampleWeight, metric: name).to(.cpu).scalars
        for (i, p) in predictions.enumerated() {
            let positive = labels[i] != 0, w = Double(weights[i])
            for (k, t) in thresholds.enumerated() {
                switch (p > t, positive) {
                case (true, true): truePositives[k] += w
                case (true, false): falsePositives[k] += w
                case (false, true): falseNegatives[k] += w
                case (false, false): trueNegatives[k] += w
                }
            }
        }
    }

    public override var result: Float {
        func rate(_ a: Double, _ b: Double) -> Double { b > 0 ? a / b : 0 }
        let recall = thresholds.indices.map { rate(truePositives[$0], truePositives[$0] + falseNegatives[$0]) }
        let falsePositiveRate = thresholds.indices.map { rate(falsePositives[$0], falsePositives[$0] + trueNegatives[$0]) }
        var area = 0.0
        for k in 0..<(numThresholds - 1) {
            let width: Double = falsePositiveRate[k] - falsePositiveRate[k + 1]
            let height: Double = (recall[k] + recall[k + 1]) / 2
            area += width * height
        }
        return Float(area)
    }

    public override func reset() {
        let zeros = [Double](repeating: 0, count: numThresholds)
        (truePositives, falsePositives, trueNegatives, falseNegatives) = (zeros, zeros, zeros, zeros)
    }

    override func independentCopy() -> Metric { renamed(name) }
    override func renamed(_ name: String) -> Metric { AUC(numThresholds: numThresholds, fromLogits: fromLogits, name: name) }
}

/// The weight of every element of `yPred` for the confusion-matrix metrics: the product of the mask
/// and the sample weights, each of a shape that begins `yPred`'s (batch, or batch and time),
/// broadcast over the rest; 1 without either. Throws, naming `metric`, for another shape.
private func elementWeights(of yPred: Tensor, mask: Tensor?, sampleWeight: Tensor?, metric: String) throws -> Tensor {
    var weights = Tensor.ones(yPred.shape)
    for w in [mask, sampleWeight].compactMap({ $0 }) {
        guard w.rank <= yPred.rank, Array(yPred.shape.prefix(w.rank)) == w.shape else {
            throw RecurError.shapeMismatch(op: "\(metric) weights", expected: "a prefix of \(describeShape(yPred.shape))", actual: describeShape(w.shape))
        }
        weights = try weights * w.reshaped(to: w.shape + Array(repeating: 1, count: yPred.rank - w.rank))
    }
    return weights
}
