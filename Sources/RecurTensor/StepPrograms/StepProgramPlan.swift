/// How a `StepProgram` runs over a sequence of `time` steps: where each value's scalars live, which
/// instructions are hoisted out of the time loop, which values need gradients, and which runs of
/// elementwise instructions execute together.
///
/// Every value is seen as a matrix of `rows` × `columns` (its last extent; the leading extents,
/// batch first, flattened into rows). A value is a view — columns `columnOffset ..< +columns` of each
/// row of a root's storage, rows `rowStride` apart — so slicing the last axis and reshaping dense
/// values cost nothing, and their gradients land straight in the root's gradient.
///
/// A value is *hoisted* when it depends only on the step inputs and constants and every op on the way
/// keeps rows independent (elementwise ops, a product with a constant right operand, views that keep
/// the batch first): it is computed once for all steps, as one (time·rows) matrix, before the loop —
/// `x·W` becomes one GEMM — and its gradient once after the backward loop.
struct StepProgramPlan {
    struct View {
        var root: Int
        var columnOffset: Int
        var rowStride: Int
        var rows: Int
        var columns: Int
        var isDense: Bool { rowStride == columns }
    }

    /// How an elementwise instruction reads one operand at result row r: row `r % rowPeriod` of the
    /// operand (a broadcast operand repeats; a hoisted operand in the hoisted pass does not wrap),
    /// columns 1 apart, or 0 apart for a broadcast column.
    struct OperandAccess {
        var rowPeriod: Int
        var columnStride: Int
    }

    /// Instructions that run together at one step: a run of elementwise instructions with results of
    /// the same geometry (one `recur_elementwise_forward` call per step: block by block of rows, so every
    /// intermediate block stays in cache), or one other instruction. Views are never executed.
    enum Group {
        case elementwise([Int])
        case single(Int)
    }

    let program: StepProgram
    let batch: Int
    let time: Int
    /// Whether the forward values of every step are kept for a backward pass.
    let saving: Bool
    var views: [View] = []
    var hoisted: [Bool] = []
    var needsGradient: [Bool] = []
    /// Storage slots of each root: `time` (one per step: inputs, hoisted values, and — for a backward
    /// pass — the values it reads, `valuesReadByBackward`), `time + 1` (states: initial and after each
    /// step) or 1 (reused every step: constants, and values only the forward pass reads, such as an LSTM
    /// cell's pre-activations or the products that make its new c).
    var slots: [Int] = []
    var gradientSlots: [Int] = []
    /// Per instruction (elementwise only): how it reads each operand, in its own and in hoisted form.
    var access: [[OperandAccess]] = []
    var hoistedGroups: [Group] = []
    var stepGroups: [Group] = []
    /// Matrix products with a constant right operand whose gradient is one GEMM over all steps after
    /// the backward loop (their results keep one gradient slot per step).
    var deferredWeightGradients: [Int] = []
    /// Whether every step instruction keeps the batch's samples apart (rows of one sample read only
    /// rows of the same sample, or constants), so that threads can each run the whole time loop on
    /// their share of the batch.
    var isSampleSeparable = true
    /// A place where the backward pass writes a gradient: operand `k` of instruction `i`, or the seed of
    /// new state or output `k` at each step.
    enum GradientWrite: Hashable {
        case operand(instruction: Int, index: Int)
        case stateSeed(Int)
        case outputSeed(Int)
    }
    /// Writes that store rather than add: each is the only write to its columns of a root whose
    /// columns such writes cover exactly once per step, so that root's gradient is never zeroed
    /// (`roots with assigned gradients`).
    var assignedWrites: Set<GradientWrite> = []
    var rootsWithAssignedGradients: Set<Int> = []
    /// Per root, the root whose gradient storage it uses: itself, or — for an operand of a sum whose
    /// gradient is exactly the sum's (`aliasedWrites`) — the sum's, so that write costs nothing.
    var gradientRoot: [Int] = []
    var aliasedWrites: Set<GradientWrite> = []
    /// Sums `z = T + Y` of a hoisted value T and a step product Y = A·W computed in place: the product
    /// accumulates into T's storage for the step, which becomes z's (the add never runs forward, and its
    /// gradient is the operands'). By the add's instruction index: the product's.
    var inPlaceSums: [Int: Int] = [:]
    /// By product instruction: the value (z) it accumulates into.
    var accumulatingProducts: [Int: Int] = [:]

    /// - Parameters:
    ///   - saving: whether the forward values of every step are kept for a backward pass.
    ///   - inputNeedsGradient, constantNeedsGradient: which leaves a backward pass must differentiate.
    init(_ program: StepProgram, time: Int, saving: Bool, inputNeedsGradient: [Bool], constantNeedsGradient: [Bool]) throws {
        self.program = program
        self.time = time
        self.saving = saving
        batch = program.values.first?.shape.first ?? 0
        let values = program.values
        let producer = Self.producers(program)
        var uses = [Int](repeating: 0, count: values.count)
        for instruction in program.instructions { for v in instruction.operands { uses[v] += 1 } }
        for v in program.outputs + program.newStates { uses[v] += 2 }
        // Leaves first, then computed values in order: each reads only leaves and earlier results.
        views = values.enumerated().map { v, value in
            let columns = value.shape.last ?? 1
            return View(root: v, columnOffset: 0, rowStride: columns, rows: columns == 0 ? 0 : value.shape.reduce(1, *) / columns, columns: columns)
        }
        hoisted = values.map { if case .input = $0.kind { return true } else { return false } }
        needsGradient = values.map { value in
            switch value.kind {
            case .input(let k): return inputNeedsGradient[k]
            case .state: return saving
            case .constant(let k): return constantNeedsGradient[k]
            case .computed: return false
            }
        }
        for (v, value) in values.enumerated() {
            let columns = value.shape.last ?? 1
            let rows = columns == 0 ? 0 : value.shape.reduce(1, *) / columns
            var view = views[v]
            var isHoisted = false
            var needs = false
            switch value.kind {
            case .input, .state, .constant: continue
            case .computed:
                let instruction = program.instructions[producer[v]!]
                let operands = instruction.operands
                needs = operands.contains { needsGradient[$0] }
                isHoisted = Self.isHoistable(instruction, values: values, hoisted: hoisted, batch: batch)
                switch instruction.op {
                case .sliceLastAxis(let range):
                    let source = views[operands[0]]
                    view = View(root: source.root, columnOffset: source.columnOffset + range.lowerBound, rowStride: source.rowStride,
                                rows: source.rows, columns: range.count)
                case .reshape:
                    let source = views[operands[0]]
                    guard source.isDense else {
                        throw StepTraceFailure(reason: "the step reshapes a slice of columns (\(describeShape(values[operands[0]].shape)) → \(describeShape(value.shape)))")
                    }
                    view = View(root: source.root, columnOffset: source.columnOffset, rowStride: columns, rows: rows, columns: columns)
                case .binary(.add):
                    if let (hoistedOperand, product) = inPlaceSum(producer[v]!, uses: uses, producer: producer) {
                        view = views[hoistedOperand]
                        inPlaceSums[producer[v]!] = product
                        accumulatingProducts[product] = v
                    }
                default: break
                }
            }
            views[v] = view
            hoisted[v] = isHoisted
            needsGradient[v] = needs
        }
        slots = [Int](repeating: 0, count: values.count)
        gradientSlots = slots
        let saved = saving ? valuesReadByBackward() : []
        for (v, view) in views.enumerated() where view.root == v {
            switch values[v].kind {
            case .input: (slots[v], gradientSlots[v]) = (time, time)
            case .state: (slots[v], gradientSlots[v]) = (time + 1, 1)
            case .constant: (slots[v], gradientSlots[v]) = (1, 1)
            case .computed: (slots[v], gradientSlots[v]) = (hoisted[v] || saved.contains(v) ? time : 1, hoisted[v] ? time : 1)
            }
        }
        try planInstructions(saving: saving)
        planGradientWrites()
        planGradientAliases()
    }

    /// The roots whose value at every step the backward pass reads: what the pullbacks of instructions
    /// with a gradient read — the result of tanh, sigmoid, exp and sqrt, the operand of relu, log and
    /// abs, both operands of a product (elementwise or matrix), maximum or minimum, a quotient's divisor
    /// and result, and the gate steps' previous states (their activations are kept apart).
    private func valuesReadByBackward() -> Set<Int> {
        var read = Set<Int>()
        for instruction in program.instructions where instruction.results.contains(where: { needsGradient[$0] }) {
            let (operands, result) = (instruction.operands, instruction.results[0])
            let values: [Int]
            switch instruction.op {
            case .unary(.tanh), .unary(.sigmoid), .unary(.exp), .unary(.sqrt): values = [result]
            case .unary(.relu), .unary(.log), .unary(.abs): values = [operands[0]]
            case .binary(.multiply), .binary(.maximum), .binary(.minimum), .matmul: values = operands
            case .binary(.divide): values = [operands[1], result]
            case .lstmGates: values = [operands[1]]
            case .gruGates: values = [operands[1], operands[2]]
            case .unary(.sign), .scaled, .binary(.add), .binary(.subtract), .binary(.greater), .binary(.greaterEqual), .binary(.less),
                 .binary(.equal), .binary(.notEqual), .sliceLastAxis, .reshape, .concatenateLastAxis:
                values = []
            }
            for v in values { read.insert(views[v].root) }
        }
        return read
    }

    private static func producers(_ program: StepProgram) -> [Int: Int] {
        var producer: [Int: Int] = [:]
        for (i, instruction) in program.instructions.enumerated() { for r in instruction.results { producer[r] = i } }
        return producer
    }

    private static func isHoistable(_ instruction: StepProgram.Instruction, values: [StepProgram.Value], hoisted: [Bool], batch: Int) -> Bool {
        let operands = instruction.operands
        func isConstant(_ v: Int) -> Bool { if case .constant = values[v].kind { return true } else { return false } }
        guard operands.allSatisfy({ hoisted[$0] || isConstant($0) }), operands.contains(where: { hoisted[$0] }),
              operands.allSatisfy({ isConstant($0) || values[$0].shape.first == batch }),
              instruction.results.allSatisfy({ values[$0].shape.first == batch }) else { return false }
        switch instruction.op {
        case .unary, .binary, .scaled, .sliceLastAxis, .reshape: return true
        case .matmul(let transposeA, _): return !transposeA && hoisted[operands[0]] && isConstant(operands[1])
        case .concatenateLastAxis: return operands.allSatisfy { hoisted[$0] }
        case .lstmGates, .gruGates: return false
        }
    }

    private static func isElementwise(_ op: StepProgram.Op) -> Bool {
        switch op {
        case .unary, .binary, .scaled: return true
        default: return false
        }
    }

    private static func isView(_ op: StepProgram.Op) -> Bool {
        switch op {
        case .sliceLastAxis, .reshape: return true
        default: return false
        }
    }

    private mutating func planInstructions(saving: Bool) throws {
        let values = program.values
        access = []
        var currentRun: [Int] = []
        var currentHoisted = false
        func close() {
            guard !currentRun.isEmpty else { return }
            if currentHoisted { hoistedGroups.append(.elementwise(currentRun)) } else { stepGroups.append(.elementwise(currentRun)) }
            currentRun = []
        }
        for (i, instruction) in program.instructions.enumerated() {
            let result = instruction.results[0]
            let isHoisted = hoisted[result]
            var operandAccess: [OperandAccess] = []
            if Self.isElementwise(instruction.op) {
                for operand in instruction.operands {
                    operandAccess.append(try Self.broadcastAccess(from: values[operand].shape, to: values[result].shape))
                }
            }
            access.append(operandAccess)
            if Self.isView(instruction.op) { continue }
            try checkSupported(instruction)
            if !isHoisted {
                for v in instruction.operands + instruction.results where values[v].shape.first != batch {
                    if case .constant = values[v].kind { continue }
                    isSampleSeparable = false
                }
            }
            if Self.isElementwise(instruction.op) {
                if let last = currentRun.last, currentHoisted == isHoisted,
                   views[program.instructions[last].results[0]].rows == views[result].rows,
                   views[program.instructions[last].results[0]].columns == views[result].columns {
                    currentRun.append(i)
                } else {
                    close()
                    currentRun = [i]
                    currentHoisted = isHoisted
                }
                continue
            }
            close()
            if isHoisted { hoistedGroups.append(.single(i)) } else { stepGroups.append(.single(i)) }
            if !isHoisted, case .matmul(let transposeA, _) = instruction.op {
                if case .constant = values[instruction.operands[1]].kind, !transposeA {} else { isSampleSeparable = false }
            }
            if case .matmul(let transposeA, _) = instruction.op, saving, !transposeA, !isHoisted,
               case .constant = values[instruction.operands[1]].kind, needsGradient[instruction.operands[1]] {
                deferredWeightGradients.append(i)
                gradientSlots[result] = time
            }
        }
        close()
    }

    /// Refuses what the kernels cannot read: fused gate steps need dense operands.
    private func checkSupported(_ instruction: StepProgram.Instruction) throws {
        switch instruction.op {
        case .lstmGates, .gruGates:
            for operand in instruction.operands where !views[operand].isDense {
                throw StepTraceFailure(reason: "a fused gate step reads a slice of columns (\(describeShape(program.values[operand].shape)))")
            }
        default: break
        }
    }

    /// How an operand of `shape` broadcasts to `result`: its leading extents (without leading 1s)
    /// must be the result's last leading extents, and its last extent the result's or 1.
    static func broadcastAccess(from shape: [Int], to result: [Int]) throws -> OperandAccess {
        let columns = result.last ?? 1
        let padded = Array(repeating: 1, count: max(0, result.count - shape.count)) + shape
        let last = padded.last ?? 1
        let leading = Array(padded.dropLast()), resultLeading = Array(result.dropLast())
        let start = leading.firstIndex { $0 != 1 } ?? leading.count
        guard padded.count == result.count, last == columns || last == 1,
              Array(leading[start...]) == Array(resultLeading[start...]) else {
            throw StepTraceFailure(reason: "the step broadcasts \(describeShape(shape)) to \(describeShape(result)), which the compiled loop does not")
        }
        let period = leading[start...].reduce(1, *)
        return OperandAccess(rowPeriod: max(period, 1), columnStride: last == columns ? 1 : 0)
    }

    /// Finds the gradient writes that may store instead of add (see `assignedWrites`).
    private mutating func planGradientWrites() {
        var writes: [Int: [(write: GradientWrite, columns: Range<Int>?)]] = [:]
        func add(_ write: GradientWrite, value v: Int, exact: Bool) {
            guard needsGradient[v] else { return }
            let view = views[v]
            if case .constant = program.values[view.root].kind { return }
            let rootColumns = views[view.root].columns
            let covers: Range<Int>? = !exact ? nil
                : view.rows == views[view.root].rows ? view.columnOffset..<(view.columnOffset + view.columns)
                : view.isDense ? 0..<rootColumns : nil
            writes[view.root, default: []].append((write, covers))
        }
        for (i, instruction) in program.instructions.enumerated() where instruction.results.contains(where: { needsGradient[$0] }) {
            // An in-place sum's operands share its storage and gradient: it writes nothing.
            if inPlaceSums[i] != nil { continue }
            for (k, operand) in instruction.operands.enumerated() {
                let write = GradientWrite.operand(instruction: i, index: k)
                switch instruction.op {
                case .unary(.sign), .binary(.greater), .binary(.greaterEqual), .binary(.less), .binary(.equal), .binary(.notEqual): continue
                case .unary, .binary, .scaled:
                    let access = self.access[i][k]
                    add(write, value: operand, exact: access.columnStride == 1 && access.rowPeriod == views[instruction.results[0]].rows)
                // d op(B) = op(A)ᵀ·dY accumulates (a weight's over the steps).
                case .matmul(_, _): add(write, value: operand, exact: k == 0)
                case .concatenateLastAxis, .lstmGates, .gruGates: add(write, value: operand, exact: true)
                case .sliceLastAxis, .reshape: continue
                }
            }
        }
        for (k, v) in program.newStates.enumerated() { add(.stateSeed(k), value: v, exact: true) }
        for (k, v) in program.outputs.enumerated() { add(.outputSeed(k), value: v, exact: true) }
        for (root, rootWrites) in writes {
            let ranges = rootWrites.compactMap(\.columns).sorted { $0.lowerBound < $1.lowerBound }
            guard ranges.count == rootWrites.count else { continue }
            var next = 0
            for range in ranges where range.lowerBound == next { next = range.upperBound }
            guard next == views[root].columns, zip(ranges, ranges.dropFirst()).allSatisfy({ $0.upperBound <= $1.lowerBound }) else { continue }
            rootsWithAssignedGradients.insert(root)
            for write in rootWrites { assignedWrites.insert(write.write) }
        }
    }

    /// Lets the operands of sums share the sum's gradient where their gradient is exactly it: a dense,
    /// computed root of the sum's shape whose one gradient write is this sum. A root that needs one
    /// slot per step makes the shared storage keep one per step.
    private mutating func planGradientAliases() {
        gradientRoot = Array(program.values.indices)
        for (j, product) in inPlaceSums {
            let (sum, y) = (program.instructions[j].results[0], program.instructions[product].results[0])
            let target = views[sum].root
            gradientRoot[y] = target
            gradientSlots[target] = max(gradientSlots[target], gradientSlots[y])
            aliasedWrites.insert(.operand(instruction: j, index: 0))
            aliasedWrites.insert(.operand(instruction: j, index: 1))
        }
        for (i, instruction) in program.instructions.enumerated().reversed() {
            guard instruction.op == .binary(.add), needsGradient[instruction.results[0]], inPlaceSums[i] == nil else { continue }
            let target = gradientRoot[views[instruction.results[0]].root]
            for (k, v) in instruction.operands.enumerated() {
                let write = GradientWrite.operand(instruction: i, index: k)
                guard assignedWrites.contains(write), views[v].root == v, views[v].isDense,
                      program.values[v].shape == program.values[instruction.results[0]].shape,
                      case .computed = program.values[v].kind else { continue }
                gradientRoot[v] = target
                gradientSlots[target] = max(gradientSlots[target], gradientSlots[v])
                aliasedWrites.insert(write)
            }
        }
        for v in program.values.indices where gradientRoot[v] != v {
            var target = gradientRoot[v]
            while gradientRoot[target] != target { target = gradientRoot[target] }
            gradientRoot[v] = target
        }
        for v in program.values.indices where gradientRoot[v] != v { gradientSlots[v] = gradientSlots[gradientRoot[v]] }
    }

    /// The hoisted operand and the product of add `j` when it can run in place (see `inPlaceSums`): T a
    /// hoisted root used only here whose producer's gradient does not read it, Y = A·W (A a step value,
    /// W a constant) used only here, both of the sum's shape.
    private func inPlaceSum(_ j: Int, uses: [Int], producer: [Int: Int]) -> (Int, Int)? {
        let instruction = program.instructions[j], values = program.values
        let (p, q) = (instruction.operands[0], instruction.operands[1])
        guard p != q else { return nil }
        for (t, y) in [(p, q), (q, p)] {
            guard hoisted[t], views[t].root == t, views[y].root == y, uses[t] == 1, uses[y] == 1,
                  values[t].shape == values[y].shape, values[t].shape == values[instruction.results[0]].shape,
                  let tProducer = producer[t], let yProducer = producer[y], !hoisted[y],
                  case .matmul(false, _) = program.instructions[yProducer].op,
                  case .constant = values[program.instructions[yProducer].operands[1]].kind else { continue }
            switch program.instructions[tProducer].op {
            case .matmul, .binary(.add), .binary(.subtract), .scaled, .concatenateLastAxis: return (t, yProducer)
            default: continue
            }
        }
        return nil
    }
}
