import Foundation

/// FTRL-Proximal, "follow the regularized leader" (Keras defaults: learning rate 0.001, learning-rate
/// power −0.5, initial accumulator 0.1, no L1, L2 or L2-shrinkage regularization, β 0). With p = −power,
/// λ₂' = λ₂ + β/(2η) and ĝ = g + 2λ₂ₛw (the shrinkage term):
///   n' = n + g²;  z ← z + ĝ − (n'ᵖ − nᵖ)/η · w;  w ← (clip(z, −λ₁, λ₁) − z) / (n'ᵖ/η + 2λ₂');  n ← n'.
/// Slots: [n, z], n starting at `initialAccumulatorValue`. Keras refuses a positive power and negative
/// strengths or accumulator; so does reading its config.
public final class Ftrl: Optimizer {
    public let learningRatePower: Float
    public let initialAccumulatorValue: Float
    public let l1RegularizationStrength: Float
    public let l2RegularizationStrength: Float
    public let l2ShrinkageRegularizationStrength: Float
    public let beta: Float

    public init(learningRate: Float = 0.001, learningRatePower: Float = -0.5, initialAccumulatorValue: Float = 0.1,
                l1RegularizationStrength: Float = 0, l2RegularizationStrength: Float = 0, l2ShrinkageRegularizationStrength: Float = 0,
                beta: Float = 0, clipNorm: Float? = nil, clipValue: Float? = nil, globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        self.learningRatePower = learningRatePower
        self.initialAccumulatorValue = initialAccumulatorValue
        self.l1RegularizationStrength = l1RegularizationStrength
        self.l2RegularizationStrength = l2RegularizationStrength
        self.l2ShrinkageRegularizationStrength = l2ShrinkageRegularizationStrength
        self.beta = beta
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override var slotCount: Int { 2 }

    public override func initialSlots(for value: Tensor) throws -> [Tensor] {
        [try Tensor(repeating: initialAccumulatorValue, shape: value.shape).to(value.device), try Tensor.zeros(value.shape, on: value.device)]
    }

    /// nᵖ for the accumulator n ≥ 0 and p = −`learningRatePower` ≥ 0.
    private func power(_ n: Tensor) throws -> Tensor {
        let p = -learningRatePower
        if p == 0.5 { return try n.sqrt() }
        if p == 0 { return try Tensor.ones(n.shape).to(n.device) }
        return (n.log() * p).exp()
    }

    public override func update(_ value: inout Tensor, gradient g: Tensor, slots: inout [Tensor], step: Int) throws {
        let l2 = l2RegularizationStrength + beta / (2 * learningRate)
        let shrunk = try g + value * (2 * l2ShrinkageRegularizationStrength)
        let accumulated = try slots[0] + g * g
        let (newPower, oldPower) = (try power(accumulated), try power(slots[0]))
        slots[1] = try slots[1] + shrunk - (newPower - oldPower) * (1 / learningRate) * value
        let quadratic = newPower * (1 / learningRate) + 2 * l2
        let clipped = try slots[1].clipped(min: -l1RegularizationStrength, max: l1RegularizationStrength)
        value = try (clipped - slots[1]) / quadratic
        slots[0] = accumulated
    }
}
