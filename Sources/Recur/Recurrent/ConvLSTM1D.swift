/// `ConvLSTM1D(filters, kernelSize:)`: an `RNN` over a `ConvLSTM1DCell`, with Keras's arguments and
/// defaults. x (batch, time, width, channels), width and channels known → (batch, width′, filters), or
/// (batch, time, width′, filters) with `returnSequences`; states h and c (batch, width′, filters).
/// Channels last only. It runs the cell loop op by op: there is no fused kernel for it, and the step
/// compiler does not take the cell's convolutions (`compiled` is `.never`).
public final class ConvLSTM1D: RNN {
    public init(cell configuration: CellConfiguration, window: ConvolutionWindow, options: RecurrentOptions,
                inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        super.init(cell: ConvLSTM1DCell(configuration: configuration, window: window, name: "conv_lstm_cell"), options: options,
                   inputShape: inputShape, batchSize: batchSize, name: name)
        compiled = .never
    }

    public convenience init(_ filters: Int, kernelSize: Int, strides: Int = 1, padding: TimePadding = .valid, dilationRate: Int = 1,
                            activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid, useBias: Bool = true,
                            unitForgetBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                            recurrentInitializer: Initializer = .orthogonal(), biasInitializer: Initializer = .zeros,
                            dropout: Float = 0, recurrentDropout: Float = 0, returnSequences: Bool = false, returnState: Bool = false,
                            goBackwards: Bool = false, stateful: Bool = false, inputShape: [Int?]? = nil, batchSize: Int? = nil,
                            name: String? = nil) {
        let c = CellConfiguration(units: filters, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                                  unitForgetBias: unitForgetBias, kernelInitializer: kernelInitializer,
                                  recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                                  dropout: dropout, recurrentDropout: recurrentDropout)
        self.init(cell: c, window: ConvolutionWindow(kernelSize: kernelSize, strides: strides, padding: padding, dilationRate: dilationRate),
                  options: RecurrentOptions(returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards, stateful: stateful),
                  inputShape: inputShape, batchSize: batchSize, name: name)
    }

    public var convCell: ConvLSTM1DCell { cell as! ConvLSTM1DCell }
    public var filters: Int { convCell.filters }

    public override class var defaultNameBase: String { "ConvLSTM1D" }
    public override var className: String { "ConvLSTM1D" }

    /// Checks, naming this layer, that the input has rank 4 with width and channels known and that the
    /// window fits the width, then builds the cell.
    public override func build(inputShapes: [[Int?]]) throws {
        let shape = inputShapes[0]
        try requireRank(shape, 4, of: self, what: "input (batch, time, width, channels)")
        guard let width = shape[2], shape[3] != nil else {
            throw RecurError.shapeMismatch(errorSubject, expected: "an input (batch, time, width, channels) with width and channels known",
                                           actual: describeShape(shape))
        }
        try convCell.window.check(for: self)
        _ = try convCell.window.windows(over: width, for: self)
        try super.build(inputShapes: inputShapes)
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        try requireRank(inputShapes[0], 4, of: self, what: "input (batch, time, width, channels)")
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
        return ConvLSTM1D(cell: try CellConfiguration(a, kind: .lstm, units: "filters"), window: try ConvolutionWindow(a),
                          options: try RecurrentOptions(a), inputShape: input?.shape, batchSize: input?.batch, name: a.name)
    }
}
