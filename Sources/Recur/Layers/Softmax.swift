/// Keras's `Softmax` layer: softmax over `axes` (default the last). With a mask, as Keras: masked
/// positions take −10⁹ before the softmax and 0 after it (a wholly masked row is zeros, not uniform);
/// the mask must broadcast to the input (right-aligned; each dimension 1 or equal), and passes through.
/// Over several axes, y = exp(x − logsumexp(x over the axes)).
public final class Softmax: Layer {
    /// The axes the probabilities sum to 1 over (negative counts from the last).
    public let axes: [Int]

    public init(axes: [Int] = [-1], name: String? = nil) {
        self.axes = axes
        super.init(name: name)
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        var x = input.tensors[0]
        let axes = try resolvedAxes(self.axes, rank: x.rank)
        var keep: Tensor?
        if let mask = input.mask {
            keep = try broadcastableMask(mask, to: x.shape).greater(Tensor(0.5))
            x = try Tensor.select(keep!, x, Tensor(-1e9))
        }
        var y: Tensor
        if axes == [x.rank - 1] {
            y = try x.softmax()
        } else if axes.count == 1 {
            // The axis moved last and back.
            var order = Array(0..<x.rank)
            order.remove(at: axes[0])
            order.append(axes[0])
            var inverse = [Int](repeating: 0, count: x.rank)
            for (i, p) in order.enumerated() { inverse[p] = i }
            y = try x.transposed(order).softmax().transposed(inverse)
        } else {
            // The largest value, held constant, keeps exp in range; it cancels in the quotient.
            let peak = try axes.reduce(x.detached) { try $0.max(alongAxis: $1, keepingDimensions: true) }
            let shifted = try x - peak
            y = try shifted.exp() / shifted.exp().sum(alongAxes: axes, keepingDimensions: true)
        }
        if let keep { y = try Tensor.select(keep, y, Tensor(0)) }
        return LayerOutput([y], mask: input.mask)
    }

    /// The mask as a tensor of the input's rank, after Keras's check that it broadcasts.
    private func broadcastableMask(_ mask: Tensor, to shape: [Int]) throws -> Tensor {
        let fits = mask.rank <= shape.count && zip(mask.shape.reversed(), shape.reversed()).allSatisfy { $0 == 1 || $0 == $1 }
        guard fits else {
            throw RecurError.shapeMismatch(errorSubject, expected: "a mask that broadcasts to the input \(describeShape(shape)) "
                                           + "(each dimension, from the last, 1 or equal)", actual: "mask \(describeShape(mask.shape))")
        }
        return try mask.reshaped(to: Array(repeating: 1, count: shape.count - mask.rank) + mask.shape)
    }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["axis": KerasValue.axes(axes)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        Softmax(axes: try a.axes(default: [-1]), name: a.name)
    }
}
