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
    /// The running mean of each sample's Pearson correlation of y and ŷ over the last axis, each
    /// centred and divided by its (population) standard deviation: mean(ỹ·ŷ̃) (Keras's `PearsonCorrelation`).
    public static var pearsonCorrelation: Metric {
        Metric(name: "pearson_correlation") { y, p in
            let target = try sameShapeTargets(y, p, op: "pearson_correlation")
            func standardised(_ x: Tensor) throws -> Tensor {
                let centred = try x - x.mean(alongAxis: -1, keepingDimensions: true)
                return try centred / centred.squared().mean(alongAxis: -1, keepingDimensions: true).sqrt()
            }
            return try (standardised(target) * standardised(p)).mean(alongAxis: -1)
        }
    }
    /// The running mean of each sample's concordance correlation over the last axis, as Keras computes
    /// it (its covariance centres y on ŷ's mean): mean(2(y − μ̂)(ŷ − μ̂) / (σ²_y + σ²_ŷ + (μ_y − μ̂)² + ε))
    /// (Keras's `ConcordanceCorrelation`).
    public static var concordanceCorrelation: Metric {
        Metric(name: "concordance_correlation") { y, p in
            let target = try sameShapeTargets(y, p, op: "concordance_correlation")
            let (targetMean, predictionMean) = (try target.mean(alongAxis: -1, keepingDimensions: true), try p.mean(alongAxis: -1, keepingDimensions: true))
            func variance(_ centred: Tensor) throws -> Tensor {
                try (centred - centred.mean(alongAxis: -1, keepingDimensions: true)).squared().mean(alongAxis: -1, keepingDimensions: true)
            }
            let covariance = try (target - predictionMean) * (p - predictionMean)
            let norm = try variance(target - targetMean) + variance(p - predictionMean) + (targetMean - predictionMean).squared()
            return try (2 * covariance / (norm + probabilityEpsilon)).mean(alongAxis: -1)
        }
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

/// What `Precision`, `Recall` and the four counts (`TruePositives`, ...) share: predictions above
/// `threshold` count as positive, targets that are not 0 as positive, over every element seen since
/// the last reset, each weighted by its sample's weight and mask (Keras's confusion-matrix metrics
/// with one threshold).
public class ConfusionMetric: Metric {
    public let threshold: Float
    var truePositives = 0.0, falsePositives = 0.0, falseNegatives = 0.0, trueNegatives = 0.0

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
        trueNegatives += Double(try ((1 - predicted) * (1 - labels) * weights).sum().scalar)
    }

    public override func reset() { (truePositives, falsePositives, falseNegatives, trueNegatives) = (0, 0, 0, 0) }

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

/// The weighted count of true positives since the last reset (Keras's `TruePositives`).
public final class TruePositives: ConfusionMetric {
    public convenience init(threshold: Float = 0.5) { self.init(name: "true_positives", threshold: threshold) }
    public override var result: Float { Float(truePositives) }
}

/// The weighted count of false positives since the last reset (Keras's `FalsePositives`).
public final class FalsePositives: ConfusionMetric {
    public convenience init(threshold: Float = 0.5) { self.init(name: "false_positives", threshold: threshold) }
    public override var result: Float { Float(falsePositives) }
}

/// The weighted count of true negatives since the last reset (Keras's `TrueNegatives`).
public final class TrueNegatives: ConfusionMetric {
    public convenience init(threshold: Float = 0.5) { self.init(name: "true_negatives", threshold: threshold) }
    public override var result: Float { Float(trueNegatives) }
}

/// The weighted count of false negatives since the last reset (Keras's `FalseNegatives`).
public final class FalseNegatives: ConfusionMetric {
    public convenience init(threshold: Float = 0.5) { self.init(name: "false_negatives", threshold: threshold) }
    public override var result: Float { Float(falseNegatives) }
}

/// The weight of every element of `yPred` for the confusion-matrix metrics: the product of the mask
/// and the sample weights, each of a shape that begins `yPred`'s (batch, or batch and time),
/// broadcast over the rest; 1 without either. Throws, naming `metric`, for another shape.
func elementWeights(of yPred: Tensor, mask: Tensor?, sampleWeight: Tensor?, metric: String) throws -> Tensor {
    var weights = Tensor.ones(yPred.shape)
    for w in [mask, sampleWeight].compactMap({ $0 }) {
        guard w.rank <= yPred.rank, Array(yPred.shape.prefix(w.rank)) == w.shape else {
            throw RecurError.shapeMismatch(op: "\(metric) weights", expected: "a prefix of \(describeShape(yPred.shape))", actual: describeShape(w.shape))
        }
        weights = try weights * w.reshaped(to: w.shape + Array(repeating: 1, count: yPred.rank - w.rank))
    }
    return weights
}
