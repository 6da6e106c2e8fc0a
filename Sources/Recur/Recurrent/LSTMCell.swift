/// `LSTMCell(units)`, gates in Keras's order [i, f, c, o]:
///   z = x·W + h₋₁·U + b   (batch, 4u)
///   i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o)
///   c = f ⊙ c₋₁ + i ⊙ g,  h = o ⊙ tanh(c)
/// kernel W (d, 4u), recurrent_kernel U (u, 4u), bias b (4u): 4u(d + u + 1) parameters.
/// With `unitForgetBias` the forget part of the bias starts at 1.
public final class LSTMCell: BuiltInRecurrentCell {
    override class var kind: CellKind { .lstm }

    public convenience init(_ units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                            useBias: Bool = true, unitForgetBias: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                            biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0, name: String? = nil) {
        self.init(configuration: CellConfiguration(units: units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
                                                     unitForgetBias: unitForgetBias, kernelInitializer: kernelInitializer,
                                                     recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                                                     dropout: dropout, recurrentDropout: recurrentDropout), name: name)
    }

    public override var className: String { "LSTMCell" }
    public override var stateShapes: [[Int]] { [[units], [units]] }
    public var recurrentActivation: Activation { configuration.recurrentActivation }
    public var unitForgetBias: Bool { configuration.unitForgetBias }

    override func initialBias() throws -> Tensor {
        let b = try super.initialBias()
        guard unitForgetBias else { return b }
        // Keras's unit_forget_bias: the forget gate's biases [units, 2·units) start at 1.
        let gates = try b.split(sizes: [units, units, 2 * units], alongAxis: 0)
        return try Tensor.concatenate([gates[0], Tensor.ones([units]), gates[2]], alongAxis: 0)
    }

    public override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        let x = try inputDropout.apply(inputs[0], training: training)
        let hPrev = try recurrentDropout.apply(states[0], training: training)
        var z = try x.matmul(kernel!.value) + hPrev.matmul(recurrentKernel!.value)
        if let bias { z = try z + bias.value }
        if activation == .tanh && recurrentActivation == .sigmoid {
            // The usual activations: the whole gate computation is one vectorised op.
            let (h, c) = try Tensor.lstmGateStep(z, cPrev: states[1])
            return ([h], [h, c])
        }
        let gates = try z.split(sizes: [units, units, units, units], alongAxis: 1)
        let i = try recurrentActivation(gates[0]), f = try recurrentActivation(gates[1])
        let g = try activation(gates[2]), o = try recurrentActivation(gates[3])
        let c = try f * states[1] + i * g
        let h = try o * activation(c)
        return ([h], [h, c])
    }
}
