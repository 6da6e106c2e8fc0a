/// `Subtract()`: y = x₀ − x₁ for exactly two same-shaped tensors (batch, d...) → (batch, d...).
/// Mask: OR of the two input masks when both have one.
public final class Subtract: Merge {

    public override var requiredInputCount: Int? { 2 }

    public override func combine(_ xs: [Tensor]) throws -> Tensor {
        try xs[0] - xs[1]
    }
}
