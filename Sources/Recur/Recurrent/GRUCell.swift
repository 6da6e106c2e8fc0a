/// `GRUCell(units)`, gates in Keras's order [z, r, h].
/// resetAfter (default, cuDNN-compatible), bias (2, 3u) = [input bias; recurrent bias]:
///   xz, xr, xh = x·W + b_in;  rz, rr, rh = h₋₁·U + b_rec
///   z = σ(xz + rz), r = σ(xr + rr), ĥ = tanh(xh + r ⊙ rh)
/// resetAfter false, bias (3u):
///   z = σ(x·W_z + h₋₁·U_z + b_z), r = σ(x·W_r + h₋₁·U_r + b_r), ĥ = tanh(x·W_h + (r ⊙ h₋₁)·U_h + b_h)
/// h = z ⊙ h₋₁ + (1 − z) ⊙ ĥ.  Parameters: 3u(d + u + 2) with resetAfter, 3u(d + u + 1) without.
public final class GRUCell: BuiltInRecurrentCell {
    override class var kind: CellKind { .gru }

    public convenience init(_ units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                            useBias: Bool = true, resetAfter: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                            biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0, name: String? = nil) {
        self.init(configuration: CellConfiguration(units: units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                                                     resetAfter: resetAfter, kernelInitializer: kernelInitializer,
                                                     recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                                                     dropout: dropout, recurrentDropout: recurrentDropout), name: name)
    }

    public override var className: String { "GRUCell" }
    public var recurrentActivation: Activation { configuration.recurrentActivation }
    public var resetAfter: Bool { configuration.resetAfter }
    override var biasShape: [Int] { resetAfter ? [2, 3 * units] : [3 * units] }

    public override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        let u = units
        let x = try inputDropout.apply(inputs[0], training: training)
        let hPrev = states[0]
        let hDropped = try recurrentDropout.apply(hPrev, training: training)
        var xProj = try x.matmul(kernel!.value)
        var inputBias: Tensor? = nil, recurrentBias: Tensor? = nil
        if let bias {
            if resetAfter {
                inputBias = try bias.value.select(alongAxis: 0, index: 0)
                recurrentBias = try bias.value.select(alongAxis: 0, index: 1)
            } else {
                inputBias = bias.value
            }
        }
        if let inputBias { xProj = try xProj + inputBias }
        let z: Tensor, r: Tensor, candidate: Tensor
        if resetAfter {
            var hProj = try hDropped.matmul(recurrentKernel!.value)
            if let recurrentBias { hProj = try hProj + recurrentBias }
            if activation == .tanh && recurrentActivation == .sigmoid {
                // The usual activations: the whole gate computation is one vectorised op.
                let h = try Tensor.gruGateStep(xproj: xProj, hproj: hProj, hPrev: hPrev)
                return ([h], [h])
            }
            let xParts = try xProj.split(sizes: [u, u, u], alongAxis: 1)
            let hParts = try hProj.split(sizes: [u, u, u], alongAxis: 1)
            z = try recurrentActivation(xParts[0] + hParts[0])
            r = try recurrentActivation(xParts[1] + hParts[1])
            candidate = try activation(xParts[2] + r * hParts[2])
        } else {
            let xParts = try xProj.split(sizes: [u, u, u], alongAxis: 1)
            let uParts = try recurrentKernel!.value.split(sizes: [2 * u, u], alongAxis: 1)
            let hzr = try hDropped.matmul(uParts[0]).split(sizes: [u, u], alongAxis: 1)
            z = try recurrentActivation(xParts[0] + hzr[0])
            r = try recurrentActivation(xParts[1] + hzr[1])
            candidate = try activation(xParts[2] + (r * hDropped).matmul(uParts[1]))
        }
        let h = try z * hPrev + (1 - z) * candidate
        return ([h], [h])
    }
}
