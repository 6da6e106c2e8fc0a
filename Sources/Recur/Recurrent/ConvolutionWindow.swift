/// The window of a `ConvLSTM1D`'s input convolution, as Keras's arguments give it: `kernelSize` taps
/// `dilationRate` steps apart, every `strides` steps, with `valid` or `same` padding (`TimePadding`).
/// Keras allows strides or dilation above 1, not both.
public struct ConvolutionWindow: Equatable, Sendable {
    public var kernelSize: Int
    public var strides = 1
    public var padding = TimePadding.valid
    public var dilationRate = 1

    public init(kernelSize: Int, strides: Int = 1, padding: TimePadding = .valid, dilationRate: Int = 1) {
        (self.kernelSize, self.strides, self.padding, self.dilationRate) = (kernelSize, strides, padding, dilationRate)
    }

    /// Throws, naming `layer`, unless every length is at least 1, padding is not causal and strides and
    /// dilation are not both above 1.
    func check(for layer: Layer) throws {
        for (key, value) in [("kernelSize", kernelSize), ("strides", strides), ("dilationRate", dilationRate)] where value < 1 {
            throw RecurError.invalidArgument(layer.errorSubject, "\(key) must be at least 1, got \(value)")
        }
        guard padding != .causal else { throw RecurError.invalidArgument(layer.errorSubject, "padding must be valid or same, got causal") }
        guard strides == 1 || dilationRate == 1 else {
            throw RecurError.invalidArgument(layer.errorSubject, "strides (\(strides)) and dilationRate (\(dilationRate)) cannot both be above 1")
        }
    }

    /// The windows over `length` input positions.
    func windows(over length: Int, for layer: Layer) throws -> TimeWindows {
        try TimeWindows(time: length, size: kernelSize, stride: strides, dilation: dilationRate, padding: padding, layer: layer)
    }
}

extension ConvolutionWindow {
    init(_ a: KerasArguments) throws {
        self.init(kernelSize: try a.windowLength("kernel_size"), strides: try a.windowLength("strides", default: 1),
                  padding: try a.timePadding(allowingCausal: false), dilationRate: try a.windowLength("dilation_rate", default: 1))
    }

    var kerasConfig: [String: JSONValue] {
        ["kernel_size": KerasValue.ints([kernelSize]), "strides": KerasValue.ints([strides]), "padding": .string(padding.rawValue),
         "dilation_rate": KerasValue.ints([dilationRate]), "data_format": "channels_last"]
    }
}
