import CRecurKernels

/// Runs a planned `StepProgram` on the host: owns the storage of every root value (one slot per step
/// where the plan keeps them, see `StepProgramPlan`) and of their gradients, and executes groups of
/// instructions forward (this file) and backward (`StepProgramRunner+Backward.swift`). Part of the CPU
/// backend: it reads and writes host memory through the C kernels, Recur's packed step GEMM and
/// OpenBLAS.
///
/// When the plan keeps samples apart, the batch is split into `parts`, one per thread; each thread
/// runs every step on its samples' rows (constants' gradients are summed per part, then added up).
final class StepProgramRunner {
    let plan: StepProgramPlan
    /// The samples each thread takes (one part when the plan does not keep samples apart).
    let parts: [Range<Int>]
    private var storage: [TensorBuffer?]
    private var gradientStorage: [TensorBuffer?]
    /// The first scalar of each root's storage (and gradient), by value index.
    private var bases: [UnsafeMutablePointer<Float>?]
    private var gradientBases: [UnsafeMutablePointer<Float>?]
    /// Per part, the gradients of constants (each thread sums its own).
    private var constantGradients: [[Int: TensorBuffer]]
    /// Per gate-step instruction: its activations (and tanh c for an LSTM), one slot per saved step.
    private var gateScratch: [Int: (activations: TensorBuffer, tanhC: TensorBuffer?)] = [:]
    /// Per part and gate-step instruction, the backward pass's buffers (see `gateBackwardBuffers`).
    private(set) var gateBackwardScratch: [[Int: [TensorBuffer]]] = []
    /// Per part, the scratch of `recur_elementwise_backward`: three rows as wide as the widest value or
    /// a block.
    let rowScratch: [TensorBuffer]
    /// Per product with a constant right operand run at every step: the operand packed once for the
    /// step GEMM, forward and (for a backward pass) transposed.
    private var stepMatrices: [Int: (forward: StepMatrix, backward: StepMatrix?)] = [:]
    /// Per part and step group (empty for other groups), the elementwise operations with their
    /// operands at step 0, ready for `recur_elementwise_forward` / `_backward`.
    private var forwardRuns: [[[recur_elementwise_op]]] = []
    private(set) var backwardRuns: [[[recur_elementwise_op]]] = []
    /// The step groups in order (see `StepRun`).
    let stepRuns: [StepRun]
    /// The roots whose gradient has one slot that every step adds into: zeroed before each step's
    /// backward pass.
    private var gradientsZeroedEachStep: [Int] = []

    init(_ plan: StepProgramPlan) {
        self.plan = plan
        let values = plan.program.values
        parts = plan.isSampleSeparable ? splitRanges(plan.batch, minimum: 8) : [0..<plan.batch]
        stepRuns = plan.stepGroups.enumerated().map { g, group in
            switch group {
            case .elementwise(let run):
                let result = plan.program.instructions[run[0]].results[0]
                return .elementwise(group: g, result: result, columns: plan.views[result].columns)
            case .single(let i): return .single(i)
            }
        }
        storage = Array(repeating: nil, count: values.count)
        gradientStorage = storage
        bases = Array(repeating: nil, count: values.count)
        gradientBases = bases
        constantGradients = Array(repeating: [:], count: parts.count)
        for (v, value) in values.enumerated() where plan.views[v].root == v {
            if case .constant(let k) = value.kind {
                storage[v] = plan.program.constants[k].buffer
            } else {
                storage[v] = TensorBuffer(count: plan.slots[v] * value.shape.reduce(1, *))
            }
            bases[v] = storage[v]!.base
        }
        let widest = values.map { $0.shape.last ?? 1 }.max() ?? 1
        rowScratch = parts.map { _ in TensorBuffer(count: 3 * max(widest, Int(RECUR_ELEMENTWISE_BLOCK))) }
        let saved = plan.saving ? plan.time : 1
        for (i, instruction) in plan.program.instructions.enumerated() {
            let units = values[instruction.results[0]].shape.last ?? 0
            let rows = plan.views[instruction.results[0]].rows
            switch instruction.op {
            case .lstmGates:
                gateScratch[i] = (TensorBuffer(count: saved * rows * 4 * units), TensorBuffer(count: saved * rows * units))
            case .gruGates:
                gateScratch[i] = (TensorBuffer(count: saved * rows * 3 * units), nil)
            case .matmul(let transposeA, let transposeB):
                guard !plan.hoisted[instruction.results[0]], !transposeA, case .constant(let k) = values[instruction.operands[1]].kind else { break }
                let weight = plan.program.constants[k]
                let rowsPerPart = plan.views[instruction.operands[0]].rows / max(plan.batch, 1) * (parts.map(\.count).min() ?? 1)
                stepMatrices[i] = (StepMatrix(weight, transposed: transposeB, rows: rowsPerPart),
                                   plan.saving ? StepMatrix(weight, transposed: !transposeB, rows: rowsPerPart) : nil)
            default: break
            }
        }
        forwardRuns = parts.indices.map { p in elementwiseRuns(part: p, backward: false) }
    }

    /// Scalars per step of value `v`'s root.
    func slotSize(_ root: Int) -> Int { plan.program.values[root].shape.reduce(1, *) }

    /// Where value `v` starts at step `t` (row 0, its first column).
    func pointer(_ v: Int, step t: Int) -> UnsafeMutablePointer<Float> {
        let view = plan.views[v]
        return bases[view.root]! + (plan.slots[view.root] > 1 ? t : 0) * slotSize(view.root) + view.columnOffset
    }

    /// Where the gradient of value `v` starts at step `t`, for the thread of `part`.
    func gradientPointer(_ v: Int, step t: Int, part: Int = 0) -> UnsafeMutablePointer<Float> {
        let view = plan.views[v]
        if case .constant = plan.program.values[view.root].kind {
            return constantGradients[part][view.root]!.base + view.columnOffset
        }
        return gradientBases[plan.gradientRoot[view.root]]! + (plan.gradientSlots[view.root] > 1 ? t : 0) * slotSize(view.root) + view.columnOffset
    }

    /// Rows of value `v` that the samples `samples` own at one step (all rows in the hoisted pass).
    func rows(_ v: Int, samples: Range<Int>, hoisted: Bool) -> Range<Int> {
        let rows = plan.views[v].rows
        if hoisted { return 0..<(rows * plan.time) }
        if samples.count == plan.batch { return 0..<rows }
        let perSample = rows / plan.batch
        return (samples.lowerBound * perSample)..<(samples.upperBound * perSample)
    }

    /// Makes zeroed gradient storage for every root that needs one (before a backward pass).
    func allocateGradients() {
        for (v, value) in plan.program.values.enumerated() where plan.views[v].root == v && plan.needsGradient[v] && plan.gradientRoot[v] == v {
            let count = plan.gradientSlots[v] * value.shape.reduce(1, *)
            func zeroed() -> TensorBuffer {
                let buffer = TensorBuffer(count: count)
                if !plan.rootsWithAssignedGradients.contains(v) { buffer.base.update(repeating: 0, count: count) }
                return buffer
            }
            if case .constant = value.kind {
                for p in parts.indices { constantGradients[p][v] = zeroed() }
            } else {
                gradientStorage[v] = zeroed()
                gradientBases[v] = gradientStorage[v]!.base
            }
        }
        backwardRuns = parts.indices.map { p in elementwiseRuns(part: p, backward: true) }
        gradientsZeroedEachStep = plan.program.values.indices.filter { v in
            guard plan.views[v].root == v, plan.needsGradient[v], plan.gradientSlots[v] == 1, plan.gradientRoot[v] == v,
                  !plan.rootsWithAssignedGradients.contains(v) else { return false }
            if case .constant = plan.program.values[v].kind { return false }
            return true
        }
        // The gate steps' backward buffers, per thread: d z and dc for an LSTM; d xproj, d hproj and
        // dh₋₁ for a GRU (each for the part's samples).
        gateBackwardScratch = parts.map { samples in
            var buffers: [Int: [TensorBuffer]] = [:]
            for (i, instruction) in plan.program.instructions.enumerated() {
                let units = plan.views[instruction.results[0]].columns
                switch instruction.op {
                case .lstmGates: buffers[i] = [4 * units, units].map { TensorBuffer(count: samples.count * $0) }
                case .gruGates: buffers[i] = [3 * units, 3 * units, units].map { TensorBuffer(count: samples.count * $0) }
                default: break
                }
            }
            return buffers
        }
    }

    /// Zeroes the part's rows of the gradients that are reused at every step (one slot), before a
    /// step's backward pass.
    func zeroStepGradients(part p: Int) {
        for v in gradientsZeroedEachStep {
            let range = rows(v, samples: parts[p], hoisted: false), width = plan.views[v].columns
            (gradientBases[v]! + range.lowerBound * width).update(repeating: 0, count: range.count * width)
        }
    }

    /// The gradient of a constant summed over the parts, as a host tensor of its shape.
    func constantGradient(_ v: Int) -> Tensor {
        let out = Tensor(uninitializedShape: plan.program.values[v].shape)
        out.base.update(from: constantGradients[0][v]!.base, count: out.count)
        for p in parts.indices.dropFirst() {
            addInPlace(constantGradients[p][v]!.base, into: out.base, out.count)
        }
        return out
    }

    // MARK: Forward

    /// A step group as the time loop runs it: an elementwise chain with its first result (whose rows
    /// and columns it runs on), or one instruction. It holds no array, so reading one at every step
    /// retains nothing.
    enum StepRun {
        case elementwise(group: Int, result: Int, columns: Int)
        case single(Int)
    }

    /// Runs every step group (`plan.stepGroups`) at step `t` on the samples of `part`.
    func forwardStep(_ t: Int, part: Int) {
        for run in stepRuns {
            switch run {
            case .elementwise(let g, let result, let columns):
                let range = rows(result, samples: parts[part], hoisted: false)
                let (first, end) = (range.lowerBound, range.upperBound)
                forwardRuns[part][g].withUnsafeBufferPointer { recur_elementwise_forward($0.baseAddress, $0.count, first, end, columns, t) }
            case .single(let i): forwardSingle(i, step: t, samples: parts[part], hoisted: false)
            }
        }
    }

    /// The rows of all steps split into one range per part: hoisted elementwise groups run on the
    /// parts' threads too (their rows are independent; constants' gradients are summed per part).
    func hoistedRanges(_ rows: Range<Int>) -> [Range<Int>] {
        let count = parts.count
        guard count > 1, rows.count >= count else { return [rows] }
        return (0..<count).map { p in (rows.lowerBound + rows.count * p / count)..<(rows.lowerBound + rows.count * (p + 1) / count) }
    }

    /// Runs a hoisted group once for all steps.
    func forwardHoisted(_ group: StepProgramPlan.Group) {
        switch group {
        case .elementwise(let run):
            let result = plan.program.instructions[run[0]].results[0]
            parallelParts(hoistedRanges(rows(result, samples: 0..<plan.batch, hoisted: true))) { part, range in
                run.map { elementwiseOperation($0, part: part, hoisted: true, backward: false) }.withUnsafeBufferPointer {
                    recur_elementwise_forward($0.baseAddress, $0.count, range.lowerBound, range.upperBound, plan.views[result].columns, 0)
                }
            }
        case .single(let i): forwardSingle(i, step: 0, samples: 0..<plan.batch, hoisted: true)
        }
    }

    private func forwardSingle(_ i: Int, step t: Int, samples: Range<Int>, hoisted: Bool) {
        let instruction = plan.program.instructions[i]
        let operands = instruction.operands, result = instruction.results[0]
        switch instruction.op {
        case .matmul(let transposeA, let transposeB):
            let (a, b, m, k, n, firstRow) = productShape(i, samples: samples, hoisted: hoisted)
            let pa = pointer(operands[0], step: t) + firstRow * a.rowStride
            // A product summed in place adds into the sum's storage (see `StepProgramPlan.inPlaceSums`).
            let sum = plan.accumulatingProducts[i]
            let (pb, pc) = (pointer(operands[1], step: t), pointer(sum ?? result, step: t) + firstRow * n)
            if let step = stepMatrices[i], a.isDense {
                step.forward.multiply(pa, rows: m, into: pc, accumulate: sum != nil, step: t)
            } else if hoisted && a.isDense && b.isDense && !transposeA {
                parallelGemm(pa, transposeA: false, pb, transposeB: transposeB, pc, m: m, n: n, k: k)
            } else {
                gemm(pa, transposeA: transposeA, pb, transposeB: transposeB, pc, m: m, n: n, k: k, beta: sum != nil ? 1 : 0,
                     lda: a.rowStride, ldb: b.rowStride, ldc: n)
            }
        case .concatenateLastAxis:
            let out = pointer(result, step: t), width = plan.views[result].columns
            var offset = 0
            for operand in operands {
                let view = plan.views[operand], source = pointer(operand, step: t)
                for r in rows(result, samples: samples, hoisted: hoisted) {
                    (out + r * width + offset).update(from: source + r * view.rowStride, count: view.columns)
                }
                offset += view.columns
            }
        case .lstmGates:
            let units = plan.views[result].columns
            let (activations, tanhC) = gateScratchPointers(i, step: t, samples: samples)
            let (first, count) = (samples.lowerBound, samples.count)
            activations.update(from: pointer(operands[0], step: t) + first * 4 * units, count: count * 4 * units)
            recur_lstm_gates_forward(activations, pointer(operands[1], step: t) + first * units, pointer(instruction.results[1], step: t) + first * units,
                                     tanhC!, pointer(result, step: t) + first * units, count, units)
        case .gruGates:
            let units = plan.views[result].columns
            let activations = gateScratchPointers(i, step: t, samples: samples).activations
            let (first, count) = (samples.lowerBound, samples.count)
            recur_gru_gates_forward(pointer(operands[0], step: t) + first * 3 * units, pointer(operands[1], step: t) + first * 3 * units,
                                    pointer(operands[2], step: t) + first * units, activations, pointer(result, step: t) + first * units, count, units)
        case .unary, .binary, .scaled, .sliceLastAxis, .reshape:
            preconditionFailure("\(instruction.op) runs in an elementwise group or as a view")
        }
    }

    /// Product `i`'s operand views and GEMM shape op(A) (m×k) · op(B) (k×n) over the rows of `samples`
    /// (all steps' rows when hoisted), and the first row of A (and of the result) they start at.
    func productShape(_ i: Int, samples: Range<Int>, hoisted: Bool)
        -> (a: StepProgramPlan.View, b: StepProgramPlan.View, m: Int, k: Int, n: Int, firstRow: Int) {
        let instruction = plan.program.instructions[i]
        guard case .matmul(let transposeA, let transposeB) = instruction.op else { preconditionFailure("not a product") }
        let (a, b) = (plan.views[instruction.operands[0]], plan.views[instruction.operands[1]])
        let aRows = rows(instruction.operands[0], samples: samples, hoisted: hoisted)
        return (a, b, transposeA ? a.columns : aRows.count, transposeA ? a.rows : a.columns, transposeB ? b.rows : b.columns, aRows.lowerBound)
    }

    /// The gate step `i`'s activations (and tanh c) for step `t`, at the first of `samples`.
    func gateScratchPointers(_ i: Int, step t: Int, samples: Range<Int>) -> (activations: UnsafeMutablePointer<Float>, tanhC: UnsafeMutablePointer<Float>?) {
        let result = plan.program.instructions[i].results[0]
        let (batch, units) = (plan.views[result].rows, plan.views[result].columns)
        let scratch = gateScratch[i]!
        let width = scratch.tanhC == nil ? 3 * units : 4 * units
        let slot = plan.saving ? t : 0
        return (scratch.activations.base + (slot * batch + samples.lowerBound) * width,
                scratch.tanhC.map { $0.base + (slot * batch + samples.lowerBound) * units })
    }

    /// The packed forward and transposed operands of per-step product `i`, when it has them.
    func stepMatrix(_ i: Int) -> (forward: StepMatrix, backward: StepMatrix?)? { stepMatrices[i] }

    // MARK: Elementwise operations

    private func elementwiseRuns(part: Int, backward: Bool) -> [[recur_elementwise_op]] {
        plan.stepGroups.map { group in
            guard case .elementwise(let run) = group else { return [] }
            return run.map { elementwiseOperation($0, part: part, hoisted: false, backward: backward) }
        }
    }

    /// Instruction `i` as a `recur_elementwise_op`: where its result, operands and (backward) their
    /// gradients are at step 0 for the thread of `part`, and how each is read row by row.
    func elementwiseOperation(_ i: Int, part: Int, hoisted: Bool, backward: Bool) -> recur_elementwise_op {
        let instruction = plan.program.instructions[i]
        // At step t, row r of an operand is at `base + t·stepStride + (r mod period)·rowStride`.
        func operand(_ v: Int, access: StepProgramPlan.OperandAccess?, gradient: Bool) -> recur_operand? {
            if gradient && !plan.needsGradient[v] { return nil }
            let root = plan.views[v].root
            let slots = gradient ? plan.gradientSlots[root] : plan.slots[root]
            let isConstant: Bool = { if case .constant = plan.program.values[root].kind { return true } else { return false } }()
            let period = access.map { hoisted && plan.hoisted[v] ? Int.max : $0.rowPeriod } ?? Int.max
            return recur_operand(base: gradient ? gradientPointer(v, step: 0, part: part) : pointer(v, step: 0),
                                 step_stride: slots > 1 && !isConstant ? slotSize(root) : 0, row_stride: plan.views[v].rowStride,
                                 period: period, column_stride: access?.columnStride ?? 1)
        }
        let access = plan.access[i]
        let operands = instruction.operands, result = instruction.results[0]
        let a = operand(operands[0], access: access[0], gradient: false)!
        let b = operands.count > 1 ? operand(operands[1], access: access[1], gradient: false)! : a
        let dy = backward ? operand(result, access: nil, gradient: true) : nil
        let da = dy != nil && !plan.aliasedWrites.contains(.operand(instruction: i, index: 0))
            ? operand(operands[0], access: access[0], gradient: true) : nil
        let db = dy != nil && operands.count > 1 && !plan.aliasedWrites.contains(.operand(instruction: i, index: 1))
            ? operand(operands[1], access: access[1], gradient: true) : nil
        let columns = plan.views[result].columns, passRows = rows(result, samples: 0..<plan.batch, hoisted: hoisted).upperBound
        // Dense rows (or one broadcast scalar): a block of rows runs as one vector.
        func isDense(_ o: recur_operand?) -> Bool {
            guard let o else { return true }
            return o.column_stride == 1 ? o.row_stride == columns && o.period >= passRows : o.period == 1 || o.row_stride == 0
        }
        var flags: Int32 = 0
        if [a, b].allSatisfy(isDense) && [dy, da, db].allSatisfy(isDense) { flags |= Int32(RECUR_EW_DENSE) }
        if plan.inPlaceSums[i] != nil { flags |= Int32(RECUR_EW_SKIP_FORWARD) }
        if da != nil { flags |= Int32(RECUR_EW_HAS_DA) }
        if db != nil { flags |= Int32(RECUR_EW_HAS_DB) }
        if plan.assignedWrites.contains(.operand(instruction: i, index: 0)) { flags |= Int32(RECUR_EW_ASSIGN_A) }
        if plan.assignedWrites.contains(.operand(instruction: i, index: 1)) { flags |= Int32(RECUR_EW_ASSIGN_B) }
        let (code, alpha) = Self.elementwiseCode(instruction.op)
        let none = recur_operand(base: nil, step_stride: 0, row_stride: 0, period: 1, column_stride: 1)
        return recur_elementwise_op(op: code, flags: flags, alpha: alpha, y: operand(result, access: nil, gradient: false)!, a: a, b: b,
                                    dy: dy ?? none, da: da ?? none, db: db ?? none)
    }

    /// The `RECUR_EW_…` code of an elementwise op, and its factor (scaling).
    static func elementwiseCode(_ op: StepProgram.Op) -> (Int32, Float) {
        switch op {
        case .unary(let u):
            switch u {
            case .tanh: return (Int32(RECUR_EW_TANH), 0)
            case .sigmoid: return (Int32(RECUR_EW_SIGMOID), 0)
            case .relu: return (Int32(RECUR_EW_RELU), 0)
            case .exp: return (Int32(RECUR_EW_EXP), 0)
            case .log: return (Int32(RECUR_EW_LOG), 0)
            case .sqrt: return (Int32(RECUR_EW_SQRT), 0)
            case .abs: return (Int32(RECUR_EW_ABS), 0)
            case .sign: return (Int32(RECUR_EW_SIGN), 0)
            }
        case .scaled(let alpha): return (Int32(RECUR_EW_SCALE), alpha)
        case .binary(let b):
            switch b {
            case .add: return (Int32(RECUR_EW_ADD), 0)
            case .subtract: return (Int32(RECUR_EW_SUB), 0)
            case .multiply: return (Int32(RECUR_EW_MUL), 0)
            case .divide: return (Int32(RECUR_EW_DIV), 0)
            case .maximum: return (Int32(RECUR_EW_MAX), 0)
            case .minimum: return (Int32(RECUR_EW_MIN), 0)
            case .greater: return (Int32(RECUR_EW_GREATER), 0)
            case .greaterEqual: return (Int32(RECUR_EW_GREATER_EQUAL), 0)
            case .less: return (Int32(RECUR_EW_LESS), 0)
            case .equal: return (Int32(RECUR_EW_EQUAL), 0)
            case .notEqual: return (Int32(RECUR_EW_NOT_EQUAL), 0)
            }
        default: preconditionFailure("\(op) is not elementwise")
        }
    }
}

extension StepProgramRunner {
    /// Copies the samples' rows of value `v` at step `t` into dense rows at `destination` (which holds
    /// every sample).
    func copyDense(_ v: Int, step t: Int, samples: Range<Int>, to destination: UnsafeMutablePointer<Float>) {
        let view = plan.views[v], source = pointer(v, step: t), range = rows(v, samples: samples, hoisted: false)
        if view.isDense {
            (destination + range.lowerBound * view.columns).update(from: source + range.lowerBound * view.columns, count: range.count * view.columns)
            return
        }
        for r in range { (destination + r * view.columns).update(from: source + r * view.rowStride, count: view.columns) }
    }
}
