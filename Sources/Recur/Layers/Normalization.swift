/// Keras's `Normalization` preprocessing layer: standardizes features with a mean and variance per
/// position of the kept `axes` (by default the last), learned from data by `adapt(_:)` or given:
///
///     y = (x − mean) / max(√variance, 10⁻⁷)          (invert: y = mean + x · max(√variance, 10⁻⁷))
///
/// Adapted statistics are weights (`mean`, `variance` and `count`, none trainable), saved in files
/// as Keras saves them; given ones (Keras's `mean=` / `variance=`: scalars or arrays that broadcast
/// over the kept axes, aligned from the last) are part of the config. Kept axes must have known
/// sizes. Any shape → the same shape; passes the mask through.
public final class Normalization: Layer {
    /// The kept axes (Keras's `axis`), each with its own statistics; empty: one mean and variance for all.
    public let axes: [Int]
    public let invert: Bool
    /// Statistics given at construction (Keras's `mean` and `variance` arguments); nil: adapted ones.
    public let givenMean: Tensor?
    public let givenVariance: Tensor?
    public private(set) var mean: Variable?
    public private(set) var variance: Variable?
    public private(set) var count: Variable?
    /// The kept axes counted from 0 (once built) and the statistics' shape against the input (1 at
    /// reduced axes).
    private var kept: [Int] = []
    private var broadcastShape: [Int] = []

    public init(axes: [Int] = [-1], mean: Tensor? = nil, variance: Tensor? = nil, invert: Bool = false, name: String? = nil) {
        (self.axes, self.givenMean, self.givenVariance, self.invert) = (axes, mean, variance, invert)
        super.init(name: name)
    }

    public override var variables: [Variable] { [mean, variance, count].compactMap { $0 } }

    public override var supportsMasking: Bool { true }

    /// The kept axes counted from 0, sorted, checked against a rank.
    private func keptAxes(rank: Int) throws -> [Int] {
        try Set(axes.map { axis -> Int in
            let a = axis < 0 ? axis + rank : axis
            guard (0..<rank).contains(a) else {
                throw RecurError.invalidArgument(errorSubject, "axis \(axis) is out of range for inputs of rank \(rank)")
            }
            return a
        }).sorted()
    }

    public override func build(inputShapes: [[Int?]]) throws {
        let shape = inputShapes[0]
        kept = try keptAxes(rank: shape.count)
        var sizes: [Int] = []
        for a in kept {
            guard let size = shape[a] else {
                throw RecurError.shapeMismatch(errorSubject, expected: "a known size at kept axis \(a)", actual: describeShape(shape))
            }
            sizes.append(size)
        }
        broadcastShape = shape.indices.map { kept.contains($0) ? shape[$0]! : 1 }
        guard (givenMean == nil) == (givenVariance == nil) else {
            throw RecurError.invalidArgument(errorSubject, "takes both mean and variance, or neither (adapt(_:) learns them)")
        }
        if let givenMean, let givenVariance {
            guard givenMean.shape == givenVariance.shape, givenMean.rank <= kept.count,
                  zip(givenMean.shape.reversed(), sizes.reversed()).allSatisfy({ $0 == 1 || $0 == $1 }) else {
                throw RecurError.shapeMismatch(errorSubject, expected: "mean and variance of one shape that broadcasts to the kept axes \(describeShape(sizes))",
                                               actual: "\(describeShape(givenMean.shape)) and \(describeShape(givenVariance.shape))")
            }
        } else {
            mean = Variable(name: "mean", value: try Initializer.zeros.make(sizes, for: name), trainable: false)
            variance = Variable(name: "variance", value: try Initializer.ones.make(sizes, for: name), trainable: false)
            count = Variable(name: "count", value: Tensor(0), trainable: false)
        }
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        [inputShapes[0]]
    }

    /// The statistics reshaped to broadcast against the input.
    private func statistics() throws -> (mean: Tensor, variance: Tensor) {
        if let givenMean, let givenVariance {
            // Aligned from the last kept axis, as Keras aligns them.
            var shape = Array(repeating: 1, count: broadcastShape.count)
            for (i, size) in givenMean.shape.reversed().enumerated() { shape[kept[kept.count - 1 - i]] = size }
            return (try givenMean.reshaped(to: shape), try givenVariance.reshaped(to: shape))
        }
        guard let mean, let variance else { throw RecurError.invalidArgument(errorSubject, "the layer is not built") }
        return (try mean.value.reshaped(to: broadcastShape), try variance.value.reshaped(to: broadcastShape))
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        guard x.rank == broadcastShape.count, zip(x.shape, broadcastShape).allSatisfy({ $1 == 1 || $0 == $1 }) else {
            throw RecurError.shapeMismatch(errorSubject, expected: "inputs that broadcast with \(describeShape(broadcastShape))", actual: describeShape(x.shape))
        }
        let (mean, variance) = try statistics()
        let scale = try variance.sqrt().maximum(Tensor(1e-7))
        let y = invert ? try mean + x * scale : try (x - mean) / scale
        return LayerOutput([y], mask: input.mask)
    }

    /// Keras's `adapt(data)`: the mean and (population) variance of `data` over every axis but the
    /// kept ones. Builds the layer from `data`'s shape if needed. `count` stays as it is, as in Keras 3
    /// (which keeps the weight only for the layout of older files).
    public func adapt(_ data: Tensor) throws {
        guard givenMean == nil else { throw RecurError.invalidArgument(errorSubject, "has a given mean and variance; adapt(_:) cannot change them") }
        try buildIfNeeded(inputShapes: [[nil] + data.shape.dropFirst().map(Optional.some)])
        guard let mean, let variance, data.rank == broadcastShape.count else {
            throw RecurError.shapeMismatch(errorSubject, expected: "data of rank \(broadcastShape.count)", actual: describeShape(data.shape))
        }
        let reduced = broadcastShape.indices.filter { !kept.contains($0) }
        guard data.count > 0 else { throw RecurError.invalidArgument(errorSubject, "adapt(_:) needs data, got \(describeShape(data.shape))") }
        let mu = try data.mean(alongAxes: reduced, keepingDimensions: true)
        let sigma2 = try (data - mu).squared().mean(alongAxes: reduced, keepingDimensions: true)
        mean.value = try mu.reshaped(to: mean.shape).detached
        variance.value = try sigma2.reshaped(to: variance.shape).detached
    }

    // MARK: - Keras

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["axis": KerasValue.ints(axes), "invert": .bool(invert),
         "mean": givenMean.map(KerasValue.nestedArray) ?? .null, "variance": givenVariance.map(KerasValue.nestedArray) ?? .null]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        let axes: [Int]
        switch a.value("axis") {
        case nil: axes = [-1]
        case let value? where value.isNull: axes = []
        case let value?:
            let list = value.array ?? [value]
            axes = try list.map { v in
                guard let i = v.int, abs(i) <= UntrustedLimits.maxRank else { throw a.invalid("'axis' must be axes of the input, got \(KerasConfig.compactJSON(value))") }
                return i
            }
        }
        func statistic(_ key: String) throws -> Tensor? {
            guard let value = a.value(key), !value.isNull else { return nil }
            return try KerasValue.tensor(fromNestedArray: value, what: "\(a.layer) '\(key)'")
        }
        return Normalization(axes: axes, mean: try statistic("mean"), variance: try statistic("variance"),
                             invert: try a.bool("invert", default: false), name: a.name)
    }
}
