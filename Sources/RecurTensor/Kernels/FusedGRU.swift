import CRecurKernels

extension Tensor {
    /// The whole-sequence GRU in its `resetAfter` (cuDNN) form, gate order [z, r, h], as one differentiable op.
    ///
    /// - x (B, T, D), kernel W (D, 3U), recurrentKernel U (U, 3U), bias (2, 3U) = [input bias; recurrent bias], h0 (B, U).
    /// - mask (B, T), optional, 1 where a step counts: a masked step leaves that row's h unchanged.
    /// - Returns (B, T, U): the states hₜ in processing order (reversed time when `reverse`); the last
    ///   step is the final state.
    ///
    /// z = σ(x_z + r_z), r = σ(x_r + r_r), ĥ = tanh(x_h + r ⊙ r_h), h = z ⊙ h₋₁ + (1 − z) ⊙ ĥ, where
    /// x_· = x·W + b_in (one GEMM for all steps) and r_· = h₋₁·U + b_rec (one GEMM per step).
    public static func fusedGRUSequence(_ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                                        h0: Tensor, mask: Tensor? = nil, reverse: Bool) throws -> Tensor {
        guard x.rank == 3 else { throw RecurError.shapeMismatch(op: "fusedGRU", expected: "x of shape (batch, time, features)", actual: describeShape(x.shape)) }
        let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
        let U = recurrentKernel.shape[0], G = 3 * U, rows = T * B
        let steps = try StepMask(mask, batch: B, time: T, reverse: reverse)
        guard kernel.shape == [D, G], recurrentKernel.shape == [U, G], bias.shape == [2, G], h0.shape == [B, U] else {
            throw RecurError.shapeMismatch(op: "fusedGRU", expected: "W (\(D), \(G)), U (\(U), \(G)), bias (2, \(G)), h0 (\(B), \(U))",
                                           actual: "W \(describeShape(kernel.shape)), U \(describeShape(recurrentKernel.shape)), bias \(describeShape(bias.shape)), h0 \(describeShape(h0.shape))")
        }
        var xs = Tensor(uninitializedShape: [T, B, D])
        SequenceLayout.timeMajor(x.base, batch: B, time: T, features: D, reversed: reverse, into: xs.base)
        var xproj = Tensor(uninitializedShape: [T, B, G])
        for r in 0..<rows { (xproj.base + r * G).update(from: bias.base, count: G) }
        gemm(xs.base, transposeA: false, kernel.base, transposeB: false, xproj.base, m: rows, n: G, k: D, beta: 1)
        var hproj = Tensor(uninitializedShape: [T, B, G]), act = Tensor(uninitializedShape: [T, B, G])
        var hs = Tensor(uninitializedShape: [T, B, U])
        for t in 0..<T {
            let hPrev = t == 0 ? h0.base : hs.base + (t - 1) * B * U
            let hp = hproj.base + t * B * G
            for b in 0..<B { (hp + b * G).update(from: bias.base + G, count: G) }
            gemm(hPrev, transposeA: false, recurrentKernel.base, transposeB: false, hp, m: B, n: G, k: U, beta: 1)
            recur_gru_gates_forward(xproj.base + t * B * G, hp, hPrev, act.base + t * B * G, hs.base + t * B * U, B, U)
            for b in steps.maskedRows(step: t) { copyRow(b, count: U, from: hPrev, to: hs.base + t * B * U) }
        }
        var out = Tensor(uninitializedShape: [B, T, U])
        SequenceLayout.batchMajor(hs.base, batch: B, time: T, features: U, reversed: false, into: out.base)

        let (W, R, h0d) = (kernel.detached, recurrentKernel.detached, h0.detached)
        record(&out, inputs: [x, kernel, recurrentKernel, bias, h0]) { grad, need in
            var dxproj = Tensor(uninitializedShape: [T, B, G]), dhproj = Tensor(uninitializedShape: [T, B, G])
            var dh = Tensor.zeros([B, U]), dhStep = Tensor(uninitializedShape: [B, U])
            for t in stride(from: T - 1, through: 0, by: -1) {
                for b in 0..<B {
                    let upstream = grad.base + (b * T + t) * U, carried = dh.base + b * U, total = dhStep.base + b * U
                    for k in 0..<U { total[k] = carried[k] + upstream[k] }
                }
                let hPrev = t == 0 ? h0d.base : hs.base + (t - 1) * B * U
                let dhp = dhproj.base + t * B * G
                recur_gru_gates_backward(act.base + t * B * G, hproj.base + t * B * G, hPrev, dhStep.base,
                                         dxproj.base + t * B * G, dhp, dh.base, B, U)
                let skipped = steps.maskedRows(step: t)
                for b in skipped {
                    (dxproj.base + (t * B + b) * G).update(repeating: 0, count: G)
                    (dhp + b * G).update(repeating: 0, count: G)
                    copyRow(b, count: U, from: dhStep.base, to: dh.base)
                }
                gemm(dhp, transposeA: false, R.base, transposeB: true, dh.base, m: B, n: U, k: G, beta: 1)
            }
            var results: [Tensor?] = Array(repeating: nil, count: 5)
            if need[0] {
                var dxs = Tensor(uninitializedShape: [T, B, D])
                gemm(dxproj.base, transposeA: false, W.base, transposeB: true, dxs.base, m: rows, n: D, k: G)
                var dx = Tensor(uninitializedShape: [B, T, D])
                SequenceLayout.batchMajor(dxs.base, batch: B, time: T, features: D, reversed: reverse, into: dx.base)
                results[0] = dx
            }
            if need[1] {
                var dW = Tensor(uninitializedShape: [D, G])
                gemm(xs.base, transposeA: true, dxproj.base, transposeB: false, dW.base, m: D, n: G, k: rows)
                results[1] = dW
            }
            if need[2] {
                var dR = Tensor(uninitializedShape: [U, G])
                gemm(h0d.base, transposeA: true, dhproj.base, transposeB: false, dR.base, m: U, n: G, k: B)
                if T > 1 {
                    gemm(hs.base, transposeA: true, dhproj.base + B * G, transposeB: false, dR.base, m: U, n: G, k: (T - 1) * B, beta: 1)
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

    /// The whole-sequence SimpleRNN with tanh, as one differentiable op: hₜ = tanh(xₜ·W + b + hₜ₋₁·U).
    /// A masked step (mask (B, T), 0 where a step does not count) leaves that row's h unchanged.
    /// x (B, T, D), W (D, U), U (U, U), b (U), h0 (B, U) → (B, T, U) in processing order.
    public static func fusedSimpleRNNSequence(_ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                                              h0: Tensor, mask: Tensor? = nil, reverse: Bool) throws -> Tensor {
        guard x.rank == 3 else { throw RecurError.shapeMismatch(op: "fusedSimpleRNN", expected: "x of shape (batch, time, features)", actual: describeShape(x.shape)) }
        let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
        let U = recurrentKernel.shape[0], rows = T * B
        let steps = try StepMask(mask, batch: B, time: T, reverse: reverse)
        guard kernel.shape == [D, U], recurrentKernel.shape == [U, U], bias.shape == [U], h0.shape == [B, U] else {
            throw RecurError.shapeMismatch(op: "fusedSimpleRNN", expected: "W (\(D), \(U)), U (\(U), \(U)), b (\(U)), h0 (\(B), \(U))",
                                           actual: "W \(describeShape(kernel.shape)), U \(describeShape(recurrentKernel.shape)), b \(describeShape(bias.shape)), h0 \(describeShape(h0.shape))")
        }
        var xs = Tensor(uninitializedShape: [T, B, D])
        SequenceLayout.timeMajor(x.base, batch: B, time: T, features: D, reversed: reverse, into: xs.base)
        var hs = Tensor(uninitializedShape: [T, B, U])
        for r in 0..<rows { (hs.base + r * U).update(from: bias.base, count: U) }
        gemm(xs.base, transposeA: false, kernel.base, transposeB: false, hs.base, m: rows, n: U, k: D, beta: 1)
        for t in 0..<T {
            let hPrev = t == 0 ? h0.base : hs.base + (t - 1) * B * U
            let h = hs.base + t * B * U
            gemm(hPrev, transposeA: false, recurrentKernel.base, transposeB: false, h, m: B, n: U, k: U, beta: 1)
            recur_tanh(h, h, B * U)
            for b in steps.maskedRows(step: t) { copyRow(b, count: U, from: hPrev, to: h) }
        }
        var out = Tensor(uninitializedShape: [B, T, U])
        SequenceLayout.batchMajor(hs.base, batch: B, time: T, features: U, reversed: false, into: out.base)

        let (W, R, h0d) = (kernel.detached, recurrentKernel.detached, h0.detached)
        record(&out, inputs: [x, kernel, recurrentKernel, bias, h0]) { grad, need in
            var dz = Tensor(uninitializedShape: [T, B, U])
            var dh = Tensor.zeros([B, U])
            for t in stride(from: T - 1, through: 0, by: -1) {
                let dzt = dz.base + t * B * U
                for b in 0..<B {
                    let upstream = grad.base + (b * T + t) * U, carried = dh.base + b * U, total = dzt + b * U
                    for k in 0..<U { total[k] = carried[k] + upstream[k] }
                }
                let skipped = steps.maskedRows(step: t)
                let carried = skipped.isEmpty ? nil : Tensor(copying: dzt, count: B * U)
                recur_tanh_backward(hs.base + t * B * U, dzt, dzt, B * U)
                for b in skipped { (dzt + b * U).update(repeating: 0, count: U) }
                gemm(dzt, transposeA: false, R.base, transposeB: true, dh.base, m: B, n: U, k: U)
                for b in skipped { copyRow(b, count: U, from: carried!.base, to: dh.base) }
            }
            var results: [Tensor?] = Array(repeating: nil, count: 5)
            if need[0] {
                var dxs = Tensor(uninitializedShape: [T, B, D])
                gemm(dz.base, transposeA: false, W.base, transposeB: true, dxs.base, m: rows, n: D, k: U)
                var dx = Tensor(uninitializedShape: [B, T, D])
                SequenceLayout.batchMajor(dxs.base, batch: B, time: T, features: D, reversed: reverse, into: dx.base)
                results[0] = dx
            }
            if need[1] {
                var dW = Tensor(uninitializedShape: [D, U])
                gemm(xs.base, transposeA: true, dz.base, transposeB: false, dW.base, m: D, n: U, k: rows)
                results[1] = dW
            }
            if need[2] {
                var dR = Tensor(uninitializedShape: [U, U])
                gemm(h0d.base, transposeA: true, dz.base, transposeB: false, dR.base, m: U, n: U, k: B)
                if T > 1 { gemm(hs.base, transposeA: true, dz.base + B * U, transposeB: false, dR.base, m: U, n: U, k: (T - 1) * B, beta: 1) }
                results[2] = dR
            }
            if need[3] { results[3] = try dz.reshaped(to: [rows, U]).sum(alongAxis: 0) }
            if need[4] { results[4] = dh }
            return results
        }
        return out
    }
}
