import CRecurKernels

extension Tensor {
    /// The whole-sequence GRU in its `resetAfter` (cuDNN) form, gate order [z, r, h], as one differentiable op.
    ///
    /// - x (B, T, D), kernel W (D, 3U), recurrentKernel U (U, 3U), bias (2, 3U) = [input bias; recurrent bias], h0 (B, U).
    /// - mask (B, T), optional, 1 where a step counts: a masked step leaves that row's h unchanged.
    /// - Returns (B, T, U): the states hₜ in processing order (reversed time when `reverse`).
    ///
    /// z = σ(x_z + r_z), r = σ(x_r + r_r), ĥ = tanh(x_h + r ⊙ r_h), h = z ⊙ h₋₁ + (1 − z) ⊙ ĥ, where
    /// x_· = x·W + b_in (one GEMM for all steps) and r_· = h₋₁·U + b_rec (one GEMM per step).
    public static func fusedGRUSequence(_ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                                        h0: Tensor, mask: Tensor? = nil, reverse: Bool) throws -> Tensor {
        guard x.rank == 3 else { throw RecurError.shapeMismatch(op: "fusedGRU", expected: "x of shape (batch, time, features)", actual: describeShape(x.shape)) }
        let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
        let U = recurrentKernel.shape[0], G = 3 * U, rows = T * B
        guard kernel.shape == [D, G], recurrentKernel.shape == [U, G], bias.shape == [2, G], h0.shape == [B, U] else {
            throw RecurError.shapeMismatch(op: "fusedGRU", expected: "W (\(D), \(G)), U (\(U), \(G)), bias (2, \(G)), h0 (\(B), \(U))",
                                           actual: "W \(describeShape(kernel.shape)), U \(describeShape(recurrentKernel.shape)), bias \(describeShape(bias.shape)), h0 \(describeShape(h0.shape))")
        }
        let steps = try StepMask(mask, batch: B, time: T, reverse: reverse)
        let (xs, xproj) = projectSequence(x, kernel: kernel, bias: bias.base, reverse: reverse)
        let hproj = Tensor(uninitializedShape: [T, B, G]), act = Tensor(uninitializedShape: [T, B, G])
        let hs = Tensor(uninitializedShape: [T, B, U])
        let (hsBase, hpBase, actBase, xpBase) = (hs.base, hproj.base, act.base, xproj.base)
        let stepR = StepMatrix(recurrentKernel, transposed: false, rows: batchRowsPerThread(B))
        parallelRanges(B, minimum: 8) { part in
            let (b0, n) = (part.lowerBound, part.count)
            for t in 0..<T {
                let hPrev = t == 0 ? h0.base : hsBase + (t - 1) * B * U
                let hp = hpBase + (t * B + b0) * G, h = hsBase + t * B * U
                for b in 0..<n { (hp + b * G).update(from: bias.base + G, count: G) }
                stepR.multiply(hPrev + b0 * U, rows: n, into: hp, accumulate: true)
                recur_gru_gates_forward(xpBase + (t * B + b0) * G, hp, hPrev + b0 * U, actBase + (t * B + b0) * G, h + b0 * U, n, U)
                for b in steps.maskedRows(step: t, in: part) { copyRow(b, count: U, from: hPrev, to: h) }
            }
        }
        var out = Tensor(uninitializedShape: [B, T, U])
        SequenceLayout.batchMajor(hs.base, batch: B, time: T, features: U, reversed: false, into: out.base)

        let (W, R, h0d) = (kernel.detached, recurrentKernel.detached, h0.detached)
        record(&out, inputs: [x, kernel, recurrentKernel, bias, h0]) { grad, need in
            let dxproj = Tensor(uninitializedShape: [T, B, G]), dhproj = Tensor(uninitializedShape: [T, B, G])
            let dh = Tensor.zeros([B, U])
            let dhStep = Tensor(uninitializedShape: [B, U])
            // Pointers into the saved forward tensors, taken here so the closure keeps those tensors alive.
            let (hsBase, hpBase, actBase) = (hs.base, hproj.base, act.base)
            let (dxpBase, dhpBase, dhBase) = (dxproj.base, dhproj.base, dh.base)
            let stepRT = StepMatrix(R, transposed: true, rows: batchRowsPerThread(B))
            parallelRanges(B, minimum: 8) { part in
                let (b0, n) = (part.lowerBound, part.count)
                for t in stride(from: T - 1, through: 0, by: -1) {
                    for b in part {
                        let upstream = grad.base + (b * T + t) * U, carried = dhBase + b * U, total = dhStep.base + b * U
                        for k in 0..<U { total[k] = carried[k] + upstream[k] }
                    }
                    let hPrev = t == 0 ? h0d.base : hsBase + (t - 1) * B * U
                    let row = (t * B + b0)
                    recur_gru_gates_backward(actBase + row * G, hpBase + row * G, hPrev + b0 * U, dhStep.base + b0 * U,
                                             dxpBase + row * G, dhpBase + row * G, dhBase + b0 * U, n, U)
                    // A masked row passed h through unchanged: its gradient passes straight back.
                    let skipped = steps.maskedRows(step: t, in: part)
                    for b in skipped {
                        (dxpBase + (t * B + b) * G).update(repeating: 0, count: G)
                        (dhpBase + (t * B + b) * G).update(repeating: 0, count: G)
                        copyRow(b, count: U, from: dhStep.base, to: dhBase)
                    }
                    stepRT.multiply(dhpBase + row * G, rows: n, into: dhBase + b0 * U, accumulate: true)
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
                let dR = Tensor(uninitializedShape: [U, G])
                gemm(h0d.base, transposeA: true, dhproj.base, transposeB: false, dR.base, m: U, n: G, k: B)
                if T > 1 {
                    parallelGemm(hs.base, transposeA: true, dhproj.base + B * G, transposeB: false, dR.base, m: U, n: G, k: (T - 1) * B, beta: 1)
                }
                results[2] = dR
            }
            if need[3] {
                results[3] = try Tensor.stack([dxproj.reshaped(to: [rows, G]).sum(alongAxis: 0),
                                               dhproj.reshaped(to: [rows, G]).sum(alongAxis: 0)])
            }
            if need[4] { results[4] = dh }
            return results
        }
        return out
    }
}
