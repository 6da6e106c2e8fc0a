/// `RNN(cell)`: runs a cell over the time axis of its inputs (batch, time, features...).
///
/// Outputs, in Keras's order: the last output (or every output, (batch, time, ...), with
/// `returnSequences`), followed by the final states with `returnState`. With `goBackwards` the input is
/// read from the last step to the first and the output sequence is returned in that processing order.
/// A mask (batch, time) makes masked steps keep the states and output the carried state, as Keras does
/// (or zeros with `zeroOutputForMask`, unless unrolled, as in Keras). `stateful` keeps the final states as the next call's initial states.
open class RNN: Layer {
    public let cell: RecurrentCell
    /// The loop's Keras arguments.
    public let options: RecurrentOptions
    public var returnSequences: Bool { options.returnSequences }
    public var returnState: Bool { options.returnState }
    public var goBackwards: Bool { options.goBackwards }
    public var stateful: Bool { options.stateful }
    public var unroll: Bool { options.unroll }
    public var zeroOutputForMask: Bool { options.zeroOutputForMask }
    /// Whether a masked step outputs zeros: `zeroOutputForMask`, but not with `unroll`, where Keras's
    /// unrolled loop outputs the previous output whatever it says (its scan honours it).
    var zeroesMaskedOutputs: Bool { zeroOutputForMask && !unroll }
    /// The states a stateful layer carries into its next call: zeros (Keras's) until the first call
    /// and after `resetStates()`, when the batch size is known; nil for a layer that is not stateful.
    public var states: [Tensor]? {
        guard stateful else { return nil }
        return carriedStates ?? batchSize.map { cell.zeroStates(batch: $0) }
    }
    /// The final states of the last call of a stateful layer (nil: start from zeros).
    var carriedStates: [Tensor]?
    /// The batch size a stateful layer was declared with (`batchSize:`), when known.
    public let batchSize: Int?
    /// Whether the cell loop runs as a traced, compiled step program (not a Keras argument).
    public var compiled: CompiledLoopMode = .auto
    /// Whether the last sequence ran the compiled cell loop (for tests and benchmarks).
    public internal(set) var lastRunWasCompiled = false
    var loggedCompiledFallback = false
    /// Step programs whose two-timestep check passed (`Tensor.traceStep`'s `checkedStructures`).
    var checkedStepStructures: [StepProgram.Structure] = []

    public convenience init(_ cell: RecurrentCell, returnSequences: Bool = false, returnState: Bool = false,
                            goBackwards: Bool = false, stateful: Bool = false, unroll: Bool = false,
                            zeroOutputForMask: Bool = false, compiled: CompiledLoopMode = .auto, inputShape: [Int?]? = nil,
                            batchSize: Int? = nil, name: String? = nil) {
        self.init(cell: cell, options: RecurrentOptions(returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards,
                                                        stateful: stateful, unroll: unroll, zeroOutputForMask: zeroOutputForMask),
                  inputShape: inputShape, batchSize: batchSize, name: name)
        self.compiled = compiled
    }

    /// `RNN([cell, cell, ...])` stacks the cells.
    public convenience init(_ cells: [RecurrentCell], returnSequences: Bool = false, returnState: Bool = false,
                            goBackwards: Bool = false, stateful: Bool = false, unroll: Bool = false,
                            compiled: CompiledLoopMode = .auto, inputShape: [Int?]? = nil, name: String? = nil) {
        self.init(StackedRNNCells(cells), returnSequences: returnSequences, returnState: returnState,
                  goBackwards: goBackwards, stateful: stateful, unroll: unroll, compiled: compiled, inputShape: inputShape, name: name)
    }

    public init(cell: RecurrentCell, options: RecurrentOptions, inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        self.cell = cell
        self.options = options
        self.batchSize = batchSize
        super.init(name: name)
        declaredInputShape = inputShape
    }

    open override class var defaultNameBase: String { "RNN" }
    open override var className: String { "RNN" }
    open override var variables: [Variable] { cell.variables }
    open override var sublayers: [Layer] { [cell] }

    open override func build(inputShapes: [[Int?]]) throws {
        for shape in inputShapes {
            guard shape.count >= 3 else {
                throw RecurError.shapeMismatch(errorSubject, expected: "input of rank ≥ 3 (batch, time, features...)", actual: describeShape(shape))
            }
        }
        if stateful, batchSize == nil, inputShapes[0][0] == nil {
            throw RecurError.invalidArgument(errorSubject, "a stateful RNN needs a fixed batch size: pass batchSize: to the layer or Input(shape:batchSize:)")
        }
        stepShapes = inputShapes.map { Array($0.dropFirst(2)) }
        try cell.buildIfNeeded(inputShapes: inputShapes.map { s in [s[0]] + s.dropFirst(2) })
    }

    /// The per-step feature shapes the layer was built for (known dimensions are checked at every call).
    private var stepShapes: [[Int?]] = []

    open override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let batch = inputShapes[0][0] ?? batchSize, time = inputShapes[0][1]
        try checkInitialStateShapes(initialStateShapes, batch: batch)
        let outputs: [[Int?]] = cell.outputShapes.map { s in
            returnSequences ? [batch, time] + s.map(Optional.some) : [batch] + s.map(Optional.some)
        }
        let states: [[Int?]] = returnState ? cell.stateShapes.map { [batch] + $0.map(Optional.some) } : []
        return outputs + states
    }

    /// Checks the number and shapes of initial states against the cell's states.
    func checkInitialStateShapes(_ shapes: [[Int?]], batch: Int?) throws {
        guard !shapes.isEmpty else { return }
        let expected = cell.stateShapes
        guard shapes.count == expected.count else {
            throw RecurError.invalidArgument(errorSubject, "expected \(expected.count) initial state tensor(s) (\(expected.map { describeShape([batch] + $0.map(Optional.some)) }.joined(separator: ", "))), got \(shapes.count)")
        }
        for (s, e) in zip(shapes, expected) {
            let fits = s.count == e.count + 1 && zip(s.dropFirst(), e).allSatisfy { $0 == nil || $0 == $1 }
                && (batch == nil || s[0] == nil || s[0] == batch)
            guard fits else {
                throw RecurError.shapeMismatch(errorSubject, what: "initial state", expected: [batch] + e.map(Optional.some), actual: s)
            }
        }
    }

    open override func call(_ input: LayerInput) throws -> LayerOutput {
        let sequences = input.tensors
        let x = sequences[0]
        let batch = x.shape[0], time = x.shape[1]
        for s in sequences where s.rank < 3 || s.shape[0] != batch || s.shape[1] != time {
            throw RecurError.shapeMismatch(errorSubject, expected: "(\(batch), \(time), features...) for every input", actual: describeShape(s.shape))
        }
        for (s, built) in zip(sequences, stepShapes) {
            let features = Array(s.shape.dropFirst(2))
            guard features.count == built.count, zip(features, built).allSatisfy({ $1 == nil || $0 == $1 }) else {
                throw RecurError.shapeMismatch(errorSubject, expected: describeShape([nil, nil] + built), actual: describeShape(s.shape))
            }
        }
        if let mask = input.mask, mask.shape != [batch, time] {
            throw RecurError.shapeMismatch(errorSubject, what: "mask", expected: [batch, time], actual: mask.shape.map(Optional.some))
        }
        let initial = try initialStates(input.initialState, batch: batch, device: x.device)
        let result = try runSequence(sequences, initialStates: initial, mask: input.mask, training: input.training)
        if stateful { carriedStates = result.finalStates.map(\.detached) }
        var outputs = returnSequences ? result.sequences : result.lastOutputs
        if returnState { outputs += result.finalStates }
        return LayerOutput(outputs, mask: returnSequences ? input.mask : nil)
    }

    /// The states a call starts from: the given ones, else a stateful layer's carried states, else zeros.
    func initialStates(_ given: [Tensor], batch: Int, device: Device) throws -> [Tensor] {
        if !given.isEmpty {
            try checkInitialStateShapes(given.map { $0.shape.map(Optional.some) }, batch: batch)
            return given
        }
        if stateful, let states = carriedStates {
            guard states[0].shape[0] == batch else {
                throw RecurError.shapeMismatch(errorSubject, expected: "batch size \(states[0].shape[0]) (stateful)", actual: "batch size \(batch)")
            }
            return states
        }
        if stateful, let batchSize, batchSize != batch {
            throw RecurError.shapeMismatch(errorSubject, expected: "batch size \(batchSize) (stateful)", actual: "batch size \(batch)")
        }
        return try cell.zeroStates(batch: batch, on: device)
    }

    /// The result of running over a whole sequence.
    struct SequenceResult {
        /// Per cell output: (batch, time, ...) in processing order; empty when a fused run was not asked
        /// for the sequences (`returnSequences: false`).
        var sequences: [Tensor]
        /// Per cell output: the output of the last processed step.
        var lastOutputs: [Tensor]
        var finalStates: [Tensor]
    }

    /// Runs the whole sequence; subclasses with a fused kernel override this and fall back to `runCellLoop`.
    func runSequence(_ sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> SequenceResult {
        try runCellLoop(sequences, initialStates: initialStates, mask: mask, training: training)
    }

    /// Which state a masked step outputs, as Keras: the first state (for stacked cells, the first
    /// state of the last cell), when the cell has one output of that state's shape; nil otherwise
    /// (then a masked step repeats the previous output).
    var maskedOutputStateIndex: Int? {
        guard cell.outputShapes.count == 1 else { return nil }
        var index = 0
        if let stacked = cell as? StackedRNNCells, let last = stacked.cells.last {
            index = stacked.cells.dropLast().reduce(0) { $0 + $1.stateShapes.count }
            guard !last.stateShapes.isEmpty else { return nil }
        }
        guard index < cell.stateShapes.count, cell.stateShapes[index] == cell.outputShapes[0] else { return nil }
        return index
    }

    /// Throws unless a step returned the outputs and states its cell declares, (batch, shape) each.
    func checkStepResult(outputs: [[Int]], states: [[Int]], batch: Int) throws {
        let expectedOutputs = cell.outputShapes.map { [batch] + $0 }, expectedStates = cell.stateShapes.map { [batch] + $0 }
        guard outputs == expectedOutputs, states == expectedStates else {
            func list(_ shapes: [[Int]]) -> String { "[" + shapes.map { describeShape($0) }.joined(separator: ", ") + "]" }
            throw RecurError.shapeMismatch(errorSubject, expected: "a step returning outputs \(list(expectedOutputs)) and states \(list(expectedStates)) "
                                           + "(the cell's outputShapes and stateShapes)",
                                           actual: "outputs \(list(outputs)) and states \(list(states))")
        }
    }

    /// The generic time loop: compiled (`runCompiledLoop`) as `compiled` allows, else one `cell.step`
    /// per timestep.
    func runCellLoop(_ sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> SequenceResult {
        let batch = sequences[0].shape[0], time = sequences[0].shape[1]
        cell.resetDropoutMasks()
        defer { cell.resetDropoutMasks() }
        if let compiledRun = try runCompiledLoop(sequences, initialStates: initialStates, mask: mask, training: training) { return compiledRun }
        lastRunWasCompiled = false
        var states = initialStates
        var previous: [Tensor] = cell.outputShapes.map { Tensor.zeros([batch] + $0) }
        // Keras's scan path outputs the carried state at a masked step; its unrolled path (`unroll`)
        // repeats the previous output, which starts at zeros.
        let carriedState = unroll ? nil : maskedOutputStateIndex
        var perStep: [[Tensor]] = []
        perStep.reserveCapacity(time)
        let order = goBackwards ? Array((0..<time).reversed()) : Array(0..<time)
        for t in order {
            let stepInputs = try sequences.map { try $0.select(alongAxis: 1, index: t) }
            var (outputs, newStates) = try cell.step(stepInputs, states: states, training: training)
            try checkStepResult(outputs: outputs.map(\.shape), states: newStates.map(\.shape), batch: batch)
            if let mask {
                let m = try mask.select(alongAxis: 1, index: t)
                // A masked step outputs zeros, or the carried state (Keras), or else the previous output.
                let fallback = zeroesMaskedOutputs ? outputs.map { Tensor.zeros($0.shape) }
                                                 : carriedState.map { [states[$0]] } ?? previous
                newStates = try zip(newStates, states).map { try selectRows(m, $0, $1) }
                outputs = try zip(outputs, fallback).map { try selectRows(m, $0, $1) }
            }
            states = newStates
            previous = outputs
            perStep.append(outputs)
        }
        let count = cell.outputShapes.count
        let sequencesOut = try (0..<count).map { k in
            time == 0 ? Tensor.zeros([batch, 0] + cell.outputShapes[k]) : try Tensor.stack(perStep.map { $0[k] }, alongAxis: 1)
        }
        return SequenceResult(sequences: sequencesOut, lastOutputs: previous, finalStates: states)
    }

    /// A new layer of this configuration with fresh weights and `changes` to its Keras arguments, built
    /// as Keras builds `Bidirectional`'s halves: through the configuration (the cell must be one Keras
    /// configs can hold).
    func configuredCopy(changes: [String: JSONValue]) throws -> RNN {
        var changes = changes
        if let batchSize { changes["batch_shape"] = KerasValue.shape([batchSize] + (declaredInputShape ?? [nil, nil])) }
        let copy: RNN = try KerasLayerRegistry.copy(of: self, changes: changes)
        copy.compiled = compiled
        return copy
    }

    public override var isStateful: Bool { stateful }
    public override var supportsMasking: Bool { returnSequences }

    public override func kerasConfig() throws -> [String: JSONValue] {
        var config = options.kerasConfig
        config["cell"] = try KerasLayerRegistry.entry(of: cell)
        return config
    }

    open override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        guard let spec = a.value("cell") else { throw a.invalid("config is missing 'cell'") }
        func readCell(_ spec: JSONValue) throws -> RecurrentCell {
            guard let c = try KerasLayerRegistry.layer(from: spec, context: " in \(a.layer)", depth: a.depth + 1) as? RecurrentCell else {
                throw RecurError.unsupported(op: a.layer, message: "'cell' must be a recurrent cell, got \(KerasConfig.compactJSON(spec["class_name"] ?? .null))")
            }
            return c
        }
        let cell = try spec.array.map { StackedRNNCells(try $0.map(readCell)) } ?? readCell(spec)
        let input = try a.inputShape()
        return RNN(cell: cell, options: try RecurrentOptions(a), inputShape: input?.shape, batchSize: input?.batch, name: a.name)
    }

    /// Keras's `reset_states()`: a stateful layer's next call starts from zeros (nothing to do for a
    /// layer that is not stateful).
    public func resetStates() {
        carriedStates = nil
    }

    /// Keras's `reset_states(states)`: the next call of this stateful layer starts from `values`.
    public func resetStates(to values: [Tensor]) throws {
        guard stateful else {
            throw RecurError.invalidArgument(errorSubject, "resetStates(to:) needs a stateful layer (stateful: true)")
        }
        try checkInitialStateShapes(values.map { $0.shape.map(Optional.some) }, batch: batchSize)
        carriedStates = values.map(\.detached)
    }

    /// A layer with `returnState` called eagerly: its output and its final states, to destructure
    /// (`let (output, states) = try lstm.outputAndStates(x)`).
    public func outputAndStates(_ x: Tensor, initialState: [Tensor] = [], mask: Tensor? = nil,
                                training: Bool = false) throws -> (output: Tensor, states: [Tensor]) {
        try splitOutputAndStates(outputs([x], initialState: initialState, mask: mask, training: training))
    }

    /// A layer with `returnState` called on a symbolic tensor: its output and its final states.
    public func outputAndStates(_ x: SymbolicTensor, initialState: [SymbolicTensor] = []) throws -> (output: SymbolicTensor, states: [SymbolicTensor]) {
        try splitOutputAndStates(outputs([x], initialState: initialState))
    }

    private func splitOutputAndStates<T>(_ all: [T]) throws -> (output: T, states: [T]) {
        guard returnState, cell.outputShapes.count == 1, let first = all.first else {
            throw RecurError.invalidArgument(errorSubject, "outputAndStates needs returnState: true and a cell with one output")
        }
        return (first, Array(all.dropFirst()))
    }
}

/// Picks rows of `new` where the per-row flag `m` (batch) is 1 and rows of `old` elsewhere.
func selectRows(_ m: Tensor, _ new: Tensor, _ old: Tensor) throws -> Tensor {
    let shaped = try m.reshaped(to: [m.shape[0]] + Array(repeating: 1, count: new.rank - 1))
    return try Tensor.select(shaped, new, old)
}
