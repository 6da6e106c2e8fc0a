import Foundation

/// Lion, sign momentum (Keras defaults: learning rate 0.001, β₁ 0.9, β₂ 0.99):
/// w ← w − η·sign(β₁m + (1 − β₁)g); m ← β₂m + (1 − β₂)g. Slots: [m]. Every coordinate moves by η (or
/// not at all where the sign is zero), so Lion wants a learning rate 3–10× below Adam's.
public final class Lion: Optimizer {
    public let beta1: Float
    public let beta2: Float

    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.99, clipNorm: Float? = nil, clipValue: Float? = nil,
                globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        self.beta1 = beta1
        self.beta2 = beta2
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override var slotCount: Int { 1 }

    public override func update(_ value: inout Tensor, gradient g: Tensor, slots: inout [Tensor], step: Int) throws {
        let direction = try slots[0] * beta1 + g * (1 - beta1)
        let sign = try direction.greater(Tensor(0)) - direction.less(Tensor(0))
        value = try value - sign * learningRate
        slots[0] = try slots[0] * beta2 + g * (1 - beta2)
    }
}
