/// `Reshape(targetShape:)`: (batch, d...) → (batch, targetShape...), the same scalars in row-major
/// order. `targetShape` excludes the batch axis; one entry may be -1 (inferred from the rest).
/// Drops the mask, as Keras. No weights.
public final class Reshape: Layer {
    public let targetShape: [Int]

    public init(targetShape: [Int], name: String? = nil) {
        self.targetShape = targetShape
        super.init(name: name)
    }

    var label: RecurError.Subject { errorSubject }

    /// Keras's `compute_reshape_output_shape`: the target shape with -1 resolved when the input's
    /// dimensions are known (None otherwise); throws when the sizes cannot agree.
    func resolved(_ input: [Int?]) throws -> [Int?] {
        let unknown = targetShape.filter { $0 == -1 }.count
        guard unknown <= 1, targetShape.allSatisfy({ $0 == -1 || $0 > 0 }) else {
            throw RecurError.invalidArgument(label, "target_shape \(targetShape) must hold positive sizes and at most one -1")
        }
        let dims = input.dropFirst()
        if dims.contains(where: { $0 == nil }) { return targetShape.map { $0 == -1 ? nil : $0 } }
        let size = dims.reduce(1) { $0 * $1! }
        let known = targetShape.filter { $0 != -1 }.reduce(1, *)
        let fits = unknown == 0 ? known == size : known > 0 && size % known == 0
        guard fits else {
            throw RecurError.shapeMismatch(label, expected: "an input with \(unknown == 0 ? "\(known)" : "a multiple of \(known)") scalars per sample for target_shape \(describeShape(targetShape))",
                                           actual: describeShape(input))
        }
        return targetShape.map { $0 == -1 ? size / known : $0 }
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        [[inputShapes[0].first ?? nil] + (try resolved(inputShapes[0]))]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        let shape = try resolved(x.shape.map(Optional.some))
        return LayerOutput([try x.reshaped(to: [x.shape[0]] + shape.map { $0! })])
    }

    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["target_shape": KerasValue.ints(targetShape)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        Reshape(targetShape: try a.intList("target_shape"), name: a.name)
    }
}
