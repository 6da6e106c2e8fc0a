/// `GlobalAveragePooling1D()`: the mean over time, (batch, time, features) → (batch, features)
/// ((batch, 1, features) with `keepdims`).
///
/// With a mask (batch, time), as Keras: only the steps that count are averaged,
/// y[b] = Σₜ m[b,t]·x[b,t] / Σₜ m[b,t] (NaN for a row with no step). The output has no mask.
public final class GlobalAveragePooling1D: GlobalPooling1D {
    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireRank(x.shape.map(Optional.some), 3, of: self)
        guard let mask = input.mask else {
            return LayerOutput([try x.mean(alongAxis: 1, keepingDimensions: keepdims)])
        }
        guard mask.shape == Array(x.shape.prefix(2)) else {
            throw RecurError.shapeMismatch(errorSubject, what: "mask", expected: x.shape.prefix(2).map(Optional.some),
                                           actual: mask.shape.map(Optional.some))
        }
        let m = try mask.detached.reshaped(to: mask.shape + [1])
        let total = try (x * m).sum(alongAxis: 1, keepingDimensions: keepdims)
        let steps = try m.sum(alongAxis: 1, keepingDimensions: keepdims)
        return LayerOutput([try total / steps])
    }
}
