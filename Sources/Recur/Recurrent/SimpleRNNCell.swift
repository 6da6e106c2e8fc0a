/// `SimpleRNNCell(units)`: h = activation(x·W + b + h₋₁·U).
/// kernel W (d, u), recurrent_kernel U (u, u), bias b (u): u(d + u + 1) parameters.
public final class SimpleRNNCell: BuiltInRecurrentCell {
    override class var kind: CellKind { .simpleRNN }

    public convenience init(_ units: Int, activation: Activation = .tanh, useBias: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                            biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0, name: String? = nil) {
        self.init(configuration: CellConfiguration(units: units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                                                     recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                                                     dropout: dropout, recurrentDropout: recurrentDropout), name: name)
    }

    public override var className: String { "SimpleRNNCell" }

    public override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        let x = try inputDropout.apply(inputs[0], training: training)
        let hPrev = try recurrentDropout.apply(states[0], training: training)
        var z = try x.matmul(kernel!.value)
        if let bias { z = try z + bias.value }
        let h = try activation(z + hPrev.matmul(recurrentKernel!.value))
        return ([h], [h])
    }
}
