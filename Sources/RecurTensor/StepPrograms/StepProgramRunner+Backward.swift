import CRecurKernels

/// The backward pass of a step program: each group's vector-Jacobian products in reverse, reading the
/// saved forward values of the step and adding into the gradients of the operands (a value used
/// several times sums its uses). An elementwise group runs block by block of rows from the last, each
/// block's operations last first, so a value has all of its contributions before its own operation
/// reads its gradient (a broadcast operand's row r mod p lies in the same block or a later-run one).
extension StepProgramRunner {
    /// Runs every step group backward, the last first, at step `t` on the samples of `part`.
    func backwardStep(_ t: Int, part: Int) {
        for run in stepRuns.reversed() {
            switch run {
            case .elementwise(let g, let result, let columns):
                let range = rows(result, samples: parts[part], hoisted: false)
                let (first, end) = (range.lowerBound, range.upperBound)
                backwardRuns[part][g].withUnsafeBufferPointer {
                    recur_elementwise_backward($0.baseAddress, $0.count, first, end, columns, t, rowScratch[part].base)
                }
            case .single(let i): backwardSingle(i, step: t, samples: parts[part], part: part, hoisted: false)
            }
        }
    }

    /// Runs a hoisted group backward once for all steps.
    func backwardHoisted(_ group: StepProgramPlan.Group) {
        switch group {
        case .elementwise(let run):
            let result = plan.program.instructions[run[0]].results[0]
            parallelParts(hoistedRanges(rows(result, samples: 0..<plan.batch, hoisted: true))) { part, range in
                run.map { elementwiseOperation($0, part: part, hoisted: true, backward: true) }.withUnsafeBufferPointer {
                    recur_elementwise_backward($0.baseAddress, $0.count, range.lowerBound, range.upperBound, plan.views[result].columns, 0,
                                               rowScratch[part].base)
                }
            }
        case .single(let i): backwardSingle(i, step: 0, samples: 0..<plan.batch, part: 0, hoisted: true)
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
                    backward.multiply(g, rows: m, into: da, accumulate: !assign, step: t)
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
                        if assign { target.update(from: source, count: view.columns) } else { addInPlace(source, into: target, view.columns) }
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
        let range = rows(v, samples: samples, hoisted: false)
        if view.isDense {
            let (source, target) = (x + range.lowerBound * view.columns, d + range.lowerBound * view.columns)
            if assign { target.update(from: source, count: range.count * view.columns) } else { addInPlace(source, into: target, range.count * view.columns) }
            return
        }
        for r in range {
            let (source, target) = (x + r * view.columns, d + r * view.rowStride)
            if assign { target.update(from: source, count: view.columns) } else { addInPlace(source, into: target, view.columns) }
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
