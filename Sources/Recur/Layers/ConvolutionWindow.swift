/// The window of a convolution over `rank` spatial axes (`Conv2D`, `Conv3D`, a `ConvLSTM` layer's
/// input convolution), as Keras's arguments give it: `kernelSize` taps `dilationRate` steps apart, every `strides` steps, along each
/// axis, with `valid` or `same` padding (`TimePadding`). Keras allows strides or dilation above 1, not
/// both.
public struct ConvolutionWindow: Equatable, Sendable {
    public var kernelSize: [Int]
    public var strides: [Int]
    public var padding: TimePadding
    public var dilationRate: [Int]

    /// Strides and dilation default to 1 along every axis of `kernelSize`.
    public init(kernelSize: [Int], strides: [Int]? = nil, padding: TimePadding = .valid, dilationRate: [Int]? = nil) {
        let ones = Array(repeating: 1, count: kernelSize.count)
        (self.kernelSize, self.strides, self.padding, self.dilationRate) = (kernelSize, strides ?? ones, padding, dilationRate ?? ones)
    }

    /// The number of spatial axes.
    public var rank: Int { kernelSize.count }

    /// Throws, naming `layer`, unless every list has one length per axis of `rank` and every length is
    /// at least 1, padding is not causal and strides and dilation are not both above 1.
    func check(rank: Int, for layer: Layer) throws {
        for (key, values) in [("kernelSize", kernelSize), ("strides", strides), ("dilationRate", dilationRate)] {
            guard values.count == rank, values.allSatisfy({ $0 >= 1 }) else {
                throw RecurError.invalidArgument(layer.errorSubject, "\(key) must be \(rank) lengths of at least 1, got \(values)")
            }
        }
        guard padding != .causal else { throw RecurError.invalidArgument(layer.errorSubject, "padding must be valid or same, got causal") }
        guard strides.allSatisfy({ $0 == 1 }) || dilationRate.allSatisfy({ $0 == 1 }) else {
            throw RecurError.invalidArgument(layer.errorSubject, "strides (\(strides)) and dilationRate (\(dilationRate)) cannot both be above 1")
        }
    }

    /// The input convolution's windows over spatial axes of `sizes`.
    func windows(over sizes: [Int], for layer: Layer) throws -> SpatialWindows {
        try SpatialWindows(axes: try sizes.indices.map { a in
            try TimeWindows(time: sizes[a], size: kernelSize[a], stride: strides[a], dilation: dilationRate[a], padding: padding, layer: layer)
        }, layer: layer)
    }

    /// The recurrent convolution's windows over the states' `sizes`: stride 1 and `same` padding, so the
    /// states keep their sizes.
    func recurrentWindows(over sizes: [Int], for layer: Layer) throws -> SpatialWindows {
        try SpatialWindows(axes: try sizes.indices.map { a in
            try TimeWindows(time: sizes[a], size: kernelSize[a], stride: 1, dilation: 1, padding: .same, layer: layer)
        }, layer: layer)
    }
}

extension ConvolutionWindow {
    init(_ a: KerasArguments, rank: Int) throws {
        self.init(kernelSize: try a.windowLengths("kernel_size", rank: rank), strides: try a.windowLengths("strides", rank: rank, default: 1),
                  padding: try a.timePadding(allowingCausal: false), dilationRate: try a.windowLengths("dilation_rate", rank: rank, default: 1))
    }

    var kerasConfig: [String: JSONValue] {
        ["kernel_size": KerasValue.ints(kernelSize), "strides": KerasValue.ints(strides), "padding": .string(padding.rawValue),
         "dilation_rate": KerasValue.ints(dilationRate), "data_format": "channels_last"]
    }
}
