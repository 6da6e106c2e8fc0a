/// What `GlobalAveragePooling2D`/`3D` and `GlobalMaxPooling2D`/`3D` share: a reduction over the r =
/// `rank` spatial axes, (batch, s₁…s_r, channels) → (batch, channels), or (batch, 1…1, channels) with
/// `keepdims`, channels last, no weights. Ignores and drops a mask, as Keras. Subclasses give the
/// rank and the reduction of (batch, s₁·…·s_r, channels) over axis 1.
public class GlobalPooling: Layer {
    /// The number of spatial axes (0 in this base, which is no layer of its own).
    class var rank: Int { 0 }

    public let keepdims: Bool

    public required init(keepdims: Bool = false, name: String? = nil) {
        self.keepdims = keepdims
        super.init(name: name)
    }

    public override var hasWeights: Bool { false }

    private func requireInputRank(_ shape: [Int?]) throws {
        try requireSpatialInput(shape, rank: Self.rank)
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireInputRank(s)
        return [[s[0]] + (keepdims ? Array(repeating: 1, count: Self.rank) : []) + [s[Self.rank + 1]]]
    }

    /// (batch, positions, channels) reduced over its positions, keeping that axis.
    func reduce(_ positions: Tensor) throws -> Tensor {
        throw RecurError.unsupported(errorSubject, "\(className) is the base of GlobalAveragePooling and GlobalMaxPooling; use their 2- or 3-D classes")
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireInputRank(x.shape.map(Optional.some))
        let (batch, channels) = (x.shape[0], x.shape[x.rank - 1])
        let reduced = try reduce(x.reshaped(to: [batch, x.shape.dropFirst().dropLast().reduce(1, *), channels]))
        return LayerOutput([try reduced.reshaped(to: [batch] + (keepdims ? Array(repeating: 1, count: Self.rank) : []) + [channels])])
    }

    public override func kerasConfig() throws -> [String: JSONValue] { ["data_format": "channels_last", "keepdims": .bool(keepdims)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        return self.init(keepdims: try a.bool("keepdims", default: false), name: a.name)
    }
}

/// The mean over the spatial axes per channel (`GlobalPooling`).
public class GlobalAveragePooling: GlobalPooling {
    override func reduce(_ positions: Tensor) throws -> Tensor { try positions.mean(alongAxis: 1, keepingDimensions: true) }
}

/// The maximum over the spatial axes per channel (`GlobalPooling`).
public class GlobalMaxPooling: GlobalPooling {
    override func reduce(_ positions: Tensor) throws -> Tensor { try positions.max(alongAxis: 1, keepingDimensions: true) }
}

/// `GlobalAveragePooling2D()`: the mean over (rows, columns).
public final class GlobalAveragePooling2D: GlobalAveragePooling { override class var rank: Int { 2 } }

/// `GlobalAveragePooling3D()`: the mean over (depth, rows, columns).
public final class GlobalAveragePooling3D: GlobalAveragePooling { override class var rank: Int { 3 } }

/// `GlobalMaxPooling2D()`: the maximum over (rows, columns).
public final class GlobalMaxPooling2D: GlobalMaxPooling { override class var rank: Int { 2 } }

/// `GlobalMaxPooling3D()`: the maximum over (depth, rows, columns).
public final class GlobalMaxPooling3D: GlobalMaxPooling { override class var rank: Int { 3 } }
