/// What `MaxPooling1D` and `AveragePooling1D` share: windows of `poolSize` steps every `strides` steps
/// (`TimeWindows`), each reduced to one step per channel: (batch, time, channels) →
/// (batch, windows, channels), channels last, no weights. Padding (`valid` or `same`) is left out of
/// a window, never read as a value. Drops a mask, as Keras. Subclasses give the reduction.
public class Pooling1D: Layer {
    public let poolSize: Int
    public let strides: Int
    public let padding: TimePadding

    /// `strides` nil is `poolSize`, as in Keras. `padding` is `valid` or `same` (`causal` is an error
    /// when the layer is built).
    public required init(poolSize: Int = 2, strides: Int? = nil, padding: TimePadding = .valid, name: String? = nil) {
        (self.poolSize, self.strides, self.padding) = (poolSize, strides ?? poolSize, padding)
        super.init(name: name)
    }

    public override var hasWeights: Bool { false }

    public override func build(inputShapes: [[Int?]]) throws {
        guard poolSize >= 1, strides >= 1 else {
            throw RecurError.invalidArgument(errorSubject, "poolSize and strides must be at least 1, got \(poolSize) and \(strides)")
        }
        guard padding != .causal else { throw RecurError.invalidArgument(errorSubject, "padding must be valid or same, got causal") }
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireRank(s, 3, of: self)
        return [[s[0], try TimeWindows.outputLength(time: s[1], size: poolSize, stride: strides, dilation: 1, padding: padding, layer: self), s[2]]]
    }

    /// x's windows, (batch, windows, poolSize, channels), and the windows themselves.
    func windows(of input: LayerInput) throws -> (taps: Tensor, windows: TimeWindows) {
        let x = input.tensors[0]
        try requireRank(x.shape.map(Optional.some), 3, of: self)
        let windows = try TimeWindows(time: x.shape[1], size: poolSize, stride: strides, dilation: 1, padding: padding, layer: self)
        return (try windows.gather(x, layer: self), windows)
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["pool_size": KerasValue.ints([poolSize]), "padding": .string(padding.rawValue), "strides": KerasValue.ints([strides]),
         "data_format": "channels_last"]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        let poolSize = try a.windowLength("pool_size", default: 2)
        let layer = self.init(poolSize: poolSize, strides: try a.windowLength("strides", default: poolSize),
                              padding: try a.timePadding(allowingCausal: false), name: a.name)
        try layer.build(inputShapes: [])
        return layer
    }
}

/// `MaxPooling1D(poolSize:)`: y[b, w, c] = max over window w's steps of x[b, t, c] (`Pooling1D`); the
/// gradient goes to the first maximal step.
public final class MaxPooling1D: Pooling1D {
    public override func call(_ input: LayerInput) throws -> LayerOutput {
        // A padding tap reads its window's nearest real step (`TimeWindows.gather`): a repeat, which
        // leaves the maximum as it is.
        LayerOutput([try windows(of: input).taps.max(alongAxis: 2)])
    }
}

/// `AveragePooling1D(poolSize:)`: y[b, w, c] = the mean over window w's real steps of x[b, t, c]
/// (`Pooling1D`): with `same` padding an edge window divides by its real steps only, as Keras.
public final class AveragePooling1D: Pooling1D {
    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let (taps, windows) = try windows(of: input)
        guard windows.hasPadding else { return LayerOutput([try taps.mean(alongAxis: 2)]) }
        let valid = windows.validTaps
        let counts = try valid.sum(alongAxis: 2)
        return LayerOutput([try (taps * valid).sum(alongAxis: 2) / counts])
    }
}
