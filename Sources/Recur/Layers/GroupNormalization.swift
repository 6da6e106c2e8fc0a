/// Keras's `GroupNormalization`: the channels of `axis` split into `groups` groups of equal size,
/// each sample normalised over every position of each group, as Keras computes it: with the input
/// viewed as (..., G, C/G, ...) and μ, σ² the mean and (biased) variance of a sample's group,
///
///     inv = γ/√(σ² + ε),    y = x·inv + (β − μ·inv)
///
/// `groups: -1` makes one group per channel (instance normalisation); `groups: 1` normalises a
/// sample over all its values, as `LayerNormalization` over all axes. Gamma and beta have one value
/// per channel (C), in that order. Any shape of rank ≥ 2 with C known → the same shape; passes the
/// mask through, as Keras, without weighing positions by it.
public final class GroupNormalization: Layer {
    /// Keras's `groups`: a divisor of the channel count, or -1 for one group per channel.
    public let groups: Int
    /// The channel axis (Keras's `axis`; negative counts from the last; not the batch axis).
    public let axis: Int
    public let epsilon: Float
    public let center: Bool
    public let scale: Bool
    public let gammaInitializer: Initializer
    public let betaInitializer: Initializer
    public private(set) var gamma: Variable?
    public private(set) var beta: Variable?

    public init(groups: Int = 32, axis: Int = -1, epsilon: Float = 1e-3, center: Bool = true, scale: Bool = true,
                gammaInitializer: Initializer = .ones, betaInitializer: Initializer = .zeros, name: String? = nil) {
        (self.groups, self.axis, self.epsilon, self.center, self.scale) = (groups, axis, epsilon, center, scale)
        (self.gammaInitializer, self.betaInitializer) = (gammaInitializer, betaInitializer)
        super.init(name: name)
    }

    public override var variables: [Variable] { [gamma, beta].compactMap { $0 } }

    /// The channel axis counted from 0, its size and the group count for an input of `shape`, checked.
    private func layout(_ shape: [Int?]) throws -> (axis: Int, channels: Int, groups: Int) {
        let a = try resolvedAxes([axis], rank: shape.count)[0]
        guard a > 0 else {
            throw RecurError.invalidArgument(errorSubject, "axis \(axis) is the batch axis of an input of shape \(describeShape(shape))")
        }
        let channels = try knownSizes(shape, at: [a])[0]
        let g = groups == -1 ? channels : groups
        guard g > 0, g <= channels, channels % g == 0 else {
            throw RecurError.shapeMismatch(errorSubject, expected: "a channel count at axis \(a) that \(groups) groups divide",
                                           actual: describeShape(shape))
        }
        if let w = gamma ?? beta, w.shape != [channels] {
            throw RecurError.shapeMismatch(errorSubject, expected: "\(w.shape[0]) channels at axis \(a)", actual: describeShape(shape))
        }
        return (a, channels, g)
    }

    public override func build(inputShapes: [[Int?]]) throws {
        let channels = try layout(inputShapes[0]).channels
        if scale { gamma = Variable(name: "gamma", value: try gammaInitializer.make([channels], for: name)) }
        if center { beta = Variable(name: "beta", value: try betaInitializer.make([channels], for: name)) }
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        _ = try layout(inputShapes[0])
        return [inputShapes[0]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        let (a, channels, g) = try layout(x.shape.map(Optional.some))
        var grouped = x.shape
        grouped.replaceSubrange(a...a, with: [g, channels / g])
        var weightShape = Array(repeating: 1, count: grouped.count)
        weightShape[a] = g
        weightShape[a + 1] = channels / g
        let reduced = Array(1..<grouped.count).filter { $0 != a }
        let xg = try x.reshaped(to: grouped)
        let mean = try xg.mean(alongAxes: reduced, keepingDimensions: true)
        let variance = try (xg - mean).squared().mean(alongAxes: reduced, keepingDimensions: true)
        var inv = try Tensor(1) / (variance + epsilon).sqrt()
        if let gamma { inv = try inv * gamma.value.reshaped(to: weightShape) }
        var shift = -(try mean * inv)
        if let beta { shift = try shift + beta.value.reshaped(to: weightShape) }
        return LayerOutput([try (xg * inv + shift).reshaped(to: x.shape)], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["groups": KerasValue.number(groups), "axis": KerasValue.number(axis), "epsilon": KerasValue.number(epsilon),
         "center": .bool(center), "scale": .bool(scale), "beta_initializer": KerasValue.initializer(betaInitializer),
         "gamma_initializer": KerasValue.initializer(gammaInitializer), "beta_regularizer": .null, "gamma_regularizer": .null,
         "beta_constraint": .null, "gamma_constraint": .null]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        let groups = try a.int("groups", default: 32, in: -1...UntrustedLimits.maxUnits)
        guard groups != 0 else { throw a.invalid("'groups' must be a positive integer or -1, got 0") }
        let limit = UntrustedLimits.maxRank
        return GroupNormalization(groups: groups, axis: try a.int("axis", default: -1, in: -limit...limit),
                                  epsilon: try a.float("epsilon", default: 1e-3, ifNull: 1e-7),
                                  center: try a.bool("center", default: true), scale: try a.bool("scale", default: true),
                                  gammaInitializer: try a.initializer("gamma_initializer", default: .ones),
                                  betaInitializer: try a.initializer("beta_initializer", default: .zeros), name: a.name)
    }
}
