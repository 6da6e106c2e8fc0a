/// Keras's activation layers with parameters — `ReLU`, `LeakyReLU` and `ELU` — elementwise, any shape in,
/// the same shape out, the mask passed through; no weights. (Their parameterless forms are also
/// activations by name: `Activation.relu`, `.leakyRelu`, `.elu`.)

/// max(x, 0) generalised as Keras's `ReLU` layer: x where x > `threshold` (else 0), clipped to
/// [0, `maxValue`] when set, minus `negativeSlope`·max(`threshold` − x, 0).
public final class ReLU: Layer {
    public let maxValue: Float?
    public let negativeSlope: Float
    public let threshold: Float

    /// Keras's arguments, each at least 0 as Keras requires (a negative one is an error when the layer
    /// is built, naming it).
    public init(maxValue: Float? = nil, negativeSlope: Float = 0, threshold: Float = 0, name: String? = nil) {
        (self.maxValue, self.negativeSlope, self.threshold) = (maxValue, negativeSlope, threshold)
        super.init(name: name)
    }

    public override func build(inputShapes: [[Int?]]) throws {
        for (key, value) in [("maxValue", maxValue ?? 0), ("negativeSlope", negativeSlope), ("threshold", threshold)] where !(value >= 0) {
            throw RecurError.invalidArgument(errorSubject, "\(key) must be at least 0, got \(value)")
        }
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        var y = threshold == 0 ? x.relu() : try Tensor.select(x.greater(Tensor(threshold)), x, Tensor(0))
        if let maxValue { y = try y.clipped(min: 0, max: maxValue) }
        if negativeSlope != 0 {
            let below = threshold == 0 ? (-x).relu() : (threshold - x).relu()
            y = try y - below * negativeSlope
        }
        return LayerOutput([y], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["max_value": maxValue.map(KerasValue.number) ?? .null, "negative_slope": KerasValue.number(negativeSlope),
         "threshold": KerasValue.number(threshold)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        let maxValue = a.config["max_value"]?.isNull ?? true ? nil : try a.float("max_value", default: 0)
        let layer = ReLU(maxValue: maxValue, negativeSlope: try a.float("negative_slope", default: 0),
                         threshold: try a.float("threshold", default: 0), name: a.name)
        try layer.build(inputShapes: [])
        return layer
    }
}

/// x for x ≥ 0, `negativeSlope`·x below (Keras's `LeakyReLU` layer; its default slope is 0.3, where
/// the activation `leaky_relu` by name uses 0.2).
public final class LeakyReLU: Layer {
    public let negativeSlope: Float

    /// A negative slope is an error when the layer is built, as in Keras.
    public init(negativeSlope: Float = 0.3, name: String? = nil) {
        self.negativeSlope = negativeSlope
        super.init(name: name)
    }

    public override func build(inputShapes: [[Int?]]) throws {
        guard negativeSlope >= 0 else { throw RecurError.invalidArgument(errorSubject, "negativeSlope must be at least 0, got \(negativeSlope)") }
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        LayerOutput([try Activation.leakyRelu(input.tensors[0], negativeSlope: negativeSlope)], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["negative_slope": KerasValue.number(negativeSlope)] }

    /// Reads `negative_slope`, or Keras 2's `alpha`, which Keras 3 still accepts.
    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        let key = a.config["negative_slope"] == nil && a.config["alpha"] != nil ? "alpha" : "negative_slope"
        let layer = LeakyReLU(negativeSlope: try a.float(key, default: 0.3), name: a.name)
        try layer.build(inputShapes: [])
        return layer
    }
}

/// x for x > 0, `alpha`·(eˣ − 1) elsewhere (Keras's `ELU` layer).
public final class ELU: Layer {
    public let alpha: Float

    public init(alpha: Float = 1, name: String? = nil) {
        self.alpha = alpha
        super.init(name: name)
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        LayerOutput([try Activation.elu(input.tensors[0], alpha: alpha)], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["alpha": KerasValue.number(alpha)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        ELU(alpha: try a.float("alpha", default: 1), name: a.name)
    }
}
