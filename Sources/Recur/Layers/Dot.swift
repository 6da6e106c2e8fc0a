/// Keras's `Dot`: the dot product of two batched tensors along one axis of each (Keras's
/// `batch_dot`), called on `[x, y]`; Luong-style attention in Keras's own encoder-decoder examples.
///
///     x (batch, m..., d, ...)  y (batch, ..., d, n...)  →  (batch, m..., n...)
///     out[b, i..., j...] = Σₖ x[b, i..., k] · y[b, k, j...]   (the summed axes moved into place)
///
/// The output keeps x's other axes, then y's (the batch once); a rank-1 result becomes (batch, 1).
/// With `normalize`, each input is first scaled to unit L2 norm along its summed axis (the output is
/// then the cosine of the two), as Keras: x · min(1/‖x‖, 10⁷). Axes count from 0 (the batch axis,
/// which cannot be summed); negative ones from the end. The output has no mask.
public final class Dot: Layer {
    /// The summed axis of x and of y; one value for both when Keras's config gave one.
    public let axes: [Int]
    public let normalize: Bool

    /// The same axis of both inputs.
    public init(axes: Int, normalize: Bool = false, name: String? = nil) {
        (self.axes, self.normalize) = ([axes], normalize)
        super.init(name: name)
    }

    /// Axis `axes[0]` of x against axis `axes[1]` of y.
    public init(axes: [Int], normalize: Bool = false, name: String? = nil) {
        (self.axes, self.normalize) = (axes, normalize)
        super.init(name: name)
    }

    public override var hasWeights: Bool { false }

    /// The two summed axes, counted from 0, checked against the inputs' shapes.
    func summedAxes(_ shapes: [[Int?]]) throws -> (Int, Int) {
        guard shapes.count == 2 else { throw RecurError.invalidArgument(errorSubject, "must be called on a list of 2 inputs, got \(shapes.count)") }
        guard axes.count == 1 || axes.count == 2 else {
            throw RecurError.invalidArgument(errorSubject, "axes must be one axis or two (one per input), got \(axes)")
        }
        var summed: [Int] = []
        for (k, shape) in shapes.enumerated() {
            guard shape.count >= 2 else {
                throw RecurError.shapeMismatch(errorSubject, expected: "inputs of rank ≥ 2 (a batch axis and more)", actual: "\(describeShape(shape)) for input \(k)")
            }
            let axis = axes.count == 1 ? axes[0] : axes[k]
            let normalized = axis < 0 ? axis + shape.count : axis
            guard (1..<shape.count).contains(normalized) else {
                throw RecurError.invalidArgument(errorSubject, "axis \(axis) of input \(k) \(describeShape(shape)) is the batch axis or out of range")
            }
            summed.append(normalized)
        }
        let (d1, d2) = (shapes[0][summed[0]], shapes[1][summed[1]])
        if knownAndDifferent(d1, d2) || knownAndDifferent(shapes[0][0], shapes[1][0]) {
            throw RecurError.shapeMismatch(errorSubject, expected: "axis \(summed[0]) of input 0 as long as axis \(summed[1]) of input 1, one batch",
                                           actual: "\(describeShape(shapes[0])) and \(describeShape(shapes[1]))")
        }
        return (summed[0], summed[1])
    }

    public override func build(inputShapes: [[Int?]]) throws { _ = try summedAxes(inputShapes) }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let (a0, a1) = try summedAxes(inputShapes)
        var x = inputShapes[0], y = inputShapes[1]
        x.remove(at: a0)
        y.remove(at: a1)
        let out = x + y.dropFirst()
        return [out.count == 1 ? out + [1] : out]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        var (x, y) = (input.tensors[0], input.tensors[1])
        let (a0, a1) = try summedAxes([x, y].map { $0.shape.map(Optional.some) })
        if normalize {
            x = try unitNorm(x, axis: a0)
            y = try unitNorm(y, axis: a1)
        }
        let batch = x.shape[0], d = x.shape[a0]
        // x as (batch, m, d) with its other axes m in order, y as (batch, d, n).
        var xOrder = Array(0..<x.rank), yOrder = Array(0..<y.rank)
        xOrder.remove(at: a0)
        yOrder.remove(at: a1)
        let (m, n) = (xOrder.dropFirst().map { x.shape[$0] }, yOrder.dropFirst().map { y.shape[$0] })
        let xs = try x.transposed(xOrder + [a0]).reshaped(to: [batch, m.reduce(1, *), d])
        let ys = try y.transposed([0, a1] + yOrder.dropFirst()).reshaped(to: [batch, d, n.reduce(1, *)])
        let shape = [batch] + m + n
        return LayerOutput([try xs.matmul(ys).reshaped(to: shape.count == 1 ? shape + [1] : shape)])
    }

    /// x · min(1/‖x‖, 10⁷) along `axis` (Keras's L2 `normalize`), as x / √max(Σx², 10⁻¹⁴).
    private func unitNorm(_ x: Tensor, axis: Int) throws -> Tensor {
        try x / (x * x).sum(alongAxis: axis, keepingDimensions: true).maximum(Tensor(1e-14)).sqrt()
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["axes": axes.count == 1 ? KerasValue.number(axes[0]) : KerasValue.ints(axes), "normalize": .bool(normalize)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        guard let value = a.value("axes"), !value.isNull else { throw a.invalid("config is missing 'axes'") }
        let list = value.array ?? [value]
        let axes = try list.map { v -> Int in
            guard let i = v.int, abs(i) <= UntrustedLimits.maxRank else { throw a.invalid("'axes' must be one or two integers, got \(KerasConfig.compactJSON(value))") }
            return i
        }
        guard axes.count == 1 || axes.count == 2, value.array == nil || axes.count == 2 else {
            throw a.invalid("'axes' must be one integer or a list of two, got \(KerasConfig.compactJSON(value))")
        }
        return Dot(axes: axes, normalize: try a.bool("normalize", default: false), name: a.name)
    }
}
