/// The activations Keras layers take by name: every elementwise function of Keras 3's
/// `keras.activations` with its default arguments, under the name Keras writes in a model's config
/// (`swish` and `hard_swish`, Keras's aliases, read as `silu` and `hard_silu`). Each is composed of
/// differentiable tensor ops, so its gradient, its traced form in a compiled cell loop and its GPU form
/// come with them.
public enum Activation: String, Sendable, CaseIterable {
    case linear, tanh, sigmoid, relu, softmax
    /// clip(x/6 + ½, 0, 1), that is relu6(x + 3)/6.
    case hardSigmoid = "hard_sigmoid"
    /// log softmax over the last axis.
    case logSoftmax = "log_softmax"
    /// eˣ.
    case exponential
    /// x/(1 + |x|).
    case softsign
    /// log(1 + eˣ), computed as max(x, 0) + log(1 + e^−|x|) so that no eˣ overflows.
    case softplus
    /// log σ(x) = −softplus(−x).
    case logSigmoid = "log_sigmoid"
    /// x for x > 0, eˣ − 1 below (α = 1).
    case elu
    /// λ·elu_α(x) with α ≈ 1.6733 and λ ≈ 1.0507 (self-normalising units).
    case selu
    /// max(x, 0) + min(0, α(e^{x/α} − 1)) with α = 1, which equals elu.
    case celu
    /// x·Φ(x) = x/2·(1 + erf(x/√2)), the exact form (Keras's default, `approximate=False`).
    case gelu
    /// x·σ(x) (swish).
    case silu
    /// x·hard_sigmoid(x) (hard swish).
    case hardSilu = "hard_silu"
    /// x·tanh(softplus(x)).
    case mish
    /// min(max(x, 0), 6).
    case relu6
    /// x for x ≥ 0, 0.2·x below.
    case leakyRelu = "leaky_relu"
    /// clip(x, −1, 1).
    case hardTanh = "hard_tanh"
    /// x − tanh(x).
    case tanhShrink = "tanh_shrink"
    /// x − ½ above ½, x + ½ below −½, 0 between.
    case softShrink = "soft_shrink"
    /// x where |x| > ½, 0 elsewhere.
    case hardShrink = "hard_shrink"
    /// (x + √(x² + 4))/2.
    case squareplus
    /// 0 for x ≤ −1, x for x ≥ 1, (x + 1)²/4 between.
    case sparsePlus = "sparse_plus"
    /// clip((x + 1)/2, 0, 1).
    case sparseSigmoid = "sparse_sigmoid"

    /// The activation Keras names `name` in a config, its aliases included; nil for one Recur lacks.
    public init?(kerasName name: String) {
        switch name {
        case "swish": self = .silu
        case "hard_swish": self = .hardSilu
        default: self.init(rawValue: name)
        }
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch self {
        case .linear: return x
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .relu: return x.relu()
        case .softmax: return try x.softmax()
        case .hardSigmoid: return try (x * (1.0 / 6.0) + 0.5).clipped(min: 0, max: 1)
        case .logSoftmax: return try x.logSoftmax()
        case .exponential: return x.exp()
        case .softsign: return try x / (try x.abs() + 1)
        case .softplus: return try Self.logOnePlusExp(x)
        case .logSigmoid: return try -Self.logOnePlusExp(-x)
        case .elu, .celu: return try Self.elu(x, alpha: 1)
        case .selu: return try Self.elu(x, alpha: 1.6732632423543772) * 1.0507009873554805
        case .gelu: return try x * (Self.erf(x * (1 / Float(2).squareRoot())) + 1) * 0.5
        case .silu: return try x * x.sigmoid()
        case .hardSilu: return try x * Activation.hardSigmoid.callAsFunction(x)
        case .mish: return try x * Self.logOnePlusExp(x).tanh()
        case .relu6: return try x.clipped(min: 0, max: 6)
        case .leakyRelu: return try Self.leakyRelu(x, negativeSlope: 0.2)
        case .hardTanh: return try x.clipped(min: -1, max: 1)
        case .tanhShrink: return try x - x.tanh()
        case .softShrink:
            return try Tensor.select(x.greater(Tensor(0.5)), x - 0.5, Tensor.select(x.less(Tensor(-0.5)), x + 0.5, Tensor(0)))
        case .hardShrink: return try Tensor.select(x.abs().greater(Tensor(0.5)), x, Tensor(0))
        case .squareplus: return try (x + (x.squared() + 4).sqrt()) * 0.5
        case .sparsePlus:
            let between = try (x + 1).squared() * 0.25
            return try Tensor.select(x.greaterEqual(Tensor(1)), x, Tensor.select(x.greater(Tensor(-1)), between, Tensor(0)))
        case .sparseSigmoid: return try ((x + 1) * 0.5).clipped(min: 0, max: 1)
        }
    }

    /// max(x, 0) + log(1 + e^−|x|).
    private static func logOnePlusExp(_ x: Tensor) throws -> Tensor {
        try x.relu() + ((-(try x.abs())).exp() + 1).log()
    }

    /// x for x ≥ 0, slope·x below (also Keras's `LeakyReLU` layer).
    static func leakyRelu(_ x: Tensor, negativeSlope: Float) throws -> Tensor {
        try Tensor.select(x.greaterEqual(Tensor(0)), x, x * negativeSlope)
    }

    /// x for x > 0, α(eˣ − 1) elsewhere (also Keras's `ELU` layer); eˣ is taken of min(x, 0), so that a
    /// large x, which the other branch discards, cannot overflow to infinity and turn the selection into NaN.
    static func elu(_ x: Tensor, alpha: Float) throws -> Tensor {
        let negative = try (x.minimum(Tensor(0)).exp() - 1) * alpha
        return try Tensor.select(x.greater(Tensor(0)), x, negative)
    }

    /// erf(x) by Abramowitz and Stegun's 7.1.26: for x ≥ 0, 1 − (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵)·e^{−x²}
    /// with t = 1/(1 + p·x), absolute error at most 1.5·10⁻⁷; odd in x. Composed of tensor ops, because
    /// no backend has an erf kernel.
    private static func erf(_ x: Tensor) throws -> Tensor {
        let magnitude = try x.abs()
        let t = 1 / (magnitude * 0.3275911 + 1)
        var polynomial = t * 1.061405429 - 1.453152027
        for coefficient: Float in [1.421413741, -0.284496736, 0.254829592] {
            polynomial = try polynomial * t + coefficient
        }
        polynomial = try polynomial * t
        let positive = try 1 - polynomial * (-(try magnitude.squared())).exp()
        return try Tensor.select(x.less(Tensor(0)), -positive, positive)
    }
}
