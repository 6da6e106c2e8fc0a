/// `Permute(dims)`: reorders the non-batch axes; `dims` is 1-based as in Keras, so `Permute([2, 1])`
/// turns (batch, a, b) into (batch, b, a): out.shape[i] = in.shape[dims[i − 1]] for i ≥ 1.
/// Drops the mask, as Keras. No weights.
public final class Permute: Layer {
    public let dims: [Int]

    public init(_ dims: [Int], name: String? = nil) throws {
        guard dims.sorted() == Array(1...Swift.max(dims.count, 1)), !dims.isEmpty else {
            throw RecurError.invalidArgument(op: "Permute", message: "dims \(dims) must be a permutation of 1...\(dims.count) (the batch axis 0 stays first)")
        }
        self.dims = dims
        super.init(name: name)
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        try requireRank(s, dims.count + 1, layer: "Permute layer '\(name)' (dims \(dims))")
        return [[s[0]] + dims.map { s[$0] }]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireRank(x.shape.map(Optional.some), dims.count + 1, layer: "Permute layer '\(name)' (dims \(dims))")
        return LayerOutput([try x.transposed([0] + dims)])
    }

    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["dims": KerasValue.ints(dims)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        do { return try Permute(try a.intList("dims"), name: a.name) } catch let error as RecurError where error.kind == .invalidArgument {
            throw a.invalid(error.message)
        }
    }
}
