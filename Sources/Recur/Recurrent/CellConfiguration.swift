/// The Keras arguments of a built-in cell (`SimpleRNNCell`, `GRUCell`, `LSTMCell`) and of the layer
/// over it: one value that the cell's weights are created from, `Bidirectional` copies, and the Keras
/// config reader and writer read and write.
public struct CellConfiguration: Equatable, Sendable {
    public var units: Int
    public var activation: Activation = .tanh
    /// The gates' activation (GRU, LSTM).
    public var recurrentActivation: Activation = .sigmoid
    public var useBias = true
    /// LSTM: the forget gate's bias starts at 1.
    public var unitForgetBias = true
    /// GRU: the reset gate multiplies the recurrent product (cuDNN's form, Keras's default).
    public var resetAfter = true
    public var kernelInitializer: Initializer = .glorotUniform
    public var recurrentInitializer: Initializer = .orthogonal()
    public var biasInitializer: Initializer = .zeros
    /// Dropout on the inputs, one mask per sequence.
    public var dropout: Float = 0
    /// Dropout on the recurrent state, one mask per sequence.
    public var recurrentDropout: Float = 0

    public init(units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid, useBias: Bool = true,
                unitForgetBias: Bool = true, resetAfter: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                recurrentInitializer: Initializer = .orthogonal(), biasInitializer: Initializer = .zeros,
                dropout: Float = 0, recurrentDropout: Float = 0) {
        (self.units, self.activation, self.recurrentActivation, self.useBias) = (units, activation, recurrentActivation, useBias)
        (self.unitForgetBias, self.resetAfter) = (unitForgetBias, resetAfter)
        (self.kernelInitializer, self.recurrentInitializer, self.biasInitializer) = (kernelInitializer, recurrentInitializer, biasInitializer)
        (self.dropout, self.recurrentDropout) = (dropout, recurrentDropout)
    }
}

/// Which built-in cell a configuration belongs to: what its weights look like and which Keras
/// arguments it has.
public enum CellKind: Sendable {
    case simpleRNN, gru, lstm

    /// Gates stacked in the kernels' columns: 1, 3 ([z, r, h]) or 4 ([i, f, c, o]).
    var gateCount: Int {
        switch self {
        case .simpleRNN: 1
        case .gru: 3
        case .lstm: 4
        }
    }
}

extension CellConfiguration {
    /// Reads a cell's Keras arguments (also those of the `LSTM`/`GRU`/`SimpleRNN` layer over it);
    /// `units` names the width's argument (`filters` for a `ConvLSTM1D`).
    init(_ a: KerasArguments, kind: CellKind, units unitsKey: String = "units") throws {
        self.init(units: try a.width(unitsKey))
        activation = try a.activation("activation", default: .tanh)
        useBias = try a.bool("use_bias", default: true)
        kernelInitializer = try a.initializer("kernel_initializer", default: .glorotUniform)
        recurrentInitializer = try a.initializer("recurrent_initializer", default: .orthogonal())
        biasInitializer = try a.initializer("bias_initializer", default: .zeros)
        dropout = try a.rate("dropout")
        recurrentDropout = try a.rate("recurrent_dropout")
        if kind != .simpleRNN { recurrentActivation = try a.activation("recurrent_activation", default: .sigmoid) }
        if kind == .lstm { unitForgetBias = try a.bool("unit_forget_bias", default: true) }
        if kind == .gru { resetAfter = try a.bool("reset_after", default: true) }
        a.ignore(["implementation"])
    }

    /// The Keras arguments this configuration writes for a cell of `kind`.
    func kerasConfig(kind: CellKind) -> [String: JSONValue] {
        var c: [String: JSONValue] = [
            "units": KerasValue.number(units), "activation": .string(activation.rawValue), "use_bias": .bool(useBias),
            "kernel_initializer": KerasValue.initializer(kernelInitializer),
            "recurrent_initializer": KerasValue.initializer(recurrentInitializer),
            "bias_initializer": KerasValue.initializer(biasInitializer),
            "dropout": KerasValue.number(dropout), "recurrent_dropout": KerasValue.number(recurrentDropout),
        ]
        if kind != .simpleRNN { c["recurrent_activation"] = .string(recurrentActivation.rawValue) }
        if kind == .lstm { c["unit_forget_bias"] = .bool(unitForgetBias) }
        if kind == .gru { c["reset_after"] = .bool(resetAfter) }
        return c
    }
}

/// What `SimpleRNNCell`, `GRUCell` and `LSTMCell` share: a configuration, a kernel W (d, g·u), a
/// recurrent kernel U (u, g·u) and a bias for g gates, and dropout masks drawn once per sequence.
/// Subclasses give their `kind` and the step.
public class BuiltInRecurrentCell: RecurrentCell {
    public let configuration: CellConfiguration
    var inputDropout: SequenceDropout
    var recurrentDropout: SequenceDropout
    public private(set) var kernel: Variable?
    public private(set) var recurrentKernel: Variable?
    public private(set) var bias: Variable?

    class var kind: CellKind { fatalError("\(self) must override kind") }

    public required init(configuration: CellConfiguration, name: String? = nil) {
        self.configuration = configuration
        inputDropout = SequenceDropout(rate: configuration.dropout)
        recurrentDropout = SequenceDropout(rate: configuration.recurrentDropout)
        super.init(name: name)
    }

    public var units: Int { configuration.units }
    public var activation: Activation { configuration.activation }
    public var useBias: Bool { configuration.useBias }
    public var dropout: Float { configuration.dropout }
    public var recurrentDropoutRate: Float { configuration.recurrentDropout }

    public override var stateShapes: [[Int]] { [[units]] }
    public override var outputShapes: [[Int]] { [[units]] }
    public override var variables: [Variable] { [kernel, recurrentKernel, bias].compactMap { $0 } }

    /// The bias's shape: (g·u), or (2, g·u) for the GRU's separate input and recurrent biases.
    var biasShape: [Int] { [Self.kind.gateCount * units] }

    /// The bias's starting value (the LSTM sets its forget gate to 1).
    func initialBias() throws -> Tensor { try configuration.biasInitializer.make(biasShape, for: name) }

    public override func build(inputShapes: [[Int?]]) throws {
        let d = try knownLastDimension(inputShapes[0], of: self)
        let width = Self.kind.gateCount * units
        kernel = Variable(name: "kernel", value: try configuration.kernelInitializer.make([d, width], for: name))
        recurrentKernel = Variable(name: "recurrent_kernel", value: try configuration.recurrentInitializer.make([units, width], for: name))
        if useBias { bias = Variable(name: "bias", value: try initialBias()) }
    }

    public override func resetDropoutMasks() {
        inputDropout.reset()
        recurrentDropout.reset()
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        configuration.kerasConfig(kind: Self.kind)
    }

    public override class func fromKerasConfig(_ arguments: KerasArguments) throws -> Layer {
        self.init(configuration: try CellConfiguration(arguments, kind: kind), name: arguments.name)
    }
}
