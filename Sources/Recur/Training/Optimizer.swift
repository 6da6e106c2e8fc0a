import Foundation

/// A Keras optimizer: updates variables in place from their gradients.
/// Slots (momentum, moments) are kept per variable. Before the update, as Keras: `clipValue` clips each
/// gradient element to [−v, v], `clipNorm` each gradient to that L2 norm, `globalClipNorm` all the
/// gradients together to that joint L2 norm; then `weightDecay` λ shrinks every weight, w ← w − η·λ·w
/// (decoupled weight decay, Keras's `weight_decay` of every optimizer), with the step's learning rate η.
///
/// Keras's options of every optimizer that change how often and what it updates are properties:
/// `gradientAccumulationSteps` N (≥ 2) sums N batches' gradients and updates with their mean at every
/// Nth batch; `movingAverage` keeps an exponential moving average of every weight, which replaces the
/// weights at the end of `fit` (and every `overwriteFrequency` updates); `lossScaleFactor` s trains on
/// the loss times s and divides the gradients by s (Keras's loss scaling).
open class Optimizer {
    public var learningRate: Float
    public let clipNorm: Float?
    public let clipValue: Float?
    public let globalClipNorm: Float?
    public let weightDecay: Float?
    /// Keras's `use_ema`, `ema_momentum` and `ema_overwrite_frequency`: after every batch, a ← μa + (1 − μ)w
    /// for every weight w (a ← w at the first update).
    public struct MovingAverage: Sendable, Equatable {
        public var momentum: Float
        public var overwriteFrequency: Int?

        public init(momentum: Float = 0.99, overwriteFrequency: Int? = nil) {
            self.momentum = momentum
            self.overwriteFrequency = overwriteFrequency
        }
    }
    /// Set before the first update (the averages are part of the optimizer's state).
    public var movingAverage: MovingAverage?
    /// Keras's `gradient_accumulation_steps` (at least 2; set before the first update).
    public var gradientAccumulationSteps: Int?
    /// Keras's `loss_scale_factor`.
    public var lossScaleFactor: Float?
    /// Batches applied so far, accumulating ones included (Keras's `_iterations`, which its files save).
    public internal(set) var appliedBatches = 0
    /// Whether its variables exist (Keras's `optimizer.built`): after its first update, or once its state
    /// is read from a Keras file (Keras builds the optimizer of a model it loads compiled). `summary()`
    /// then counts them.
    public internal(set) var isBuilt = false
    /// Number of updates applied so far (Keras's `iterations`): batches applied, or with gradient
    /// accumulation over N batches, batches / N.
    public var iterations: Int { appliedBatches / Swift.max(gradientAccumulationSteps ?? 1, 1) }
    /// When set, `learningRate` is taken from it before every update (Keras's `learning_rate=schedule`).
    public var learningRateSchedule: (any LearningRateSchedule)?
    private var slots: [ObjectIdentifier: [Tensor]] = [:]

    public init(learningRate: Float, clipNorm: Float? = nil, clipValue: Float? = nil, globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        self.learningRate = learningRate
        self.clipNorm = clipNorm
        self.clipValue = clipValue
        self.globalClipNorm = globalClipNorm
        self.weightDecay = weightDecay
    }

    /// The Keras config name: "SGD", "Adam", "RMSprop"...
    open var name: String { String(describing: type(of: self)) }
    /// How many slot tensors (`slotShapes`) the update keeps per variable.
    open var slotCount: Int { updateRule(step: 1)?.slotCount ?? 0 }

    /// The built-in rule applied at update number `step` (1 first), or nil for an optimizer that
    /// overrides `update(_:gradient:slots:step:)` instead.
    open func updateRule(step: Int) -> UpdateRule? { nil }

    /// The shapes of the `slotCount` slots of a variable of `shape`: its own, unless the optimizer
    /// keeps smaller statistics (Adafactor's row and column factors).
    open func slotShapes(for shape: [Int]) -> [[Int]] { Array(repeating: shape, count: slotCount) }

    /// The slots of a variable before its first update: `slotCount` tensors of `slotShapes` on its
    /// device, zeros unless an optimizer starts an accumulator elsewhere (Adagrad, Ftrl).
    open func initialSlots(for value: Tensor) throws -> [Tensor] {
        try slotShapes(for: value.shape).map { try Tensor.zeros($0, on: value.device) }
    }

    /// The shapes of every tensor kept for a variable of `shape`: the leading ones (its shape), then
    /// the rule's slots.
    func stateShapes(for shape: [Int]) -> [[Int]] { Array(repeating: shape, count: leadingSlotCount) + slotShapes(for: shape) }

    /// The tensors kept per variable before the update rule's slots: the moving average, then the
    /// accumulated gradients (Keras's order).
    var leadingSlotCount: Int { (movingAverage != nil ? 1 : 0) + (accumulatesGradients ? 1 : 0) }
    /// Every tensor kept per variable: the leading ones, then the rule's slots.
    var stateCount: Int { leadingSlotCount + slotCount }
    private var accumulatesGradients: Bool { (gradientAccumulationSteps ?? 0) > 1 }

    /// A variable's state before its first batch: zeros for the leading tensors, then `initialSlots`.
    func freshState(for value: Tensor) throws -> [Tensor] {
        try (0..<leadingSlotCount).map { _ in try Tensor.zeros(value.shape, on: value.device) } + initialSlots(for: value)
    }

    /// Applies one batch's gradients to every variable: an update, or with gradient accumulation one
    /// batch of it; then the moving averages.
    public func apply(_ gradients: [Tensor], to variables: [Variable]) throws {
        guard gradients.count == variables.count else {
            throw RecurError.invalidArgument(op: name, message: "\(gradients.count) gradients for \(variables.count) variables")
        }
        for (g, v) in zip(gradients, variables) where g.shape != v.shape {
            throw RecurError.shapeMismatch(op: "\(name) gradient for \(v.name)", expected: describeShape(v.shape), actual: describeShape(g.shape))
        }
        let updatesBefore = iterations
        // Keras evaluates a schedule at the batches applied (`_iterations`), not at the updates.
        if let learningRateSchedule { learningRate = learningRateSchedule.learningRate(atStep: appliedBatches) }
        // The slots and the values are updated where they are kept, each its storage's only holder: a
        // second reference (a local copy) made every update copy them first.
        for v in variables {
            if let kept = slots[ObjectIdentifier(v)], kept.count != stateCount {
                throw RecurError.invalidArgument(op: name, message: "\(v.name) has \(kept.count) state tensors, the options ask for \(stateCount): "
                                                 + "set movingAverage and gradientAccumulationSteps before the first update")
            }
        }
        var states = try variables.map { v in try slots.removeValue(forKey: ObjectIdentifier(v)) ?? freshState(for: v.value) }
        defer { for (v, state) in zip(variables, states) { slots[ObjectIdentifier(v)] = state } }
        var batchGradients = gradients
        if let lossScaleFactor { batchGradients = batchGradients.map { $0.scaled(by: 1 / lossScaleFactor) } }
        var updates = true
        if accumulatesGradients, let steps = gradientAccumulationSteps {
            let slot = movingAverage != nil ? 1 : 0
            updates = (appliedBatches + 1) % steps == 0
            for i in states.indices {
                if updates {
                    batchGradients[i] = try (batchGradients[i] + states[i][slot]) / Float(steps)
                    states[i][slot] = try Tensor.zeros(variables[i].shape, on: variables[i].value.device)
                } else {
                    states[i][slot] = try states[i][slot] + batchGradients[i]
                }
            }
        }
        if updates {
            let clippedGradients = try globallyClipped(batchGradients.map(clipped))
            for (i, (g, v)) in zip(clippedGradients, variables).enumerated() {
                if let weightDecay {
                    var none: [Tensor] = []
                    try v.value.update(by: .weightDecay(learningRate * weightDecay), gradient: g, slots: &none)
                }
                var ruleSlots = Array(states[i][leadingSlotCount...])
                states[i].removeSubrange(leadingSlotCount...)
                defer { states[i] += ruleSlots }
                try update(&v.value, gradient: g, slots: &ruleSlots, step: updatesBefore + 1)
            }
        }
        if let movingAverage {
            let momentum = updatesBefore == 0 ? 0 : movingAverage.momentum
            let overwrites = movingAverage.overwriteFrequency.map { (updatesBefore + 1) % Swift.max($0, 1) == 0 } ?? false
            for (i, v) in variables.enumerated() {
                states[i][0] = try states[i][0] * momentum + v.value * (1 - momentum)
                if overwrites { v.value = states[i][0] }
            }
        }
        appliedBatches += 1
        isBuilt = true
    }

    /// The end of training (Keras's `finalize_variable_values`): with a moving average, every weight
    /// takes its average.
    func finishTraining(_ variables: [Variable]) {
        guard movingAverage != nil else { return }
        for v in variables {
            if let state = slots[ObjectIdentifier(v)], state.count == stateCount, let average = state.first { v.value = average }
        }
    }

    /// The state of the updates of `variables` (each variable's tensors: the leading ones, then the
    /// rule's slots), to save a run and resume it exactly.
    func slotState(for variables: [Variable]) -> [[Tensor]] {
        variables.map { slots[ObjectIdentifier($0)] ?? [] }
    }

    /// Restores what `slotState(for:)` returned, with the batch count and learning rate.
    func restore(slots saved: [[Tensor]], for variables: [Variable], appliedBatches: Int, learningRate: Float) throws {
        guard saved.count == variables.count else {
            throw RecurError.invalidArgument(op: name, message: "saved state holds \(saved.count) variables, the model trains \(variables.count)")
        }
        for (state, v) in zip(saved, variables) {
            guard state.isEmpty || state.map(\.shape) == stateShapes(for: v.shape) else {
                throw RecurError.invalidArgument(op: name, message: "saved state for \(v.name) does not fit its shape \(describeShape(v.shape))")
            }
        }
        slots = [:]
        for (state, v) in zip(saved, variables) where !state.isEmpty { slots[ObjectIdentifier(v)] = state }
        self.appliedBatches = appliedBatches
        self.learningRate = learningRate
        isBuilt = true
    }

    /// This optimizer with its learning rate set by `schedule` at every step.
    @discardableResult
    public func scheduled(by schedule: any LearningRateSchedule) -> Self {
        learningRateSchedule = schedule
        learningRate = schedule.learningRate(atStep: appliedBatches)
        return self
    }

    /// The gradients scaled together so that their joint L2 norm is at most `globalClipNorm` (Keras's
    /// `clip_by_global_norm`: a norm that is not finite makes every gradient NaN).
    private func globallyClipped(_ gradients: [Tensor]) throws -> [Tensor] {
        guard let globalClipNorm, globalClipNorm > 0 else { return gradients }
        let norm = try gradients.reduce(0) { try $0 + $1.sumOfSquares() }.squareRoot()
        guard norm.isFinite else { return gradients.map { $0.scaled(by: .nan) } }
        guard norm > Double(globalClipNorm) else { return gradients }
        return gradients.map { $0.scaled(by: Float(Double(globalClipNorm) / norm)) }
    }

    /// `g` clipped by `clipValue` and `clipNorm`; as in Keras, a bound of zero or less clips nothing.
    private func clipped(_ g: Tensor) throws -> Tensor {
        var g = g
        if let clipValue, clipValue > 0 { g = try g.clipped(min: -clipValue, max: clipValue) }
        if let clipNorm, clipNorm > 0 {
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

    public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false, clipNorm: Float? = nil, clipValue: Float? = nil,
                globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        self.momentum = momentum
        self.nesterov = nesterov
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override func updateRule(step: Int) -> UpdateRule? {
        .sgd(learningRate: learningRate, momentum: momentum, nesterov: nesterov)
    }
}

/// Adam (Keras defaults: learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7):
/// m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂); w ← w − η·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m/(√v + ε).
/// With `amsgrad` the step divides by the largest v so far, v̂ ← max(v̂, v), instead of v (a third slot).
public class Adam: MomentOptimizer {
    public let amsgrad: Bool

    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7, amsgrad: Bool = false,
                clipNorm: Float? = nil, clipValue: Float? = nil, globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        self.amsgrad = amsgrad
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, clipNorm: clipNorm, clipValue: clipValue,
                   globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override var slotCount: Int { amsgrad ? 3 : 2 }

    public override func updateRule(step: Int) -> UpdateRule? {
        amsgrad ? nil : .adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, step: step)
    }

    public override func update(_ value: inout Tensor, gradient g: Tensor, slots: inout [Tensor], step: Int) throws {
        guard amsgrad else { return try super.update(&value, gradient: g, slots: &slots, step: step) }
        let t = Double(step)
        let alpha = Float(Double(learningRate) * (1 - pow(Double(beta2), t)).squareRoot() / (1 - pow(Double(beta1), t)))
        slots[0] = try slots[0] + (g - slots[0]) * (1 - beta1)
        slots[1] = try slots[1] + (g * g - slots[1]) * (1 - beta2)
        slots[2] = try slots[2].maximum(slots[1])
        value = try value - slots[0] * alpha / (slots[2].sqrt() + epsilon)
    }
}

/// AdamW (Keras defaults: learning rate 0.001, weight decay 0.004, β₁ 0.9, β₂ 0.999, ε 1e-7): Adam
/// whose decoupled weight decay (`Optimizer.weightDecay`) is on by default.
public final class AdamW: Adam {
    public init(learningRate: Float = 0.001, weightDecay: Float = 0.004, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-7, amsgrad: Bool = false, clipNorm: Float? = nil, clipValue: Float? = nil, globalClipNorm: Float? = nil) {
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad, clipNorm: clipNorm,
                   clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }
}

/// RMSprop (Keras defaults: learning rate 0.001, ρ 0.9, no momentum, ε 1e-7):
/// a ← ρa + (1 − ρ)g²; Δ = ηg/√(a + ε); with momentum: s ← μs + Δ, w ← w − s; else w ← w − Δ.
/// `centered` divides by an estimate of the variance instead: ḡ ← ρḡ + (1 − ρ)g, Δ = ηg/√(a − ḡ² + ε)
/// (slots [a, s, ḡ], or [a, ḡ] without momentum).
public final class RMSprop: Optimizer {
    public let rho: Float
    public let momentum: Float
    public let epsilon: Float
    public let centered: Bool

    public init(learningRate: Float = 0.001, rho: Float = 0.9, momentum: Float = 0, epsilon: Float = 1e-7, centered: Bool = false,
                clipNorm: Float? = nil, clipValue: Float? = nil, globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override var name: String { "RMSprop" }
    public override var slotCount: Int { 1 + (momentum > 0 ? 1 : 0) + (centered ? 1 : 0) }

    public override func updateRule(step: Int) -> UpdateRule? {
        centered ? nil : .rmsprop(learningRate: learningRate, rho: rho, momentum: momentum, epsilon: epsilon)
    }

    public override func update(_ value: inout Tensor, gradient g: Tensor, slots: inout [Tensor], step: Int) throws {
        guard centered else { return try super.update(&value, gradient: g, slots: &slots, step: step) }
        let average = slots.count - 1
        slots[0] = try slots[0] * rho + g * g * (1 - rho)
        slots[average] = try slots[average] * rho + g * (1 - rho)
        let increment = try g * learningRate / (slots[0] - slots[average] * slots[average] + epsilon).sqrt()
        if momentum > 0 {
            slots[1] = try slots[1] * momentum + increment
            value = try value - slots[1]
        } else {
            value = try value - increment
        }
    }
}

/// The optimizer Keras means by a string name, with Keras's defaults.
public func optimizerNamed(_ name: String) throws -> Optimizer {
    switch name.lowercased() {
    case "sgd": return SGD()
    case "adam": return Adam()
    case "adamw": return AdamW()
    case "rmsprop": return RMSprop()
    case "adagrad": return Adagrad()
    case "adadelta": return Adadelta()
    case "adamax": return Adamax()
    case "nadam": return Nadam()
    case "lamb": return Lamb()
    case "lion": return Lion()
    case "ftrl": return Ftrl()
    case "adafactor": return Adafactor()
    default:
        throw RecurError.invalidArgument(op: "compile", message: "unknown optimizer '\(name)' (expected sgd, adam, adamw, rmsprop, adagrad, "
                                         + "adadelta, adamax, nadam, lamb, lion, ftrl or adafactor)")
    }
}
