import Foundation
import CRecurKernels

/// The update rules of Keras's optimizers as tensor ops: `Tensor.update(by:gradient:slots:)` applies one
/// to a variable's value and its slot tensors in place, so optimizers never touch storage themselves.
public enum UpdateRule: Sendable {
    /// v ← μv − ηg; w ← w + v (Nesterov: w ← w + μv − ηg); without momentum w ← w − ηg. Slots: [v] with momentum.
    case sgd(learningRate: Float, momentum: Float, nesterov: Bool)
    /// m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂); w ← w − η·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m/(√v + ε). Slots: [m, v].
    case adam(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, step: Int)
    /// a ← ρa + (1 − ρ)g²; Δ = ηg/√(a + ε); with momentum s ← μs + Δ, w ← w − s; else w ← w − Δ.
    /// Slots: [a], or [a, s] with momentum.
    case rmsprop(learningRate: Float, rho: Float, momentum: Float, epsilon: Float)
    /// Decoupled weight decay w ← w − λw (AdamW's first half). No slots.
    case weightDecay(Float)

    /// How many slot tensors (each of the variable's shape) the rule keeps.
    public var slotCount: Int {
        switch self {
        case .sgd(_, let momentum, _): momentum > 0 ? 1 : 0
        case .adam: 2
        case .rmsprop(_, _, let momentum, _): momentum > 0 ? 2 : 1
        case .weightDecay: 0
        }
    }
}

extension Tensor {
    /// Applies `rule` to this tensor in place from `gradient` (same shape), updating `slots` (as many as
    /// `rule.slotCount`, each of this shape).
    public mutating func update(by rule: UpdateRule, gradient: Tensor, slots: inout [Tensor]) throws {
        guard gradient.shape == shape else {
            throw RecurError.shapeMismatch(op: "update", expected: describeShape(shape), actual: describeShape(gradient.shape))
        }
        guard slots.count == rule.slotCount, slots.allSatisfy({ $0.shape == shape }) else {
            throw RecurError.invalidArgument(op: "update", message: "\(rule) keeps \(rule.slotCount) slot(s) of shape \(describeShape(shape)), got \(slots.map { describeShape($0.shape) })")
        }
        for other in [gradient] + slots where other.device != device {
            throw RecurError.invalidArgument(op: "update", message: "the value is on \(device) but a gradient or slot is on \(other.device)")
        }
        try deviceBackend.update(&self, by: rule, gradient: gradient, slots: &slots)
    }

    /// `update(by:gradient:slots:)` on host tensors (checked by it): the CPU backend's loops.
    mutating func applyOnHost(_ rule: UpdateRule, gradient: Tensor, slots: inout [Tensor]) throws {
        let g = gradient.base
        let n = count
        var first = slots.first ?? Tensor.zeros([0]), second = slots.count > 1 ? slots[1] : Tensor.zeros([0])
        // Out of the array while they are updated, the slots' storage has one holder and is written in
        // place; left in it as well, every update copied it first.
        let slotCount = slots.count
        slots.removeAll()
        defer { slots = Array([first, second].prefix(slotCount)) }
        try withUnsafeMutableBufferPointer { w in
            try first.withUnsafeMutableBufferPointer { s0 in
                try second.withUnsafeMutableBufferPointer { s1 in
                    switch rule {
                    case let .sgd(lr, mu, nesterov):
                        recur_update_sgd(w.baseAddress, g, s0.baseAddress, n, lr, mu, nesterov ? 1 : 0)
                    case let .adam(lr, b1, b2, eps, step):
                        let t = Double(step)
                        let alpha = Float(Double(lr) * (1 - pow(Double(b2), t)).squareRoot() / (1 - pow(Double(b1), t)))
                        recur_update_adam(w.baseAddress, g, s0.baseAddress, s1.baseAddress, n, alpha, b1, b2, eps)
                    case let .rmsprop(lr, rho, mu, eps):
                        recur_update_rmsprop(w.baseAddress, g, s0.baseAddress, s1.baseAddress, n, lr, rho, mu, eps)
                    case let .weightDecay(decay):
                        for i in 0..<n { w[i] -= w[i] * decay }
                    }
                }
            }
        }
    }
}
