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
        let (backend, operands) = try onCommonDevice([z, cPrev], op: "lstmGateStep")
        let step = backend.lstmGates(operands[0].detached, cPrev: operands[1].detached)
        var outputs = [step.h, step.c]
        traced(.lstmGates, [z, cPrev], outputs)
        record(&outputs, inputs: [z, cPrev]) { grads, _ in step.backward(grads) }
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
        let (backend, operands) = try onCommonDevice([xproj, hproj, hPrev], op: "gruGateStep")
        let step = backend.gruGates(xproj: operands[0].detached, hproj: operands[1].detached, hPrev: operands[2].detached)
        var h = step.h
        traced(.gruGates, [xproj, hproj, hPrev], [h])
        record(&h, inputs: [xproj, hproj, hPrev]) { grad, _ in step.backward(grad) }
        return h
    }
}
