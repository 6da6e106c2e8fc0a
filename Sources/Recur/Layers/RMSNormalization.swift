/// Keras's `RMSNormalization`: each position scaled by the root mean square over `axes`, as Keras's
/// `ops.rms_normalization` computes it:
///
///     y = x / √(mean(x²) + ε) · scale        (mean over the axes; ε = 1e-6 by default)
///
/// `scale` has the input's sizes at the axes, which must be the input's last ones (as Keras lays
/// the weight against the input from the last axis). Any shape → the same shape. Like Keras's, the
/// layer does not pass a mask on.
public final class RMSNormalization: Layer {
    /// The axes the mean is taken over (Keras's `axis`; negative counts from the last).
    public let axes: [Int]
    public let epsilon: Float
    public private(set) var scale: Variable?

    public init(axes: [Int] = [-1], epsilon: Float = 1e-6, name: String? = nil) {
        self.axes = axes
        self.epsilon = epsilon
        super.init(name: name)
    }

    public override var variables: [Variable] { [scale].compactMap { $0 } }

    /// The axes counted from 0, which must be the last ones of `rank`.
    private func trailingAxes(rank: Int) throws -> [Int] {
        let resolved = try resolvedAxes(axes, rank: rank)
        guard resolved == Array((rank - resolved.count)..<rank) else {
            throw RecurError.unsupported(errorSubject, "axes \(axes) of an input of rank \(rank) (only the last axes, where Keras lays scale against the input)")
        }
        return resolved
    }

    public override func build(inputShapes: [[Int?]]) throws {
        let shape = inputShapes[0]
        scale = Variable(name: "scale", value: try Initializer.ones.make(try knownSizes(shape, at: try trailingAxes(rank: shape.count)), for: name))
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let shape = inputShapes[0]
        let resolved = try trailingAxes(rank: shape.count)
        if let scale, resolved.map({ shape[$0] }) != scale.shape.map(Optional.some) {
            throw RecurError.shapeMismatch(errorSubject, expected: "(..., \(scale.shape.map(String.init).joined(separator: ", ")))", actual: describeShape(shape))
        }
        return [shape]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        _ = try outputShapes(inputShapes: [x.shape.map(Optional.some)], initialStateShapes: [])
        let meanSquare = try x.squared().mean(alongAxes: trailingAxes(rank: x.rank), keepingDimensions: true)
        var y = try x * (Tensor(1) / (meanSquare + epsilon).sqrt())
        if let scale { y = try y * scale.value }
        return LayerOutput([y])
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["axis": KerasValue.axes(axes), "epsilon": KerasValue.number(epsilon)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        RMSNormalization(axes: try a.axes(default: [-1]), epsilon: try a.float("epsilon", default: 1e-6, ifNull: 1e-7), name: a.name)
    }
}
