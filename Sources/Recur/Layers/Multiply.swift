/// `Multiply()`: the elementwise product y = x₀ · x₁ · ... of a list of same-shaped tensors
/// (batch, d...) → (batch, d...).
///
/// With masks (batch, time), as Keras 3: a masked-out step of an input counts as 1 in the product;
/// when every input has a mask, steps masked out in all inputs are 0 and the output mask is the OR
/// of the input masks.
public final class Multiply: Merge {

    public override func merge(_ xs: [Tensor], masks: [Tensor?]) throws -> (Tensor, Tensor?) {
        let allMasked = masks.allSatisfy { $0 != nil }
        var output: Tensor?
        var outputMask: Tensor?
        for (x, mask) in zip(xs, masks) {
            var x = x
            if let mask {
                let m = try Merge.broadcastable(mask.detached, like: x)
                x = try Tensor.select(m, x, Tensor(1))
                if allMasked { outputMask = try outputMask.map { try $0.maximum(m) } ?? m }
            }
            output = try output.map { try $0 * x } ?? x
        }
        guard allMasked, let m = outputMask else { return (output!, nil) }
        return (try Tensor.select(m, output!, Tensor(0)), try Merge.orMasks(masks))
    }
}
