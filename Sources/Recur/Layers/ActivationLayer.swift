/// Keras's `Activation` layer: y = activation(x), elementwise (softmax over the last axis); any
/// shape in, the same shape out. Passes the mask through, as Keras. No weights.
///
/// Recur's `Activation` is the enum of activation functions, so the layer is `ActivationLayer`; it
/// is saved and read under Keras's class name `Activation` and named `activation`, `activation_1`, ...
public final class ActivationLayer: Layer, WeightlessLayer {
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
}

extension Activation {
    /// This activation as a layer: `Activation.tanh.layer()` is Keras's `Activation("tanh")`.
    public func layer(name: String? = nil) -> ActivationLayer { ActivationLayer(self, name: name) }
}
