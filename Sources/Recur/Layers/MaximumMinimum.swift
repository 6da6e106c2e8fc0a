/// `Maximum()` and `Minimum()`: the elementwise maximum (minimum) of a list of same-shaped tensors
/// (batch, d...) → (batch, d...).
///
/// With masks (batch, time), as Keras 3 (`_apply_merge_op_and_or_mask`): inputs are folded left to
/// right; a masked-out step of the next input takes the running result's value, and a masked-out
/// step of the running result takes the next input's, so masked steps never win. The output mask is
/// the OR of the masks while every input has one, else none.
public class ElementwiseExtremum: Merge {
    /// The running result's and the next input's extremum (`Maximum`, `Minimum`).
    func pick(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        throw RecurError.unsupported(errorSubject, "\(className) is the shared base of Maximum and Minimum; use one of those")
    }

    public override func merge(_ xs: [Tensor], masks: [Tensor?]) throws -> (Tensor, Tensor?) {
        var output = xs[0]
        var outputMask = try masks[0].map { try Merge.broadcastable($0.detached, like: xs[0]) }
        for (x, mask) in zip(xs, masks).dropFirst() {
            var x = x
            let m = try mask.map { try Merge.broadcastable($0.detached, like: x) }
            if let m { x = try Tensor.select(m, x, output) }
            if let outputMask { output = try Tensor.select(outputMask, output, x) }
            if let m, let om = outputMask { outputMask = try om.maximum(m) } else { outputMask = nil }
            output = try pick(output, x)
        }
        return (output, outputMask == nil ? nil : try Merge.orMasks(masks))
    }
}

/// `Maximum()`: y = max(x₀, x₁, ...) elementwise; see `ElementwiseExtremum` for masks.
public final class Maximum: ElementwiseExtremum {
    override func pick(_ a: Tensor, _ b: Tensor) throws -> Tensor { try a.maximum(b) }
}

/// `Minimum()`: y = min(x₀, x₁, ...) elementwise; see `ElementwiseExtremum` for masks.
public final class Minimum: ElementwiseExtremum {
    override func pick(_ a: Tensor, _ b: Tensor) throws -> Tensor { try a.minimum(b) }
}
