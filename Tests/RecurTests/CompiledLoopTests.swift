import Testing
@testable import Recur
import RecurExamples

/// The compiled cell loop (a traced step program) against the op-by-op loop: the same outputs and
/// gradients for every kind of cell and loop option.
@Suite("Compiled cell loop")
struct CompiledLoopTests {
    /// Runs a layer made by `make` compiled and op by op with the same weights (and, training, the same
    /// dropout masks), and compares outputs and the gradients of a random projection of them with
    /// respect to the inputs, initial states and weights.
    func expectSameAsOpByOp(_ make: (CompiledLoopMode) -> RNN, inputs: [Tensor], initialStates: [Tensor] = [],
                            mask: Tensor? = nil, training: Bool = false, tolerance: Float = 1e-5) throws {
        try withFreshLayerNames {
            let compiled = make(.always), opByOp = make(.never)
            // Seeded: the weights must not depend on what other tests draw from the global generator
            // meanwhile (a chaotic cell amplifies the two loops' rounding differently for other weights).
            try withRandomSeed(5) { try compiled.buildIfNeeded(inputShapes: inputs.map { $0.shape }) }
            try opByOp.buildIfNeeded(inputShapes: inputs.map { $0.shape })
            try opByOp.setWeights(compiled.getWeights())
            func run(_ layer: RNN) throws -> (outputs: [Tensor], grads: [Tensor]) {
                let xs = inputs.map { $0.requiringGradient() }, states = initialStates.map { $0.requiringGradient() }
                for v in layer.trainableVariables { v.value = v.value.requiringGradient() }
                defer { for v in layer.trainableVariables { v.value = v.value.detached } }
                let outs = try withRandomSeed(77) { try layer.outputs(xs, initialState: states, mask: mask, training: training) }
                var r = SeededGenerator(seed: 8)
                var loss = Tensor(0)
                for o in outs { loss = try loss + (o * Tensor.randomUniform(o.shape, low: -1, high: 1, generator: &r)).sum() }
                return (outs, try gradients(of: loss, wrt: xs + states + layer.trainableVariables.map(\.value)))
            }
            let a = try run(compiled), b = try run(opByOp)
            #expect(compiled.lastRunWasCompiled)
            #expect(!opByOp.lastRunWasCompiled)
            #expect(a.outputs.count == b.outputs.count)
            for (p, q) in zip(a.outputs, b.outputs) { #expect(p.maxAbsDifference(q) < tolerance, "output \(p.shape)") }
            for (p, q) in zip(a.grads, b.grads) { #expect(p.maxAbsDifference(q) < tolerance, "gradient \(p.shape)") }
            // Without gradients (inference) the compiled loop gives the same outputs too.
            let inference = try GradientRecording.disabled { try compiled.outputs(inputs, initialState: initialStates, mask: mask) }
            if !training { for (p, q) in zip(inference, b.outputs) { #expect(p.maxAbsDifference(q) < tolerance) } }
        }
    }

    static let gappedMask = try! Tensor([[1, 1, 0, 1, 1, 1], [1, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 1]])
    static func sequence(_ shape: [Int], seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor.randomUniform(shape, low: -1, high: 1, generator: &g)
    }

    @Test(arguments: [false, true])
    func userLSTMCellWithMaskStatesAndBackwards(goBackwards: Bool) throws {
        let x = Self.sequence([3, 6, 4], seed: 1)
        let states = [Self.sequence([3, 5], seed: 2), Self.sequence([3, 5], seed: 3)]
        try expectSameAsOpByOp({ RNN(UserLSTMCell(units: 5), returnSequences: true, returnState: true, goBackwards: goBackwards, compiled: $0) },
                               inputs: [x], initialStates: states, mask: Self.gappedMask)
        try expectSameAsOpByOp({ RNN(UserLSTMCell(units: 5), returnState: true, goBackwards: goBackwards, zeroOutputForMask: true, compiled: $0) },
                               inputs: [x], mask: Self.gappedMask)
    }

    @Test func minimalGatedUnit() throws {
        try expectSameAsOpByOp({ RNN(MinimalGatedUnitCell(units: 7), returnSequences: true, compiled: $0) },
                               inputs: [Self.sequence([3, 6, 4], seed: 4)], mask: Self.gappedMask)
    }

    /// The guide's minimal RNN cell (RecurExamples) and a cell that returns its states unchanged (no
    /// instruction at all: outputs and new states are its input states).
    @Test func minimalAndIdentityCells() throws {
        let x = Self.sequence([3, 6, 4], seed: 18)
        try expectSameAsOpByOp({ RNN(MinimalRNNCell(units: 5), returnSequences: true, returnState: true, goBackwards: true, compiled: $0) },
                               inputs: [x], initialStates: [Self.sequence([3, 5], seed: 19)], mask: Self.gappedMask)
        try expectSameAsOpByOp({ RNN(NestedCellForTest(4), returnSequences: true, returnState: true, compiled: $0) },
                               inputs: [x], initialStates: [Self.sequence([3, 4], seed: 20)], mask: Self.gappedMask)
    }

    @Test func nestedInputsAndStates() throws {
        let x1 = Self.sequence([3, 6, 4], seed: 5), x2 = Self.sequence([3, 6, 2, 3], seed: 6)
        try expectSameAsOpByOp({ RNN(NestedCell(unit1: 5, unit2: 2, unit3: 4), returnSequences: true, returnState: true, compiled: $0) },
                               inputs: [x1, x2], initialStates: [Self.sequence([3, 5], seed: 7), Self.sequence([3, 2, 4], seed: 8)])
    }

    /// A step whose products mix the batch's samples (h·(hᵀh), a product of two step values, one
    /// transposed): the program runs on one thread and differentiates both operands.
    final class GramCell: RecurrentCell {
        let units: Int
        private var kernel: Variable?
        init(units: Int) { self.units = units; super.init() }
        override var stateShapes: [[Int]] { [[units]] }
        override var outputShapes: [[Int]] { [[units]] }
        override func build(inputShapes: [[Int?]]) throws {
            kernel = try addWeight(name: "kernel", shape: [inputShapes[0][1]!, units], initializer: .glorotUniform)
        }
        override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
            let h = states[0]
            let gram = try h.matmul(h, transposingSelf: true) * 0.1
            let next = try (inputs[0].matmul(kernel!.value) + h.matmul(gram)).tanh()
            return ([next], [next])
        }
    }

    @Test func productsOfStepValuesAcrossTheBatch() throws {
        try expectSameAsOpByOp({ RNN(GramCell(units: 4), returnSequences: true, returnState: true, compiled: $0) },
                               inputs: [Self.sequence([3, 6, 4], seed: 25)], initialStates: [Self.sequence([3, 4], seed: 26)],
                               mask: Self.gappedMask)
        try expectSameAsOpByOp({ RNN(GramCell(units: 4), goBackwards: true, compiled: $0) }, inputs: [Self.sequence([19, 5, 4], seed: 27)])
    }

    /// A step using every elementwise op the compiled loop runs — unary, binary with a broadcast row
    /// (a bias), a broadcast column (a one-column slice) and a broadcast scalar, scaling and a
    /// comparison — on slices of one product (rows with a stride).
    final class EveryElementwiseOpCell: RecurrentCell {
        let units: Int
        private var kernel: Variable?
        private var recurrentKernel: Variable?
        private var bias: Variable?
        init(units: Int) { self.units = units; super.init() }
        override var stateShapes: [[Int]] { [[units]] }
        override var outputShapes: [[Int]] { [[units]] }
        override func build(inputShapes: [[Int?]]) throws {
            kernel = try addWeight(name: "kernel", shape: [inputShapes[0][1]!, 2 * units + 1], initializer: .glorotUniform)
            recurrentKernel = try addWeight(name: "recurrent_kernel", shape: [units, 2 * units + 1], initializer: .orthogonal())
            bias = try addWeight(name: "bias", shape: [units], initializer: .glorotUniform)
        }
        override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
            let z = try inputs[0].matmul(kernel!.value) + states[0].matmul(recurrentKernel!.value)
            let parts = try z.split(sizes: [units, units, 1], alongAxis: 1)
            let (a, b, column) = (parts[0].tanh(), parts[1].sigmoid(), parts[2])
            let e = try (a.abs() + 1).log()
            let q = try (b.exp() / (1 + b)).sqrt()
            let halfRelu: Tensor = parts[0].relu() * 0.5
            let m: Tensor = try a.maximum(q) - b.minimum(column) + halfRelu
            let signs: Tensor = try (a * 3).abs() * 0.1 * column
            let chosen: Tensor = try m * a.greater(q) + a.less(column) * b - signs
            let damped: Tensor = try parts[1] / (parts[1] * parts[1] + 2)
            // Results used only by sums: a backward pass reads each op's own saved value or operand.
            let lone1: Tensor = try parts[0].sigmoid() + parts[1].tanh() + (parts[0] * 0.1).exp() + (b + 1).sqrt()
            let lone2: Tensor = try parts[1].relu() + (b + 1).log() + parts[0].abs() + parts[0] / (b + 1)
            let sum: Tensor = try e + chosen + q * bias!.value - damped + (lone1 + lone2) * 0.1
            let next = sum.tanh() * 0.9
            return ([next], [next])
        }
    }

    @Test func everyElementwiseOpWithBroadcasts() throws {
        let x = Self.sequence([3, 6, 4], seed: 31)
        try expectSameAsOpByOp({ RNN(EveryElementwiseOpCell(units: 5), returnSequences: true, returnState: true, compiled: $0) },
                               inputs: [x], initialStates: [Self.sequence([3, 5], seed: 32)], mask: Self.gappedMask)
        // Nineteen samples: split across the threads, the broadcast operands repeat per part.
        try expectSameAsOpByOp({ RNN(EveryElementwiseOpCell(units: 7), goBackwards: true, compiled: $0) },
                               inputs: [Self.sequence([19, 5, 4], seed: 33)], initialStates: [Self.sequence([19, 7], seed: 34)])
    }

    /// Where a masked step repeats the previous output: Keras's unrolled loop, and a cell with two outputs.
    @Test func maskedStepsRepeatingThePreviousOutput() throws {
        let x = Self.sequence([3, 6, 4], seed: 21)
        try expectSameAsOpByOp({ RNN(UserLSTMCell(units: 5), returnSequences: true, returnState: true, unroll: true, compiled: $0) },
                               inputs: [x], mask: Self.gappedMask)
        try expectSameAsOpByOp({ RNN(UserLSTMCell(units: 5), returnState: true, goBackwards: true, unroll: true, compiled: $0) },
                               inputs: [x], mask: Self.gappedMask)
        let x2 = Self.sequence([3, 6, 2, 3], seed: 22)
        try expectSameAsOpByOp({ RNN(NestedCell(unit1: 5, unit2: 2, unit3: 4), returnSequences: true, returnState: true, compiled: $0) },
                               inputs: [x, x2], mask: Self.gappedMask)
    }

    /// One timestep has no loop to compile: `.auto` runs it directly, `.always` still compiles it.
    @Test func aSingleStep() throws {
        let x = Self.sequence([3, 1, 4], seed: 23)
        try expectSameAsOpByOp({ RNN(UserLSTMCell(units: 5), returnState: true, compiled: $0) }, inputs: [x])
        let auto = RNN(UserLSTMCell(units: 5))
        _ = try auto.outputs(x)
        #expect(!auto.lastRunWasCompiled)
    }

    @Test func builtInCellsWithDropoutInTheCellLoop() throws {
        let x = Self.sequence([3, 6, 4], seed: 9)
        let cells: [() -> RecurrentCell] = [
            { LSTMCell(5, dropout: 0.3, recurrentDropout: 0.4) },
            { LSTMCell(5, activation: .relu, recurrentActivation: .hardSigmoid) },
            { GRUCell(5, dropout: 0.2, recurrentDropout: 0.3) },
            { GRUCell(5, resetAfter: false) },
            { SimpleRNNCell(5, activation: .relu, dropout: 0.25, recurrentDropout: 0.25) },
        ]
        for cell in cells {
            for training in [false, true] {
                try expectSameAsOpByOp({ RNN(cell(), returnSequences: true, returnState: true, compiled: $0) },
                                       inputs: [x], mask: Self.gappedMask, training: training)
            }
        }
    }

    @Test func stackedCellsGoingBackwards() throws {
        try expectSameAsOpByOp({ RNN([LSTMCell(4), GRUCell(3), UserLSTMCell(units: 2)], returnSequences: true, returnState: true,
                                     goBackwards: true, compiled: $0) },
                               inputs: [Self.sequence([3, 6, 4], seed: 10)], mask: Self.gappedMask)
    }

    /// A batch large enough to be split across threads (each runs the loop on its samples).
    @Test func batchSplitAcrossThreads() throws {
        let (batch, time) = (19, 7)
        var g = SeededGenerator(seed: 12)
        let x = Tensor.randomUniform([batch, time, 4], low: -1, high: 1, generator: &g)
        let mask = try Tensor(shape: [batch, time], scalars: (0..<(batch * time)).map { $0 % 5 == 3 ? 0 : 1 })
        let states = [Self.sequence([batch, 5], seed: 13), Self.sequence([batch, 5], seed: 14)]
        try expectSameAsOpByOp({ RNN(UserLSTMCell(units: 5), returnSequences: true, returnState: true, compiled: $0) },
                               inputs: [x], initialStates: states, mask: mask)
        try expectSameAsOpByOp({ RNN(LSTMCell(5, dropout: 0.3, recurrentDropout: 0.2), returnSequences: true, goBackwards: true, compiled: $0) },
                               inputs: [x], mask: mask, training: true)
        try expectSameAsOpByOp({ RNN(GRUCell(5, recurrentDropout: 0.2), returnState: true, compiled: $0) },
                               inputs: [x], mask: mask, training: true)
        try expectSameAsOpByOp({ RNN(MinimalGatedUnitCell(units: 6), compiled: $0) }, inputs: [x])
    }

    /// A cell whose step reads its state on the host to choose what to compute.
    final class HostReadingCell: RecurrentCell {
        override var stateShapes: [[Int]] { [[3]] }
        override var outputShapes: [[Int]] { [[3]] }
        override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
            let h = try states[0].hostScalars()[0] > 0 ? states[0].tanh() : states[0].sigmoid()
            let next = try h + inputs[0].slice(alongAxis: 1, 0..<3)
            return ([next], [next])
        }
    }

    /// A cell that draws new random numbers at every step (so its program would differ per step).
    final class NoisyCell: RecurrentCell {
        override var stateShapes: [[Int]] { [[3]] }
        override var outputShapes: [[Int]] { [[3]] }
        override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
            let noise = Tensor.randomUniform(shape: [inputs[0].shape[0], 3])
            let next = try states[0] * noise + inputs[0].slice(alongAxis: 1, 0..<3)
            return ([next], [next])
        }
    }

    @Test func stepsThatCannotBeTracedRunOpByOpWithTheReasonOrThrowWhenCompiledIsAlways() throws {
        let x = Self.sequence([2, 4, 5], seed: 15)
        let cases: [(RecurrentCell, String)] = [
            (HostReadingCell(), "reads a value computed from its inputs or states on the host"),
            (NoisyCell(), "differ between timesteps"),
        ]
        for (cell, reason) in cases {
            let auto = RNN(cell, returnSequences: true)
            let expected = try RNN(cell, returnSequences: true, compiled: .never).outputs(x)
            let outputs = try auto.outputs(x)
            #expect(!auto.lastRunWasCompiled)
            if cell is HostReadingCell { #expect(outputs[0].maxAbsDifference(expected[0]) == 0) }
            #expect(throws: RecurError.self) { try RNN(cell, returnSequences: true, compiled: .always).outputs(x) }
            do {
                _ = try RNN(cell, compiled: .always).outputs(x)
            } catch {
                #expect("\(error)".contains(reason), "\(error)")
                #expect("\(error)".contains("compiled: .always"))
            }
        }
    }

    /// A cell whose step returns other states than it declares.
    final class ForgetfulCell: RecurrentCell {
        override var stateShapes: [[Int]] { [[3], [3]] }
        override var outputShapes: [[Int]] { [[3]] }
        override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
            let h = try states[0] + inputs[0].slice(alongAxis: 1, 0..<3)
            return ([h], [h])
        }
    }

    @Test func aStepReturningOtherStatesThanDeclaredThrows() throws {
        let x = Self.sequence([2, 4, 5], seed: 24)
        for mode in [CompiledLoopMode.auto, .never] {
            #expect { try RNN(ForgetfulCell(name: "forgetful"), compiled: mode).outputs(x) } throws: { error in
                "\(error)".contains("states [(2, 3), (2, 3)]") && "\(error)".contains("rnn")
            }
        }
    }

    /// `Tensor.compiledRecurrence` called with values the program was not traced for throws.
    @Test func aProgramRunsOnlyOnWhatItWasTracedFor() throws {
        let x = Self.sequence([2, 3], seed: 28), s = Self.sequence([2, 3], seed: 29)
        guard case .success(let program) = try Tensor.traceStep(inputs: [[x]], states: [s], step: { x, s in
            let h = try (x[0] + s[0]).tanh()
            return ([h], [h])
        }) else { Issue.record("not traced"); return }
        let sequence = Self.sequence([2, 4, 3], seed: 30)
        let run = try Tensor.compiledRecurrence(program, sequences: [sequence], initialStates: [s], mask: nil, reverse: false,
                                                maskedOutput: .zeros, returnSequences: true)
        #expect(run.sequences[0].shape == [2, 4, 3])
        #expect(throws: RecurError.self) {
            try Tensor.compiledRecurrence(program, sequences: [Self.sequence([2, 4, 5], seed: 31)], initialStates: [s], mask: nil,
                                          reverse: false, maskedOutput: .zeros, returnSequences: true)
        }
        #expect(throws: RecurError.self) {
            try Tensor.compiledRecurrence(program, sequences: [sequence], initialStates: [s, s], mask: nil, reverse: false,
                                          maskedOutput: .zeros, returnSequences: true)
        }
        #expect(throws: RecurError.self) {
            try Tensor.compiledRecurrence(program, sequences: [sequence], initialStates: [s], mask: Tensor.ones([2, 3]), reverse: false,
                                          maskedOutput: .zeros, returnSequences: true)
        }
        #expect(throws: RecurError.self) {
            try Tensor.compiledRecurrence(program, sequences: [sequence], initialStates: [s], mask: Tensor.ones([2, 4]), reverse: false,
                                          maskedOutput: .state(1), returnSequences: true)
        }
        #expect(throws: RecurError.self) {
            try Tensor.compiledRecurrence(program, sequences: [], initialStates: [s], mask: nil, reverse: false, maskedOutput: .zeros, returnSequences: true)
        }
    }

    /// A custom gradient (`Tensor.differentiable`), an op with no traced form (`sum`, a transpose) and a
    /// batched matmul decline, naming what they met.
    @Test func untracedOpsAreNamed() throws {
        func reason(_ step: @escaping ([Tensor], [Tensor]) throws -> (outputs: [Tensor], states: [Tensor])) throws -> String {
            let x = Self.sequence([2, 3], seed: 16), s = Self.sequence([2, 3], seed: 17)
            switch try Tensor.traceStep(inputs: [[x]], states: [s], step: step) {
            case .success: return "traced"
            case .failure(let failure): return failure.reason
            }
        }
        #expect(try reason { x, s in
            let y = Tensor.differentiable(try x[0] + s[0], inputs: [x[0], s[0]]) { g in [g, g] }
            return ([y], [y])
        }.contains("Tensor.differentiable"))
        #expect(try reason { x, s in
            let y = try x[0] * s[0].sum()
            return ([y], [y])
        }.contains("a sum"))
        #expect(try reason { x, s in
            let y = try (x[0] + s[0]).transposed().transposed()
            return ([y], [y])
        }.contains("transpose"))
        #expect(try reason { x, s in
            let y = try x[0].reshaped(to: [1, 2, 3]).matmul(s[0].reshaped(to: [1, 3, 2])).reshaped(to: [2, 2])
            return ([y], [s[0] + 1])
        }.contains("batched matmul"))
        // Ops on constants alone stay outside the program; the traced step is the rest.
        #expect(try reason { x, s in
            let w = try Tensor.ones([3, 3]).transposed().sum(alongAxis: 0)
            let y = try x[0] * w + s[0]
            return ([y], [y])
        } == "traced")
    }
}
