/// `Dropout(rate)`: in training, zeroes each scalar with probability `rate` and scales the rest by
/// 1/(1 − rate); the identity in inference. Masks are drawn from the seeded global generator.
public final class Dropout: Layer {
    public let rate: Float

    public init(_ rate: Float, name: String? = nil) {
        self.rate = rate
        super.init(name: name)
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        guard input.training, rate > 0 else { return LayerOutput([x], mask: input.mask) }
        let keep = dropoutKeepMask(shape: x.shape, rate: rate)
        return LayerOutput([try x * keep], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["rate": KerasValue.number(rate), "seed": .null, "noise_shape": .null]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        Dropout(try a.rate("rate"), name: a.name)
    }
}

/// A tensor of 0 and 1/(1 − rate): each entry is 0 with probability `rate`.
func dropoutKeepMask(shape: [Int], rate: Float) -> Tensor {
    GlobalRandom.shared.draw { Tensor.dropoutMask(shape, rate: rate, generator: &$0) }
}
