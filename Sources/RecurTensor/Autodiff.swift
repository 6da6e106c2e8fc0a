/// Reverse-mode automatic differentiation.
///
/// Each op whose inputs depend on a tensor that requires gradients records a `GradNode`: the outputs
/// of other nodes it read (`GradEdge`s) and a closure mapping the gradients of its outputs to the
/// gradients of its inputs (the vector-Jacobian product). An op may have several outputs (the fused
/// recurrence returns its sequence, last output and final states); each output tensor refers to the
/// node and its output index. `gradients(of:wrt:)` walks the recorded graph once in reverse
/// topological order, summing (`+=`) the contributions of every use of a tensor.
final class GradNode {
    /// Where each input came from; `nil` for inputs that need no gradient.
    let inputs: [GradEdge?]
    let outputCount: Int
    /// Maps one gradient per output (`nil` for an output that nothing downstream used) to one gradient
    /// per input (`nil` where `inputs[i]` is `nil`).
    let pullback: (([Tensor?]) throws -> [Tensor?])?

    init(inputs: [GradEdge?], outputCount: Int = 1, pullback: (([Tensor?]) throws -> [Tensor?])?) {
        self.inputs = inputs
        self.outputCount = outputCount
        self.pullback = pullback
    }
}

/// One output of a recorded op: the node and which of its outputs.
struct GradEdge {
    let node: GradNode
    let output: Int

    var key: GradKey { GradKey(node: ObjectIdentifier(node), output: output) }
}

struct GradKey: Hashable {
    let node: ObjectIdentifier
    let output: Int
}

/// Whether ops record gradient nodes in the current context.
public enum GradientRecording {
    @TaskLocal static var isEnabled = true

    /// Runs `body` without recording: for inference and for the backward pass itself.
    public static func disabled<R>(_ body: () throws -> R) rethrows -> R {
        try $isEnabled.withValue(false, operation: body)
    }
}

extension Tensor {
    /// Whether this tensor takes part in differentiation.
    public var requiresGradient: Bool { node != nil }

    /// This tensor as a new leaf of differentiation: gradients can be taken with respect to it.
    public func requiringGradient() -> Tensor {
        var t = self
        t.node = GradEdge(node: GradNode(inputs: [], pullback: nil), output: 0)
        return t
    }

    /// The same values with no gradient history.
    public var detached: Tensor {
        var t = self
        t.node = nil
        return t
    }

    /// Whether an op on `a` (and `b`) records a gradient node. Eager ops ask before they build their
    /// pullback: its captures and the operand list cost allocations on every call, even when `record`
    /// then keeps nothing (inference).
    static func isRecorded(_ a: Tensor, _ b: Tensor? = nil) -> Bool {
        (a.node != nil || b?.node != nil) && GradientRecording.isEnabled
    }

    /// Attaches a gradient node to `result` when recording is on and any input requires gradients.
    /// `pullback` receives the output's gradient and the mask of inputs needing gradients.
    static func record(_ result: inout Tensor, inputs: [Tensor],
                       pullback: @escaping (Tensor, [Bool]) throws -> [Tensor?]) {
        guard inputs.contains(where: { $0.node != nil }), GradientRecording.isEnabled else { return }
        let shape = result.shape
        var results = [result]
        record(&results, inputs: inputs) { grads, needed in
            try pullback(grads[0] ?? Tensor.zeros(shape), needed)
        }
        result = results[0]
    }

    /// Attaches one gradient node to all of `results` (an op with several outputs) when recording is on
    /// and any input requires gradients. `pullback` receives one gradient per output — `nil` for an
    /// output nothing used — and the mask of inputs needing gradients; a single backward call serves
    /// every output.
    static func record(_ results: inout [Tensor], inputs: [Tensor],
                       pullback: @escaping ([Tensor?], [Bool]) throws -> [Tensor?]) {
        guard inputs.contains(where: { $0.node != nil }), GradientRecording.isEnabled else { return }
        let edges = inputs.map(\.node)
        let needed = edges.map { $0 != nil }
        let node = GradNode(inputs: edges, outputCount: results.count) { grads in try pullback(grads, needed) }
        for k in results.indices { results[k].node = GradEdge(node: node, output: k) }
    }
}

/// Gradients of the scalar `y` with respect to each tensor in `xs` (each must be `requiringGradient()`
/// or computed from one). A tensor that `y` does not depend on gets a zero gradient.
public func gradients(of y: Tensor, wrt xs: [Tensor]) throws -> [Tensor] {
    guard y.count == 1 else {
        throw RecurError.shapeMismatch(op: "gradients", expected: "a scalar", actual: describeShape(y.shape))
    }
    return try gradients(of: [y], seeds: [Tensor(repeating: 1, shape: y.shape)], wrt: xs)
}

/// Vector-Jacobian product: gradients of Σᵢ ⟨yᵢ, seedᵢ⟩ with respect to each tensor in `xs`.
public func gradients(of ys: [Tensor], seeds: [Tensor], wrt xs: [Tensor]) throws -> [Tensor] {
    var order: [GradNode] = []
    var visited = Set<ObjectIdentifier>()
    // Iterative depth-first post-order, so long unrolled sequences cannot overflow the stack.
    var stack: [(GradNode, Int)] = ys.compactMap(\.node).map { ($0.node, 0) }
    while let (node, next) = stack.popLast() {
        if next == 0 {
            if visited.contains(ObjectIdentifier(node)) { continue }
            visited.insert(ObjectIdentifier(node))
        }
        if next < node.inputs.count {
            stack.append((node, next + 1))
            if let child = node.inputs[next]?.node, !visited.contains(ObjectIdentifier(child)) {
                stack.append((child, 0))
            }
        } else {
            order.append(node)
        }
    }
    let wanted = Set(xs.compactMap { $0.node?.key })
    var grads: [GradKey: Tensor] = [:]
    try GradientRecording.disabled {
        for (y, seed) in zip(ys, seeds) {
            guard let edge = y.node else { continue }
            guard seed.shape == y.shape else {
                throw RecurError.shapeMismatch(op: "gradients", expected: describeShape(y.shape), actual: describeShape(seed.shape))
            }
            try accumulate(&grads, edge.key, seed.to(y.device))
        }
        for node in order.reversed() {
            let id = ObjectIdentifier(node)
            let outputGrads = (0..<node.outputCount).map { grads[GradKey(node: id, output: $0)] }
            guard let pullback = node.pullback, outputGrads.contains(where: { $0 != nil }) else { continue }
            let inputGrads = try pullback(outputGrads)
            for (input, ig) in zip(node.inputs, inputGrads) {
                if let input, let ig { try accumulate(&grads, input.key, ig) }
            }
            for k in 0..<node.outputCount where !wanted.contains(GradKey(node: id, output: k)) {
                grads[GradKey(node: id, output: k)] = nil
            }
        }
    }
    return xs.map { x in
        x.node.flatMap { grads[$0.key] } ?? Tensor.zeros(x.shape)
    }
}

private func accumulate(_ grads: inout [GradKey: Tensor], _ key: GradKey, _ g: Tensor) throws {
    if let existing = grads[key] {
        grads[key] = try existing + g
    } else {
        grads[key] = g
    }
}

extension Tensor {
    /// An op of your own in the gradient graph: `value` (computed by you from `inputs`) whose
    /// vector-Jacobian product is `pullback`, which maps the output's gradient to one gradient per
    /// input, each of that input's shape. Without recording or inputs needing gradients, `value` is
    /// returned as it is.
    public static func differentiable(_ value: Tensor, inputs: [Tensor], pullback: @escaping (Tensor) throws -> [Tensor]) -> Tensor {
        untraceable(inputs, "Tensor.differentiable (a gradient of its own)")
        var result = value.detached
        record(&result, inputs: inputs) { g, needed in
            let grads = try pullback(g)
            guard grads.count == needed.count else {
                throw RecurError.invalidArgument(op: "differentiable", message: "pullback returned \(grads.count) gradients for \(needed.count) inputs")
            }
            return zip(grads, needed).map { $1 ? $0 : nil }
        }
        return result
    }
}
