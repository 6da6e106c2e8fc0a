/// `LayerNormalization(epsilon: 1e-3)` over the last axis (Keras 3's defaults: axis -1, epsilon
/// 1e-3, center and scale). For each position, with μ and σ² the mean and (biased) variance of
/// x[..., :]: y = γ·(x − μ)/√(σ² + ε) + β, computed as Keras does: inv = γ/√(σ² + ε),
/// y = x·inv + (β − μ·inv). Any shape (..., d) → the same shape; gamma (d) and beta (d), in that
/// order. Passes the mask through, as Keras.
public final class LayerNormalization: Layer {
    public let epsilon: Float
    public let center: Bool
    public let scale: Bool
    public let gammaInitializer: Initializer
    public let betaInitializer: Initializer
    public private(set) var gamma: Variable?
    public private(set) var beta: Variable?

    public init(epsilon: Float = 1e-3, center: Bool = true, scale: Bool = true,
                gammaInitializer: Initializer = .ones, betaInitializer: Initializer = .zeros, name: String? = nil) {
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.gammaInitializer = gammaInitializer
        self.betaInitializer = betaInitializer
        super.init(name: name)
    }

    public override var variables: [Variable] { [gamma, beta].compactMap { $0 } }

    public override func build(inputShapes: [[Int?]]) throws {
        let d = try knownLastDimension(inputShapes[0], of: self)
        if scale { gamma = Variable(name: "gamma", value: try gammaInitializer.make([d], for: name)) }
        if center { beta = Variable(name: "beta", value: try betaInitializer.make([d], for: name)) }
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let s = inputShapes[0]
        if let g = gamma ?? beta, let d = s.last ?? nil, d != g.shape[0] {
            throw RecurError.shapeMismatch(errorSubject, expected: "(..., \(g.shape[0]))", actual: describeShape(s))
        }
        return [s]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        if let g = gamma ?? beta, x.shape.last != g.shape[0] {
            throw RecurError.shapeMismatch(errorSubject, expected: "(..., \(g.shape[0]))", actual: describeShape(x.shape))
        }
        let mean = try x.mean(alongAxis: -1, keepingDimensions: true)
        let variance = try (x - mean).squared().mean(alongAxis: -1, keepingDimensions: true)
        var inv = try Tensor(1) / (variance + epsilon).sqrt()
        if let gamma { inv = try inv * gamma.value }
        var shift = -(try mean * inv)
        if let beta { shift = try shift + beta.value }
        return LayerOutput([try x * inv + shift], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["axis": .array([.number(-1)]), "epsilon": KerasValue.number(epsilon), "center": .bool(center), "scale": .bool(scale),
         "rms_scaling": .bool(false), "beta_initializer": KerasValue.initializer(betaInitializer),
         "gamma_initializer": KerasValue.initializer(gammaInitializer), "beta_regularizer": .null, "gamma_regularizer": .null,
         "beta_constraint": .null, "gamma_constraint": .null]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        if a.value("rms_scaling")?.bool == true { throw RecurError.unsupported(op: a.layer, message: "argument rms_scaling=True") }
        try a.requireLastAxis()
        return LayerNormalization(epsilon: try a.float("epsilon", default: 1e-3, ifNull: 1e-7), center: try a.bool("center", default: true),
                                  scale: try a.bool("scale", default: true),
                                  gammaInitializer: try a.initializer("gamma_initializer", default: .ones),
                                  betaInitializer: try a.initializer("beta_initializer", default: .zeros), name: a.name)
    }
}
