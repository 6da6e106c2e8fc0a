/// `BatchNormalization()` over the last axis (Keras defaults: momentum 0.99, epsilon 1e-3).
/// Training: normalise with the batch mean and (biased) variance over every axis but the last, and
/// move `movingMean`/`movingVariance` toward them: m ← m·momentum + batch·(1 − momentum).
/// Inference: normalise with the moving statistics. y = γ·(x − μ)/√(σ² + ε) + β.
/// Weights in Keras's order: gamma, beta, moving_mean, moving_variance (the last two not trainable).
///
/// In data-parallel training (`fit(…, distribution:)`) each rank normalises with its own rows'
/// statistics and the moving statistics are averaged over the ranks at every epoch's end (Keras's
/// default); with `synchronized: true` the batch statistics are those of the whole global batch — the
/// sums behind them are added over the ranks, in the forward pass and in the gradient — so training
/// equals one process's. Alone, both are the same layer.
public final class BatchNormalization: Layer {
    public let momentum: Float
    public let epsilon: Float
    public let center: Bool
    public let scale: Bool
    /// Keras 3's `synchronized`: batch statistics over every rank's rows.
    public let synchronized: Bool
    public private(set) var gamma: Variable?
    public private(set) var beta: Variable?
    public private(set) var movingMean: Variable?
    public private(set) var movingVariance: Variable?
    /// Inference's per-feature scale and shift, with the values they were folded from (moving mean,
    /// moving variance, γ, β): reused while those are the same storages and none needs a gradient.
    private var inferenceFold: (sources: [Tensor], scale: Tensor, shift: Tensor)?

    public init(momentum: Float = 0.99, epsilon: Float = 1e-3, center: Bool = true, scale: Bool = true,
                synchronized: Bool = false, name: String? = nil) {
        self.synchronized = synchronized
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        super.init(name: name)
    }

    public override var variables: [Variable] { [gamma, beta, movingMean, movingVariance].compactMap { $0 } }

    public override func build(inputShapes: [[Int?]]) throws {
        let d = try knownLastDimension(inputShapes[0], of: self)
        if scale { gamma = Variable(name: "gamma", value: try Initializer.ones.make([d], for: name)) }
        if center { beta = Variable(name: "beta", value: try Initializer.zeros.make([d], for: name)) }
        movingMean = Variable(name: "moving_mean", value: try Initializer.zeros.make([d], for: name), trainable: false)
        movingVariance = Variable(name: "moving_variance", value: try Initializer.ones.make([d], for: name), trainable: false)
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        guard let movingMean, let movingVariance, x.shape.last == movingMean.shape[0] else {
            throw RecurError.shapeMismatch(errorSubject, expected: "(..., \(movingMean?.shape[0] ?? 0))", actual: describeShape(x.shape))
        }
        // A frozen BatchNormalization normalises with its moving statistics even in training, as Keras.
        if input.training && isTrainable {
            let output: Tensor, mean: Tensor, variance: Tensor
            if let mask = input.mask {
                (mean, variance) = try maskedStatistics(x, mask: mask)
                let (scale, shift) = try fold(mean: mean, variance: variance)
                output = try x * scale + shift
            } else if synchronized, let collective = DataParallelContext.current, collective.size > 1 {
                (mean, variance) = try synchronizedStatistics(x, over: collective)
                let (scale, shift) = try fold(mean: mean, variance: variance)
                output = try x * scale + shift
            } else {
                (output, mean, variance) = try x.batchNormalized(gamma: gamma?.value, beta: beta?.value, epsilon: epsilon)
            }
            movingMean.value = try movingMean.value * momentum + mean.detached * (1 - momentum)
            movingVariance.value = try movingVariance.value * momentum + variance.detached * (1 - momentum)
            return LayerOutput([output], mask: input.mask)
        }
        let sources = [movingMean.value, movingVariance.value] + [gamma, beta].compactMap { $0?.value }
        if let fold = inferenceFold, fold.sources.count == sources.count,
           zip(fold.sources, sources).allSatisfy({ $0.sharesStorage(with: $1) && !$1.requiresGradient }) {
            return LayerOutput([try x * fold.scale + fold.shift], mask: input.mask)
        }
        let (scale, shift) = try fold(mean: movingMean.value, variance: movingVariance.value)
        inferenceFold = sources.contains(where: \.requiresGradient) ? nil : (sources, scale, shift)
        return LayerOutput([try x * scale + shift], mask: input.mask)
    }

    /// The per-feature scale s = γ/√(σ² + ε) and shift β − μ·s of y = x·s + (β − μ·s), which takes two
    /// passes over x.
    private func fold(mean: Tensor, variance: Tensor) throws -> (scale: Tensor, shift: Tensor) {
        var scale = try 1 / (variance + epsilon).sqrt()
        if let gamma { scale = try scale * gamma.value }
        var shift = try -(mean * scale)
        if let beta { shift = try shift + beta.value }
        return (scale, shift)
    }

    /// Keras's statistics of a masked batch in training: over the positions the mask (x's shape less
    /// its feature axis) keeps, μ = Σ m·x / (Σ m + 10⁻⁷) and σ² = Σ m·(x − μ)² / (Σ m + 10⁻⁷).
    private func maskedStatistics(_ x: Tensor, mask: Tensor) throws -> (mean: Tensor, variance: Tensor) {
        guard mask.shape == Array(x.shape.dropLast()) else {
            throw RecurError.shapeMismatch(errorSubject, what: "mask", expected: x.shape.dropLast().map(Optional.some),
                                           actual: mask.shape.map(Optional.some))
        }
        let axes = Array(0..<(x.rank - 1))
        let weights = try mask.reshaped(to: mask.shape + [1])
        let count = mask.detached.sum() + 1e-7
        let mean = try (x * weights).sum(alongAxes: axes) / count
        let variance = try ((x - mean) * weights).squared().sum(alongAxes: axes) / count
        return (mean, variance)
    }

    /// The mean and (biased) variance over every axis but the last of every rank's rows together, for
    /// `synchronized` during data-parallel training.
    private func synchronizedStatistics(_ x: Tensor, over collective: any Collective) throws -> (mean: Tensor, variance: Tensor) {
        let axes = Array(0..<(x.rank - 1))
        var count: [Float] = [Float(x.count / max(x.shape.last ?? 1, 1))]
        try collective.allReduceSum(&count)
        let mean = try collective.differentiableSum(x.sum(alongAxes: axes)).scaled(by: 1 / max(count[0], 1))
        let variance = try collective.differentiableSum((x - mean).squared().sum(alongAxes: axes)).scaled(by: 1 / max(count[0], 1))
        return (mean, variance)
    }

    public override var supportsMasking: Bool { true }
    public override var mixesBatchSamples: Bool { true }
    public override var replicaLocalVariables: [Variable] { synchronized ? [] : [movingMean, movingVariance].compactMap { $0 } }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["axis": .number(-1), "momentum": KerasValue.number(momentum), "epsilon": KerasValue.number(epsilon),
         "center": .bool(center), "scale": .bool(scale), "synchronized": .bool(synchronized)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        try a.requireLastAxis()
        // Initializers only make fresh weights, which a Keras file replaces.
        a.ignore(["beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer", "renorm_momentum"])
        return BatchNormalization(momentum: try a.float("momentum", default: 0.99), epsilon: try a.float("epsilon", default: 1e-3),
                                  center: try a.bool("center", default: true), scale: try a.bool("scale", default: true),
                                  synchronized: try a.bool("synchronized", default: false), name: a.name)
    }
}
