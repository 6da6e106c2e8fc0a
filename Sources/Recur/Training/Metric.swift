/// A Keras metric. The built-in ones average per-sample values over everything seen since the last
/// reset (Keras's `MeanMetricWrapper`), so the logged number is the running mean over the epoch.
///
/// A metric of your own either passes a per-sample function to `init(name:perSample:)`, or subclasses
/// `Metric` and overrides `update(_:_:mask:sampleWeight:)`, `result` and `reset()` (Keras's
/// `update_state`, `result`, `reset_state`). Give `compile(metrics:)` one instance per output.
open class Metric: MetricConvertible {
    /// The logged name: `accuracy`, `mae`, ...
    public let name: String
    let perSampleFunction: ((Tensor, Tensor) throws -> Tensor)?
    var runningTotal: Double = 0
    var runningCount: Double = 0
    /// The name of the built-in metric this one is (`named`), under whatever name it is logged: how a
    /// compile config names its Keras class.
    var kerasBaseName: String?

    /// A mean of per-sample values: `perSample(yTrue, yPred)` returns one value per sample (or per
    /// sample and time step).
    public init(name: String, perSample: @escaping (_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor) {
        self.name = name
        self.perSampleFunction = perSample
    }

    /// For subclasses that keep their own state.
    public init(name: String) {
        self.name = name
        self.perSampleFunction = nil
    }

    /// A metric of the same kind with its own running state: a new mean metric for the built-in
    /// (per-sample) ones; a subclass keeps its state itself, so it is shared (this instance).
    func independentCopy() -> Metric {
        perSampleFunction.map { Metric(name: name, perSample: $0) } ?? self
    }

    /// The same metric with fresh state, logged as `name` (a Keras metric string names its metric;
    /// `weightedMetrics` add `weighted_`). Recur's stateful metrics override it.
    func renamed(_ name: String) -> Metric {
        let copy = Metric(name: name, perSample: { try self.perSample($0, $1) })
        copy.kerasBaseName = kerasBaseName
        return copy
    }

    /// This metric as one of `weightedMetrics` is logged: `weighted_<name>` when an unweighted metric
    /// of its name (`names`) is logged too, else as it is.
    func logged(weighted: Bool, alongside names: [String]) -> Metric {
        weighted && names.contains(name) ? renamed("weighted_" + name) : self
    }

    /// The running mean (subclasses: the metric's value).
    open var result: Float { runningCount > 0 ? Float(runningTotal / runningCount) : 0 }

    /// Adds a batch; with a mask (the shape of the per-sample values) only kept positions count; with
    /// sample weights (batch,) the mean is weighted: Σ value·w / Σ w (Keras's `weighted_metrics`).
    open func update(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor? = nil, sampleWeight: Tensor? = nil) throws {
        let values = try perSample(yTrue, yPred)
        var weights: Tensor?
        if let mask {
            guard mask.shape == values.shape else {
                throw RecurError.shapeMismatch(op: "\(name) mask", expected: describeShape(values.shape), actual: describeShape(mask.shape))
            }
            weights = mask
        }
        if let sampleWeight {
            let w = try sampleWeight.broadcastable(to: values.shape, what: "\(name) sample weights")
            weights = try (weights ?? Tensor.ones(values.shape)) * w
        }
        if let weights {
            runningTotal += Double(try (values * weights).sum().scalar)
            runningCount += Double(weights.sum().scalar)
        } else {
            runningTotal += try values.sumInDouble()
            runningCount += Double(values.count)
        }
    }

    /// The per-sample values of a mean metric.
    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        guard let perSampleFunction else {
            throw RecurError.unsupported(op: name, message: "\(type(of: self)) must override update(_:_:mask:sampleWeight:) or pass perSample")
        }
        return try perSampleFunction(yTrue, yPred)
    }

    /// Forgets everything seen (called at the start of every epoch and evaluation).
    open func reset() { runningTotal = 0; runningCount = 0 }

    /// An instance belongs to one output of one model: compile with a name ("accuracy") to measure
    /// several outputs.
    public func metric(output: Int, weighted: Bool, alongside names: [String]) throws -> Metric {
        guard output == 0 else {
            throw RecurError.invalidArgument(op: "compile", message: "metric object '\(name)' can measure one output; pass its name, or one model output")
        }
        return self
    }

    /// argmax(ŷ) == y for integer labels.
    public static var sparseCategoricalAccuracy: Metric { Metric(name: "sparse_categorical_accuracy") { y, p in
        var labels = y
        if labels.rank == p.rank, labels.shape.last == 1 { labels = try labels.reshaped(to: Array(labels.shape.dropLast())) }
        guard labels.shape == Array(p.shape.dropLast()) else {
            throw RecurError.shapeMismatch(op: "sparse_categorical_accuracy", expected: "labels of shape \(describeShape(Array(p.shape.dropLast())))", actual: describeShape(y.shape))
        }
        return try p.argmax(alongAxis: -1).equal(labels)
    } }
    /// argmax(ŷ) == argmax(y) for one-hot targets.
    public static var categoricalAccuracy: Metric { Metric(name: "categorical_accuracy") { y, p in
        guard y.shape == p.shape else {
            throw RecurError.shapeMismatch(op: "categorical_accuracy", expected: describeShape(p.shape), actual: describeShape(y.shape))
        }
        return try p.argmax(alongAxis: -1).equal(y.argmax(alongAxis: -1))
    } }
    /// (ŷ > 0.5) == y, averaged over the last axis. Labels (batch,) against predictions (batch, 1)
    /// are brought to the same rank first, as Keras does (never broadcast to (batch, batch)).
    public static var binaryAccuracy: Metric { Metric(name: "binary_accuracy") { y, p in
        let labels = try matchingRank(y, p)
        guard labels.shape == p.shape else {
            throw RecurError.shapeMismatch(op: "binary_accuracy", expected: "labels of shape \(describeShape(p.shape))", actual: describeShape(y.shape))
        }
        return try p.greater(Tensor(0.5)).equal(labels).mean(alongAxis: -1)
    } }
    public static var meanAbsoluteError: Metric { Metric(name: "mean_absolute_error") { y, p in try MeanAbsoluteError().perSample(y, p) } }
    public static var meanSquaredError: Metric { Metric(name: "mean_squared_error") { y, p in try MeanSquaredError().perSample(y, p) } }

    /// Keras's "accuracy", chosen from the shapes as Keras's `get_metric` does: a single output unit →
    /// binary; otherwise labels of lower rank or with a last axis of 1 (class ids) → sparse
    /// categorical; otherwise (one-hot labels) categorical.
    public static var accuracy: Metric { Metric(name: "accuracy") { y, p in
        if p.shape.last == 1 { return try binaryAccuracy.perSample(y, p) }
        if y.rank < p.rank || y.shape.last == 1 { return try sparseCategoricalAccuracy.perSample(y, p) }
        return try categoricalAccuracy.perSample(y, p)
    } }

    /// The metric a Keras metric string means, logged under that string, as Keras logs it ("mae",
    /// "acc", "mape", ...): Keras's snake-case class names and its short aliases.
    public static func named(_ name: String) throws -> Metric {
        let metric: Metric
        switch name {
        case "accuracy", "acc": metric = accuracy
        case "sparse_categorical_accuracy": metric = sparseCategoricalAccuracy
        case "categorical_accuracy": metric = categoricalAccuracy
        case "binary_accuracy": metric = binaryAccuracy
        case "mae", "MAE", "mean_absolute_error": metric = meanAbsoluteError
        case "mse", "MSE", "mean_squared_error": metric = meanSquaredError
        case "root_mean_squared_error": metric = rootMeanSquaredError
        case "mape", "MAPE", "mean_absolute_percentage_error": metric = meanAbsolutePercentageError
        case "msle", "MSLE", "mean_squared_logarithmic_error": metric = meanSquaredLogarithmicError
        case "cosine_similarity": metric = cosineSimilarity
        case "kl_divergence": metric = klDivergence
        case "poisson": metric = poisson
        case "hinge": metric = hinge
        case "squared_hinge": metric = squaredHinge
        case "categorical_hinge": metric = categoricalHinge
        case "bce", "BCE", "binary_crossentropy": metric = binaryCrossentropy
        case "categorical_crossentropy": metric = categoricalCrossentropy
        case "sparse_categorical_crossentropy": metric = sparseCategoricalCrossentropy
        case "precision": metric = precision
        case "recall": metric = recall
        case "auc": metric = auc
        case "r2_score": metric = R2Score()
        case "pearson_correlation": metric = pearsonCorrelation
        case "concordance_correlation": metric = concordanceCorrelation
        case "top_k_categorical_accuracy": metric = topKCategoricalAccuracy()
        case "sparse_top_k_categorical_accuracy": metric = sparseTopKCategoricalAccuracy()
        default: throw RecurError.invalidArgument(op: "compile", message: "unknown metric '\(name)'")
        }
        metric.kerasBaseName = metric.name
        return metric.name == name ? metric : metric.renamed(name)
    }
}
