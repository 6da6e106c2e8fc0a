/// What a layer asks of a fused recurrence, for its backend to accept or decline.
public struct RecurrenceOptions: Sendable, Equatable {
    /// The activation's Keras name (`tanh`, `relu`, ...).
    public var activation: String
    /// The recurrent activation's Keras name; nil for SimpleRNN, which has none.
    public var recurrentActivation: String?
    public var useBias: Bool
    public var recurrentDropout: Float
    public var unroll: Bool

    public init(activation: String, recurrentActivation: String?, useBias: Bool, recurrentDropout: Float, unroll: Bool) {
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.useBias = useBias
        self.recurrentDropout = recurrentDropout
        self.unroll = unroll
    }

    /// Keras's rule for its fused (cuDNN) path, which every backend applies: the usual activations, a
    /// bias, no recurrent dropout, no unrolling.
    public func commonDeclineReason(_ kind: RecurrenceKind) -> FusedDeclineReason? {
        if activation != "tanh" { return .activation(activation) }
        if let recurrentActivation, recurrentActivation != "sigmoid" { return .recurrentActivation(recurrentActivation) }
        if !useBias { return .noBias }
        if recurrentDropout > 0 { return .recurrentDropout }
        if unroll { return .unroll }
        return nil
    }
}

/// Why a backend cannot run a recurrence fused: the layer then runs its cell loop (`fused: .auto`,
/// said once in the log) or throws this reason (`fused: .always`).
public enum FusedDeclineReason: Sendable, Equatable, CustomStringConvertible {
    /// The activation is not tanh.
    case activation(String)
    /// The recurrent activation is not sigmoid.
    case recurrentActivation(String)
    case noBias
    case recurrentDropout
    case unroll
    /// A mask with a gap or left padding (`Tensor.isRightPadded()` is false), on a device whose kernel
    /// takes only right-padded ones.
    case maskNotRightPadded
    /// `resetAfter: false`, on a device whose kernel has only the cuDNN form of the GRU.
    case gruResetBefore
    /// A row whose mask has no step that counts, on a device whose kernel takes per-row sequence
    /// lengths of at least 1 (cuDNN fails on zero lengths).
    case emptySequence

    public var description: String {
        switch self {
        case .activation(let name): "activation is \(name), not tanh"
        case .recurrentActivation(let name): "recurrentActivation is \(name), not sigmoid"
        case .noBias: "useBias is false"
        case .recurrentDropout: "recurrentDropout > 0"
        case .unroll: "unroll is true"
        case .maskNotRightPadded: "the mask is not right-padded"
        case .gruResetBefore: "resetAfter is false"
        case .emptySequence: "a row of the mask has no step that counts"
        }
    }
}
