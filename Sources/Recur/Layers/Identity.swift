/// Keras's `Identity` layer: its input, unchanged, with its mask. No weights.
public final class Identity: Layer {
    public override init(name: String? = nil) { super.init(name: name) }

    public override func call(_ input: LayerInput) throws -> LayerOutput { LayerOutput([input.tensors[0]], mask: input.mask) }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { [:] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer { Identity(name: a.name) }
}
