/// `Conv1D(filters, kernelSize:)`: a convolution over time, channels last.
/// x (batch, time, channels) → y (batch, windows, filters) with
/// y[b, w, f] = activation(bias[f] + Σₖ Σ_c x[b, w·stride − left + k·dilation, c] · kernel[k, c, f]),
/// padding taps reading 0 (`TimePadding`; windows: `TimeWindows`). kernel (kernelSize,
/// channels / groups, filters), bias (filters), as Keras stores them; with `groups` > 1, group g's
/// filters see only group g's channels. Drops a mask, as Keras (it does not support masking).
public final class Conv1D: Layer {
    public let filters: Int
    public let kernelSize: Int
    public let strides: Int
    public let padding: TimePadding
    public let dilationRate: Int
    public let groups: Int
    public let activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public let biasInitializer: Initializer
    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?

    /// Keras's arguments and defaults. Keras's rules are checked when the layer is built, naming it:
    /// `filters` a multiple of `groups`, and `strides` and `dilationRate` not both above 1.
    public init(_ filters: Int, kernelSize: Int, strides: Int = 1, padding: TimePadding = .valid, dilationRate: Int = 1,
                groups: Int = 1, activation: Activation = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                inputShape: [Int?]? = nil, name: String? = nil) {
        (self.filters, self.kernelSize, self.strides, self.padding, self.dilationRate, self.groups) =
            (filters, kernelSize, strides, padding, dilationRate, groups)
        (self.activation, self.useBias, self.kernelInitializer, self.biasInitializer) = (activation, useBias, kernelInitializer, biasInitializer)
        super.init(name: name)
        declaredInputShape = inputShape
    }

    public override var variables: [Variable] { [kernel, bias].compactMap { $0 } }

    public override func build(inputShapes: [[Int?]]) throws {
        try requireRank(inputShapes[0], 3, of: self)
        let channels = try knownLastDimension(inputShapes[0], of: self)
        try checkArguments(channels: channels)
        kernel = Variable(name: "kernel", value: try kernelInitializer.make([kernelSize, channels / groups, filters], for: name))
        if useBias { bias = Variable(name: "bias", value: try biasInitializer.make([filters], for: name)) }
    }

    private func checkArguments(channels: Int) throws {
        for (key, value) in [("filters", filters), ("kernelSize", kernelSize), ("strides", strides), ("dilationRate", dilationRate), ("groups", groups)]
        where value < 1 {
            throw RecurError.invalidArgument(errorSubject, "\(key) must be at least 1, got \(value)")
        }
        guard filters % groups == 0, channels % groups == 0 else {
            throw RecurError.invalidArgument(errorSubject, "filters (\(filters)) and input channels (\(channels)) must be multiples of groups (\(groups))")
        }
        guard strides == 1 || dilationRate == 1 else {
            throw RecurError.invalidArgument(errorSubject, "strides (\(strides)) and dilationRate (\(dilationRate)) cannot both be above 1")
        }
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireRank(s, 3, of: self)
        if let kernel, let channels = s[2], channels != kernel.shape[1] * groups {
            throw RecurError.shapeMismatch(errorSubject, expected: "\(kernel.shape[1] * groups) channels", actual: describeShape(s))
        }
        let time = try TimeWindows.outputLength(time: s[1], size: kernelSize, stride: strides, dilation: dilationRate, padding: padding, layer: self)
        return [[s[0], time, filters]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        guard let kernel, x.rank == 3, x.shape[2] == kernel.shape[1] * groups else {
            throw RecurError.shapeMismatch(errorSubject, expected: "(batch, time, \((self.kernel?.shape[1] ?? 0) * groups))", actual: describeShape(x.shape))
        }
        let windows = try TimeWindows(time: x.shape[1], size: kernelSize, stride: strides, dilation: dilationRate, padding: padding, layer: self)
        var y = try SpatialWindows(axes: [windows], layer: self).convolve(x, kernel: kernel.value, groups: groups, layer: self)
        if let bias { y = try y + bias.value }
        return LayerOutput([try activation(y)])
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["filters": KerasValue.number(filters), "kernel_size": KerasValue.ints([kernelSize]), "strides": KerasValue.ints([strides]),
         "padding": .string(padding.rawValue), "data_format": "channels_last", "dilation_rate": KerasValue.ints([dilationRate]),
         "groups": KerasValue.number(groups), "activation": .string(activation.rawValue), "use_bias": .bool(useBias),
         "kernel_initializer": KerasValue.initializer(kernelInitializer), "bias_initializer": KerasValue.initializer(biasInitializer)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        a.ignore(["lora_alpha"])
        return Conv1D(try a.width("filters"), kernelSize: try a.windowLength("kernel_size"), strides: try a.windowLength("strides", default: 1),
                      padding: try a.timePadding(allowingCausal: true), dilationRate: try a.windowLength("dilation_rate", default: 1),
                      groups: try a.int("groups", default: 1, in: 1...UntrustedLimits.maxUnits),
                      activation: try a.activation("activation", default: .linear), useBias: try a.bool("use_bias", default: true),
                      kernelInitializer: try a.initializer("kernel_initializer", default: .glorotUniform),
                      biasInitializer: try a.initializer("bias_initializer", default: .zeros),
                      inputShape: try a.inputShape()?.shape, name: a.name)
    }
}
