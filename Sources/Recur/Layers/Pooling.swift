/// What `MaxPooling2D`/`3D` and `AveragePooling2D`/`3D` share: windows of `poolSize` positions every
/// `strides` positions along each of r = `rank` spatial axes (`SpatialWindows`), each reduced to one
/// position per channel: (batch, s₁…s_r, channels) → (batch, o₁…o_r, channels), channels last, no
/// weights. Padding (`valid` or `same`) is left out of a window, never read as a value. Drops a mask,
/// as Keras. Subclasses give the rank and the reduction.
public class Pooling: Layer {
    /// The number of spatial axes (0 in this base, which is no layer of its own).
    class var rank: Int { 0 }

    public let poolSize: [Int]
    public let strides: [Int]
    public let padding: TimePadding

    /// `strides` nil is `poolSize`, as in Keras; `poolSize` nil is 2 along every axis. `padding` is
    /// `valid` or `same`. The lengths are checked when the layer is built, naming it.
    public required init(poolSize: [Int]? = nil, strides: [Int]? = nil, padding: TimePadding = .valid, name: String? = nil) {
        let size = poolSize ?? Array(repeating: 2, count: Self.rank)
        (self.poolSize, self.strides, self.padding) = (size, strides ?? size, padding)
        super.init(name: name)
    }

    public override var hasWeights: Bool { false }

    /// The pooling window as a convolution's (dilation 1), checked against the rank.
    private func window() throws -> ConvolutionWindow {
        try requireSpatialClass(rank: Self.rank)
        let window = ConvolutionWindow(kernelSize: poolSize, strides: strides, padding: padding)
        try window.check(rank: Self.rank, for: self)
        return window
    }

    public override func build(inputShapes: [[Int?]]) throws { _ = try window() }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireSpatialInput(s, rank: Self.rank)
        let sizes = try (0..<Self.rank).map { a in
            try TimeWindows.outputLength(time: s[a + 1], size: poolSize[a], stride: strides[a], dilation: 1, padding: padding, layer: self)
        }
        return [[s[0]] + sizes + [s[Self.rank + 1]]]
    }

    /// x reduced over each window by `reduce`, which takes the taps (batch, positions, taps, channels)
    /// and, where any tap is padding, their validity (1, positions, taps, 1), and returns
    /// (batch, positions, channels).
    func pooled(_ input: LayerInput, _ reduce: (Tensor, Tensor?) throws -> Tensor) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireSpatialInput(x.shape.map(Optional.some), rank: Self.rank)
        let windows = try window().windows(over: Array(x.shape.dropFirst().dropLast()), for: self)
        let (taps, valid) = try windows.gather(x, layer: self)
        return LayerOutput([try reduce(taps, valid).reshaped(to: [x.shape[0]] + windows.counts + [x.shape[x.rank - 1]])])
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["pool_size": KerasValue.ints(poolSize), "padding": .string(padding.rawValue), "strides": KerasValue.ints(strides),
         "data_format": "channels_last"]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        let poolSize = try a.windowLengths("pool_size", rank: rank, default: 2)
        let strides = a.value("strides")?.isNull == false ? try a.windowLengths("strides", rank: rank) : poolSize
        let layer = self.init(poolSize: poolSize, strides: strides, padding: try a.timePadding(allowingCausal: false), name: a.name)
        try layer.build(inputShapes: [])
        return layer
    }
}

/// y = the maximum over each window's positions, per channel (`Pooling`); the gradient goes to the
/// first maximal position. A padding tap reads its window's nearest real position: a repeat, which
/// leaves the maximum as it is.
public class MaxPooling: Pooling {
    public override func call(_ input: LayerInput) throws -> LayerOutput {
        try pooled(input) { taps, _ in try taps.max(alongAxis: 2) }
    }
}

/// y = the mean over each window's real positions, per channel (`Pooling`): with `same` padding an
/// edge window divides by its real positions only, as Keras.
public class AveragePooling: Pooling {
    public override func call(_ input: LayerInput) throws -> LayerOutput {
        try pooled(input) { taps, valid in
            guard let valid else { return try taps.mean(alongAxis: 2) }
            return try (taps * valid).sum(alongAxis: 2) / valid.sum(alongAxis: 2)
        }
    }
}

/// `MaxPooling2D(poolSize: [2, 2])`: `MaxPooling` over (batch, rows, columns, channels).
public final class MaxPooling2D: MaxPooling { override class var rank: Int { 2 } }

/// `MaxPooling3D(poolSize: [2, 2, 2])`: `MaxPooling` over (batch, depth, rows, columns, channels).
public final class MaxPooling3D: MaxPooling { override class var rank: Int { 3 } }

/// `AveragePooling2D(poolSize: [2, 2])`: `AveragePooling` over (batch, rows, columns, channels).
public final class AveragePooling2D: AveragePooling { override class var rank: Int { 2 } }

/// `AveragePooling3D(poolSize: [2, 2, 2])`: `AveragePooling` over (batch, depth, rows, columns, channels).
public final class AveragePooling3D: AveragePooling { override class var rank: Int { 3 } }
