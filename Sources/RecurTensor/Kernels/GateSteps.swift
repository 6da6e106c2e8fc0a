import CRecurKernels

extension Tensor {
    /// One LSTM step's gates as one differentiable op with two outputs (tanh/sigmoid, Keras gate order
    /// [i, f, c, o]): from the pre-activations z = x·W + h₋₁·U + b (B, 4U) and c₋₁ (B, U), returns h and c
    /// (B, U) each with c = σ(z_f) ⊙ c₋₁ + σ(z_i) ⊙ tanh(z_c) and h = σ(z_o) ⊙ tanh(c). The cell loop's
    /// LSTMCell uses it so a step costs one vectorised pass instead of a dozen elementwise ops.
    public static func lstmGateStep(_ z: Tensor, cPrev: Tensor) throws -> (h: Tensor, c: Tensor) {
        guard z.rank == 2, cPrev.rank == 2, z.shape[0] == cPrev.shape[0], z.shape[1] == 4 * cPrev.shape[1] else {
            throw RecurError.shapeMismatch(op: "lstmGateStep", expected: "z (batch, 4·units) and c (batch, units)",
                                           actual: "\(describeShape(z.shape)) and \(describeShape(cPrev.shape))")
        }
        let (B, U) = (cPrev.shape[0], cPrev.shape[1])
        let gates = z.detachedCopy()
        let c = Tensor(uninitializedShape: [B, U]), tanhC = Tensor(uninitializedShape: [B, U]), h = Tensor(uninitializedShape: [B, U])
        recur_lstm_gates_forward(gates.base, cPrev.base, c.base, tanhC.base, h.base, B, U)
        var outputs = [h, c]
        let cPrevSaved = cPrev.detached
        record(&outputs, inputs: [z, cPrev]) { grads, _ in
            let dh = grads[0] ?? Tensor.zeros([B, U])
            let dc = grads[1]?.detachedCopy() ?? Tensor.zeros([B, U])
            let dz = Tensor(uninitializedShape: [B, 4 * U])
            recur_lstm_gates_backward(gates.base, cPrevSaved.base, tanhC.base, dh.base, dc.base, dz.base, B, U)
            return [dz, dc]
        }
        return (outputs[0], outputs[1])
    }

    /// One GRU step (resetAfter form, tanh/sigmoid, gate order [z, r, h]) as one differentiable op:
    /// from xproj = x·W + b_in (B, 3U), hproj = h₋₁·U + b_rec (B, 3U) and h₋₁ (B, U), returns h (B, U).
    public static func gruGateStep(xproj: Tensor, hproj: Tensor, hPrev: Tensor) throws -> Tensor {
        guard xproj.rank == 2, xproj.shape == hproj.shape, hPrev.rank == 2, xproj.shape[0] == hPrev.shape[0],
              xproj.shape[1] == 3 * hPrev.shape[1] else {
            throw RecurError.shapeMismatch(op: "gruGateStep", expected: "xproj and hproj (batch, 3·units), h (batch, units)",
                                           actual: "\(describeShape(xproj.shape)), \(describeShape(hproj.shape)), \(describeShape(hPrev.shape))")
        }
        let (B, U) = (hPrev.shape[0], hPrev.shape[1])
        let act = Tensor(uninitializedShape: [B, 3 * U])
        var h = Tensor(uninitializedShape: [B, U])
        recur_gru_gates_forward(xproj.base, hproj.base, hPrev.base, act.base, h.base, B, U)
        let (hprojSaved, hPrevSaved) = (hproj.detached, hPrev.detached)
        record(&h, inputs: [xproj, hproj, hPrev]) { grad, _ in
            let dx = Tensor(uninitializedShape: [B, 3 * U]), dh = Tensor(uninitializedShape: [B, 3 * U])
            let dPrev = Tensor(uninitializedShape: [B, U])
            recur_gru_gates_backward(act.base, hprojSaved.base, hPrevSaved.base, grad.base, dx.base, dh.base, dPrev.base, B, U)
            return [dx, dh, dPrev]
        }
        return h
    }

    /// A copy with its own storage.
    func detachedCopy() -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.base.update(from: base, count: count)
        return t
    }
}
