import Foundation

/// Adafactor (Shazeer & Stern, 2018), as Keras computes it (defaults: learning rate 0.001, β₂ decay
/// −0.8, ε₁ 1e-30, ε₂ 1e-3, clip threshold 1, relative step). At update t, with RMS(a) = √mean(a²):
///
///     ρ = min(η, 1/√t),   α = max(ε₂, RMS(w))·ρ,   β̂₂ = 1 − t^decay,   G = g² + ε₁
///     w of rank ≥ 2:  r ← β̂₂r + (1 − β̂₂)·mean(G, last axis)        (the rows' mean square)
///                     c ← β̂₂c + (1 − β̂₂)·mean(G, next-to-last axis) (the columns')
///                     v = (r / mean(r)) ⊗ c                          (a rank-1 estimate of G's average)
///     else:           v ← β̂₂v + (1 − β̂₂)·G
///     u = g/√v,   w ← w − α·u / max(1, RMS(u)/clip)
///
/// Slots, in Keras's order: r (the weight's shape without its last axis), c (without its next-to-last),
/// v (its shape); a weight of rank below 2 keeps scalar r and c that stay zero. `relativeStep` is
/// Keras's flag; ρ takes the minimum with 1/√t either way, as Keras's does.
public final class Adafactor: Optimizer {
    public let betaTwoDecay: Float
    public let epsilon1: Float
    public let epsilon2: Float
    public let clipThreshold: Float
    public let relativeStep: Bool

    public init(learningRate: Float = 0.001, betaTwoDecay: Float = -0.8, epsilon1: Float = 1e-30, epsilon2: Float = 1e-3,
                clipThreshold: Float = 1, relativeStep: Bool = true, clipNorm: Float? = nil, clipValue: Float? = nil,
                globalClipNorm: Float? = nil, weightDecay: Float? = nil) {
        (self.betaTwoDecay, self.epsilon1, self.epsilon2, self.clipThreshold, self.relativeStep) =
            (betaTwoDecay, epsilon1, epsilon2, clipThreshold, relativeStep)
        super.init(learningRate: learningRate, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    public override var slotCount: Int { 3 }

    public override func slotShapes(for shape: [Int]) -> [[Int]] {
        guard shape.count >= 2 else { return [[], [], shape] }
        return [Array(shape.dropLast()), Array(shape.dropLast(2)) + [shape[shape.count - 1]], shape]
    }

    /// √mean(a²), a scalar tensor.
    private func rootMeanSquare(_ a: Tensor) throws -> Tensor { try a.squared().mean().sqrt() }

    public override func update(_ value: inout Tensor, gradient g: Tensor, slots: inout [Tensor], step: Int) throws {
        let t = Float(step)
        let rho = Swift.min(learningRate, 1 / t.squareRoot())
        let alpha = try rootMeanSquare(value).maximum(Tensor(epsilon2)) * rho
        let regulated = try g.squared() + epsilon1
        let beta2 = 1 - powf(t, betaTwoDecay)
        if value.rank >= 2 {
            slots[0] = try slots[0] * beta2 + regulated.mean(alongAxis: -1) * (1 - beta2)
            slots[1] = try slots[1] * beta2 + regulated.mean(alongAxis: -2) * (1 - beta2)
            let rows = try (slots[0] / slots[0].mean(alongAxis: -1, keepingDimensions: true)).expandingDimensions(at: slots[0].rank)
            slots[2] = try rows * slots[1].expandingDimensions(at: slots[1].rank - 1)
        } else {
            slots[2] = try slots[2] * beta2 + regulated * (1 - beta2)
        }
        let u = try g / slots[2].sqrt()
        let clipped = try u / (rootMeanSquare(u) / Tensor(clipThreshold)).maximum(Tensor(1))
        value = try value - alpha * clipped
    }
}
