/// What `GlobalAveragePooling1D` and `GlobalMaxPooling1D` share: a reduction over time,
/// (batch, time, features) → (batch, features), or (batch, 1, features) with `keepdims`, channels last,
/// no weights. Subclasses give the reduction in `call`.
public class GlobalPooling1D: Layer {
    public let keepdims: Bool

    public required init(keepdims: Bool = false, name: String? = nil) {
        self.keepdims = keepdims
        super.init(name: name)
    }

    public override var hasWeights: Bool { false }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireRank(s, 3, of: self)
        return [keepdims ? [s[0], 1, s[2]] : [s[0], s[2]]]
    }

    public override func kerasConfig() throws -> [String: JSONValue] { ["data_format": "channels_last", "keepdims": .bool(keepdims)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        return self.init(keepdims: try a.bool("keepdims", default: false), name: a.name)
    }
}
