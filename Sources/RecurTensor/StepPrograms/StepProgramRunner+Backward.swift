import CRecurKernels

/// The backward pass of a step program: each group's vector-Jacobian products in reverse, reading the
/// saved forward values of the step and adding into the gradients of the operands (a value used
/// several times sums its uses). Elementwise groups run row by row from the last row, so that a
/// broadcast operand's row gets all of its contributions before it is read.
extension StepProgramRunner {
    func backward(_ group: StepProgramPlan.Group, step t: Int, hoisted: Bool) {
        switch group {
        case .elementwise(let run): backwardElementwise(run, step: t, hoisted: hoisted)
        case .single(let i): backwardSingle(i, step: t, hoisted: hoisted)
        }
    }

    private func backwardElementwise(_ run: [Int], step t: Int, hoisted: Bool) {
        let program = plan.program
        let first = program.instructions[run[0]].results[0]
        let rows = passRows(first, hoisted: hoisted), columns = plan.views[first].columns
        let scratch = rowScratch.base
        let prepared = run.reversed().filter { plan.needsGradient[program.instructions[$0].results[0]] }.map { i in
            let instruction = program.instructions[i]
            return (op: instruction.op, y: pointer(instruction.results[0], step: t), g: gradientPointer(instruction.results[0], step: t),
                    values: instruction.operands.indices.map { rowOperand(i, $0, step: t, hoisted: hoisted) },
                    gradients: instruction.operands.indices.map { k -> StepProgramRunner.RowOperand? in
                        plan.needsGradient[instruction.operands[k]] ? rowOperand(i, k, step: t, hoisted: hoisted, gradient: true) : nil
                    })
        }
        for r in stride(from: rows - 1, through: 0, by: -1) {
            for p in prepared {
                let g = p.g + r * columns, y = p.y + r * columns
                let a = p.values[0]
                switch p.op {
                case .unary(let op):
                    guard let da = p.gradients[0] else { continue }
                    if unaryGradient(op, x: a.row(r), y: y, g: g, into: scratch, columns) {
                        accumulate(scratch, into: da, row: r, columns)
                    }
                case .scaled(let alpha):
                    guard let da = p.gradients[0] else { continue }
                    recur_scale(g, alpha, scratch, columns)
                    accumulate(scratch, into: da, row: r, columns)
                case .binary(let op):
                    let b = p.values[1]
                    binaryGradient(op, a: a, b: b, y: y, g: g, row: r, columns: columns, da: p.gradients[0], db: p.gradients[1], scratch: scratch)
                default: preconditionFailure("not elementwise")
                }
            }
        }
    }

    /// scratch = ∂op/∂x ⊙ g; false when the gradient is zero (sign).
    private func unaryGradient(_ op: UnaryOp, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>,
                               into d: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        switch op {
        case .tanh: recur_tanh_backward(y, g, d, n)
        case .sigmoid: recur_sigmoid_backward(y, g, d, n)
        case .relu: recur_relu_backward(x, g, d, n)
        case .exp: recur_binary(Int32(RECUR_MUL), g, 1, y, 1, d, n)
        case .log: recur_binary(Int32(RECUR_DIV), g, 1, x, 1, d, n)
        case .sqrt: for i in 0..<n { d[i] = g[i] / (2 * y[i]) }
        case .abs: for i in 0..<n { d[i] = x[i] > 0 ? g[i] : (x[i] < 0 ? -g[i] : 0) }
        case .sign: return false
        }
        return true
    }

    private func binaryGradient(_ op: BinaryOp, a: RowOperand, b: RowOperand, y: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>,
                                row r: Int, columns n: Int, da: RowOperand?, db: RowOperand?, scratch: UnsafeMutablePointer<Float>) {
        let (pa, pb) = (a.row(r), b.row(r))
        let (sa, sb) = (a.columnStride, b.columnStride)
        switch op {
        case .add, .subtract:
            if let da { accumulate(g, into: da, row: r, n) }
            if let db { accumulate(g, into: db, row: r, n, sign: op == .add ? 1 : -1) }
        case .multiply:
            if let da { recur_binary(Int32(RECUR_MUL), g, 1, pb, sb, scratch, n); accumulate(scratch, into: da, row: r, n) }
            if let db { recur_binary(Int32(RECUR_MUL), g, 1, pa, sa, scratch, n); accumulate(scratch, into: db, row: r, n) }
        case .divide:
            if let da { recur_binary(Int32(RECUR_DIV), g, 1, pb, sb, scratch, n); accumulate(scratch, into: da, row: r, n) }
            if let db {
                // d(a/b)/db = −y/b.
                recur_binary(Int32(RECUR_MUL), g, 1, y, 1, scratch, n)
                recur_binary(Int32(RECUR_DIV), scratch, 1, pb, sb, scratch, n)
                accumulate(scratch, into: db, row: r, n, sign: -1)
            }
        case .maximum, .minimum:
            // The gradient goes to a where it won (ties to a), as the eager ops.
            let toA: (Float, Float) -> Bool = op == .maximum ? { $0 >= $1 } : { $0 <= $1 }
            if let da {
                for i in 0..<n { scratch[i] = toA(pa[i * sa], pb[i * sb]) ? g[i] : 0 }
                accumulate(scratch, into: da, row: r, n)
            }
            if let db {
                for i in 0..<n { scratch[i] = toA(pa[i * sa], pb[i * sb]) ? 0 : g[i] }
                accumulate(scratch, into: db, row: r, n)
            }
        case .greater, .greaterEqual, .less, .equal, .notEqual:
            break
        }
    }

    /// Adds `sign`·x (n scalars of a result row r) into the operand gradient's row: elementwise, or
    /// summed into its one scalar when the operand broadcasts a column.
    @inline(__always)
    private func accumulate(_ x: UnsafeMutablePointer<Float>, into d: RowOperand, row r: Int, _ n: Int, sign: Float = 1) {
        let target = d.row(r)
        if d.columnStride == 1 {
            if sign == 1 { for i in 0..<n { target[i] += x[i] } } else { for i in 0..<n { target[i] -= x[i] } }
        } else {
            var total: Float = 0
            for i in 0..<n { total += x[i] }
            target[0] += sign * total
        }
    }

    private func backwardSingle(_ i: Int, step t: Int, hoisted: Bool) {
        let instruction = plan.program.instructions[i]
        let operands = instruction.operands, result = instruction.results[0]
        guard instruction.results.contains(where: { plan.needsGradient[$0] }) else { return }
        switch instruction.op {
        case .matmul(let transposeA, let transposeB):
            let (a, b) = (plan.views[operands[0]], plan.views[operands[1]])
            let m = transposeA ? a.columns : a.rows * (hoisted ? plan.time : 1)
            let k = transposeA ? a.rows : a.columns
            let n = transposeB ? b.rows : b.columns
            let (pa, pb, g) = (pointer(operands[0], step: t), pointer(operands[1], step: t), gradientPointer(result, step: t))
            if plan.needsGradient[operands[0]] {
                let da = gradientPointer(operands[0], step: t)
                if transposeA {
                    gemm(pb, transposeA: transposeB, g, transposeB: true, da, m: k, n: m, k: n, beta: 1, lda: b.rowStride, ldb: n, ldc: a.rowStride)
                } else {
                    gemm(g, transposeA: false, pb, transposeB: !transposeB, da, m: m, n: k, k: n, beta: 1, lda: n, ldb: b.rowStride, ldc: a.rowStride)
                }
            }
            if plan.needsGradient[operands[1]] && !plan.deferredWeightGradients.contains(i) {
                weightGradient(i, a: pa, gradient: g, rows: m)
            }
        case .concatenateLastAxis:
            let g = gradientPointer(result, step: t), width = plan.views[result].columns
            let rows = passRows(result, hoisted: hoisted)
            var offset = 0
            for operand in operands {
                let view = plan.views[operand]
                if plan.needsGradient[operand] {
                    let d = gradientPointer(operand, step: t)
                    for r in 0..<rows {
                        let (src, dst) = (g + r * width + offset, d + r * view.rowStride)
                        for c in 0..<view.columns { dst[c] += src[c] }
                    }
                }
                offset += view.columns
            }
        case .lstmGates:
            let (batch, units) = (plan.views[result].rows, plan.views[result].columns)
            let (activations, tanhC) = gateScratchPointers(i, step: t)
            // The kernel turns dc (from the next step) into dc₋₁ in place and writes d z.
            let dc = TensorBuffer(count: batch * units), dz = TensorBuffer(count: batch * 4 * units)
            dc.base.update(from: gradientPointer(instruction.results[1], step: t), count: batch * units)
            recur_lstm_gates_backward(activations, pointer(operands[1], step: t), tanhC!, gradientPointer(result, step: t),
                                      dc.base, dz.base, batch, units)
            addDense(dz.base, into: operands[0], step: t)
            addDense(dc.base, into: operands[1], step: t)
        case .gruGates:
            let (batch, units) = (plan.views[result].rows, plan.views[result].columns)
            let activations = gateScratchPointers(i, step: t).activations
            let dx = TensorBuffer(count: batch * 3 * units), dh = TensorBuffer(count: batch * 3 * units), dPrevious = TensorBuffer(count: batch * units)
            recur_gru_gates_backward(activations, pointer(operands[1], step: t), pointer(operands[2], step: t), gradientPointer(result, step: t),
                                     dx.base, dh.base, dPrevious.base, batch, units)
            addDense(dx.base, into: operands[0], step: t)
            addDense(dh.base, into: operands[1], step: t)
            addDense(dPrevious.base, into: operands[2], step: t)
        case .unary, .binary, .scaled, .sliceLastAxis, .reshape:
            preconditionFailure("\(instruction.op) runs in an elementwise group or as a view")
        }
    }

    /// Adds a dense gradient (the value's shape) into value `v`'s gradient, if it needs one.
    func addDense(_ x: UnsafeMutablePointer<Float>, into v: Int, step t: Int) {
        guard plan.needsGradient[v] else { return }
        let view = plan.views[v], d = gradientPointer(v, step: t)
        for r in 0..<view.rows {
            let (src, dst) = (x + r * view.columns, d + r * view.rowStride)
            for c in 0..<view.columns { dst[c] += src[c] }
        }
    }

    /// dB += op(A)ᵀ·dY (or its transpose) for the product `i`, over `rows` rows of A and dY starting at
    /// `a` and `gradient`: one step's, or every step's at once for a deferred weight gradient.
    func weightGradient(_ i: Int, a pa: UnsafeMutablePointer<Float>, gradient g: UnsafeMutablePointer<Float>, rows m: Int) {
        let instruction = plan.program.instructions[i]
        guard case .matmul(let transposeA, let transposeB) = instruction.op else { return }
        let (a, b) = (plan.views[instruction.operands[0]], plan.views[instruction.operands[1]])
        let k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns
        let db = gradientPointer(instruction.operands[1], step: 0)
        if transposeB {
            gemm(g, transposeA: true, pa, transposeB: transposeA, db, m: n, n: k, k: m, beta: 1, lda: n, ldb: a.rowStride, ldc: b.rowStride)
        } else {
            gemm(pa, transposeA: !transposeA, g, transposeB: false, db, m: k, n: n, k: m, beta: 1, lda: a.rowStride, ldb: n, ldc: b.rowStride)
        }
    }

    /// The weight gradients left for after the loop: one GEMM over every step's rows each.
    func deferredWeightGradients() {
        for i in plan.deferredWeightGradients {
            let instruction = plan.program.instructions[i]
            let rows = plan.views[instruction.operands[0]].rows * plan.time
            weightGradient(i, a: pointer(instruction.operands[0], step: 0), gradient: gradientPointer(instruction.results[0], step: 0), rows: rows)
        }
    }
}
