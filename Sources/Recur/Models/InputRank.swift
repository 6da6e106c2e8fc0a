import RecurTensor

extension Tensor {
    /// This model input made to fit `expected` (batch first, `nil` for any size), or nil when it cannot.
    ///
    /// Keras's functional models (and so its `Sequential` ones) accept an input one axis short of the
    /// model's when the model's last axis is 1, and one axis over when the input's last axis is 1: a
    /// (B,) array feeds an `Input((1,))` as (B, 1), and a (B, T) series an `Input((T, 1))` as (B, T, 1);
    /// a (B, T, 1) array feeds an `Input((T,))` as (B, T). Otherwise the shape must match as it is.
    public func fittingModelInput(_ expected: [Int?]) throws -> Tensor? {
        var value = self
        if rank == expected.count + 1, shape.last == 1 {
            value = try reshaped(to: Array(shape.dropLast()))
        } else if rank == expected.count - 1, expected.last == 1 {
            value = try reshaped(to: shape + [1])
        }
        let fits = expected.count == value.rank && zip(expected, value.shape).allSatisfy { $0 == nil || $0 == $1 }
        return fits ? value : nil
    }
}
