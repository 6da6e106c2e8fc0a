import Foundation

// Keras's other per-coordinate adaptive optimizers, written as tensor ops (so they run on every
// device). Defaults and equations are Keras 3's; t is the update number, 1 first, and η the step's
// learning rate.

/// Adagrad (Keras defaults: learning rate 0.001, initial accumulator 0.1, ε 1e-7):
/// a ← a + g²; w ← w − η·g/√(a + ε). Slots: [a], starting at `initialAccumulatorValue`.
public final class Adagrad: Optimizer {
    public let initialAccumulatorValue: Float
    public let epsilon: Float

    public init(learningRate: Float = 0.001, initialAccumulatorValue: Float = 0.1, epsilon: Float = 1e-7, clipNorm: Float? = nil,
                clipValue: Float? = nil, globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override var slotCount: Int { 1 }

    public override func initialSlots(for value: Tensor) throws -> [Tensor] {
        [try Tensor(repeating: initialAccumulatorValue, shape: value.shape).to(value.device)]
    }

    public override func update(_ value: inout Tensor, gradient g: Tensor, slots: inout [Tensor], step: Int) throws {
        slots[0] = try slots[0] + g * g
        value = try value - g * learningRate / (slots[0] + epsilon).sqrt()
    }
}

/// Adadelta (Keras defaults: learning rate 0.001, ρ 0.95, ε 1e-7): a ← ρa + (1 − ρ)g²;
/// Δ = −√(d + ε)·g/√(a + ε); d ← ρd + (1 − ρ)Δ²; w ← w + η·Δ. Slots: [a, d].
public final class Adadelta: Optimizer {
    public let rho: Float
    public let epsilon: Float

    public init(learningRate: Float = 0.001, rho: Float = 0.95, epsilon: Float = 1e-7, clipNorm: Float? = nil, clipValue: Float? = nil,
                globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        self.rho = rho
        self.epsilon = epsilon
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override var slotCount: Int { 2 }

    public override func update(_ value: inout Tensor, gradient g: Tensor, slots: inout [Tensor], step: Int) throws {
        slots[0] = try slots[0] * rho + g * g * (1 - rho)
        let delta = try ((slots[1] + epsilon).sqrt() * g / (slots[0] + epsilon).sqrt()) * -1
        slots[1] = try slots[1] * rho + delta * delta * (1 - rho)
        value = try value + delta * learningRate
    }
}

/// An optimizer that keeps moving averages of the gradient (β₁) and of a measure of its size (β₂),
/// with ε in the denominator of its step: Adam, Adamax, Nadam and LAMB. Slots: [m, v] (Adam's
/// `amsgrad` adds one).
public class MomentOptimizer: Optimizer {
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float

    init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, clipNorm: Float?, clipValue: Float?, globalClipNorm: Float?,
         weightDecay: Float?) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override var slotCount: Int { 2 }
}

/// Adamax, Adam with the infinity norm (Keras defaults: learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7):
/// m ← m + (g − m)(1 − β₁); u ← max(β₂u, |g|); w ← w − η·m/((1 − β₁ᵗ)(u + ε)). Slots: [m, u].
public final class Adamax: MomentOptimizer {
    public override init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7, clipNorm: Float? = nil,
                         clipValue: Float? = nil, globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, clipNorm: clipNorm, clipValue: clipValue,
                   globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override func update(_ value: inout Tensor, gradient g: Tensor, slots: inout [Tensor], step: Int) throws {
        let correction = Float(1 - pow(Double(beta1), Double(step)))
        slots[0] = try slots[0] + (g - slots[0]) * (1 - beta1)
        slots[1] = try (slots[1] * beta2).maximum(g.abs())
        value = try value - slots[0] * learningRate / ((slots[1] + epsilon) * correction)
    }
}

/// Nadam, Adam with Nesterov momentum (Keras defaults: learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7):
/// with μₜ = β₁(1 − ½·0.96ᵗ) and Πₜ = μ₁⋯μₜ, m ← m + (g − m)(1 − β₁), v ← v + (g² − v)(1 − β₂),
/// m̂ = μₜ₊₁m/(1 − Πₜ₊₁) + (1 − μₜ)g/(1 − Πₜ), v̂ = v/(1 − β₂ᵗ), w ← w − η·m̂/(√v̂ + ε). Slots: [m, v]
/// (Πₜ, which Keras keeps as a variable, follows from t).
public final class Nadam: MomentOptimizer {
    public override init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7, clipNorm: Float? = nil,
                         clipValue: Float? = nil, globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, clipNorm: clipNorm, clipValue: clipValue,
                   globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    /// μₜ, the momentum of update t.
    func momentumSchedule(_ t: Int) -> Double { Double(beta1) * (1 - 0.5 * pow(0.96, Double(t))) }

    /// Πₜ = μ₁⋯μₜ (1 for t = 0).
    func momentumProduct(_ t: Int) -> Double { (0..<Swift.max(t, 0)).reduce(1) { $0 * momentumSchedule($1 + 1) } }

    public override func update(_ value: inout Tensor, gradient g: Tensor, slots: inout [Tensor], step: Int) throws {
        let (mu, muNext) = (momentumSchedule(step), momentumSchedule(step + 1))
        let product = momentumProduct(step), productNext = product * muNext
        slots[0] = try slots[0] + (g - slots[0]) * (1 - beta1)
        slots[1] = try slots[1] + (g * g - slots[1]) * (1 - beta2)
        let mHat = try slots[0] * Float(muNext / (1 - productNext)) + g * Float((1 - mu) / (1 - product))
        let vHat = slots[1] * Float(1 / (1 - pow(Double(beta2), Double(step))))
        value = try value - mHat * learningRate / (vHat.sqrt() + epsilon)
    }
}

/// LAMB, Adam with a layer-wise trust ratio (Keras defaults: learning rate 0.001, β₁ 0.9, β₂ 0.999,
/// ε 1e-7): m and v as Adam's, r = (m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε), and w ← w − η·(‖w‖/‖r‖)·r,
/// the ratio 1 when either norm is zero. Slots: [m, v].
public final class Lamb: MomentOptimizer {
    public override init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7, clipNorm: Float? = nil,
                         clipValue: Float? = nil, globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, clipNorm: clipNorm, clipValue: clipValue,
                   globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override func update(_ value: inout Tensor, gradient g: Tensor, slots: inout [Tensor], step: Int) throws {
        let t = Double(step)
        slots[0] = try slots[0] + (g - slots[0]) * (1 - beta1)
        slots[1] = try slots[1] + (g * g - slots[1]) * (1 - beta2)
        let mHat = slots[0] * Float(1 / (1 - pow(Double(beta1), t)))
        let vHat = slots[1] * Float(1 / (1 - pow(Double(beta2), t)))
        let ratio = try mHat / (vHat.sqrt() + epsilon)
        let (weightNorm, ratioNorm) = (try value.sumOfSquares().squareRoot(), try ratio.sumOfSquares().squareRoot())
        let trust = weightNorm > 0 && ratioNorm > 0 ? Float(weightNorm / ratioNorm) : 1
        value = try value - ratio * (trust * learningRate)
    }
}
