/// The activations Keras layers take by name.
public enum Activation: String, Sendable, CaseIterable {
    case linear, tanh, sigmoid, relu, softmax
    /// Keras's `hard_sigmoid`: clip(x/6 + 0.5, 0, 1).
    case hardSigmoid = "hard_sigmoid"

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch self {
        case .linear: return x
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .relu: return x.relu()
        case .softmax: return try x.softmax()
        case .hardSigmoid: return try (x * (1.0 / 6.0) + 0.5).clipped(min: 0, max: 1)
        }
    }
}
