/// `SimpleRNNCell(units)`: h = activation(x·W + b + h₋₁·U).
/// kernel W (d, u), recurrent_kernel U (u, u), bias b (u): u(d + u + 1) parameters.
public final class SimpleRNNCell: RecurrentCell {
    public let units: Int
    public let activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public let recurrentInitializer: Initializer
    public let biasInitializer: Initializer
    var inputDropout: SequenceDropout
    var recurrentDropout: SequenceDropout
    public private(set) var kernel: Variable?
    public private(set) var recurrentKernel: Variable?
    public private(set) var bias: Variable?

    public init(_ units: Int, activation: Activation = .tanh, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros, dropout: Float = 0, recurrentDropout: Float = 0, name: String? = nil) {
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.recurrentInitializer = recurrentInitializer
        self.biasInitializer = biasInitializer
        self.inputDropout = SequenceDropout(rate: dropout)
        self.recurrentDropout = SequenceDropout(rate: recurrentDropout)
        super.init(name: name)
    }

    public override var className: String { "SimpleRNNCell" }
    public override var stateShapes: [[Int]] { [[units]] }
    public override var outputShapes: [[Int]] { [[units]] }
    public override var variables: [Variable] { [kernel, recurrentKernel, bias].compactMap { $0 } }
    public var dropout: Float { inputDropout.rate }
    public var recurrentDropoutRate: Float { recurrentDropout.rate }

    public override func build(inputShapes: [[Int?]]) throws {
        let d = try knownLastDimension(inputShapes[0], layer: name)
        kernel = Variable(name: "kernel", value: try kernelInitializer.make([d, units], for: name))
        recurrentKernel = Variable(name: "recurrent_kernel", value: try recurrentInitializer.make([units, units], for: name))
        if useBias { bias = Variable(name: "bias", value: try biasInitializer.make([units], for: name)) }
    }

    public override func resetDropoutMasks() {
        inputDropout.reset()
        recurrentDropout.reset()
    }

    public override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        let x = try inputDropout.apply(inputs[0], training: training)
        let hPrev = try recurrentDropout.apply(states[0], training: training)
        var z = try x.matmul(kernel!.value)
        if let bias { z = try z + bias.value }
        let h = try activation(z + hPrev.matmul(recurrentKernel!.value))
        return ([h], [h])
    }
}
