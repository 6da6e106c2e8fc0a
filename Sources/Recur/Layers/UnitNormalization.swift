/// Keras's `UnitNormalization`: each vector along `axes` scaled to unit L2 norm, as Keras's
/// `ops.normalize(order: 2, epsilon: 1e-12)` computes it:
///
///     y = x · min(1/√(Σ x²), 10¹²)        (Σ over the axes; an all-zero vector stays zero)
///
/// Any shape → the same shape; no weights; passes the mask through.
public final class UnitNormalization: Layer {
    /// The axes the norm is taken over (Keras's `axis`; negative counts from the last).
    public let axes: [Int]

    public init(axes: [Int] = [-1], name: String? = nil) {
        self.axes = axes
        super.init(name: name)
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        _ = try resolvedAxes(axes, rank: inputShapes[0].count)
        return [inputShapes[0]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        let squares = try x.squared().sum(alongAxes: resolvedAxes(axes, rank: x.rank), keepingDimensions: true)
        let inverseNorm = try (Tensor(1) / squares.sqrt()).minimum(Tensor(1e12))
        return LayerOutput([try x * inverseNorm], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["axis": KerasValue.axes(axes)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        UnitNormalization(axes: try a.axes(default: [-1]), name: a.name)
    }
}
