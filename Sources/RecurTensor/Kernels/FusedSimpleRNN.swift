import CRecurKernels

extension Tensor {
    /// The whole-sequence SimpleRNN with tanh, as one differentiable op: hₜ = tanh(xₜ·W + b + hₜ₋₁·U).
    /// x (B, T, D), W (D, U), U (U, U), b (U), h0 (B, U) → (B, T, U) states in processing order.
    /// A masked step (mask (B, T), 0 where a step does not count) leaves that row's h unchanged.
    public static func fusedSimpleRNNSequence(_ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                                              h0: Tensor, mask: Tensor? = nil, reverse: Bool) throws -> Tensor {
        guard x.rank == 3 else { throw RecurError.shapeMismatch(op: "fusedSimpleRNN", expected: "x of shape (batch, time, features)", actual: describeShape(x.shape)) }
        let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
        let U = recurrentKernel.shape[0], rows = T * B
        guard kernel.shape == [D, U], recurrentKernel.shape == [U, U], bias.shape == [U], h0.shape == [B, U] else {
            throw RecurError.shapeMismatch(op: "fusedSimpleRNN", expected: "W (\(D), \(U)), U (\(U), \(U)), b (\(U)), h0 (\(B), \(U))",
                                           actual: "W \(describeShape(kernel.shape)), U \(describeShape(recurrentKernel.shape)), b \(describeShape(bias.shape)), h0 \(describeShape(h0.shape))")
        }
        let steps = try StepMask(mask, batch: B, time: T, reverse: reverse)
        let (xs, hs) = projectSequence(x, kernel: kernel, bias: bias.base, reverse: reverse)
        let hsBase = hs.base
        let stepR = StepMatrix(recurrentKernel, transposed: false, rows: batchRowsPerThread(B))
        parallelRanges(B, minimum: 8) { part in
            let (b0, n) = (part.lowerBound, part.count)
            for t in 0..<T {
                let hPrev = t == 0 ? h0.base : hsBase + (t - 1) * B * U
                let h = hsBase + t * B * U
                stepR.multiply(hPrev + b0 * U, rows: n, into: h + b0 * U, accumulate: true)
                recur_tanh(h + b0 * U, h + b0 * U, n * U)
                for b in steps.maskedRows(step: t, in: part) { copyRow(b, count: U, from: hPrev, to: h) }
            }
        }
        var out = Tensor(uninitializedShape: [B, T, U])
        SequenceLayout.batchMajor(hs.base, batch: B, time: T, features: U, reversed: false, into: out.base)

        let (W, R, h0d) = (kernel.detached, recurrentKernel.detached, h0.detached)
        record(&out, inputs: [x, kernel, recurrentKernel, bias, h0]) { grad, need in
            let dz = Tensor(uninitializedShape: [T, B, U])
            let dh = Tensor.zeros([B, U])
            let carried = Tensor(uninitializedShape: [B, U])
            // A pointer into the saved forward states, taken here so the closure keeps them alive.
            let hsBase = hs.base
            let (dzBase, dhBase) = (dz.base, dh.base)
            let stepRT = StepMatrix(R, transposed: true, rows: batchRowsPerThread(B))
            parallelRanges(B, minimum: 8) { part in
                let (b0, n) = (part.lowerBound, part.count)
                for t in stride(from: T - 1, through: 0, by: -1) {
                    let dzt = dzBase + t * B * U
                    for b in part {
                        let upstream = grad.base + (b * T + t) * U, previous = dhBase + b * U, total = dzt + b * U
                        for k in 0..<U { total[k] = previous[k] + upstream[k] }
                    }
                    let skipped = steps.maskedRows(step: t, in: part)
                    for b in skipped { copyRow(b, count: U, from: dzt, to: carried.base) }
                    recur_tanh_backward(hsBase + (t * B + b0) * U, dzt + b0 * U, dzt + b0 * U, n * U)
                    // A masked row passed h through unchanged: its gradient passes straight back.
                    for b in skipped { (dzt + b * U).update(repeating: 0, count: U) }
                    stepRT.multiply(dzt + b0 * U, rows: n, into: dhBase + b0 * U, accumulate: false)
                    for b in skipped { copyRow(b, count: U, from: carried.base, to: dhBase) }
                }
            }
            var results: [Tensor?] = Array(repeating: nil, count: 5)
            if need[0] {
                let dxs = Tensor(uninitializedShape: [T, B, D])
                parallelGemm(dz.base, transposeA: false, W.base, transposeB: true, dxs.base, m: rows, n: D, k: U)
                let dx = Tensor(uninitializedShape: [B, T, D])
                SequenceLayout.batchMajor(dxs.base, batch: B, time: T, features: D, reversed: reverse, into: dx.base)
                results[0] = dx
            }
            if need[1] {
                let dW = Tensor(uninitializedShape: [D, U])
                parallelGemm(xs.base, transposeA: true, dz.base, transposeB: false, dW.base, m: D, n: U, k: rows)
                results[1] = dW
            }
            if need[2] {
                let dR = Tensor(uninitializedShape: [U, U])
                gemm(h0d.base, transposeA: true, dz.base, transposeB: false, dR.base, m: U, n: U, k: B)
                if T > 1 { parallelGemm(hs.base, transposeA: true, dz.base + B * U, transposeB: false, dR.base, m: U, n: U, k: (T - 1) * B, beta: 1) }
                results[2] = dR
            }
            if need[3] { results[3] = try dz.reshaped(to: [rows, U]).sum(alongAxis: 0) }
            if need[4] { results[4] = dh }
            return results
        }
        return out
    }
}
