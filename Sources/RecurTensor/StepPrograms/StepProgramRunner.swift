import CRecurKernels

/// Runs a planned `StepProgram` on the host: owns the storage of every root value (one slot per step
/// where the plan keeps them, see `StepProgramPlan`) and of their gradients, and executes groups of
/// instructions forward (this file) and backward (`StepProgramRunner+Backward.swift`). Part of the CPU
/// backend: it reads and writes host memory through the C kernels and OpenBLAS.
final class StepProgramRunner {
    let plan: StepProgramPlan
    private var storage: [TensorBuffer?]
    private var gradientStorage: [TensorBuffer?]
    /// The first scalar of each root's storage (and gradient), by value index.
    private var bases: [UnsafeMutablePointer<Float>?]
    private(set) var gradientBases: [UnsafeMutablePointer<Float>?]
    /// Per gate-step instruction: its activations (and tanh c for an LSTM), one slot per saved step.
    private var gateScratch: [Int: (activations: TensorBuffer, tanhC: TensorBuffer?)] = [:]
    /// A row of scratch for backward products, as wide as the widest value.
    let rowScratch: TensorBuffer

    init(_ plan: StepProgramPlan) {
        self.plan = plan
        let values = plan.program.values
        storage = Array(repeating: nil, count: values.count)
        gradientStorage = storage
        bases = Array(repeating: nil, count: values.count)
        gradientBases = bases
        for (v, value) in values.enumerated() where plan.views[v].root == v {
            if case .constant(let k) = value.kind {
                let constant = plan.program.constants[k]
                storage[v] = constant.buffer
            } else {
                storage[v] = TensorBuffer(count: plan.slots[v] * value.shape.reduce(1, *))
            }
            bases[v] = storage[v]!.base
        }
        let widest = values.map { $0.shape.last ?? 1 }.max() ?? 1
        rowScratch = TensorBuffer(count: widest)
        let saved = plan.saving ? plan.time : 1
        for (i, instruction) in plan.program.instructions.enumerated() {
            let batch = plan.views[instruction.results[0]].rows
            switch instruction.op {
            case .lstmGates:
                let units = values[instruction.results[0]].shape.last ?? 0
                gateScratch[i] = (TensorBuffer(count: saved * batch * 4 * units), TensorBuffer(count: saved * batch * units))
            case .gruGates:
                let units = values[instruction.results[0]].shape.last ?? 0
                gateScratch[i] = (TensorBuffer(count: saved * batch * 3 * units), nil)
            default: break
            }
        }
    }

    /// Scalars per step of value `v`'s root.
    private func slotSize(_ root: Int) -> Int { plan.program.values[root].shape.reduce(1, *) }

    /// Where value `v` starts at step `t` (row 0, its first column).
    func pointer(_ v: Int, step t: Int) -> UnsafeMutablePointer<Float> {
        let view = plan.views[v]
        let slot = plan.slots[view.root] > 1 ? t : 0
        return bases[view.root]! + slot * slotSize(view.root) + view.columnOffset
    }

    /// Where the gradient of value `v` starts at step `t`.
    func gradientPointer(_ v: Int, step t: Int) -> UnsafeMutablePointer<Float> {
        let view = plan.views[v]
        let slot = plan.gradientSlots[view.root] > 1 ? t : 0
        return gradientBases[view.root]! + slot * slotSize(view.root) + view.columnOffset
    }

    /// Makes zeroed gradient storage for every root that needs one (before a backward pass).
    func allocateGradients() {
        for (v, value) in plan.program.values.enumerated() where plan.views[v].root == v && plan.needsGradient[v] {
            let count = plan.gradientSlots[v] * value.shape.reduce(1, *)
            let buffer = TensorBuffer(count: count)
            buffer.base.update(repeating: 0, count: count)
            gradientStorage[v] = buffer
            gradientBases[v] = buffer.base
        }
    }

    /// Zeroes the gradients that are reused at every step (one slot), before a step's backward pass.
    func zeroStepGradients() {
        for (v, value) in plan.program.values.enumerated() where plan.views[v].root == v && plan.needsGradient[v] && plan.gradientSlots[v] == 1 {
            if case .constant = value.kind { continue }
            gradientBases[v]!.update(repeating: 0, count: value.shape.reduce(1, *))
        }
    }

    /// The accumulated gradient of a constant, as a host tensor of its shape.
    func constantGradient(_ v: Int) -> Tensor {
        let out = Tensor(uninitializedShape: plan.program.values[v].shape)
        out.base.update(from: gradientBases[v]!, count: out.count)
        return out
    }

    // MARK: Forward

    /// Runs `group` at step `t`, or — `hoisted` — for all steps at once.
    func forward(_ group: StepProgramPlan.Group, step t: Int, hoisted: Bool) {
        switch group {
        case .elementwise(let run): forwardElementwise(run, step: t, hoisted: hoisted)
        case .single(let i): forwardSingle(i, step: t, hoisted: hoisted)
        }
    }

    /// Rows of a value in one pass: per step, or for all steps in the hoisted pass.
    func passRows(_ v: Int, hoisted: Bool) -> Int { plan.views[v].rows * (hoisted ? plan.time : 1) }

    /// The operand reads of an elementwise instruction at one pass.
    struct RowOperand {
        var base: UnsafeMutablePointer<Float>
        var rowStride: Int
        var period: Int
        var columnStride: Int
        @inline(__always) func row(_ r: Int) -> UnsafeMutablePointer<Float> { base + (r < period ? r : r % period) * rowStride }
    }

    func rowOperand(_ instruction: Int, _ k: Int, step t: Int, hoisted: Bool, gradient: Bool = false) -> RowOperand {
        let v = plan.program.instructions[instruction].operands[k]
        let access = plan.access[instruction][k]
        let period = hoisted && plan.hoisted[v] ? Int.max : access.rowPeriod
        return RowOperand(base: gradient ? gradientPointer(v, step: t) : pointer(v, step: t), rowStride: plan.views[v].rowStride,
                          period: period, columnStride: access.columnStride)
    }

    private func forwardElementwise(_ run: [Int], step t: Int, hoisted: Bool) {
        let program = plan.program
        let first = program.instructions[run[0]].results[0]
        let rows = passRows(first, hoisted: hoisted), columns = plan.views[first].columns
        let prepared = run.map { i in
            (op: program.instructions[i].op, out: pointer(program.instructions[i].results[0], step: t),
             operands: program.instructions[i].operands.indices.map { rowOperand(i, $0, step: t, hoisted: hoisted) })
        }
        for r in 0..<rows {
            for p in prepared {
                let y = p.out + r * columns
                let a = p.operands[0]
                switch p.op {
                case .unary(let op): applyUnary(op, a.row(r), y, columns)
                case .scaled(let alpha): recur_scale(a.row(r), alpha, y, columns)
                case .binary(let op):
                    let b = p.operands[1]
                    applyBinary(op, a.row(r), a.columnStride, b.row(r), b.columnStride, y, columns)
                default: preconditionFailure("not elementwise")
                }
            }
        }
    }

    private func forwardSingle(_ i: Int, step t: Int, hoisted: Bool) {
        let instruction = plan.program.instructions[i]
        let operands = instruction.operands, result = instruction.results[0]
        switch instruction.op {
        case .matmul(let transposeA, let transposeB):
            let (a, b) = (plan.views[operands[0]], plan.views[operands[1]])
            let m = transposeA ? a.columns : a.rows * (hoisted ? plan.time : 1)
            let k = transposeA ? a.rows : a.columns
            let n = transposeB ? b.rows : b.columns
            let (pa, pb, pc) = (pointer(operands[0], step: t), pointer(operands[1], step: t), pointer(result, step: t))
            if hoisted && a.isDense && b.isDense && !transposeA {
                parallelGemm(pa, transposeA: false, pb, transposeB: transposeB, pc, m: m, n: n, k: k)
            } else {
                gemm(pa, transposeA: transposeA, pb, transposeB: transposeB, pc, m: m, n: n, k: k,
                     lda: a.rowStride, ldb: b.rowStride, ldc: n)
            }
        case .concatenateLastAxis:
            let out = pointer(result, step: t), width = plan.views[result].columns
            let rows = passRows(result, hoisted: hoisted)
            var offset = 0
            for operand in operands {
                let view = plan.views[operand], source = pointer(operand, step: t)
                for r in 0..<rows { (out + r * width + offset).update(from: source + r * view.rowStride, count: view.columns) }
                offset += view.columns
            }
        case .lstmGates:
            let (batch, units) = (plan.views[result].rows, plan.views[result].columns)
            let (activations, tanhC) = gateScratchPointers(i, step: t)
            activations.update(from: pointer(operands[0], step: t), count: batch * 4 * units)
            recur_lstm_gates_forward(activations, pointer(operands[1], step: t), pointer(instruction.results[1], step: t), tanhC!,
                                     pointer(result, step: t), batch, units)
        case .gruGates:
            let (batch, units) = (plan.views[result].rows, plan.views[result].columns)
            let activations = gateScratchPointers(i, step: t).activations
            recur_gru_gates_forward(pointer(operands[0], step: t), pointer(operands[1], step: t), pointer(operands[2], step: t),
                                    activations, pointer(result, step: t), batch, units)
        case .unary, .binary, .scaled, .sliceLastAxis, .reshape:
            preconditionFailure("\(instruction.op) runs in an elementwise group or as a view")
        }
    }

    /// The scratch slot of step `t`: one per step when the forward values are saved.
    func gateSlot(_ t: Int) -> Int { plan.saving ? t : 0 }

    func gateScratchPointers(_ i: Int, step t: Int) -> (activations: UnsafeMutablePointer<Float>, tanhC: UnsafeMutablePointer<Float>?) {
        let result = plan.program.instructions[i].results[0]
        let (batch, units) = (plan.views[result].rows, plan.views[result].columns)
        let scratch = gateScratch[i]!
        let width = scratch.tanhC == nil ? 3 * units : 4 * units
        return (scratch.activations.base + gateSlot(t) * batch * width, scratch.tanhC.map { $0.base + gateSlot(t) * batch * units })
    }
}

/// y = op(x) over n scalars.
func applyUnary(_ op: UnaryOp, _ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    switch op {
    case .exp: recur_exp(x, y, n)
    case .log: recur_log(x, y, n)
    case .tanh: recur_tanh(x, y, n)
    case .sigmoid: recur_sigmoid(x, y, n)
    case .relu: recur_relu(x, y, n)
    case .sqrt: for i in 0..<n { y[i] = x[i].squareRoot() }
    case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
    case .sign: for i in 0..<n { y[i] = x[i] > 0 ? 1 : (x[i] < 0 ? -1 : 0) }
    }
}

/// y[i] = a[i·sa] op b[i·sb] over n scalars (strides 0 or 1).
func applyBinary(_ op: BinaryOp, _ a: UnsafeMutablePointer<Float>, _ sa: Int, _ b: UnsafeMutablePointer<Float>, _ sb: Int,
                 _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let predicate: (Float, Float) -> Bool
    switch op {
    case .add: recur_binary(Int32(RECUR_ADD), a, sa, b, sb, y, n); return
    case .subtract: recur_binary(Int32(RECUR_SUB), a, sa, b, sb, y, n); return
    case .multiply: recur_binary(Int32(RECUR_MUL), a, sa, b, sb, y, n); return
    case .divide: recur_binary(Int32(RECUR_DIV), a, sa, b, sb, y, n); return
    case .maximum: recur_binary(Int32(RECUR_MAX), a, sa, b, sb, y, n); return
    case .minimum: recur_binary(Int32(RECUR_MIN), a, sa, b, sb, y, n); return
    case .greater: predicate = (>)
    case .greaterEqual: predicate = (>=)
    case .less: predicate = (<)
    case .equal: predicate = (==)
    case .notEqual: predicate = (!=)
    }
    for i in 0..<n { y[i] = predicate(a[i * sa], b[i * sb]) ? 1 : 0 }
}

extension StepProgramRunner {
    /// Copies value `v` at step `t` into dense rows at `destination`.
    func copyDense(_ v: Int, step t: Int, to destination: UnsafeMutablePointer<Float>) {
        let view = plan.views[v], source = pointer(v, step: t)
        if view.isDense { destination.update(from: source, count: view.rows * view.columns); return }
        for r in 0..<view.rows { (destination + r * view.columns).update(from: source + r * view.rowStride, count: view.columns) }
    }
}
