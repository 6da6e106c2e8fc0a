import CRecurKernels

/// The backward pass of a step program: each group's vector-Jacobian products in reverse, reading the
/// saved forward values of the step and adding into the gradients of the operands (a value used
/// several times sums its uses). An elementwise group runs block by block of rows from the last, each
/// block's operations last first, so a value has all of its contributions before its own operation
/// reads its gradient (a broadcast operand's row r mod p lies in the same block or a later-run one).
extension StepProgramRunner {
    /// Runs step group `g` backward at step `t` on the samples of `part`.
    func backwardStep(_ g: Int, step t: Int, part: Int) {
        switch plan.stepGroups[g] {
        case .elementwise(let run):
            let result = plan.program.instructions[run[0]].results[0]
            runBackward(backwardRuns[part][g]!, rows: rows(result, samples: parts[part], hoisted: false),
                        columns: plan.views[result].columns, step: t, scratch: rowScratch[part].base)
        case .single(let i): backwardSingle(i, step: t, samples: parts[part], part: part, hoisted: false)
        }
    }

    /// Runs a hoisted group backward once for all steps.
    func backwardHoisted(_ group: StepProgramPlan.Group) {
        switch group {
        case .elementwise(let run):
            let result = plan.program.instructions[run[0]].results[0]
            parallelParts(hoistedRanges(rows(result, samples: 0..<plan.batch, hoisted: true))) { part, range in
                runBackward(run.map { elementwiseOperation($0, part: part, hoisted: true, backward: true) },
                            rows: range, columns: plan.views[result].columns, step: 0, scratch: rowScratch[part].base)
            }
        case .single(let i): backwardSingle(i, step: 0, samples: 0..<plan.batch, part: 0, hoisted: true)
        }
    }

    private func runBackward(_ operations: [ElementwiseOperation], rows: Range<Int>, columns: Int, step t: Int,
                             scratch: UnsafeMutablePointer<Float>) {
        let active = operations.reversed().filter { $0.resultGradient != nil && ($0.aGradient != nil || $0.bGradient != nil) }
        for block in rowBlocks(rows, columns: columns).reversed() {
            for o in active {
                forEachCall(in: block, columns: columns, dense: o.isDense) { r, n in
                    let g = o.resultGradient!.row(r, step: t)
                    switch o.op {
                    case .unary(.sigmoid) where o.aGradient!.columnStride == 1:
                        recur_sigmoid_backward(o.result.row(r, step: t), g, o.aGradient!.row(r, step: t), n, o.assignsA ? 0 : 1)
                    case .unary(.tanh) where o.aGradient!.columnStride == 1:
                        recur_tanh_backward(o.result.row(r, step: t), g, o.aGradient!.row(r, step: t), n, o.assignsA ? 0 : 1)
                    case .unary(let op):
                        if unaryGradient(op, x: o.a.row(r, step: t), y: o.result.row(r, step: t), g: g, into: scratch, n) {
                            accumulate(scratch, into: o.aGradient!.row(r, step: t), stride: o.aGradient!.columnStride, n, assign: o.assignsA)
                        }
                    case .scaled(let alpha) where o.aGradient!.columnStride == 1:
                        let d = o.aGradient!.row(r, step: t)
                        if o.assignsA { recur_scale(g, alpha, d, n) } else { recur_add_scaled(g, alpha, d, n) }
                    case .scaled(let alpha):
                        recur_scale(g, alpha, scratch, n)
                        accumulate(scratch, into: o.aGradient!.row(r, step: t), stride: o.aGradient!.columnStride, n, assign: o.assignsA)
                    case .binary(let op):
                        binaryGradient(op, o, row: r, step: t, g: g, columns: n, scratch: scratch)
                    default: preconditionFailure("not elementwise")
                    }
                }
            }
        }
    }

    /// scratch = ∂op/∂x ⊙ g; false when the gradient is zero (sign).
    private func unaryGradient(_ op: UnaryOp, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>,
                               into d: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        switch op {
        case .tanh: recur_tanh_backward(y, g, d, n, 0)
        case .sigmoid: recur_sigmoid_backward(y, g, d, n, 0)
        case .relu: recur_relu_backward(x, g, d, n)
        case .exp: for i in 0..<n { d[i] = g[i] * y[i] }
        case .log: for i in 0..<n { d[i] = g[i] / x[i] }
        case .sqrt: for i in 0..<n { d[i] = g[i] / (2 * y[i]) }
        case .abs: for i in 0..<n { d[i] = x[i] > 0 ? g[i] : (x[i] < 0 ? -g[i] : 0) }
        case .sign: return false
        }
        return true
    }

    private func binaryGradient(_ op: BinaryOp, _ o: ElementwiseOperation, row r: Int, step t: Int, g: UnsafeMutablePointer<Float>,
                                columns n: Int, scratch: UnsafeMutablePointer<Float>) {
        let (pa, pb) = (o.a.row(r, step: t), o.b.row(r, step: t))
        let (sa, sb) = (o.a.columnStride, o.b.columnStride)
        let da = o.aGradient.map { ($0.row(r, step: t), $0.columnStride, o.assignsA) }
        let db = o.bGradient.map { ($0.row(r, step: t), $0.columnStride, o.assignsB) }
        switch op {
        case .add, .subtract:
            if let (d, s, assign) = da { accumulate(g, into: d, stride: s, n, assign: assign) }
            if let (d, s, assign) = db { accumulate(g, into: d, stride: s, n, negated: op == .subtract, assign: assign) }
        case .multiply:
            if let (d, s, assign) = da { accumulateProduct(g, pb, sb, into: d, stride: s, n, assign: assign, scratch: scratch) }
            if let (d, s, assign) = db { accumulateProduct(g, pa, sa, into: d, stride: s, n, assign: assign, scratch: scratch) }
        case .divide:
            if let (d, s, assign) = da {
                for i in 0..<n { scratch[i] = g[i] / pb[i * sb] }
                accumulate(scratch, into: d, stride: s, n, assign: assign)
            }
            if let (d, s, assign) = db {
                // d(a/b)/db = −y/b.
                let y = o.result.row(r, step: t)
                for i in 0..<n { scratch[i] = g[i] * y[i] / pb[i * sb] }
                accumulate(scratch, into: d, stride: s, n, negated: true, assign: assign)
            }
        case .maximum, .minimum:
            // The gradient goes to a where it won (ties to a), as the eager ops.
            let toA: (Float, Float) -> Bool = op == .maximum ? { $0 >= $1 } : { $0 <= $1 }
            if let (d, s, assign) = da {
                for i in 0..<n { scratch[i] = toA(pa[i * sa], pb[i * sb]) ? g[i] : 0 }
                accumulate(scratch, into: d, stride: s, n, assign: assign)
            }
            if let (d, s, assign) = db {
                for i in 0..<n { scratch[i] = toA(pa[i * sa], pb[i * sb]) ? 0 : g[i] }
                accumulate(scratch, into: d, stride: s, n, assign: assign)
            }
        case .greater, .greaterEqual, .less, .equal, .notEqual:
            break
        }
    }

    /// d += g ⊙ x (x read with stride `sx`; d = g ⊙ x when `assign`), or the sum of g ⊙ x into d[0]
    /// when d broadcasts a column.
    @inline(__always)
    private func accumulateProduct(_ g: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ sx: Int,
                                   into d: UnsafeMutablePointer<Float>, stride: Int, _ n: Int, assign: Bool, scratch: UnsafeMutablePointer<Float>) {
        if stride == 1 {
            // x is a row (stride 1) or one broadcast scalar.
            recur_multiply_into(g, x, sx == 1 ? 1 : 0, d, n, assign ? 0 : 1)
        } else {
            for i in 0..<n { scratch[i] = g[i] * x[i * sx] }
            accumulate(scratch, into: d, stride: 0, n)
        }
    }

    /// d += x (or −x; d = ±x when `assign`), or the sum of x into d[0] when d broadcasts a column
    /// (stride 0, never assigned).
    @inline(__always)
    private func accumulate(_ x: UnsafeMutablePointer<Float>, into d: UnsafeMutablePointer<Float>, stride: Int, _ n: Int,
                            negated: Bool = false, assign: Bool = false) {
        if stride == 1 {
            switch (assign, negated) {
            case (true, false): d.update(from: x, count: n)
            case (true, true): recur_scale(x, -1, d, n)
            case (false, _): recur_add_scaled(x, negated ? -1 : 1, d, n)
            }
        } else {
            var total: Float = 0
            for i in 0..<n { total += x[i] }
            d[0] += negated ? -total : total
        }
    }

    private func backwardSingle(_ i: Int, step t: Int, samples: Range<Int>, part: Int, hoisted: Bool) {
        let instruction = plan.program.instructions[i]
        let operands = instruction.operands, result = instruction.results[0]
        guard instruction.results.contains(where: { plan.needsGradient[$0] }) else { return }
        switch instruction.op {
        case .matmul(let transposeA, let transposeB):
            let (a, b, m, k, n, firstRow) = productShape(i, samples: samples, hoisted: hoisted)
            let pa = pointer(operands[0], step: t) + firstRow * a.rowStride
            let (pb, g) = (pointer(operands[1], step: t), gradientPointer(result, step: t, part: part) + firstRow * n)
            if plan.needsGradient[operands[0]] {
                let da = gradientPointer(operands[0], step: t, part: part) + firstRow * a.rowStride
                let assign = plan.assignedWrites.contains(.operand(instruction: i, index: 0))
                let beta: Float = assign ? 0 : 1
                if transposeA {
                    gemm(pb, transposeA: transposeB, g, transposeB: true, da, m: k, n: m, k: n, beta: beta, lda: b.rowStride, ldb: n, ldc: a.rowStride)
                } else if let backward = stepMatrix(i)?.backward, a.isDense {
                    backward.multiply(g, rows: m, into: da, accumulate: !assign)
                } else if hoisted && a.isDense && b.isDense {
                    parallelGemm(g, transposeA: false, pb, transposeB: !transposeB, da, m: m, n: k, k: n, beta: beta)
                } else {
                    gemm(g, transposeA: false, pb, transposeB: !transposeB, da, m: m, n: k, k: n, beta: beta, lda: n, ldb: b.rowStride, ldc: a.rowStride)
                }
            }
            if plan.needsGradient[operands[1]] && !plan.deferredWeightGradients.contains(i) {
                weightGradient(i, a: pa, gradient: g, rows: m, step: t, part: part)
            }
        case .concatenateLastAxis:
            let g = gradientPointer(result, step: t, part: part), width = plan.views[result].columns
            var offset = 0
            for (k, operand) in operands.enumerated() {
                let view = plan.views[operand]
                if plan.needsGradient[operand] {
                    let d = gradientPointer(operand, step: t, part: part)
                    let assign = plan.assignedWrites.contains(.operand(instruction: i, index: k))
                    for r in rows(result, samples: samples, hoisted: hoisted) {
                        let (source, target) = (g + r * width + offset, d + r * view.rowStride)
                        if assign { target.update(from: source, count: view.columns) } else { for c in 0..<view.columns { target[c] += source[c] } }
                    }
                }
                offset += view.columns
            }
        case .lstmGates:
            let units = plan.views[result].columns
            let (first, count) = (samples.lowerBound, samples.count)
            let (activations, tanhC) = gateScratchPointers(i, step: t, samples: samples)
            // The kernel turns dc (from the next step) into dc₋₁ in place and writes d z.
            let scratch = gateBackwardScratch[part][i]!
            let (dz, dc) = (scratch[0], scratch[1])
            dc.base.update(from: gradientPointer(instruction.results[1], step: t, part: part) + first * units, count: count * units)
            recur_lstm_gates_backward(activations, pointer(operands[1], step: t) + first * units, tanhC!,
                                      gradientPointer(result, step: t, part: part) + first * units, dc.base, dz.base, count, units)
            addDense(dz.base - first * 4 * units, into: operands[0], step: t, samples: samples, part: part, assign: assigns(i, 0))
            addDense(dc.base - first * units, into: operands[1], step: t, samples: samples, part: part, assign: assigns(i, 1))
        case .gruGates:
            let units = plan.views[result].columns
            let (first, count) = (samples.lowerBound, samples.count)
            let activations = gateScratchPointers(i, step: t, samples: samples).activations
            let scratch = gateBackwardScratch[part][i]!
            let (dx, dh, dPrevious) = (scratch[0], scratch[1], scratch[2])
            recur_gru_gates_backward(activations, pointer(operands[1], step: t) + first * 3 * units, pointer(operands[2], step: t) + first * units,
                                     gradientPointer(result, step: t, part: part) + first * units, dx.base, dh.base, dPrevious.base, count, units)
            addDense(dx.base - first * 3 * units, into: operands[0], step: t, samples: samples, part: part, assign: assigns(i, 0))
            addDense(dh.base - first * 3 * units, into: operands[1], step: t, samples: samples, part: part, assign: assigns(i, 1))
            addDense(dPrevious.base - first * units, into: operands[2], step: t, samples: samples, part: part, assign: assigns(i, 2))
        case .unary, .binary, .scaled, .sliceLastAxis, .reshape:
            preconditionFailure("\(instruction.op) runs in an elementwise group or as a view")
        }
    }

    /// Adds (stores, when `assign`) the samples' rows of a dense gradient `x` (laid out as the value,
    /// every sample) into value `v`'s gradient, if it needs one.
    func addDense(_ x: UnsafeMutablePointer<Float>, into v: Int, step t: Int, samples: Range<Int>, part: Int, assign: Bool) {
        guard plan.needsGradient[v] else { return }
        let view = plan.views[v], d = gradientPointer(v, step: t, part: part)
        for r in rows(v, samples: samples, hoisted: false) {
            let (source, target) = (x + r * view.columns, d + r * view.rowStride)
            if assign { target.update(from: source, count: view.columns) } else { for c in 0..<view.columns { target[c] += source[c] } }
        }
    }

    private func assigns(_ i: Int, _ k: Int) -> Bool { plan.assignedWrites.contains(.operand(instruction: i, index: k)) }

    /// dB += op(A)ᵀ·dY (or its transpose) for the product `i`, over `rows` rows of A and dY starting at
    /// `a` and `gradient`: step `t`'s, or every step's at once for a deferred weight gradient.
    func weightGradient(_ i: Int, a pa: UnsafeMutablePointer<Float>, gradient g: UnsafeMutablePointer<Float>, rows m: Int, step t: Int, part: Int) {
        let instruction = plan.program.instructions[i]
        guard case .matmul(let transposeA, let transposeB) = instruction.op else { return }
        let (a, b) = (plan.views[instruction.operands[0]], plan.views[instruction.operands[1]])
        let k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns
        let db = gradientPointer(instruction.operands[1], step: t, part: part)
        if a.isDense && b.isDense && !transposeA {
            // Dense operands (the deferred and hoisted products): split across threads.
            if transposeB { parallelGemm(g, transposeA: true, pa, transposeB: false, db, m: n, n: k, k: m, beta: 1) }
            else { parallelGemm(pa, transposeA: true, g, transposeB: false, db, m: k, n: n, k: m, beta: 1) }
        } else if transposeB {
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
            weightGradient(i, a: pointer(instruction.operands[0], step: 0), gradient: gradientPointer(instruction.results[0], step: 0), rows: rows,
                           step: 0, part: 0)
        }
    }
}
