/// Keras's `Rescaling` preprocessing layer: y = x · scale + offset (`Rescaling(scale: 1 / 255)` for
/// pixel values). `scale` and `offset` are numbers or arrays that broadcast against the input (from
/// the last axis; per channel, say). Any shape → the same shape; no weights; passes the mask through.
public final class Rescaling: Layer {
    public let scale: Tensor
    public let offset: Tensor

    public init(scale: Tensor, offset: Tensor = Tensor(0), name: String? = nil) {
        (self.scale, self.offset) = (scale, offset)
        super.init(name: name)
    }

    public convenience init(scale: Float, offset: Float = 0, name: String? = nil) {
        self.init(scale: Tensor(scale), offset: Tensor(offset), name: name)
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let shape = inputShapes[0]
        for (what, value) in [("scale", scale), ("offset", offset)] {
            let fits = value.rank <= shape.count && zip(value.shape.reversed(), shape.reversed()).allSatisfy { $1 == nil || $0 == 1 || $0 == $1 }
            guard fits else {
                throw RecurError.shapeMismatch(errorSubject, expected: "an input that \(what) \(describeShape(value.shape)) broadcasts to",
                                               actual: describeShape(shape))
            }
        }
        return [shape]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        _ = try outputShapes(inputShapes: [x.shape.map(Optional.some)], initialStateShapes: [])
        return LayerOutput([try x * scale + offset], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] {
        func value(_ t: Tensor) -> JSONValue {
            t.rank == 0 ? KerasValue.number(t.scalars[0])
                : .object(["class_name": "__numpy__", "config": .object(["value": KerasValue.nestedArray(t), "dtype": "float32"])])
        }
        return ["scale": value(scale), "offset": value(offset)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        func value(_ key: String, default defaultValue: Float?) throws -> Tensor {
            guard let v = a.value(key), !v.isNull else {
                guard let defaultValue else { throw a.invalid("config is missing '\(key)'") }
                return Tensor(defaultValue)
            }
            // A number, nested lists, or the `__numpy__` / `__tensor__` object Keras writes for an array.
            let wrapped = ["__numpy__", "__tensor__"].contains(v["class_name"]?.string ?? "") ? v["config"]?["value"] : nil
            return try KerasValue.tensor(fromNestedArray: wrapped ?? v, what: "\(a.layer) '\(key)'")
        }
        return Rescaling(scale: try value("scale", default: nil), offset: try value("offset", default: 0), name: a.name)
    }
}
