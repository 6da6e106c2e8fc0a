import CRecurKernels

extension Tensor {
    /// The whole-sequence GRU with the reset gate applied before the recurrent product (Keras's
    /// `reset_after=False`), gate order [z, r, h], as one differentiable op.
    ///
    /// - x (B, T, D), kernel W (D, 3U), recurrentKernel U (U, 3U), bias b (3U), h0 (B, U).
    /// - mask (B, T), optional, 1 where a step counts: a masked step leaves that row's h unchanged.
    /// - Returns (B, T, U): the states hₜ in processing order (reversed time when `reverse`).
    ///
    /// z = σ(x_z + h₋₁·U_z), r = σ(x_r + h₋₁·U_r), ĥ = tanh(x_h + (r ⊙ h₋₁)·U_h), h = z ⊙ h₋₁ + (1 − z) ⊙ ĥ,
    /// where x_· = x·W + b is one GEMM for all steps and each step runs two GEMMs (U_zr, then U_h).
    public static func fusedGRUResetBeforeSequence(_ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                                                   h0: Tensor, mask: Tensor? = nil, reverse: Bool) throws -> Tensor {
        guard x.rank == 3 else { throw RecurError.shapeMismatch(op: "fusedGRU", expected: "x of shape (batch, time, features)", actual: describeShape(x.shape)) }
        let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
        let U = recurrentKernel.shape[0], G = 3 * U, rows = T * B
        guard kernel.shape == [D, G], recurrentKernel.shape == [U, G], bias.shape == [G], h0.shape == [B, U] else {
            throw RecurError.shapeMismatch(op: "fusedGRU", expected: "W (\(D), \(G)), U (\(U), \(G)), bias (\(G)), h0 (\(B), \(U))",
                                           actual: "W \(describeShape(kernel.shape)), U \(describeShape(recurrentKernel.shape)), bias \(describeShape(bias.shape)), h0 \(describeShape(h0.shape))")
        }
        let steps = try StepMask(mask, batch: B, time: T, reverse: reverse)
        let parts = try recurrentKernel.split(sizes: [2 * U, U], alongAxis: 1)
        let (uZR, uH) = (parts[0].detached, parts[1].detached)
        let (xs, xproj) = projectSequence(x, kernel: kernel, bias: bias.base, reverse: reverse)
        // Saved for the backward pass: activations [z, r, ĥ], r ⊙ h₋₁ and the states.
        let act = Tensor(uninitializedShape: [T, B, G]), rh = Tensor(uninitializedShape: [T, B, U])
        let hs = Tensor(uninitializedShape: [T, B, U])
        let hzr = Tensor(uninitializedShape: [B, 2 * U]), cand = Tensor(uninitializedShape: [B, U])
        let (hsBase, actBase, rhBase, xpBase) = (hs.base, act.base, rh.base, xproj.base)
        let perThread = batchRowsPerThread(B)
        let stepZR = StepMatrix(uZR, transposed: false, rows: perThread), stepH = StepMatrix(uH, transposed: false, rows: perThread)
        parallelRanges(B, minimum: 8) { part in
            let (b0, n) = (part.lowerBound, part.count)
            for t in 0..<T {
                let hPrev = (t == 0 ? h0.base : hsBase + (t - 1) * B * U) + b0 * U
                let row = t * B + b0
                stepZR.multiply(hPrev, rows: n, into: hzr.base + b0 * 2 * U, accumulate: false)
                recur_gru_rb_gates(xpBase + row * G, hzr.base + b0 * 2 * U, hPrev, actBase + row * G, rhBase + row * U, n, U)
                stepH.multiply(rhBase + row * U, rows: n, into: cand.base + b0 * U, accumulate: false)
                recur_gru_rb_output(xpBase + row * G, cand.base + b0 * U, hPrev, actBase + row * G, hsBase + row * U, n, U)
                let h = hsBase + t * B * U, previous = t == 0 ? h0.base : hsBase + (t - 1) * B * U
                for b in steps.maskedRows(step: t, in: part) { copyRow(b, count: U, from: previous, to: h) }
            }
        }
        var out = Tensor(uninitializedShape: [B, T, U])
        SequenceLayout.batchMajor(hs.base, batch: B, time: T, features: U, reversed: false, into: out.base)

        let (W, h0d) = (kernel.detached, h0.detached)
        record(&out, inputs: [x, kernel, recurrentKernel, bias, h0]) { grad, need in
            // Pointers into the saved forward tensors, taken here so the closure keeps those tensors alive.
            let (hsBase, actBase) = (hs.base, act.base)
            let dxproj = Tensor(uninitializedShape: [T, B, G]), dhzr = Tensor(uninitializedShape: [T, B, 2 * U])
            let dcand = Tensor(uninitializedShape: [T, B, U])
            let dh = Tensor.zeros([B, U])
            let dhStep = Tensor(uninitializedShape: [B, U]), drh = Tensor(uninitializedShape: [B, U])
            let (dxpBase, dzrBase, dcBase, dhBase) = (dxproj.base, dhzr.base, dcand.base, dh.base)
            let stepZRT = StepMatrix(uZR, transposed: true, rows: perThread), stepHT = StepMatrix(uH, transposed: true, rows: perThread)
            parallelRanges(B, minimum: 8) { part in
                let (b0, n) = (part.lowerBound, part.count)
                for t in stride(from: T - 1, through: 0, by: -1) {
                    for b in part {
                        let upstream = grad.base + (b * T + t) * U, carried = dhBase + b * U, total = dhStep.base + b * U
                        for k in 0..<U { total[k] = carried[k] + upstream[k] }
                    }
                    let hPrev = (t == 0 ? h0d.base : hsBase + (t - 1) * B * U) + b0 * U
                    let row = t * B + b0
                    recur_gru_rb_output_backward(actBase + row * G, hPrev, dhStep.base + b0 * U, dxpBase + row * G,
                                                 dcBase + row * U, dhBase + b0 * U, n, U)
                    stepHT.multiply(dcBase + row * U, rows: n, into: drh.base + b0 * U, accumulate: false)
                    recur_gru_rb_gates_backward(actBase + row * G, hPrev, drh.base + b0 * U, dxpBase + row * G,
                                                dzrBase + row * 2 * U, dhBase + b0 * U, n, U)
                    // A masked row passed h through unchanged: its gradient passes straight back.
                    for b in steps.maskedRows(step: t, in: part) {
                        (dxpBase + (t * B + b) * G).update(repeating: 0, count: G)
                        (dzrBase + (t * B + b) * 2 * U).update(repeating: 0, count: 2 * U)
                        (dcBase + (t * B + b) * U).update(repeating: 0, count: U)
                        copyRow(b, count: U, from: dhStep.base, to: dhBase)
                    }
                    stepZRT.multiply(dzrBase + row * 2 * U, rows: n, into: dhBase + b0 * U, accumulate: true)
                }
            }
            var results: [Tensor?] = Array(repeating: nil, count: 5)
            if need[0] {
                let dxs = Tensor(uninitializedShape: [T, B, D])
                parallelGemm(dxproj.base, transposeA: false, W.base, transposeB: true, dxs.base, m: rows, n: D, k: G)
                let dx = Tensor(uninitializedShape: [B, T, D])
                SequenceLayout.batchMajor(dxs.base, batch: B, time: T, features: D, reversed: reverse, into: dx.base)
                results[0] = dx
            }
            if need[1] {
                let dW = Tensor(uninitializedShape: [D, G])
                parallelGemm(xs.base, transposeA: true, dxproj.base, transposeB: false, dW.base, m: D, n: G, k: rows)
                results[1] = dW
            }
            if need[2] {
                // dU_zr = Σₜ hₜ₋₁ᵀ·dzrₜ, dU_h = Σₜ (r ⊙ hₜ₋₁)ᵀ·dĥₜ: one GEMM each over all steps.
                let dZR = Tensor(uninitializedShape: [U, 2 * U]), dH = Tensor(uninitializedShape: [U, U])
                gemm(h0d.base, transposeA: true, dhzr.base, transposeB: false, dZR.base, m: U, n: 2 * U, k: B)
                if T > 1 {
                    parallelGemm(hs.base, transposeA: true, dhzr.base + B * 2 * U, transposeB: false, dZR.base,
                                 m: U, n: 2 * U, k: (T - 1) * B, beta: 1)
                }
                parallelGemm(rh.base, transposeA: true, dcand.base, transposeB: false, dH.base, m: U, n: U, k: rows)
                results[2] = try Tensor.concatenate([dZR, dH], alongAxis: 1)
            }
            if need[3] { results[3] = try dxproj.reshaped(to: [rows, G]).sum(alongAxis: 0) }
            if need[4] { results[4] = dh }
            return results
        }
        return out
    }
}
