/// `GlobalMaxPooling1D()`: the maximum over time, (batch, time, features) → (batch, features)
/// ((batch, 1, features) with `keepdims`): y[b, f] = maxₜ x[b, t, f]. As Keras, it ignores a mask
/// (masked steps take part) and drops it.
public final class GlobalMaxPooling1D: Layer {
    public let keepdims: Bool

    public init(keepdims: Bool = false, name: String? = nil) {
        self.keepdims = keepdims
        super.init(name: name)
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireRank(s, 3, of: self)
        return [keepdims ? [s[0], 1, s[2]] : [s[0], s[2]]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireRank(x.shape.map(Optional.some), 3, of: self)
        return LayerOutput([try x.max(alongAxis: 1, keepingDimensions: keepdims)])
    }

    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["data_format": "channels_last", "keepdims": .bool(keepdims)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        return GlobalMaxPooling1D(keepdims: try a.bool("keepdims", default: false), name: a.name)
    }
}
