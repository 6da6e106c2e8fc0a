/// `GlobalMaxPooling1D()`: the maximum over time, (batch, time, features) → (batch, features)
/// ((batch, 1, features) with `keepdims`): y[b, f] = maxₜ x[b, t, f]. As Keras, it ignores a mask
/// (masked steps take part) and drops it.
public final class GlobalMaxPooling1D: GlobalPooling1D {
    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        try requireRank(x.shape.map(Optional.some), 3, of: self)
        return LayerOutput([try x.max(alongAxis: 1, keepingDimensions: keepdims)])
    }
}
