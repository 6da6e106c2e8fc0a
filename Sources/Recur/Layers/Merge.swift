/// The base of Keras's elementwise merge layers (`Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
/// `Minimum`): called on a list of tensors, it combines them elementwise into one.
///
/// Shapes: inputs (batch, d1, ..., dk) whose non-batch dimensions agree or are 1 (broadcast), as
/// Keras's `Merge`; inputs of lower rank get axes of extent 1 inserted after the batch axis.
/// Mask: as Keras's `Merge.compute_mask`, the output mask is the logical OR of the input masks when
/// every input has one, and no mask otherwise. Merge layers have no weights.
open class Merge: Layer {
    /// The exact number of inputs the layer takes (`Subtract`: 2), or nil for any number ≥ 1.
    open var requiredInputCount: Int? { nil }

    open override func build(inputShapes: [[Int?]]) throws {
        _ = try mergedShape(inputShapes)
    }

    open override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        [try mergedShape(inputShapes)]
    }

    /// Keras's output shape for elementwise merges; throws naming the layer and both shapes when two
    /// inputs do not fit.
    func mergedShape(_ shapes: [[Int?]]) throws -> [Int?] {
        let label = errorSubject
        guard !shapes.isEmpty else { throw RecurError.invalidArgument(label, "must be called on a list of at least 1 input") }
        if let n = requiredInputCount, shapes.count != n {
            throw RecurError.invalidArgument(label, "must be called on exactly \(n) inputs, got \(shapes.count)")
        }
        for (k, s) in shapes.enumerated() where s.isEmpty {
            throw RecurError.shapeMismatch(label, expected: "inputs with a batch axis", actual: "\(describeShape(s)) for input \(k)")
        }
        let batches = Set(shapes.compactMap { $0[0] })
        guard batches.count <= 1 else {
            let other = shapes.first { $0[0] != nil && $0[0] != shapes[0][0] } ?? shapes[0]
            throw RecurError.shapeMismatch(label, what: "inputs of one batch size, like input 0", expected: shapes[0], actual: other)
        }
        var out = Array(shapes[0].dropFirst())
        for (k, shape) in shapes.enumerated().dropFirst() {
            var a = out, b = Array(shape.dropFirst())
            if a.count < b.count { swap(&a, &b) }
            var merged = Array(a.prefix(a.count - b.count))
            for (i, j) in zip(a.suffix(b.count), b) {
                switch (i, j) {
                case (nil, _), (_, nil): merged.append(nil)
                case (1?, _): merged.append(j)
                case (_, 1?): merged.append(i)
                default:
                    guard i == j else {
                        throw RecurError.shapeMismatch(label, what: "input \(k) of the shape of input 0 (or 1 where they differ)",
                                                       expected: shapes[0], actual: shape)
                    }
                    merged.append(i)
                }
            }
            out = merged
        }
        return [batches.first ?? nil] + out
    }

    open override func call(_ input: LayerInput) throws -> LayerOutput {
        let xs = input.tensors
        _ = try mergedShape(xs.map { $0.shape.map(Optional.some) })
        // Lower-rank inputs get axes of extent 1 after the batch axis, as Keras reshapes them.
        let rank = xs.map(\.rank).max()!
        let aligned = try xs.map { x -> Tensor in
            x.rank == rank ? x : try x.reshaped(to: [x.shape[0]] + Array(repeating: 1, count: rank - x.rank) + x.shape.dropFirst())
        }
        var masks = input.masks
        if masks.count < xs.count { masks += Array(repeating: nil, count: xs.count - masks.count) }
        let (y, mask) = try merge(aligned, masks: Array(masks.prefix(xs.count)))
        return LayerOutput([y], mask: mask)
    }

    /// Combines same-rank inputs, with each input's mask; returns the output and its mask.
    /// The default applies `combine` and ORs the masks.
    open func merge(_ xs: [Tensor], masks: [Tensor?]) throws -> (Tensor, Tensor?) {
        (try combine(xs), try Merge.orMasks(masks))
    }

    /// The elementwise combination itself.
    open func combine(_ xs: [Tensor]) throws -> Tensor {
        throw RecurError.unsupported(errorSubject, "\(className) combines nothing: a merge layer overrides combine(_:) or merge(_:masks:)")
    }

    /// The logical OR of the masks when every one is given (Keras's `Merge.compute_mask`), else nil.
    static func orMasks(_ masks: [Tensor?]) throws -> Tensor? {
        guard var out = masks.first ?? nil else { return nil }
        for m in masks.dropFirst() {
            guard let m else { return nil }
            out = try out.detached.maximum(m.detached)
        }
        return out
    }

    /// A mask (batch, time) shaped to broadcast against `x` (batch, time, features...).
    static func broadcastable(_ mask: Tensor, like x: Tensor) throws -> Tensor {
        guard mask.rank < x.rank else { return mask }
        return try mask.reshaped(to: mask.shape + Array(repeating: 1, count: x.rank - mask.rank))
    }

    public required override init(name: String? = nil) { super.init(name: name) }

    open override var hasWeights: Bool { false }

    open override func kerasConfig() throws -> [String: JSONValue] { [:] }

    open override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer { self.init(name: a.name) }
}
