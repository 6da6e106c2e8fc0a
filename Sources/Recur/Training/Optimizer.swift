import Foundation

/// A Keras optimizer: updates variables in place from their gradients.
/// Slots (momentum, moments) are kept per variable; `clipnorm` clips each gradient to that L2 norm,
/// `clipvalue` clips each element to [−v, v] (both applied before the update, as Keras).
open class Optimizer {
    public var learningRate: Float
    public let clipNorm: Float?
    public let clipValue: Float?
    /// Number of updates applied so far (Keras's `iterations`).
    public internal(set) var iterations = 0
    /// When set, `learningRate` is taken from it before every update (Keras's `learning_rate=schedule`).
    public var learningRateSchedule: (any LearningRateSchedule)?
    private var slots: [ObjectIdentifier: [Tensor]] = [:]

    public init(learningRate: Float, clipNorm: Float? = nil, clipValue: Float? = nil) {
        self.learningRate = learningRate
        self.clipNorm = clipNorm
        self.clipValue = clipValue
    }

    /// The Keras config name: "SGD", "Adam", "RMSprop".
    open var name: String { String(describing: type(of: self)) }
    /// How many slot tensors (each of the variable's shape) the update keeps.
    open var slotCount: Int { updateRule(step: 1)?.slotCount ?? 0 }

    /// The built-in rule applied at update number `step` (1 first), or nil for an optimizer that
    /// overrides `update(_:gradient:slots:step:)` instead.
    open func updateRule(step: Int) -> UpdateRule? { nil }

    /// Applies one update to every variable from its gradient.
    public func apply(_ gradients: [Tensor], to variables: [Variable]) throws {
        guard gradients.count == variables.count else {
            throw RecurError.invalidArgument(op: name, message: "\(gradients.count) gradients for \(variables.count) variables")
        }
        if let learningRateSchedule { learningRate = learningRateSchedule.learningRate(atStep: iterations) }
        iterations += 1
        for (g, v) in zip(gradients, variables) {
            guard g.shape == v.shape else {
                throw RecurError.shapeMismatch(op: "\(name) gradient for \(v.name)", expected: describeShape(v.shape), actual: describeShape(g.shape))
            }
            let key = ObjectIdentifier(v)
            // The slots and the value are updated where they are kept, each its storage's only holder:
            // a second reference (a local copy) made every update copy them first.
            var state = try slots.removeValue(forKey: key) ?? (0..<slotCount).map { _ in try Tensor.zeros(v.shape, on: v.value.device) }
            defer { slots[key] = state }
            try update(&v.value, gradient: try clipped(g), slots: &state, step: iterations)
        }
    }

    /// The state of the updates of `variables` (each variable's slot tensors, in order), to save a
    /// run and resume it exactly.
    func slotState(for variables: [Variable]) -> [[Tensor]] {
        variables.map { slots[ObjectIdentifier($0)] ?? [] }
    }

    /// Restores what `slotState(for:)` returned, with the step count and learning rate.
    func restore(slots saved: [[Tensor]], for variables: [Variable], iterations: Int, learningRate: Float) throws {
        guard saved.count == variables.count else {
            throw RecurError.invalidArgument(op: name, message: "saved state holds \(saved.count) variables, the model trains \(variables.count)")
        }
        for (state, v) in zip(saved, variables) {
            guard state.isEmpty || (state.count == slotCount && state.allSatisfy { $0.shape == v.shape }) else {
                throw RecurError.invalidArgument(op: name, message: "saved state for \(v.name) does not fit its shape \(describeShape(v.shape))")
            }
        }
        slots = [:]
        for (state, v) in zip(saved, variables) where !state.isEmpty { slots[ObjectIdentifier(v)] = state }
        self.iterations = iterations
        self.learningRate = learningRate
    }

    /// This optimizer with its learning rate set by `schedule` at every step.
    @discardableResult
    public func scheduled(by schedule: any LearningRateSchedule) -> Self {
        learningRateSchedule = schedule
        learningRate = schedule.learningRate(atStep: iterations)
        return self
    }

    private func clipped(_ g: Tensor) throws -> Tensor {
        var g = g
        if let clipValue { g = try g.clipped(min: -clipValue, max: clipValue) }
        if let clipNorm {
            let norm = try g.sumOfSquares().squareRoot()
            if norm > Double(clipNorm) { g = g.scaled(by: Float(Double(clipNorm) / norm)) }
        }
        return g
    }

    /// The update rule: changes `value` (a variable's) in place from its (clipped) `gradient` and its
    /// `slots` (`slotCount` tensors of its shape) at update number `step` (1 first), with tensor ops
    /// such as `value.update(by: .sgd(...), gradient:slots:)`.
    open func update(_ value: inout Tensor, gradient: Tensor, slots: inout [Tensor], step: Int) throws {
        guard let rule = updateRule(step: step) else {
            throw RecurError.unsupported(op: name, message: "\(name) must override updateRule(step:) or update(_:gradient:slots:step:)")
        }
        try value.update(by: rule, gradient: gradient, slots: &slots)
    }
}

/// Stochastic gradient descent (Keras defaults: learning rate 0.01, no momentum).
/// With momentum: v ← μv − ηg; w ← w + v (Nesterov: w ← w + μv − ηg).
public final class SGD: Optimizer {
    public let momentum: Float
    public let nesterov: Bool

    public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false, clipNorm: Float? = nil, clipValue: Float? = nil) {
        self.momentum = momentum
        self.nesterov = nesterov
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue)
    }

    public override func updateRule(step: Int) -> UpdateRule? {
        .sgd(learningRate: learningRate, momentum: momentum, nesterov: nesterov)
    }
}

/// Adam (Keras defaults: learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7):
/// m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂); w ← w − η·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m/(√v + ε).
public class Adam: Optimizer {
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float

    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
                clipNorm: Float? = nil, clipValue: Float? = nil) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue)
    }

    public override func updateRule(step: Int) -> UpdateRule? {
        .adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, step: step)
    }
}

/// AdamW (Keras defaults: learning rate 0.001, weight decay 0.004, β₁ 0.9, β₂ 0.999, ε 1e-7): Adam
/// after decoupled weight decay w ← w − η·λ·w on every trainable weight, biases included, with the
/// step's learning rate η.
public final class AdamW: Adam {
    public let weightDecay: Float

    public init(learningRate: Float = 0.001, weightDecay: Float = 0.004, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-7, clipNorm: Float? = nil, clipValue: Float? = nil) {
        self.weightDecay = weightDecay
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, clipNorm: clipNorm, clipValue: clipValue)
    }

    public override func update(_ value: inout Tensor, gradient: Tensor, slots: inout [Tensor], step: Int) throws {
        var none: [Tensor] = []
        try value.update(by: .weightDecay(learningRate * weightDecay), gradient: gradient, slots: &none)
        try super.update(&value, gradient: gradient, slots: &slots, step: step)
    }
}

/// RMSprop (Keras defaults: learning rate 0.001, ρ 0.9, no momentum, ε 1e-7):
/// a ← ρa + (1 − ρ)g²; Δ = ηg/√(a + ε); with momentum: s ← μs + Δ, w ← w − s; else w ← w − Δ.
public final class RMSprop: Optimizer {
    public let rho: Float
    public let momentum: Float
    public let epsilon: Float

    public init(learningRate: Float = 0.001, rho: Float = 0.9, momentum: Float = 0, epsilon: Float = 1e-7,
                clipNorm: Float? = nil, clipValue: Float? = nil) {
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue)
    }

    public override var name: String { "RMSprop" }
    public override func updateRule(step: Int) -> UpdateRule? {
        .rmsprop(learningRate: learningRate, rho: rho, momentum: momentum, epsilon: epsilon)
    }
}

/// The optimizer Keras means by a string name, with Keras's defaults.
public func optimizerNamed(_ name: String) throws -> Optimizer {
    switch name.lowercased() {
    case "sgd": return SGD()
    case "adam": return Adam()
    case "adamw": return AdamW()
    case "rmsprop": return RMSprop()
    default: throw RecurError.invalidArgument(op: "compile", message: "unknown optimizer '\(name)' (expected sgd, adam, adamw or rmsprop)")
    }
}
