import Foundation

/// The activity penalties recorded during one forward pass (`Layer.activityRegularizer`): training
/// and evaluation steps run their forward pass inside `collecting(_:)`.
final class ActivityPenalties: @unchecked Sendable {
    @TaskLocal static var current: ActivityPenalties?

    private let lock = NSLock()
    private var total: Tensor?

    /// Runs `body` recording the activity penalties of the layers it runs; returns its result and their sum.
    static func collecting<R>(_ body: () throws -> R) throws -> (R, Tensor?) {
        let penalties = ActivityPenalties()
        let result = try $current.withValue(penalties, operation: body)
        return (result, penalties.total)
    }

    /// Adds `regularizer`'s penalty of each output, divided by its batch size (Keras's `divide_no_nan`:
    /// an empty batch adds 0).
    func record(_ regularizer: Regularizer, on outputs: [Tensor]) throws {
        for output in outputs {
            var penalty = try regularizer.penalty(of: output)
            if output.rank > 0 { penalty = penalty.scaled(by: output.shape[0] > 0 ? 1 / Float(output.shape[0]) : 0) }
            lock.lock()
            defer { lock.unlock() }
            total = try total.map { try $0 + penalty } ?? penalty
        }
    }
}

extension Layer {
    /// This layer and every layer inside it, each once, outer layers first.
    var layerTree: [Layer] {
        var seen = Set<ObjectIdentifier>(), out: [Layer] = []
        var stack: [Layer] = [self]
        while let layer = stack.popLast() {
            guard seen.insert(ObjectIdentifier(layer)).inserted else { continue }
            out.append(layer)
            stack += layer.sublayers.reversed()
        }
        return out
    }

    /// The weights Keras's layers name in `*_regularizer` / `*_constraint` arguments. A rule for one of
    /// them that a layer lacks is ignored, as Keras ignores `bias_regularizer` without a bias.
    private static let kerasRuleWeights: Set<String> = ["kernel", "recurrent_kernel", "bias", "embeddings", "gamma", "beta", "alpha"]

    /// Each regularized or constrained trainable weight of the layer tree once, with its rule; throws
    /// for a rule that names no weight Keras knows and none of its layer's (a misspelt name would
    /// otherwise be ignored silently).
    private func weightRules<Rule>(_ rules: (Layer) -> [String: Rule], kind: String) throws -> [(layer: Layer, weight: Variable, rule: Rule)] {
        var seen = Set<ObjectIdentifier>(), out: [(layer: Layer, weight: Variable, rule: Rule)] = []
        for layer in layerTree where !rules(layer).isEmpty && layer.isBuilt {
            for (name, rule) in rules(layer).sorted(by: { $0.key < $1.key }) {
                let matching = layer.variables.filter { $0.name == name }
                guard !matching.isEmpty || Self.kerasRuleWeights.contains(name) else {
                    throw RecurError.invalidArgument(layer.errorSubject, "has a \(kind) for weight '\(name)' but no weight of that name "
                                                     + "(its weights: \(layer.variables.map(\.name).joined(separator: ", ")))")
                }
                for v in matching where v.isTrainable && seen.insert(ObjectIdentifier(v)).inserted { out.append((layer, v, rule)) }
            }
        }
        return out
    }

    /// Σ of the weight penalties (`weightRegularizers`) over the layer tree, each weight once; nil when
    /// no weight is regularized. A regularizer that refuses its weight (an orthogonal one of a weight that
    /// is not a matrix) throws naming the layer and the weight.
    func weightPenalty() throws -> Tensor? {
        try weightRules({ $0.weightRegularizers }, kind: "regularizer").reduce(nil) { total, rule in
            let penalty = try rule.layer.restatingErrors(as: "\(rule.weight.name) regularizer") { try rule.rule.penalty(of: rule.weight.value) }
            return try total.map { try $0 + penalty } ?? penalty
        }
    }

    /// Replaces each constrained weight (`weightConstraints`) of the layer tree by its constrained value.
    func applyWeightConstraints() throws {
        for (_, v, constraint) in try weightRules({ $0.weightConstraints }, kind: "constraint") { v.value = try constraint.apply(to: v.value).detached }
    }
}
