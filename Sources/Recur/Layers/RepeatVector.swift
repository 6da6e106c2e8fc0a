/// `RepeatVector(n)`: (batch, features) → (batch, n, features), every step a copy of the input:
/// y[b, t, f] = x[b, f]. Drops the mask, as Keras. No weights.
public final class RepeatVector: Layer {
    public let n: Int

    public init(_ n: Int, name: String? = nil) {
        self.n = n
        super.init(name: name)
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        try requireRank(inputShapes[0], 2, of: self)
        return [[inputShapes[0][0], n, inputShapes[0][1]]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireRank(x.shape.map(Optional.some), 2, of: self)
        guard UntrustedLimits.elementCount([x.shape[0], n, x.shape[1]]) != nil else {
            throw RecurError.invalidArgument(errorSubject, "output (\(x.shape[0]), \(n), \(x.shape[1])) would hold more than \(UntrustedLimits.maxElements) values")
        }
        // One broadcasting product instead of n copies (differentiable as every op).
        let step = try x.reshaped(to: [x.shape[0], 1, x.shape[1]])
        return LayerOutput([try step * Tensor.ones([1, n, 1])])
    }

    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["n": KerasValue.number(n)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        RepeatVector(try a.int("n", in: 1...UntrustedLimits.maxRepeats), name: a.name)
    }
}
