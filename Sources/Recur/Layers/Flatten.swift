/// `Flatten()`: (batch, d₁, ..., dₖ) → (batch, d₁·...·dₖ) in row-major order (batch,) → (batch, 1).
/// The output dimension is unknown (None) when any input dimension is. Drops the mask, as Keras
/// (Flatten does not support masking). No weights.
public final class Flatten: Layer {
    public override init(name: String? = nil) { super.init(name: name) }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        guard let batch = s.first else {
            throw RecurError.shapeMismatch(errorSubject, expected: "an input with a batch axis", actual: describeShape(s))
        }
        let rest = s.dropFirst()
        let flat: Int? = rest.contains { $0 == nil } ? nil : rest.reduce(1) { $0 * $1! }
        return [[batch, flat]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        guard x.rank >= 1 else {
            throw RecurError.shapeMismatch(errorSubject, expected: "an input with a batch axis", actual: describeShape(x.shape))
        }
        return LayerOutput([try x.reshaped(to: [x.shape[0], x.shape.dropFirst().reduce(1, *)])])
    }

    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["data_format": "channels_last"] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireChannelsLast()
        return Flatten(name: a.name)
    }
}
