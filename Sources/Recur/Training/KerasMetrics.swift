/// Keras's metrics beyond accuracy, MAE and MSE: the running means of the losses of the same name
/// (Keras's `MeanMetricWrapper`s; `cosineSimilarity` with the opposite sign of the loss, +1 for the
/// same direction), and the stateful `RootMeanSquaredError`, `Precision` and `Recall`.
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
        var weights = Tensor.ones(yPred.shape)
        for w in [mask, sampleWeight].compactMap({ $0 }) {
            guard w.rank <= yPred.rank, Array(yPred.shape.prefix(w.rank)) == w.shape else {
                throw RecurError.shapeMismatch(op: "\(name) weights", expected: "a prefix of \(describeShape(yPred.shape))",
                                               actual: describeShape(w.shape))
            }
            weights = try weights * w.reshaped(to: w.shape + Array(repeating: 1, count: yPred.rank - w.rank))
        }
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
