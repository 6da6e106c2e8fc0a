/// `Average()`: the elementwise mean y = (x₀ + ... + xₙ₋₁) / n of a list of same-shaped tensors
/// (batch, d...) → (batch, d...). Mask: OR of the input masks when all inputs have one.
public final class Average: Merge {

    public override func combine(_ xs: [Tensor]) throws -> Tensor {
        try xs.dropFirst().reduce(xs[0]) { try $0 + $1 } / Float(xs.count)
    }
}
