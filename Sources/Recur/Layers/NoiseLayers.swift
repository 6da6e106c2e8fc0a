/// Keras's regularising noise layers: random in training (from the seeded global generator, as
/// `Dropout`), the identity in inference; any shape, the mask passed through, no weights.

/// `SpatialDropout1D(rate)`: in training, zeroes whole channels of a sample — the same channels at
/// every step — with probability `rate` and scales the rest by 1/(1 − rate). Input (batch, time, channels).
public final class SpatialDropout1D: Layer {
    public let rate: Float

    public init(_ rate: Float, name: String? = nil) {
        self.rate = rate
        super.init(name: name)
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireRank(x.shape.map(Optional.some), 3, of: self)
        guard input.training, rate > 0 else { return LayerOutput([x], mask: input.mask) }
        let keep = try dropoutKeepMask(shape: [x.shape[0], 1, x.shape[2]], rate: rate, on: x.device)
        return LayerOutput([try x * keep], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["rate": KerasValue.number(rate), "seed": .null] }

    /// Keras's `SpatialDropout1D(rate, seed, name, dtype)` takes no `trainable`.
    public override class var kerasConfigHasTrainable: Bool { false }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        a.ignore(["noise_shape"])
        return SpatialDropout1D(try a.rate("rate"), name: a.name)
    }
}

/// `GaussianNoise(stddev)`: in training, x + ε with ε ~ N(0, stddev²) drawn per scalar.
public final class GaussianNoise: Layer {
    public let stddev: Float

    public init(stddev: Float, name: String? = nil) {
        self.stddev = stddev
        super.init(name: name)
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        guard input.training, stddev > 0 else { return LayerOutput([x], mask: input.mask) }
        let noise = GlobalRandom.shared.draw { Tensor.randomNormal(x.shape, stddev: stddev, generator: &$0) }
        return LayerOutput([try x + noise.to(x.device)], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["stddev": KerasValue.number(stddev), "seed": .null] }

    /// `stddev` in [0, 1], as Keras requires.
    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        GaussianNoise(stddev: try a.rate("stddev"), name: a.name)
    }
}

/// `GaussianDropout(rate)`: in training, x · ε with ε ~ N(1, rate / (1 − rate)) drawn per scalar.
/// `rate` is in [0, 1) (Keras also takes 1, which makes the noise infinite).
public final class GaussianDropout: Layer {
    public let rate: Float

    public init(_ rate: Float, name: String? = nil) {
        self.rate = rate
        super.init(name: name)
    }

    public override func build(inputShapes: [[Int?]]) throws {
        guard rate >= 0, rate < 1 else { throw RecurError.invalidArgument(errorSubject, "rate must be in [0, 1), got \(rate)") }
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        guard input.training, rate > 0 else { return LayerOutput([x], mask: input.mask) }
        let stddev = (rate / (1 - rate)).squareRoot()
        let noise = GlobalRandom.shared.draw { Tensor.randomNormal(x.shape, mean: 1, stddev: stddev, generator: &$0) }
        return LayerOutput([try x * noise.to(x.device)], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["rate": KerasValue.number(rate), "seed": .null] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        let layer = GaussianDropout(try a.rate("rate"), name: a.name)
        try layer.build(inputShapes: [])
        return layer
    }
}
