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
/// allows (`fusedKernelDeclineReason`) and the cell loop otherwise, as `fused` says.
public class FusedRNN: RNN {
    public let fused: FusedKernelMode
    /// Whether the last sequence ran on the fused kernel (for tests and benchmarks).
    public private(set) var lastRunWasFused = false
    private var loggedFallback = false

    init(_ cell: RecurrentCell, fused: FusedKernelMode, returnSequences: Bool, returnState: Bool, goBackwards: Bool,
         stateful: Bool, unroll: Bool, inputShape: [Int?]?, batchSize: Int?, name: String?) {
        self.fused = fused
        super.init(cell, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                   stateful: stateful, unroll: unroll, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    /// Why this configuration cannot use the fused kernel, or nil.
    func fusedDeclineReason() -> String? { "no fused kernel" }

    /// Runs the fused kernel over x (batch, time > 0, features): per-step states (batch, time, units) in
    /// processing order and the final states.
    func runFusedKernel(_ x: Tensor, initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> (states: Tensor, finalStates: [Tensor]) {
        throw RecurError.unsupported(op: name, message: "no fused kernel")
    }

    override func runSequence(_ sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> SequenceResult {
        lastRunWasFused = try chooseFusedKernel(mode: fused, declineReason: fusedDeclineReason(), layer: name, logged: &loggedFallback)
        guard lastRunWasFused, sequences[0].shape[1] > 0 else {
            return try runCellLoop(sequences, initialStates: initialStates, mask: mask, training: training)
        }
        let run = try runFusedKernel(sequences[0], initialStates: initialStates, mask: mask, training: training)
        let (sequence, last) = try fusedOutputs(states: run.states, mask: mask)
        return SequenceResult(sequences: [sequence], lastOutputs: [last], finalStates: run.finalStates)
    }
}

/// `LSTM(units)`: an `RNN` over an `LSTMCell`, with Keras's arguments and defaults.
public final class LSTM: FusedRNN {
    public var lstmCell: LSTMCell { cell as! LSTMCell }

    public init(_ units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                useBias: Bool = true, unitForgetBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0,
                returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                stateful: Bool = false, unroll: Bool = false, fused: FusedKernelMode = .auto,
                inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        let cell = LSTMCell(units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                            unitForgetBias: unitForgetBias, kernelInitializer: kernelInitializer,
                            recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                            dropout: dropout, recurrentDropout: recurrentDropout, name: "lstm_cell")
        super.init(cell, fused: fused, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                   stateful: stateful, unroll: unroll, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    /// A layer over a configured cell (how the Keras config reader builds it).
    init(cell: LSTMCell, returnSequences: Bool, returnState: Bool, goBackwards: Bool, stateful: Bool, unroll: Bool,
         inputShape: [Int?]?, batchSize: Int?, name: String?) {
        super.init(cell, fused: .auto, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                   stateful: stateful, unroll: unroll, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    public override class var defaultNameBase: String { "LSTM" }
    override func fusedDeclineReason() -> String? {
        let c = lstmCell
        return fusedKernelDeclineReason(activation: c.activation, recurrentActivation: c.recurrentActivation,
                                        useBias: c.useBias, recurrentDropout: c.recurrentDropoutRate, unroll: unroll)
    }

    override func runFusedKernel(_ x: Tensor, initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> (states: Tensor, finalStates: [Tensor]) {
        let c = lstmCell
        let time = x.shape[1]
        let packed = try Tensor.fusedLSTMSequence(try c.inputDropout.applyPerSequence(x, training: training),
                                                  kernel: c.kernel!.value, recurrentKernel: c.recurrentKernel!.value,
                                                  bias: c.bias!.value, h0: initialStates[0], c0: initialStates[1],
                                                  mask: mask, reverse: goBackwards)
        return (try packed.slice(alongAxis: 1, 0..<time),
                [try packed.select(alongAxis: 1, index: time - 1), try packed.select(alongAxis: 1, index: time)])
    }

    public override func makeReversedCopy(name: String) throws -> RNN {
        let c = lstmCell
        return LSTM(c.units, activation: c.activation, recurrentActivation: c.recurrentActivation, useBias: c.useBias,
                    unitForgetBias: c.unitForgetBias, kernelInitializer: c.kernelInitializer,
                    recurrentInitializer: c.recurrentInitializer, biasInitializer: c.biasInitializer,
                    dropout: c.dropout, recurrentDropout: c.recurrentDropoutRate, returnSequences: returnSequences,
                    returnState: returnState, goBackwards: !goBackwards, stateful: stateful, unroll: unroll,
                    fused: fused, batchSize: batchSize, name: name)
    }
    public override var className: String { "LSTM" }
    public var units: Int { lstmCell.units }
}

/// `GRU(units)`: an `RNN` over a `GRUCell` (`resetAfter: true` by default, as Keras 2+).
public final class GRU: FusedRNN {
    public var gruCell: GRUCell { cell as! GRUCell }

    public init(_ units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                useBias: Bool = true, resetAfter: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0,
                returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                stateful: Bool = false, unroll: Bool = false, fused: FusedKernelMode = .auto,
                inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        let cell = GRUCell(units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                           resetAfter: resetAfter, kernelInitializer: kernelInitializer,
                           recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                           dropout: dropout, recurrentDropout: recurrentDropout, name: "gru_cell")
        super.init(cell, fused: fused, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                   stateful: stateful, unroll: unroll, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    /// A layer over a configured cell (how the Keras config reader builds it).
    init(cell: GRUCell, returnSequences: Bool, returnState: Bool, goBackwards: Bool, stateful: Bool, unroll: Bool,
         inputShape: [Int?]?, batchSize: Int?, name: String?) {
        super.init(cell, fused: .auto, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                   stateful: stateful, unroll: unroll, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    public override class var defaultNameBase: String { "GRU" }
    override func fusedDeclineReason() -> String? {
        let c = gruCell
        return fusedKernelDeclineReason(activation: c.activation, recurrentActivation: c.recurrentActivation,
                                        useBias: c.useBias, recurrentDropout: c.recurrentDropoutRate, unroll: unroll)
    }

    override func runFusedKernel(_ x: Tensor, initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> (states: Tensor, finalStates: [Tensor]) {
        let c = gruCell
        let input = try c.inputDropout.applyPerSequence(x, training: training)
        let states = c.resetAfter
            ? try Tensor.fusedGRUSequence(input, kernel: c.kernel!.value, recurrentKernel: c.recurrentKernel!.value,
                                          bias: c.bias!.value, h0: initialStates[0], mask: mask, reverse: goBackwards)
            : try Tensor.fusedGRUResetBeforeSequence(input, kernel: c.kernel!.value, recurrentKernel: c.recurrentKernel!.value,
                                                     bias: c.bias!.value, h0: initialStates[0], mask: mask, reverse: goBackwards)
        return (states, [try states.select(alongAxis: 1, index: x.shape[1] - 1)])
    }

    public override func makeReversedCopy(name: String) throws -> RNN {
        let c = gruCell
        return GRU(c.units, activation: c.activation, recurrentActivation: c.recurrentActivation, useBias: c.useBias,
                   resetAfter: c.resetAfter, kernelInitializer: c.kernelInitializer,
                   recurrentInitializer: c.recurrentInitializer, biasInitializer: c.biasInitializer,
                   dropout: c.dropout, recurrentDropout: c.recurrentDropoutRate, returnSequences: returnSequences,
                   returnState: returnState, goBackwards: !goBackwards, stateful: stateful, unroll: unroll,
                   fused: fused, batchSize: batchSize, name: name)
    }
    public override var className: String { "GRU" }
    public var units: Int { gruCell.units }
}

/// `SimpleRNN(units)`: an `RNN` over a `SimpleRNNCell`.
public final class SimpleRNN: FusedRNN {
    public var simpleCell: SimpleRNNCell { cell as! SimpleRNNCell }

    public init(_ units: Int, activation: Activation = .tanh, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0,
                returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                stateful: Bool = false, unroll: Bool = false, fused: FusedKernelMode = .auto,
                inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        let cell = SimpleRNNCell(units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                                 recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                                 dropout: dropout, recurrentDropout: recurrentDropout, name: "simple_rnn_cell")
        super.init(cell, fused: fused, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                   stateful: stateful, unroll: unroll, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    /// A layer over a configured cell (how the Keras config reader builds it).
    init(cell: SimpleRNNCell, returnSequences: Bool, returnState: Bool, goBackwards: Bool, stateful: Bool, unroll: Bool,
         inputShape: [Int?]?, batchSize: Int?, name: String?) {
        super.init(cell, fused: .auto, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                   stateful: stateful, unroll: unroll, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    public override class var defaultNameBase: String { "SimpleRNN" }
    override func fusedDeclineReason() -> String? {
        let c = simpleCell
        return fusedKernelDeclineReason(activation: c.activation, recurrentActivation: nil,
                                        useBias: c.useBias, recurrentDropout: c.recurrentDropoutRate, unroll: unroll)
    }

    override func runFusedKernel(_ x: Tensor, initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> (states: Tensor, finalStates: [Tensor]) {
        let c = simpleCell
        let states = try Tensor.fusedSimpleRNNSequence(try c.inputDropout.applyPerSequence(x, training: training),
                                                       kernel: c.kernel!.value, recurrentKernel: c.recurrentKernel!.value,
                                                       bias: c.bias!.value, h0: initialStates[0], mask: mask, reverse: goBackwards)
        return (states, [try states.select(alongAxis: 1, index: x.shape[1] - 1)])
    }

    public override func makeReversedCopy(name: String) throws -> RNN {
        let c = simpleCell
        return SimpleRNN(c.units, activation: c.activation, useBias: c.useBias, kernelInitializer: c.kernelInitializer,
                         recurrentInitializer: c.recurrentInitializer, biasInitializer: c.biasInitializer,
                         dropout: c.dropout, recurrentDropout: c.recurrentDropoutRate, returnSequences: returnSequences,
                         returnState: returnState, goBackwards: !goBackwards, stateful: stateful, unroll: unroll,
                         fused: fused, batchSize: batchSize, name: name)
    }
    public override var className: String { "SimpleRNN" }
    public var units: Int { simpleCell.units }
}
