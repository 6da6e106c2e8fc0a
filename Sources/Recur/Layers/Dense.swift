/// `Dense(units)`: y = activation(x·W + b) on the last axis. x (..., d) → y (..., units);
/// kernel (d, units), bias (units). Passes a mask through unchanged.
public final class Dense: Layer {
    public let units: Int
    public let activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public let biasInitializer: Initializer
    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?

    public init(_ units: Int, activation: Activation = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                inputShape: [Int?]? = nil, name: String? = nil) {
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        super.init(name: name)
        declaredInputShape = inputShape
    }

    public override var variables: [Variable] { [kernel, bias].compactMap { $0 } }

    public override func build(inputShapes: [[Int?]]) throws {
        let d = try knownLastDimension(inputShapes[0], of: self)
        kernel = Variable(name: "kernel", value: try kernelInitializer.make([d, units], for: name))
        if useBias { bias = Variable(name: "bias", value: try biasInitializer.make([units], for: name)) }
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        guard inputShapes[0].count >= 2 else {
            throw RecurError.shapeMismatch(errorSubject, expected: "input of rank ≥ 2", actual: describeShape(inputShapes[0]))
        }
        if let kernel, let d = inputShapes[0].last!, d != kernel.shape[0] {
            throw RecurError.shapeMismatch(errorSubject, expected: "last dimension \(kernel.shape[0])", actual: describeShape(inputShapes[0]))
        }
        return [Array(inputShapes[0].dropLast()) + [units]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        guard let kernel, x.shape.last == kernel.shape[0] else {
            throw RecurError.shapeMismatch(errorSubject, expected: "(..., \(kernel?.shape[0] ?? 0))", actual: describeShape(x.shape))
        }
        var y = try x.matmul(kernel.value)
        if let bias { y = try y + bias.value }
        return LayerOutput([try activation(y)], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["units": KerasValue.number(units), "activation": .string(activation.rawValue), "use_bias": .bool(useBias),
         "kernel_initializer": KerasValue.initializer(kernelInitializer), "bias_initializer": KerasValue.initializer(biasInitializer)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        a.ignore(["lora_alpha"])
        return Dense(try a.width("units"), activation: try a.activation("activation", default: .linear),
                     useBias: try a.bool("use_bias", default: true),
                     kernelInitializer: try a.initializer("kernel_initializer", default: .glorotUniform),
                     biasInitializer: try a.initializer("bias_initializer", default: .zeros),
                     inputShape: try a.inputShape()?.shape, name: a.name)
    }
}
