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
public struct Logs: CustomStringConvertible {
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

import Foundation

extension Model {
    /// Configures training: an optimizer, one loss for every output (or a list, one per output),
    /// optional loss weights, and metrics by Keras name ("accuracy", "mae", "mse") for every output.
    public func compile(optimizer: Optimizer, loss: [any Loss], lossWeights: [Float]? = nil, metrics: [String] = [],
                        weightedMetrics: [String] = []) throws {
        let outputCount = max(outputShapes.count, 1)
        let losses = loss.count == 1 ? Array(repeating: loss[0], count: outputCount) : loss
        guard losses.count == outputCount else {
            throw RecurError.invalidArgument(op: "\(name).compile", message: "\(loss.count) losses for \(outputCount) outputs")
        }
        let weights = lossWeights ?? Array(repeating: 1, count: outputCount)
        guard weights.count == outputCount else {
            throw RecurError.invalidArgument(op: "\(name).compile", message: "\(weights.count) loss weights for \(outputCount) outputs")
        }
        let perOutput = try (0..<outputCount).map { _ in try metrics.map { try Metric.named($0) } }
        // A weighted metric named like an unweighted one is logged as weighted_<name>, as Keras does.
        let weighted = try (0..<outputCount).map { _ in
            try weightedMetrics.map { name -> Metric in
                let m = try Metric.named(name)
                return metrics.contains(name) ? Metric(name: "weighted_" + m.name, perSample: m.perSample) : m
            }
        }
        compiled = CompiledState(optimizer: optimizer, losses: losses, lossWeights: weights, metrics: perOutput, weightedMetrics: weighted)
    }

    public func compile(optimizer: Optimizer, loss: any Loss, lossWeights: [Float]? = nil, metrics: [String] = [],
                        weightedMetrics: [String] = []) throws {
        try compile(optimizer: optimizer, loss: [loss], lossWeights: lossWeights, metrics: metrics, weightedMetrics: weightedMetrics)
    }

    /// String form: `compile(optimizer: "adam", loss: "mse", metrics: ["accuracy"])`.
    public func compile(optimizer: String, loss: String, lossWeights: [Float]? = nil, metrics: [String] = [],
                        weightedMetrics: [String] = []) throws {
        try compile(optimizer: optimizerNamed(optimizer), loss: [lossNamed(loss)], lossWeights: lossWeights, metrics: metrics,
                    weightedMetrics: weightedMetrics)
    }

    public func compile(optimizer: String, loss: any Loss, lossWeights: [Float]? = nil, metrics: [String] = [],
                        weightedMetrics: [String] = []) throws {
        try compile(optimizer: optimizerNamed(optimizer), loss: [loss], lossWeights: lossWeights, metrics: metrics,
                    weightedMetrics: weightedMetrics)
    }

    func requireCompiled(_ op: String) throws -> CompiledState {
        guard let compiled else {
            throw RecurError.invalidArgument(op: "\(name).\(op)", message: "call compile(optimizer:loss:) first")
        }
        return compiled
    }
}
