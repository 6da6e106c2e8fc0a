/// How a built-in recurrent layer chooses between its fused whole-sequence kernel and the cell loop.
public enum FusedKernelMode: String, Sendable {
    /// The fused kernel when the configuration allows it, else the cell loop (said once in the log).
    case auto
    /// The fused kernel or a thrown error with the reason it cannot run.
    case always
    /// Always the cell loop.
    case never
}

/// `LSTM(units)`: an `RNN` over an `LSTMCell`, with Keras's arguments and defaults.
public final class LSTM: RNN {
    public let fused: FusedKernelMode
    public var lstmCell: LSTMCell { cell as! LSTMCell }

    public init(_ units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                useBias: Bool = true, unitForgetBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0,
                returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                stateful: Bool = false, unroll: Bool = false, fused: FusedKernelMode = .auto,
                inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        self.fused = fused
        let cell = LSTMCell(units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                            unitForgetBias: unitForgetBias, kernelInitializer: kernelInitializer,
                            recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                            dropout: dropout, recurrentDropout: recurrentDropout, name: "lstm_cell")
        super.init(cell, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                   stateful: stateful, unroll: unroll, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    public override class var defaultNameBase: String { "LSTM" }
    private var loggedFallback = false

    /// Whether the last sequence ran on the fused kernel (for tests and benchmarks).
    public private(set) var lastRunWasFused = false

    override func runSequence(_ sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> SequenceResult {
        let c = lstmCell
        let reason = fusedKernelDeclineReason(activation: c.activation, recurrentActivation: c.recurrentActivation,
                                              useBias: c.useBias, recurrentDropout: c.recurrentDropoutRate, unroll: unroll)
        lastRunWasFused = try chooseFusedKernel(mode: fused, declineReason: reason, layer: name, logged: &loggedFallback)
        guard lastRunWasFused, let kernel = c.kernel, let recurrent = c.recurrentKernel, let bias = c.bias else {
            return try runCellLoop(sequences, initialStates: initialStates, mask: mask, training: training)
        }
        let x = try c.inputDropout.applyPerSequence(sequences[0], training: training)
        let time = x.shape[1]
        guard time > 0 else { return try runCellLoop(sequences, initialStates: initialStates, mask: mask, training: training) }
        let packed = try Tensor.fusedLSTMSequence(x, kernel: kernel.value, recurrentKernel: recurrent.value, bias: bias.value,
                                                  h0: initialStates[0], c0: initialStates[1], mask: mask, reverse: goBackwards)
        let states = try packed.slice(alongAxis: 1, 0..<time)
        let (sequence, last) = try fusedOutputs(states: states, mask: mask)
        let hFinal = try packed.select(alongAxis: 1, index: time - 1), cFinal = try packed.select(alongAxis: 1, index: time)
        return SequenceResult(sequences: [sequence], lastOutputs: [last], finalStates: [hFinal, cFinal])
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
public final class GRU: RNN {
    public let fused: FusedKernelMode
    public var gruCell: GRUCell { cell as! GRUCell }

    public init(_ units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                useBias: Bool = true, resetAfter: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0,
                returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                stateful: Bool = false, unroll: Bool = false, fused: FusedKernelMode = .auto,
                inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        self.fused = fused
        let cell = GRUCell(units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                           resetAfter: resetAfter, kernelInitializer: kernelInitializer,
                           recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                           dropout: dropout, recurrentDropout: recurrentDropout, name: "gru_cell")
        super.init(cell, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                   stateful: stateful, unroll: unroll, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    public override class var defaultNameBase: String { "GRU" }
    private var loggedFallback = false

    /// Whether the last sequence ran on the fused kernel (for tests and benchmarks).
    public private(set) var lastRunWasFused = false

    override func runSequence(_ sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> SequenceResult {
        let c = gruCell
        let reason = fusedKernelDeclineReason(activation: c.activation, recurrentActivation: c.recurrentActivation,
                                              useBias: c.useBias, recurrentDropout: c.recurrentDropoutRate, unroll: unroll,
                                              extra: c.resetAfter ? nil : "resetAfter is false")
        lastRunWasFused = try chooseFusedKernel(mode: fused, declineReason: reason, layer: name, logged: &loggedFallback)
        guard lastRunWasFused, let kernel = c.kernel, let recurrent = c.recurrentKernel, let bias = c.bias else {
            return try runCellLoop(sequences, initialStates: initialStates, mask: mask, training: training)
        }
        let x = try c.inputDropout.applyPerSequence(sequences[0], training: training)
        let time = x.shape[1]
        guard time > 0 else { return try runCellLoop(sequences, initialStates: initialStates, mask: mask, training: training) }
        let states = try Tensor.fusedGRUSequence(x, kernel: kernel.value, recurrentKernel: recurrent.value, bias: bias.value,
                                                 h0: initialStates[0], mask: mask, reverse: goBackwards)
        let (sequence, last) = try fusedOutputs(states: states, mask: mask)
        return SequenceResult(sequences: [sequence], lastOutputs: [last], finalStates: [try states.select(alongAxis: 1, index: time - 1)])
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
public final class SimpleRNN: RNN {
    public let fused: FusedKernelMode
    public var simpleCell: SimpleRNNCell { cell as! SimpleRNNCell }

    public init(_ units: Int, activation: Activation = .tanh, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0,
                returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                stateful: Bool = false, unroll: Bool = false, fused: FusedKernelMode = .auto,
                inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        self.fused = fused
        let cell = SimpleRNNCell(units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                                 recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                                 dropout: dropout, recurrentDropout: recurrentDropout, name: "simple_rnn_cell")
        super.init(cell, returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                   stateful: stateful, unroll: unroll, inputShape: inputShape, batchSize: batchSize, name: name)
    }

    public override class var defaultNameBase: String { "SimpleRNN" }
    private var loggedFallback = false

    /// Whether the last sequence ran on the fused kernel (for tests and benchmarks).
    public private(set) var lastRunWasFused = false

    override func runSequence(_ sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> SequenceResult {
        let c = simpleCell
        let reason = fusedKernelDeclineReason(activation: c.activation, recurrentActivation: nil,
                                              useBias: c.useBias, recurrentDropout: c.recurrentDropoutRate, unroll: unroll)
        lastRunWasFused = try chooseFusedKernel(mode: fused, declineReason: reason, layer: name, logged: &loggedFallback)
        guard lastRunWasFused, let kernel = c.kernel, let recurrent = c.recurrentKernel, let bias = c.bias else {
            return try runCellLoop(sequences, initialStates: initialStates, mask: mask, training: training)
        }
        let x = try c.inputDropout.applyPerSequence(sequences[0], training: training)
        let time = x.shape[1]
        guard time > 0 else { return try runCellLoop(sequences, initialStates: initialStates, mask: mask, training: training) }
        let states = try Tensor.fusedSimpleRNNSequence(x, kernel: kernel.value, recurrentKernel: recurrent.value, bias: bias.value,
                                                       h0: initialStates[0], mask: mask, reverse: goBackwards)
        let (sequence, last) = try fusedOutputs(states: states, mask: mask)
        return SequenceResult(sequences: [sequence], lastOutputs: [last], finalStates: [try states.select(alongAxis: 1, index: time - 1)])
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
