/// Keras's `Activation` layer: y = activation(x), elementwise (softmax over the last axis); any
/// shape in, the same shape out. Passes the mask through, as Keras. No weights.
///
/// Recur's `Activation` is the enum of activation functions, so the layer is `ActivationLayer`; it
/// is saved and read under Keras's class name `Activation` and named `activation`, `activation_1`, ...
public final class ActivationLayer: Layer {
    public let activation: Activation

    public init(_ activation: Activation, name: String? = nil) {
        self.activation = activation
        super.init(name: name)
    }

    public override var className: String { "Activation" }
    public override class var defaultNameBase: String { "Activation" }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        LayerOutput([try activation(input.tensors[0])], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["activation": .string(activation.rawValue)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        guard let value = a.config["activation"], !value.isNull else { throw a.invalid("config is missing 'activation'") }
        return ActivationLayer(try a.activation("activation", default: .linear), name: a.name)
    }
}

extension Activation {
    /// This activation as a layer: `Activation.tanh.layer()` is Keras's `Activation("tanh")`.
    public func layer(name: String? = nil) -> ActivationLayer { ActivationLayer(self, name: name) }
}
