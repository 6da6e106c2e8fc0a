/// `Masking(maskValue:)`: a timestep whose features all equal `maskValue` is masked out; those
/// features are also zeroed, as Keras does. Input (batch, time, features...).
public final class Masking: Layer {
    public let maskValue: Float

    public init(maskValue: Float = 0, inputShape: [Int?]? = nil, name: String? = nil) {
        self.maskValue = maskValue
        super.init(name: name)
        declaredInputShape = inputShape
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        guard x.rank >= 3 else {
            throw RecurError.shapeMismatch(errorSubject, expected: "(batch, time, features...)", actual: describeShape(x.shape))
        }
        let differs = try x.notEqual(Tensor(maskValue))
        var keep = differs
        for axis in stride(from: x.rank - 1, through: 2, by: -1) { keep = try keep.max(alongAxis: axis) }
        let features = Array(repeating: 1, count: x.rank - 2)
        let y = try x * keep.reshaped(to: Array(x.shape.prefix(2)) + features)
        return LayerOutput([y], mask: keep)
    }

    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["mask_value": KerasValue.number(maskValue)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        Masking(maskValue: try a.float("mask_value", default: 0), name: a.name)
    }
}
