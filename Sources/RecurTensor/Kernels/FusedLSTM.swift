import CRecurKernels

extension Tensor {
    /// The whole-sequence LSTM (Keras gate order [i, f, c, o], tanh/sigmoid activations) as one
    /// differentiable op: our counterpart of cuDNN's fused RNN.
    ///
    /// - x (B, T, D), kernel W (D, 4U), recurrentKernel U (U, 4U), bias b (4U), h0 and c0 (B, U).
    /// - mask (B, T), optional, 1 where a step counts: a masked step leaves that row's h and c unchanged.
    /// - Returns a packed tensor (B, T + 1, U): steps 0..<T hold the states hₜ in processing order
    ///   (reversed time when `reverse`), step T holds the final cell state c_T.
    ///
    /// Forward: the input projection x·W + b of every step is one GEMM; each step adds h₋₁·U with one
    /// GEMM and applies the gates in one vectorised pass. Backward through time runs one GEMM per step
    /// for dh₋₁ = dz·Uᵀ; dW, dU, db and dx are then each one GEMM (or reduction) over all steps at once.
    /// The time loops split the batch across `Parallelism.threads` (rows are independent in time).
    public static func fusedLSTMSequence(_ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                                         h0: Tensor, c0: Tensor, mask: Tensor? = nil, reverse: Bool) throws -> Tensor {
        guard x.rank == 3 else { throw RecurError.shapeMismatch(op: "fusedLSTM", expected: "x of shape (batch, time, features)", actual: describeShape(x.shape)) }
        let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
        let U = recurrentKernel.shape[0]
        guard kernel.shape == [D, 4 * U], recurrentKernel.shape == [U, 4 * U], bias.shape == [4 * U],
              h0.shape == [B, U], c0.shape == [B, U] else {
            throw RecurError.shapeMismatch(op: "fusedLSTM", expected: "W (\(D), \(4 * U)), U (\(U), \(4 * U)), b (\(4 * U)), h0/c0 (\(B), \(U))",
                                           actual: "W \(describeShape(kernel.shape)), U \(describeShape(recurrentKernel.shape)), b \(describeShape(bias.shape)), h0 \(describeShape(h0.shape)), c0 \(describeShape(c0.shape))")
        }
        let G = 4 * U, rows = T * B
        let steps = try StepMask(mask, batch: B, time: T, reverse: reverse)
        // Time-major input and the projection of every step.
        let (xs, gates) = projectSequence(x, kernel: kernel, bias: bias.base, reverse: reverse)
        // Per-step states: hs[t] and cs[t] are the results of step t; tanhC[t] = tanh(cs[t]).
        let hs = Tensor(uninitializedShape: [T, B, U]), cs = Tensor(uninitializedShape: [T, B, U])
        let tanhC = Tensor(uninitializedShape: [T, B, U])
        let (hsBase, csBase, tanhBase, gatesBase) = (hs.base, cs.base, tanhC.base, gates.base)
        let stepR = StepMatrix(recurrentKernel, transposed: false, rows: batchRowsPerThread(B))
        parallelRanges(B, minimum: 8) { part in
            let (b0, n) = (part.lowerBound, part.count)
            for t in 0..<T {
                let hPrev = t == 0 ? h0.base : hsBase + (t - 1) * B * U
                let cPrev = t == 0 ? c0.base : csBase + (t - 1) * B * U
                let g = gatesBase + (t * B + b0) * G
                let (h, c) = (hsBase + t * B * U, csBase + t * B * U)
                stepR.multiply(hPrev + b0 * U, rows: n, into: g, accumulate: true)
                recur_lstm_gates_forward(g, cPrev + b0 * U, c + b0 * U, tanhBase + (t * B + b0) * U, h + b0 * U, n, U)
                for b in steps.maskedRows(step: t, in: part) {
                    copyRow(b, count: U, from: hPrev, to: h)
                    copyRow(b, count: U, from: cPrev, to: c)
                }
            }
        }
        var packed = Tensor(uninitializedShape: [B, T + 1, U])
        for t in 0..<T {
            for b in 0..<B { (packed.base + (b * (T + 1) + t) * U).update(from: hs.base + (t * B + b) * U, count: U) }
        }
        let cLast = T == 0 ? c0.base : cs.base + (T - 1) * B * U
        for b in 0..<B { (packed.base + (b * (T + 1) + T) * U).update(from: cLast + b * U, count: U) }

        let (W, R, h0d, c0d) = (kernel.detached, recurrentKernel.detached, h0.detached, c0.detached)
        record(&packed, inputs: [x, kernel, recurrentKernel, bias, h0, c0]) { grad, need in
            // Upstream per step: d packed[:, t] for the states, d packed[:, T] for c_T.
            let dgates = Tensor(uninitializedShape: [T, B, G])
            let dh = Tensor.zeros([B, U]), dc = Tensor.zeros([B, U])
            for b in 0..<B { (dc.base + b * U).update(from: grad.base + (b * (T + 1) + T) * U, count: U) }
            let dhStep = Tensor(uninitializedShape: [B, U])
            let dcCarried = Tensor(uninitializedShape: [B, U])
            // Pointers into the saved forward tensors, taken here so the closure keeps those tensors alive.
            let (csBase, tanhBase, gatesBase) = (cs.base, tanhC.base, gates.base)
            let (dgBase, dhBase, dcBase, stepBase) = (dgates.base, dh.base, dc.base, dhStep.base)
            let stepRT = StepMatrix(R, transposed: true, rows: batchRowsPerThread(B))
            parallelRanges(B, minimum: 8) { part in
                let (b0, n) = (part.lowerBound, part.count)
                for t in stride(from: T - 1, through: 0, by: -1) {
                    for b in part {
                        let upstream = grad.base + (b * (T + 1) + t) * U, carried = dhBase + b * U, total = stepBase + b * U
                        for k in 0..<U { total[k] = carried[k] + upstream[k] }
                    }
                    let cPrev = t == 0 ? c0d.base : csBase + (t - 1) * B * U
                    let dg = dgBase + t * B * G
                    let skipped = steps.maskedRows(step: t, in: part)
                    for b in skipped { copyRow(b, count: U, from: dcBase, to: dcCarried.base) }
                    recur_lstm_gates_backward(gatesBase + (t * B + b0) * G, cPrev + b0 * U, tanhBase + (t * B + b0) * U,
                                              stepBase + b0 * U, dcBase + b0 * U, dg + b0 * G, n, U)
                    // A masked row passed h and c through unchanged: its gradients pass straight back.
                    for b in skipped {
                        (dg + b * G).update(repeating: 0, count: G)
                        copyRow(b, count: U, from: dcCarried.base, to: dcBase)
                    }
                    stepRT.multiply(dg + b0 * G, rows: n, into: dhBase + b0 * U, accumulate: false)
                    for b in skipped { copyRow(b, count: U, from: stepBase, to: dhBase) }
                }
            }
            var results: [Tensor?] = Array(repeating: nil, count: 6)
            if need[0] {
                let dxs = Tensor(uninitializedShape: [T, B, D])
                parallelGemm(dgates.base, transposeA: false, W.base, transposeB: true, dxs.base, m: rows, n: D, k: G)
                let dx = Tensor(uninitializedShape: [B, T, D])
                SequenceLayout.batchMajor(dxs.base, batch: B, time: T, features: D, reversed: reverse, into: dx.base)
                results[0] = dx
            }
            if need[1] {
                let dW = Tensor(uninitializedShape: [D, G])
                parallelGemm(xs.base, transposeA: true, dgates.base, transposeB: false, dW.base, m: D, n: G, k: rows)
                results[1] = dW
            }
            if need[2] {
                // dU = Σₜ hₜ₋₁ᵀ·dzₜ: h0 for the first step, then one GEMM over steps 1..<T.
                let dR = Tensor(uninitializedShape: [U, G])
                gemm(h0d.base, transposeA: true, dgates.base, transposeB: false, dR.base, m: U, n: G, k: B)
                if T > 1 {
                    parallelGemm(hs.base, transposeA: true, dgates.base + B * G, transposeB: false, dR.base, m: U, n: G, k: (T - 1) * B, beta: 1)
                }
                results[2] = dR
            }
            if need[3] { results[3] = try dgates.reshaped(to: [rows, G]).sum(alongAxis: 0) }
            if need[4] { results[4] = dh }
            if need[5] { results[5] = dc }
            return results
        }
        return packed
    }
}
