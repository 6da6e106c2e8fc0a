/// `LayerNormalization(epsilon: 1e-3)`: each position normalised over `axes` (Keras 3's defaults:
/// the last axis, epsilon 1e-3, center and scale). With μ and σ² the mean and (biased) variance over
/// the axes: y = γ·(x − μ)/√(σ² + ε) + β, computed as Keras does: inv = γ/√(σ² + ε),
/// y = x·inv + (β − μ·inv). Keras's deprecated `rms_scaling` drops the centring and β:
/// y = γ·x/√(σ² + ε). Any shape → the same shape; gamma and beta have the sizes of the input at the
/// axes, in that order. Passes the mask through, as Keras.
public final class LayerNormalization: Layer {
    /// The axes normalised over (Keras's `axis`; negative counts from the last).
    public let axes: [Int]
    public let epsilon: Float
    public let center: Bool
    public let scale: Bool
    /// Keras's `rms_scaling`: no centring and no beta.
    public let rmsScaling: Bool
    public let gammaInitializer: Initializer
    public let betaInitializer: Initializer
    public private(set) var gamma: Variable?
    public private(set) var beta: Variable?

    public init(axes: [Int] = [-1], epsilon: Float = 1e-3, center: Bool = true, scale: Bool = true, rmsScaling: Bool = false,
                gammaInitializer: Initializer = .ones, betaInitializer: Initializer = .zeros, name: String? = nil) {
        self.axes = axes
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rmsScaling = rmsScaling
        self.gammaInitializer = gammaInitializer
        self.betaInitializer = betaInitializer
        super.init(name: name)
    }

    public override var variables: [Variable] { [gamma, beta].compactMap { $0 } }

    public override func build(inputShapes: [[Int?]]) throws {
        let shape = inputShapes[0]
        let sizes = try knownSizes(shape, at: try resolvedAxes(axes, rank: shape.count))
        if scale || rmsScaling { gamma = Variable(name: "gamma", value: try gammaInitializer.make(sizes, for: name)) }
        if center && !rmsScaling { beta = Variable(name: "beta", value: try betaInitializer.make(sizes, for: name)) }
    }

    /// The weights' shape laid against `shape`, checked against the built weights.
    private func weightShape(against shape: [Int?]) throws -> [Int] {
        let resolved = try resolvedAxes(axes, rank: shape.count)
        if let g = gamma ?? beta, resolved.map({ shape[$0] }) != g.shape.map(Optional.some) {
            let expected = shape.indices.map { a in resolved.firstIndex(of: a).map { String(g.shape[$0]) } ?? "..." }
            throw RecurError.shapeMismatch(errorSubject, expected: "(\(expected.joined(separator: ", ")))", actual: describeShape(shape))
        }
        return try broadcastShape(shape, at: resolved)
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        _ = try weightShape(against: inputShapes[0])
        return [inputShapes[0]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        let laid = try weightShape(against: x.shape.map(Optional.some))
        let reduced = try resolvedAxes(axes, rank: x.rank)
        let mean = try x.mean(alongAxes: reduced, keepingDimensions: true)
        let variance = try (x - mean).squared().mean(alongAxes: reduced, keepingDimensions: true)
        var inv = try Tensor(1) / (variance + epsilon).sqrt()
        if let gamma { inv = try inv * gamma.value.reshaped(to: laid) }
        if rmsScaling { return LayerOutput([try x * inv], mask: input.mask) }
        var shift = -(try mean * inv)
        if let beta { shift = try shift + beta.value.reshaped(to: laid) }
        return LayerOutput([try x * inv + shift], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["axis": KerasValue.ints(axes), "epsilon": KerasValue.number(epsilon), "center": .bool(center), "scale": .bool(scale),
         "rms_scaling": .bool(rmsScaling), "beta_initializer": KerasValue.initializer(betaInitializer),
         "gamma_initializer": KerasValue.initializer(gammaInitializer), "beta_regularizer": .null, "gamma_regularizer": .null,
         "beta_constraint": .null, "gamma_constraint": .null]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        LayerNormalization(axes: try a.axes(default: [-1]), epsilon: try a.float("epsilon", default: 1e-3, ifNull: 1e-7),
                           center: try a.bool("center", default: true), scale: try a.bool("scale", default: true),
                           rmsScaling: try a.bool("rms_scaling", default: false),
                           gammaInitializer: try a.initializer("gamma_initializer", default: .ones),
                           betaInitializer: try a.initializer("beta_initializer", default: .zeros), name: a.name)
    }
}
