/// How a built-in recurrent layer chooses between its fused whole-sequence kernel and the cell loop.
public enum FusedKernelMode: String, Sendable {
    /// The fused kernel when the configuration allows it, else the cell loop (said once in the log).
    case auto
    /// The fused kernel or a thrown error with the reason it cannot run.
    case always
    /// Always the cell loop.
    case never
}

/// A built-in recurrent layer with a fused whole-sequence kernel: it runs the kernel when Keras's rule
/// and the backend allow (`Backend.recurrenceDeclineReason`) and the cell loop otherwise, as `fused` says. Its Keras
/// arguments are its cell's configuration and its loop options, written side by side as Keras does.
public class FusedRNN: RNN {
    /// Not a Keras argument: copies made by `Bidirectional` keep it.
    public internal(set) var fused: FusedKernelMode
    /// Whether the last sequence ran on the fused kernel (for tests and benchmarks).
    public private(set) var lastRunWasFused = false
    private var loggedFallback = false

    /// The cell class this layer runs.
    class var cellType: BuiltInRecurrentCell.Type { fatalError("\(self) must override cellType") }

    public required init(cell configuration: CellConfiguration, options: RecurrentOptions, fused: FusedKernelMode = .auto,
                         inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        self.fused = fused
        let cellName = snakeCase(Self.defaultNameBase) + "_cell"
        super.init(cell: Self.cellType.init(configuration: configuration, name: cellName), options: options,
                   inputShape: inputShape, batchSize: batchSize, name: name)
    }

    /// The cell's configuration.
    public var cellConfiguration: CellConfiguration { (cell as! BuiltInRecurrentCell).configuration }
    public var units: Int { cellConfiguration.units }

    /// Why the backend of `device` cannot run this configuration fused, or nil.
    func fusedDeclineReason(on device: Device, mask: Tensor?) throws -> FusedDeclineReason? {
        let c = cellConfiguration
        let options = RecurrenceOptions(activation: c.activation.rawValue,
                                        recurrentActivation: Self.cellType.kind == .simpleRNN ? nil : c.recurrentActivation.rawValue,
                                        useBias: c.useBias, recurrentDropout: c.recurrentDropout, unroll: unroll)
        return try Backends.backend(for: device).recurrenceDeclineReason(recurrenceKind, options, mask: mask)
    }

    /// The fused recurrence this layer runs.
    var recurrenceKind: RecurrenceKind {
        switch Self.cellType.kind {
        case .simpleRNN: .simpleRNN
        case .lstm: .lstm
        case .gru: .gru(resetAfter: cellConfiguration.resetAfter)
        }
    }

    override func runSequence(_ sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> SequenceResult {
        lastRunWasFused = try chooseFusedKernel(mode: fused, declineReason: fusedDeclineReason(on: sequences[0].device, mask: mask),
                                                layer: name, logged: &loggedFallback)
        guard lastRunWasFused, sequences[0].shape[1] > 0 else {
            return try runCellLoop(sequences, initialStates: initialStates, mask: mask, training: training)
        }
        let cell = self.cell as! BuiltInRecurrentCell
        let run = try Tensor.recurrence(recurrenceKind, try cell.inputDropout.applyPerSequence(sequences[0], training: training),
                                        kernel: cell.kernel!.value, recurrentKernel: cell.recurrentKernel!.value, bias: cell.bias!.value,
                                        initialStates: initialStates, mask: mask, reverse: goBackwards,
                                        returnSequence: returnSequences, zeroMaskedOutputs: zeroesMaskedOutputs)
        return SequenceResult(sequences: run.sequence.map { [$0] } ?? [], lastOutputs: [run.last], finalStates: run.finalStates)
    }

    override func configuredCopy(changes: [String: JSONValue]) throws -> RNN {
        let copy = try super.configuredCopy(changes: changes)
        (copy as? FusedRNN)?.fused = fused
        return copy
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        cellConfiguration.kerasConfig(kind: Self.cellType.kind).merging(options.kerasConfig) { $1 }
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        let input = try a.inputShape()
        return self.init(cell: try CellConfiguration(a, kind: cellType.kind), options: try RecurrentOptions(a),
                         inputShape: input?.shape, batchSize: input?.batch, name: a.name)
    }
}

/// `LSTM(units)`: an `RNN` over an `LSTMCell`, with Keras's arguments and defaults.
public final class LSTM: FusedRNN {
    override class var cellType: BuiltInRecurrentCell.Type { LSTMCell.self }
    public var lstmCell: LSTMCell { cell as! LSTMCell }

    public convenience init(_ units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                            useBias: Bool = true, unitForgetBias: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                            biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0,
                            returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                            stateful: Bool = false, unroll: Bool = false, fused: FusedKernelMode = .auto,
                            inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        let c = CellConfiguration(units: units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                         unitForgetBias: unitForgetBias, kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer,
                         biasInitializer: biasInitializer, dropout: dropout, recurrentDropout: recurrentDropout)
        self.init(cell: c, options: RecurrentOptions(returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                                                     stateful: stateful, unroll: unroll),
                  fused: fused, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    public override class var defaultNameBase: String { "LSTM" }
    public override var className: String { "LSTM" }
}

/// `GRU(units)`: an `RNN` over a `GRUCell` (`resetAfter: true` by default, as Keras 2+).
public final class GRU: FusedRNN {
    override class var cellType: BuiltInRecurrentCell.Type { GRUCell.self }
    public var gruCell: GRUCell { cell as! GRUCell }

    public convenience init(_ units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                            useBias: Bool = true, resetAfter: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                            biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0,
                            returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                            stateful: Bool = false, unroll: Bool = false, fused: FusedKernelMode = .auto,
                            inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        let c = CellConfiguration(units: units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                        resetAfter: resetAfter, kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer,
                        biasInitializer: biasInitializer, dropout: dropout, recurrentDropout: recurrentDropout)
        self.init(cell: c, options: RecurrentOptions(returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                                                     stateful: stateful, unroll: unroll),
                  fused: fused, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    public override class var defaultNameBase: String { "GRU" }
    public override var className: String { "GRU" }
}

/// `SimpleRNN(units)`: an `RNN` over a `SimpleRNNCell`.
public final class SimpleRNN: FusedRNN {
    override class var cellType: BuiltInRecurrentCell.Type { SimpleRNNCell.self }
    public var simpleCell: SimpleRNNCell { cell as! SimpleRNNCell }

    public convenience init(_ units: Int, activation: Activation = .tanh, useBias: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                            biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0,
                            returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                            stateful: Bool = false, unroll: Bool = false, fused: FusedKernelMode = .auto,
                            inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        let c = CellConfiguration(units: units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                              recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                              dropout: dropout, recurrentDropout: recurrentDropout)
        self.init(cell: c, options: RecurrentOptions(returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                                                     stateful: stateful, unroll: unroll),
                  fused: fused, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    public override class var defaultNameBase: String { "SimpleRNN" }
    public override var className: String { "SimpleRNN" }
}
