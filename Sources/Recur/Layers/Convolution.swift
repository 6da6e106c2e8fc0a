/// What `Conv2D` and `Conv3D` share (Keras's `BaseConv`): a convolution over r = `rank` spatial axes,
/// channels last. x (batch, s₁…s_r, channels) → (batch, o₁…o_r, filters) with
///
///     y[b, o, f] = activation(bias[f] + Σ_taps Σ_c x[b, s(o, tap), c] · kernel[tap, c, f])
///
/// the window's taps (`ConvolutionWindow`: kernel sizes, strides, `valid` or `same` padding, dilation
/// per axis; o₁…o_r its output sizes) reading 0 where they fall in the padding. kernel
/// (k₁…k_r, channels / groups, filters) and bias (filters), as Keras stores them; with `groups` > 1,
/// group g's filters see only group g's channels. Drops a mask, as Keras (it does not support masking).
public class Convolution: Layer {
    /// The number of spatial axes (0 in this base, which is no layer of its own).
    class var rank: Int { 0 }

    public let filters: Int
    public let window: ConvolutionWindow
    public let groups: Int
    public let activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public let biasInitializer: Initializer
    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?

    public required init(filters: Int, window: ConvolutionWindow, groups: Int = 1, activation: Activation = .linear, useBias: Bool = true,
                         kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                         inputShape: [Int?]? = nil, name: String? = nil) {
        (self.filters, self.window, self.groups, self.activation, self.useBias) = (filters, window, groups, activation, useBias)
        (self.kernelInitializer, self.biasInitializer) = (kernelInitializer, biasInitializer)
        super.init(name: name)
        declaredInputShape = inputShape
    }

    /// Keras's arguments and defaults; `kernelSize`, and `strides` and `dilationRate` where given (1
    /// along every axis otherwise), have one length per spatial axis. Keras's rules are checked when
    /// the layer is built, naming it.
    public convenience init(_ filters: Int, kernelSize: [Int], strides: [Int]? = nil, padding: TimePadding = .valid, dilationRate: [Int]? = nil,
                            groups: Int = 1, activation: Activation = .linear, useBias: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                            inputShape: [Int?]? = nil, name: String? = nil) {
        self.init(filters: filters, window: ConvolutionWindow(kernelSize: kernelSize, strides: strides, padding: padding, dilationRate: dilationRate),
                  groups: groups, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                  biasInitializer: biasInitializer, inputShape: inputShape, name: name)
    }

    public override var variables: [Variable] { [kernel, bias].compactMap { $0 } }

    /// Throws, naming this layer, unless `shape` is (batch, r spatial axes, channels).
    private func requireInputRank(_ shape: [Int?]) throws {
        try requireSpatialInput(shape, rank: Self.rank)
    }

    public override func build(inputShapes: [[Int?]]) throws {
        try requireInputRank(inputShapes[0])
        let channels = try knownLastDimension(inputShapes[0], of: self)
        try window.check(rank: Self.rank, for: self)
        guard filters >= 1, groups >= 1, filters % groups == 0, channels % groups == 0 else {
            throw RecurError.invalidArgument(errorSubject, "filters (\(filters)) and input channels (\(channels)) must be positive multiples of groups (\(groups))")
        }
        kernel = Variable(name: "kernel", value: try kernelInitializer.make(window.kernelSize + [channels / groups, filters], for: name))
        if useBias { bias = Variable(name: "bias", value: try biasInitializer.make([filters], for: name)) }
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireInputRank(s)
        if let kernel, let channels = s.last ?? nil, channels != kernel.shape[Self.rank] * groups {
            throw RecurError.shapeMismatch(errorSubject, expected: "\(kernel.shape[Self.rank] * groups) channels", actual: describeShape(s))
        }
        let sizes = try (0..<Self.rank).map { a in
            try TimeWindows.outputLength(time: s[a + 1], size: window.kernelSize[a], stride: window.strides[a], dilation: window.dilationRate[a],
                                         padding: window.padding, layer: self)
        }
        return [[s[0]] + sizes + [filters]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireInputRank(x.shape.map(Optional.some))
        guard let kernel, x.rank == Self.rank + 2, x.shape[x.rank - 1] == kernel.shape[Self.rank] * groups else {
            throw RecurError.shapeMismatch(errorSubject, expected: "(batch, \(Self.rank) spatial axes, \((self.kernel?.shape[Self.rank] ?? 0) * groups))",
                                           actual: describeShape(x.shape))
        }
        let windows = try window.windows(over: Array(x.shape.dropFirst().dropLast()), for: self)
        var y = try windows.convolve(x, kernel: kernel.value, groups: groups, layer: self)
        if let bias { y = try y + bias.value }
        return LayerOutput([try activation(y)])
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["filters": KerasValue.number(filters), "groups": KerasValue.number(groups), "activation": .string(activation.rawValue),
         "use_bias": .bool(useBias), "kernel_initializer": KerasValue.initializer(kernelInitializer),
         "bias_initializer": KerasValue.initializer(biasInitializer)].merging(window.kerasConfig) { $1 }
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        a.ignore(["lora_alpha"])
        return self.init(filters: try a.width("filters"), window: try ConvolutionWindow(a, rank: rank),
                         groups: try a.int("groups", default: 1, in: 1...UntrustedLimits.maxUnits),
                         activation: try a.activation("activation", default: .linear), useBias: try a.bool("use_bias", default: true),
                         kernelInitializer: try a.initializer("kernel_initializer", default: .glorotUniform),
                         biasInitializer: try a.initializer("bias_initializer", default: .zeros),
                         inputShape: try a.inputShape()?.shape, name: a.name)
    }
}

/// `Conv2D(filters, kernelSize: [3, 3])`: a `Convolution` over two spatial axes,
/// x (batch, rows, columns, channels) → (batch, rows′, columns′, filters).
public final class Conv2D: Convolution { override class var rank: Int { 2 } }

/// `Conv3D(filters, kernelSize: [3, 3, 3])`: a `Convolution` over three spatial axes,
/// x (batch, depth, rows, columns, channels) → (batch, depth′, rows′, columns′, filters).
public final class Conv3D: Convolution { override class var rank: Int { 3 } }
