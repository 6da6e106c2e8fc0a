/// Keras's `PReLU`: y = max(x, 0) − alpha · max(−x, 0), with a learned `alpha` per input position:
/// alpha has the input's shape without the batch axis, 1 along `sharedAxes` (axes of the input,
/// 1 = the first after the batch), whose dimensions must be known elsewhere. Passes a mask through.
public final class PReLU: Layer {
    public let sharedAxes: [Int]
    public let alphaInitializer: Initializer
    public private(set) var alpha: Variable?

    public init(alphaInitializer: Initializer = .zeros, sharedAxes: [Int] = [], name: String? = nil) {
        (self.alphaInitializer, self.sharedAxes) = (alphaInitializer, sharedAxes)
        super.init(name: name)
    }

    public override var variables: [Variable] { alpha.map { [$0] } ?? [] }

    public override func build(inputShapes: [[Int?]]) throws {
        let s = inputShapes[0]
        guard s.count >= 2, sharedAxes.allSatisfy({ (1..<s.count).contains($0) }) else {
            throw RecurError.invalidArgument(errorSubject, "sharedAxes \(sharedAxes) must be axes 1..<\(s.count) of its input \(describeShape(s))")
        }
        let shape = try (1..<s.count).map { axis -> Int in
            if sharedAxes.contains(axis) { return 1 }
            guard let d = s[axis] else {
                throw RecurError.shapeMismatch(errorSubject, expected: "a known dimension at axis \(axis) (or share alpha along it)", actual: describeShape(s))
            }
            return d
        }
        alpha = Variable(name: "alpha", value: try alphaInitializer.make(shape, for: name))
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        guard let alpha else { throw RecurError.invalidArgument(errorSubject, "is not built") }
        let fits = x.rank == alpha.shape.count + 1 && zip(x.shape.dropFirst(), alpha.shape).allSatisfy { $1 == 1 || $0 == $1 }
        guard fits else {
            throw RecurError.shapeMismatch(errorSubject, expected: "(batch, \(alpha.shape.map(String.init).joined(separator: ", ")))",
                                           actual: describeShape(x.shape))
        }
        return LayerOutput([try x.relu() - alpha.value * (-x).relu()], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["alpha_initializer": KerasValue.initializer(alphaInitializer), "alpha_regularizer": .null, "alpha_constraint": .null,
         "shared_axes": sharedAxes.isEmpty ? .null : KerasValue.ints(sharedAxes)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        var shared: [Int] = []
        if let v = a.value("shared_axes"), !v.isNull {
            shared = v.array == nil ? [try a.int("shared_axes", in: 1...UntrustedLimits.maxRank)] : try a.intList("shared_axes")
            guard shared.allSatisfy({ (1...UntrustedLimits.maxRank).contains($0) }) else {
                throw a.invalid("'shared_axes' must be axes in 1...\(UntrustedLimits.maxRank), got \(shared)")
            }
        }
        return PReLU(alphaInitializer: try a.initializer("alpha_initializer", default: .zeros), sharedAxes: shared, name: a.name)
    }
}
