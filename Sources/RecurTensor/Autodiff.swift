/// Reverse-mode automatic differentiation.
///
/// Each op whose inputs depend on a tensor that requires gradients records a `GradNode`: the nodes of
/// its inputs and a closure mapping the gradient of its output to the gradients of its inputs (the
/// vector-Jacobian product). `gradients(of:wrt:)` walks the recorded graph once in reverse
/// topological order, summing (`+=`) the contributions of every use of a tensor.
final class GradNode {
    /// Nodes of the op's inputs; `nil` for inputs that need no gradient.
    let inputs: [GradNode?]
    /// Maps the output's gradient to one gradient per input (`nil` where `inputs[i]` is `nil`).
    let pullback: ((Tensor) throws -> [Tensor?])?

    init(inputs: [GradNode?], pullback: ((Tensor) throws -> [Tensor?])?) {
        self.inputs = inputs
        self.pullback = pullback
    }
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
        t.node = GradNode(inputs: [], pullback: nil)
        return t
    }

    /// The same values with no gradient history.
    public var detached: Tensor {
        var t = self
        t.node = nil
        return t
    }

    /// Attaches a gradient node to `result` when recording is on and any input requires gradients.
    /// `pullback` receives the output's gradient and the mask of inputs needing gradients.
    static func record(_ result: inout Tensor, inputs: [Tensor],
                       pullback: @escaping (Tensor, [Bool]) throws -> [Tensor?]) {
        guard inputs.contains(where: { $0.node != nil }), GradientRecording.isEnabled else { return }
        let nodes = inputs.map(\.node)
        let needed = nodes.map { $0 != nil }
        result.node = GradNode(inputs: nodes) { g in try pullback(g, needed) }
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
    var stack: [(GradNode, Int)] = ys.compactMap(\.node).map { ($0, 0) }
    while let (node, next) = stack.popLast() {
        if next == 0 {
            if visited.contains(ObjectIdentifier(node)) { continue }
            visited.insert(ObjectIdentifier(node))
        }
        if next < node.inputs.count {
            stack.append((node, next + 1))
            if let child = node.inputs[next], !visited.contains(ObjectIdentifier(child)) {
                stack.append((child, 0))
            }
        } else {
            order.append(node)
        }
    }
    var grads: [ObjectIdentifier: Tensor] = [:]
    try GradientRecording.disabled {
        for (y, seed) in zip(ys, seeds) {
            guard let node = y.node else { continue }
            guard seed.shape == y.shape else {
                throw RecurError.shapeMismatch(op: "gradients", expected: describeShape(y.shape), actual: describeShape(seed.shape))
            }
            try accumulate(&grads, ObjectIdentifier(node), seed)
        }
        for node in order.reversed() {
            guard let pullback = node.pullback, let g = grads[ObjectIdentifier(node)] else { continue }
            let inputGrads = try pullback(g)
            for (input, ig) in zip(node.inputs, inputGrads) {
                if let input, let ig { try accumulate(&grads, ObjectIdentifier(input), ig) }
            }
            if !xs.contains(where: { $0.node === node }) { grads[ObjectIdentifier(node)] = nil }
        }
    }
    return xs.map { x in
        x.node.flatMap { grads[ObjectIdentifier($0)] } ?? Tensor.zeros(x.shape)
    }
}

private func accumulate(_ grads: inout [ObjectIdentifier: Tensor], _ key: ObjectIdentifier, _ g: Tensor) throws {
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
