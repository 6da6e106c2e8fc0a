/// A weight owned by a layer: Keras's `Variable`. Reference semantics, so optimizers update it in place.
public final class Variable {
    /// The short name Keras gives it: `kernel`, `recurrent_kernel`, `bias`, `gamma`, `moving_mean`, ...
    public let name: String
    public var value: Tensor
    /// Whether optimizers update it (false for BatchNormalization's moving statistics).
    public let isTrainable: Bool

    public init(name: String, value: Tensor, trainable: Bool = true) {
        self.name = name
        self.value = value
        self.isTrainable = trainable
    }

    public var shape: [Int] { value.shape }
}
