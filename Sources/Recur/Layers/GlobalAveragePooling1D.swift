/// `GlobalAveragePooling1D()`: the mean over time, (batch, time, features) → (batch, features)
/// ((batch, 1, features) with `keepdims`).
///
/// With a mask (batch, time), as Keras: only the steps that count are averaged,
/// y[b] = Σₜ m[b,t]·x[b,t] / Σₜ m[b,t] (NaN for a row with no step). The output has no mask.
public final class GlobalAveragePooling1D: Layer {
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
        guard let mask = input.mask else {
            return LayerOutput([try x.mean(alongAxis: 1, keepingDimensions: keepdims)])
        }
        guard mask.shape == Array(x.shape.prefix(2)) else {
            throw RecurError.shapeMismatch(op: "GlobalAveragePooling1D layer '\(name)' mask", expected: describeShape(Array(x.shape.prefix(2))),
                                           actual: describeShape(mask.shape))
        }
        let m = try mask.detached.reshaped(to: mask.shape + [1])
        let total = try (x * m).sum(alongAxis: 1, keepingDimensions: keepdims)
        let steps = try m.sum(alongAxis: 1, keepingDimensions: keepdims)
        return LayerOutput([try total / steps])
    }

    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["data_format": "channels_last", "keepdims": .bool(keepdims)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        return GlobalAveragePooling1D(keepdims: try a.bool("keepdims", default: false), name: a.name)
    }
}
