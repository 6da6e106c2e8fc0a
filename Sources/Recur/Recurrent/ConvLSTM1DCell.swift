/// The cell of `ConvLSTM1D` (Keras's `ConvLSTMCell` of rank 1): an LSTM whose products are
/// convolutions along a spatial axis. x (batch, width, channels); h and c (batch, width′, filters):
///
///     z = conv(x, W) + b + conv_same(h₋₁, U)          (batch, width′, 4f), gates [i, f, c, o]
///     i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o)
///     c = f ⊙ c₋₁ + i ⊙ g,   h = o ⊙ tanh(c)
///
/// conv(x, W) slides the kernel W (kernelSize, channels, 4f) along the width with the `window`'s
/// strides, padding and dilation (width′ is its output length); conv_same(h, U) slides the recurrent
/// kernel U (kernelSize, f, 4f) with stride 1 and `same` padding, so h keeps its width. bias (4f); with
/// `unitForgetBias` its forget part starts at 1. Dropout draws one mask per sample and sequence for x
/// and one for h, shared by the four gates (Keras draws one per gate; the numbers differ anyway).
public final class ConvLSTM1DCell: RecurrentCell {
    /// `units` is the number of filters.
    public let configuration: CellConfiguration
    public let window: ConvolutionWindow
    var inputDropout: SequenceDropout
    var recurrentDropout: SequenceDropout
    public private(set) var kernel: Variable?
    public private(set) var recurrentKernel: Variable?
    public private(set) var bias: Variable?
    /// The states' width (width′), known once built.
    public private(set) var outputWidth = 0

    public init(configuration: CellConfiguration, window: ConvolutionWindow, name: String? = nil) {
        (self.configuration, self.window) = (configuration, window)
        inputDropout = SequenceDropout(rate: configuration.dropout)
        recurrentDropout = SequenceDropout(rate: configuration.recurrentDropout)
        super.init(name: name)
    }

    public var filters: Int { configuration.units }
    public override var className: String { "ConvLSTMCell" }
    public override var stateShapes: [[Int]] { [[outputWidth, filters], [outputWidth, filters]] }
    public override var outputShapes: [[Int]] { [[outputWidth, filters]] }
    public override var variables: [Variable] { [kernel, recurrentKernel, bias].compactMap { $0 } }

    /// Builds for a step of (batch, width, channels), both known.
    public override func build(inputShapes: [[Int?]]) throws {
        let shape = inputShapes[0]
        try requireRank(shape, 3, of: self, what: "step input (batch, width, channels)")
        guard let width = shape[1], let channels = shape[2] else {
            throw RecurError.shapeMismatch(errorSubject, expected: "a step input (batch, width, channels) with width and channels known",
                                           actual: describeShape(shape))
        }
        try window.check(for: self)
        outputWidth = try window.windows(over: width, for: self).count
        let c = configuration, gates = 4 * filters
        kernel = Variable(name: "kernel", value: try c.kernelInitializer.make([window.kernelSize, channels, gates], for: name))
        recurrentKernel = Variable(name: "recurrent_kernel", value: try c.recurrentInitializer.make([window.kernelSize, filters, gates], for: name))
        if c.useBias {
            var b = try c.biasInitializer.make([gates], for: name)
            if c.unitForgetBias {
                let parts = try b.split(sizes: [filters, filters, 2 * filters], alongAxis: 0)
                b = try Tensor.concatenate([parts[0], Tensor.ones([filters]), parts[2]], alongAxis: 0)
            }
            bias = Variable(name: "bias", value: b)
        }
    }

    public override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        guard let kernel, let recurrentKernel else { throw RecurError.invalidArgument(errorSubject, "is not built") }
        let x = try inputDropout.apply(inputs[0], training: training)
        let hPrev = try recurrentDropout.apply(states[0], training: training)
        var z = try window.windows(over: x.shape[1], for: self).convolve(x, kernel: kernel.value, layer: self)
        if let bias { z = try z + bias.value }
        let recurrentWindows = try TimeWindows(time: outputWidth, size: window.kernelSize, stride: 1, dilation: 1, padding: .same, layer: self)
        z = try z + recurrentWindows.convolve(hPrev, kernel: recurrentKernel.value, layer: self)
        let (batch, f) = (x.shape[0], filters)
        if configuration.activation == .tanh && configuration.recurrentActivation == .sigmoid {
            // The usual activations: the gates of every (sample, position) row as one vectorised op.
            let (h, c) = try Tensor.lstmGateStep(z.reshaped(to: [batch * outputWidth, 4 * f]),
                                                 cPrev: states[1].reshaped(to: [batch * outputWidth, f]))
            let (hOut, cOut) = (try h.reshaped(to: [batch, outputWidth, f]), try c.reshaped(to: [batch, outputWidth, f]))
            return ([hOut], [hOut, cOut])
        }
        let gates = try z.split(sizes: [f, f, f, f], alongAxis: 2)
        let activation = configuration.activation, recurrentActivation = configuration.recurrentActivation
        let i = try recurrentActivation(gates[0]), forget = try recurrentActivation(gates[1])
        let g = try activation(gates[2]), o = try recurrentActivation(gates[3])
        let c = try forget * states[1] + i * g
        let h = try o * activation(c)
        return ([h], [h, c])
    }

    public override func resetDropoutMasks() {
        inputDropout.reset()
        recurrentDropout.reset()
    }
}
