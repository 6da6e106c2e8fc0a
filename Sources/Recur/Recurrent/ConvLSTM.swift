/// What `ConvLSTM1D`, `ConvLSTM2D` and `ConvLSTM3D` share (Keras's `ConvLSTM`): an `RNN` over a
/// `ConvLSTMCell` with r = `rank` spatial axes, with Keras's arguments and defaults.
/// x (batch, time, s₁…s_r, channels), spatial sizes and channels known → (batch, o₁…o_r, filters),
/// or (batch, time, o₁…o_r, filters) with `returnSequences`; states h and c (batch, o₁…o_r, filters).
/// Channels last only. It runs the cell loop op by op: there is no fused kernel for it, and the step
/// compiler does not take the cell's convolutions (`compiled` is `.never`).
public class ConvLSTM: RNN {
    /// The number of spatial axes (0 in this base, which is no layer of its own).
    class var rank: Int { 0 }

    public required init(cell configuration: CellConfiguration, window: ConvolutionWindow, options: RecurrentOptions,
                         inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        super.init(cell: ConvLSTMCell(configuration: configuration, window: window, name: "conv_lstm_cell"), options: options,
                   inputShape: inputShape, batchSize: batchSize, name: name)
        compiled = .never
    }

    /// Keras's arguments and defaults; `kernelSize`, and `strides` and `dilationRate` where given (1
    /// along every axis otherwise), have one length per spatial axis (checked when built).
    public convenience init(_ filters: Int, kernelSize: [Int], strides: [Int]? = nil, padding: TimePadding = .valid, dilationRate: [Int]? = nil,
                            activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid, useBias: Bool = true,
                            unitForgetBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                            recurrentInitializer: Initializer = .orthogonal(), biasInitializer: Initializer = .zeros,
                            dropout: Float = 0, recurrentDropout: Float = 0, returnSequences: Bool = false, returnState: Bool = false,
                            goBackwards: Bool = false, stateful: Bool = false, inputShape: [Int?]? = nil, batchSize: Int? = nil,
                            name: String? = nil) {
        self.init(cell: CellConfiguration(units: filters, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                                          unitForgetBias: unitForgetBias, kernelInitializer: kernelInitializer,
                                          recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                                          dropout: dropout, recurrentDropout: recurrentDropout),
                  window: ConvolutionWindow(kernelSize: kernelSize, strides: strides, padding: padding, dilationRate: dilationRate),
                  options: RecurrentOptions(returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards, stateful: stateful),
                  inputShape: inputShape, batchSize: batchSize, name: name)
    }

    /// Keras's class name and name stem are the subclass's (`ConvLSTM2D`, `conv_lstm2d`), not `RNN`'s.
    public override var className: String { String(describing: type(of: self)) }
    public override class var defaultNameBase: String { String(describing: self) }

    public var convCell: ConvLSTMCell { cell as! ConvLSTMCell }
    public var filters: Int { convCell.filters }

    /// Checks, naming this layer, that the input is (batch, time, r spatial axes, channels) with the
    /// spatial sizes and channels known and that the window fits them, then builds the cell.
    public override func build(inputShapes: [[Int?]]) throws {
        let shape = inputShapes[0], rank = Self.rank
        try requireInputRank(shape)
        let known = shape.dropFirst(2).compactMap { $0 }
        guard known.count == rank + 1 else {
            throw RecurError.shapeMismatch(errorSubject, expected: "an input (batch, time, \(rank) spatial axes, channels) with the spatial sizes and channels known",
                                           actual: describeShape(shape))
        }
        try convCell.window.check(rank: rank, for: self)
        _ = try convCell.window.windows(over: Array(known.dropLast()), for: self)
        try super.build(inputShapes: inputShapes)
    }

    private func requireInputRank(_ shape: [Int?]) throws {
        try requireSpatialInput(shape, rank: Self.rank, time: true)
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        try requireInputRank(inputShapes[0])
        return try super.outputShapes(inputShapes: inputShapes, initialStateShapes: initialStateShapes)
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        var config = convCell.configuration.kerasConfig(kind: .lstm)
        config["filters"] = config.removeValue(forKey: "units")
        config["seed"] = .null
        return config.merging(convCell.window.kerasConfig) { $1 }.merging(options.kerasConfig) { $1 }
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        let input = try a.inputShape()
        return self.init(cell: try CellConfiguration(a, kind: .lstm, units: "filters"), window: try ConvolutionWindow(a, rank: rank),
                         options: try RecurrentOptions(a), inputShape: input?.shape, batchSize: input?.batch, name: a.name)
    }
}

/// `ConvLSTM1D(filters, kernelSize: 3)`: a `ConvLSTM` over one spatial axis,
/// x (batch, time, width, channels).
public final class ConvLSTM1D: ConvLSTM {
    override class var rank: Int { 1 }

    /// The window's lengths as single integers.
    public convenience init(_ filters: Int, kernelSize: Int, strides: Int = 1, padding: TimePadding = .valid, dilationRate: Int = 1,
                            activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid, useBias: Bool = true,
                            unitForgetBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                            recurrentInitializer: Initializer = .orthogonal(), biasInitializer: Initializer = .zeros,
                            dropout: Float = 0, recurrentDropout: Float = 0, returnSequences: Bool = false, returnState: Bool = false,
                            goBackwards: Bool = false, stateful: Bool = false, inputShape: [Int?]? = nil, batchSize: Int? = nil,
                            name: String? = nil) {
        self.init(filters, kernelSize: [kernelSize], strides: [strides], padding: padding, dilationRate: [dilationRate],
                  activation: activation, recurrentActivation: recurrentActivation, useBias: useBias, unitForgetBias: unitForgetBias,
                  kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                  dropout: dropout, recurrentDropout: recurrentDropout, returnSequences: returnSequences, returnState: returnState,
                  goBackwards: goBackwards, stateful: stateful, inputShape: inputShape, batchSize: batchSize, name: name)
    }

}

/// `ConvLSTM2D(filters, kernelSize: [3, 3])`: a `ConvLSTM` over two spatial axes,
/// x (batch, time, rows, columns, channels) — the frames of a video, say.
public final class ConvLSTM2D: ConvLSTM { override class var rank: Int { 2 } }

/// `ConvLSTM3D(filters, kernelSize: [3, 3, 3])`: a `ConvLSTM` over three spatial axes,
/// x (batch, time, depth, rows, columns, channels).
public final class ConvLSTM3D: ConvLSTM { override class var rank: Int { 3 } }
