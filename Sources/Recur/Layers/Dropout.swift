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
        let keep = try dropoutKeepMask(shape: x.shape, rate: rate, on: x.device)
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

/// A tensor of 0 and 1/(1 − rate) on `device`: each entry is 0 with probability `rate`.
func dropoutKeepMask(shape: [Int], rate: Float, on device: Device) throws -> Tensor {
    try GlobalRandom.shared.draw { try Tensor.dropoutMask(shape, rate: rate, generator: &$0, on: device) }
}
