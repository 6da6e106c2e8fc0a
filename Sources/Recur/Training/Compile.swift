import Foundation

/// What `compile` sets: the optimizer, one loss per output with its weight, and each output's metrics.
public struct CompiledState {
    public let optimizer: Optimizer
    public let losses: [any Loss]
    public let lossWeights: [Float]
    var metrics: [[Metric]]
    /// Metrics weighted by sample (and class) weights (Keras's `weighted_metrics`).
    var weightedMetrics: [[Metric]] = []
}

/// Named values logged for a step, an epoch or an evaluation, in Keras's order and with Keras's names
/// (`loss`, `<output>_loss`, `accuracy` or `<output>_accuracy`, then `val_...`).
public struct Logs: CustomStringConvertible, Sendable {
    public private(set) var names: [String] = []
    public private(set) var values: [String: Float] = [:]

    public init() {}

    public subscript(name: String) -> Float? {
        get { values[name] }
        set {
            if values[name] == nil, newValue != nil { names.append(name) }
            values[name] = newValue
            if newValue == nil { names.removeAll { $0 == name } }
        }
    }

    public var description: String {
        names.map { "\($0): \(formatLogValue(values[$0]!))" }.joined(separator: " - ")
    }
}

/// Keras's progress-bar number format: 4 decimals, or scientific for tiny values.
func formatLogValue(_ v: Float) -> String {
    abs(v) > 1e-3 || v == 0 ? String(format: "%.4f", v) : String(format: "%.4e", v)
}

extension Model {
    /// Configures training, as Keras's `compile`: an optimizer, one loss for every output (or
    /// a list or a dictionary by output name), optional loss weights, metrics for every
    /// output and metrics weighted by `sampleWeight`/`classWeight`. Each may be a Keras name or an object.
    public func compile(optimizer: any OptimizerConvertible = "rmsprop", loss: any LossConvertible, lossWeights: [Float]? = nil,
                        metrics: [any MetricConvertible] = [], weightedMetrics: [any MetricConvertible] = []) throws {
        try compile(optimizer: optimizer, loss: Array(repeating: loss, count: max(outputShapes.count, 1)), lossWeights: lossWeights,
                    metrics: metrics, weightedMetrics: weightedMetrics)
    }

    /// One loss per output, in the model's output order.
    public func compile(optimizer: any OptimizerConvertible = "rmsprop", loss losses: [any LossConvertible], lossWeights: [Float]? = nil,
                        metrics: [any MetricConvertible] = [], weightedMetrics: [any MetricConvertible] = []) throws {
        try validate()
        let outputCount = max(outputShapes.count, 1)
        guard losses.count == outputCount else {
            throw RecurError.invalidArgument(errorSubject, "compile: \(losses.count) losses for \(outputCount) outputs")
        }
        let weights = lossWeights ?? Array(repeating: 1, count: outputCount)
        guard weights.count == outputCount else {
            throw RecurError.invalidArgument(errorSubject, "compile: \(weights.count) loss weights for \(outputCount) outputs")
        }
        let plainNames = metrics.compactMap { $0 as? String }
        let plain = try (0..<outputCount).map { k in try metrics.map { try $0.metric(output: k, weighted: false, alongside: []) } }
        let weighted = try (0..<outputCount).map { k in
            try weightedMetrics.map { try $0.metric(output: k, weighted: true, alongside: plainNames) }
        }
        compiled = CompiledState(optimizer: try optimizer.makeOptimizer(), losses: try losses.map { try $0.makeLoss() },
                                 lossWeights: weights, metrics: plain, weightedMetrics: weighted)
    }

    /// Losses (and optionally loss weights) by output name, as Keras's dicts; outputs not named get none.
    public func compile(optimizer: any OptimizerConvertible = "rmsprop", loss losses: [String: any LossConvertible],
                        lossWeights: [String: Float]? = nil, metrics: [any MetricConvertible] = [],
                        weightedMetrics: [any MetricConvertible] = []) throws {
        let names = outputNames
        for key in losses.keys where !names.contains(key) {
            throw RecurError.invalidArgument(errorSubject, "compile: no output named '\(key)' (outputs: \(names.joined(separator: ", ")))")
        }
        try compile(optimizer: optimizer, loss: names.map { losses[$0] ?? ZeroLoss() },
                    lossWeights: names.map { lossWeights?[$0] ?? (losses[$0] == nil ? 0 : 1) },
                    metrics: metrics, weightedMetrics: weightedMetrics)
    }

    func requireCompiled(_ op: String) throws -> CompiledState {
        guard let compiled else {
            throw RecurError.invalidArgument(errorSubject, "\(op): call compile(optimizer:loss:) first")
        }
        return compiled
    }
}

/// The loss of an output that `compile(loss:)` gives no loss by name: zero.
struct ZeroLoss: Loss {
    var name: String { "none" }
    func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor { Tensor.zeros([yPred.shape.first ?? 0]) }
}
