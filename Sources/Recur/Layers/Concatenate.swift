/// `Concatenate(axis: -1)`: joins a list of tensors along `axis` (counted with the batch axis, as
/// Keras; negative from the end). Inputs (batch, ..., dₖ, ...) agree on every other dimension;
/// the output has Σ dₖ along `axis`.
///
/// Mask, as Keras's `Concatenate.compute_mask`: none when no input has one; otherwise each input's
/// mask (all ones when it has none) is broadcast to the input's shape, the masks are concatenated
/// along `axis` and reduced with OR over the last axis (for `axis: -1`, the OR of the masks).
public final class Concatenate: Layer {
    public let axis: Int

    public init(axis: Int = -1, name: String? = nil) {
        self.axis = axis
        super.init(name: name)
    }

    public override func build(inputShapes: [[Int?]]) throws {
        _ = try concatenatedShape(inputShapes)
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        [try concatenatedShape(inputShapes)]
    }

    /// The output shape; throws naming the layer, the axis and the shapes when the inputs do not fit.
    func concatenatedShape(_ shapes: [[Int?]]) throws -> [Int?] {
        let label = errorSubject
        guard let first = shapes.first else {
            throw RecurError.invalidArgument(label, "must be called on a list of at least 1 input")
        }
        let rank = first.count
        guard rank > 0, -rank..<rank ~= axis else {
            throw RecurError.invalidArgument(label, "axis \(axis) is out of range for inputs of shape \(describeShape(first))")
        }
        let a = axis < 0 ? axis + rank : axis
        var out = first
        for (k, shape) in shapes.enumerated().dropFirst() {
            let fits = shape.count == rank && (0..<rank).allSatisfy { i in
                i == a || out[i] == nil || shape[i] == nil || out[i] == shape[i]
            }
            guard fits else {
                var expected = first
                expected[a] = nil
                throw RecurError.shapeMismatch(label, what: "input \(k) matching input 0 except on the concatenation axis \(axis)",
                                               expected: expected, actual: shape)
            }
            out[a] = out[a].flatMap { d in shape[a].map { d + $0 } }
        }
        return out
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let xs = input.tensors
        _ = try concatenatedShape(xs.map { $0.shape.map(Optional.some) })
        let y = try Tensor.concatenate(xs, alongAxis: axis)
        var masks = Array(input.masks.prefix(xs.count))
        masks += Array(repeating: nil, count: xs.count - masks.count)
        guard masks.contains(where: { $0 != nil }) else { return LayerOutput([y]) }
        let full = try zip(xs, masks).map { x, mask -> Tensor in
            guard let mask else { return .ones(x.shape) }
            return try Merge.broadcastable(mask.detached, like: x) * Tensor.ones(x.shape)
        }
        let mask = try Tensor.concatenate(full, alongAxis: axis).max(alongAxis: -1)
        return LayerOutput([y], mask: mask)
    }

    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["axis": KerasValue.number(axis)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        Concatenate(axis: try a.int("axis", default: -1, in: -UntrustedLimits.maxRank...UntrustedLimits.maxRank), name: a.name)
    }
}
