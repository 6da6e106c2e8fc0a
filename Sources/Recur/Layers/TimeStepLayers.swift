/// Keras's layers that add, remove or repeat time steps of (batch, time, channels): `ZeroPadding1D`,
/// `Cropping1D` and `UpSampling1D`. No weights; they drop a mask, as Keras (which does not pad, crop
/// or repeat masks).

/// `ZeroPadding1D(before:after:)`: `before` zero steps, then x, then `after` zero steps.
public final class ZeroPadding1D: Layer {
    public let before: Int, after: Int

    public init(before: Int = 1, after: Int = 1, name: String? = nil) {
        (self.before, self.after) = (before, after)
        super.init(name: name)
    }

    public override var hasWeights: Bool { false }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireRank(s, 3, of: self)
        return [[s[0], s[1].map { $0 + before + after }, s[2]]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireRank(x.shape.map(Optional.some), 3, of: self)
        let (batch, time, channels) = (x.shape[0], x.shape[1], x.shape[2])
        let padded = time + before + after
        guard time > 0, UntrustedLimits.elementCount([Swift.max(batch, 1), padded, Swift.max(channels, 1)]) != nil else {
            throw RecurError.invalidArgument(errorSubject, "cannot pad \(describeShape(x.shape)) to \(padded) steps "
                                             + "(an input needs a step; at most \(UntrustedLimits.maxElements) values)")
        }
        // Every output step reads its input step (padding reads the nearest one) and padding is zeroed.
        let steps = (0..<padded).map { Float(Swift.min(Swift.max($0 - before, 0), time - 1)) }
        let real = (0..<padded).map { $0 >= before && $0 < before + time ? Float(1) : 0 }
        let y = try gatherTimeSteps(x, Tensor(steps)) * Tensor(shape: [1, padded, 1], scalars: real)
        return LayerOutput([y])
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["padding": KerasValue.ints([before, after]), "data_format": "channels_last"]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        let (before, after) = try a.stepPair("padding", default: (1, 1))
        return ZeroPadding1D(before: before, after: after, name: a.name)
    }
}

/// `Cropping1D(before:after:)`: x without its first `before` and last `after` steps (at least one
/// step must remain).
public final class Cropping1D: Layer {
    public let before: Int, after: Int

    public init(before: Int = 1, after: Int = 1, name: String? = nil) {
        (self.before, self.after) = (before, after)
        super.init(name: name)
    }

    public override var hasWeights: Bool { false }

    private func remaining(_ time: Int) throws -> Int {
        guard time > before + after else {
            throw RecurError.shapeMismatch(errorSubject, expected: "more than \(before + after) steps to crop \(before) and \(after)",
                                           actual: "\(time) steps")
        }
        return time - before - after
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireRank(s, 3, of: self)
        return [[s[0], try s[1].map(remaining), s[2]]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireRank(x.shape.map(Optional.some), 3, of: self)
        return LayerOutput([try x.slice(alongAxis: 1, before..<(before + remaining(x.shape[1])))])
    }

    public override func kerasConfig() throws -> [String: JSONValue] { ["cropping": KerasValue.ints([before, after])] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        let (before, after) = try a.stepPair("cropping", default: (1, 1))
        return Cropping1D(before: before, after: after, name: a.name)
    }
}

/// `UpSampling1D(size:)`: every step repeated `size` times, y[b, t·size + k, c] = x[b, t, c].
public final class UpSampling1D: Layer {
    public let size: Int

    public init(size: Int = 2, name: String? = nil) {
        self.size = size
        super.init(name: name)
    }

    public override var hasWeights: Bool { false }

    public override func build(inputShapes: [[Int?]]) throws {
        guard size >= 1 else { throw RecurError.invalidArgument(errorSubject, "size must be at least 1, got \(size)") }
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireRank(s, 3, of: self)
        return [[s[0], s[1].map { $0 * size }, s[2]]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireRank(x.shape.map(Optional.some), 3, of: self)
        guard UntrustedLimits.elementCount([Swift.max(x.shape[0], 1), x.shape[1], size, Swift.max(x.shape[2], 1)]) != nil else {
            throw RecurError.invalidArgument(errorSubject, "repeating \(describeShape(x.shape)) \(size) times would hold more than "
                                             + "\(UntrustedLimits.maxElements) values")
        }
        let steps = (0..<(x.shape[1] * size)).map { Float($0 / size) }
        return LayerOutput([try gatherTimeSteps(x, Tensor(steps))])
    }

    public override func kerasConfig() throws -> [String: JSONValue] { ["size": KerasValue.number(size)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        UpSampling1D(size: try a.int("size", default: 2, in: 1...UntrustedLimits.maxRepeats), name: a.name)
    }
}
