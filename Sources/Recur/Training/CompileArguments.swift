/// What `compile` accepts for its optimizer, losses and metrics: a Keras name or an object, mixed
/// freely, as in Keras: `compile(optimizer: Adam(learningRate: 1e-4), loss: "mse", metrics: ["accuracy", MyMetric()])`.

/// An optimizer or its Keras name ("sgd", "adam", "adamw", "rmsprop").
public protocol OptimizerConvertible {
    func makeOptimizer() throws -> Optimizer
}

/// A loss or its Keras name ("mse", "binary_crossentropy", ...).
public protocol LossConvertible {
    func makeLoss() throws -> any Loss
}

/// A metric or its Keras name ("accuracy", "mae", ...).
public protocol MetricConvertible {
    /// The metric for output number `output`; `weighted` when it is one of `weightedMetrics`, whose
    /// names are logged as `weighted_<name>` when `names` (the unweighted metrics) has the same one.
    func metric(output: Int, weighted: Bool, alongside names: [String]) throws -> Metric
}

extension String: OptimizerConvertible, LossConvertible, MetricConvertible {
    public func makeOptimizer() throws -> Optimizer { try optimizerNamed(self) }
    public func makeLoss() throws -> any Loss { try lossNamed(self) }
    public func metric(output: Int, weighted: Bool, alongside names: [String]) throws -> Metric {
        try Metric.named(self).logged(weighted: weighted, alongside: names)
    }
}

extension Optimizer: OptimizerConvertible {
    public func makeOptimizer() throws -> Optimizer { self }
}
