/// The cell of `ConvLSTM1D`, `ConvLSTM2D` and `ConvLSTM3D` (Keras's `ConvLSTMCell`): an LSTM whose
/// products are convolutions over r spatial axes. x (batch, s₁…s_r, channels); h and c
/// (batch, o₁…o_r, filters):
///
///     z = conv(x, W) + b + conv_same(h₋₁, U)          (batch, o₁…o_r, 4f), gates [i, f, c, o]
///     i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o)
///     c = f ⊙ c₋₁ + i ⊙ g,   h = o ⊙ tanh(c)
///
/// conv(x, W) slides the kernel W (k₁…k_r, channels, 4f) with the `window`'s strides, padding and
/// dilation (o₁…o_r are its output sizes); conv_same(h, U) slides the recurrent kernel U
/// (k₁…k_r, f, 4f) with stride 1 and `same` padding, so the states keep their sizes. bias (4f); with
/// `unitForgetBias` its forget part starts at 1. Dropout draws one mask per sample and sequence for x
/// and one for h, shared by the four gates (Keras draws one per gate; the numbers differ anyway).
public final class ConvLSTMCell: RecurrentCell {
    /// `units` is the number of filters.
    public let configuration: CellConfiguration
    public let window: ConvolutionWindow
    var inputDropout: SequenceDropout
    var recurrentDropout: SequenceDropout
    public private(set) var kernel: Variable?
    public private(set) var recurrentKernel: Variable?
    public private(set) var bias: Variable?
    /// The states' spatial sizes (o₁…o_r), known once built.
    public private(set) var outputSizes: [Int] = []
    /// The input and recurrent convolutions' windows, made once built (every step reuses them).
    private var inputWindows: SpatialWindows?
    private var recurrentWindows: SpatialWindows?

    public init(configuration: CellConfiguration, window: ConvolutionWindow, name: String? = nil) {
        (self.configuration, self.window) = (configuration, window)
        inputDropout = SequenceDropout(rate: configuration.dropout)
        recurrentDropout = SequenceDropout(rate: configuration.recurrentDropout)
        super.init(name: name)
    }

    public var filters: Int { configuration.units }
    public override var className: String { "ConvLSTMCell" }
    public override var stateShapes: [[Int]] { [outputSizes + [filters], outputSizes + [filters]] }
    public override var outputShapes: [[Int]] { [outputSizes + [filters]] }
    public override var variables: [Variable] { [kernel, recurrentKernel, bias].compactMap { $0 } }

    /// Builds for a step of (batch, s₁…s_r, channels), all but the batch known.
    public override func build(inputShapes: [[Int?]]) throws {
        let shape = inputShapes[0], rank = window.rank
        try requireRank(shape, rank + 2, of: self, what: "step input (batch, \(rank) spatial axes, channels)")
        let known = shape.dropFirst().compactMap { $0 }
        guard known.count == rank + 1 else {
            throw RecurError.shapeMismatch(errorSubject, expected: "a step input whose spatial sizes and channels are known", actual: describeShape(shape))
        }
        try window.check(rank: rank, for: self)
        let inputWindows = try window.windows(over: Array(known.dropLast()), for: self)
        outputSizes = inputWindows.counts
        (self.inputWindows, recurrentWindows) = (inputWindows, try window.recurrentWindows(over: outputSizes, for: self))
        let c = configuration, gates = 4 * filters, channels = known[rank]
        kernel = Variable(name: "kernel", value: try c.kernelInitializer.make(window.kernelSize + [channels, gates], for: name))
        recurrentKernel = Variable(name: "recurrent_kernel", value: try c.recurrentInitializer.make(window.kernelSize + [filters, gates], for: name))
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
        guard let kernel, let recurrentKernel, let inputWindows, let recurrentWindows else {
            throw RecurError.invalidArgument(errorSubject, "is not built")
        }
        let x = try inputDropout.apply(inputs[0], training: training)
        guard x.rank == window.rank + 2, Array(x.shape.dropFirst().dropLast()) == inputWindows.axes.map(\.time) else {
            throw RecurError.shapeMismatch(errorSubject, expected: "a step input of spatial sizes \(describeShape(inputWindows.axes.map(\.time)))",
                                           actual: describeShape(x.shape))
        }
        let hPrev = try recurrentDropout.apply(states[0], training: training)
        var z = try inputWindows.convolve(x, kernel: kernel.value, layer: self)
        if let bias { z = try z + bias.value }
        z = try z + recurrentWindows.convolve(hPrev, kernel: recurrentKernel.value, layer: self)
        let f = filters, stateShape = [x.shape[0]] + outputSizes + [f]
        if configuration.activation == .tanh && configuration.recurrentActivation == .sigmoid {
            // The usual activations: the gates of every (sample, position) row as one vectorised op.
            let rows = stateShape.dropLast().reduce(1, *)
            let (h, c) = try Tensor.lstmGateStep(z.reshaped(to: [rows, 4 * f]), cPrev: states[1].reshaped(to: [rows, f]))
            let (hOut, cOut) = (try h.reshaped(to: stateShape), try c.reshaped(to: stateShape))
            return ([hOut], [hOut, cOut])
        }
        let gates = try z.split(sizes: [f, f, f, f], alongAxis: z.rank - 1)
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
