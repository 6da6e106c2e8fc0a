extension Tensor {
    /// Rows of `self` (a table of shape (n, d...)) picked by whole-number `indices` of any shape:
    /// the result has shape `indices.shape + shape[1...]`. The embedding lookup.
    /// Throws for an index that is not a whole number in `0..<n`.
    public func gather(_ indices: Tensor) throws -> Tensor {
        guard rank >= 1 else {
            throw RecurError.shapeMismatch(op: "gather", expected: "a table of rank ≥ 1", actual: describeShape(shape))
        }
        let n = shape[0], row = count / Swift.max(n, 1)
        var rows = [Int](repeating: 0, count: indices.count)
        for i in 0..<indices.count {
            let v = indices.base[i]
            guard v == v.rounded(), v >= 0, v < Float(n) else {
                throw RecurError.invalidArgument(op: "gather", message: "index \(v) at position \(i) is out of range 0..<\(n) for table \(describeShape(shape))")
            }
            rows[i] = Int(v)
        }
        var out = Tensor(uninitializedShape: indices.shape + shape.dropFirst())
        for (i, r) in rows.enumerated() where row > 0 { (out.base + i * row).update(from: base + r * row, count: row) }
        let tableShape = shape
        Tensor.record(&out, inputs: [self]) { g, _ in
            let dt = Tensor.zeros(tableShape)
            for (i, r) in rows.enumerated() {
                let dst = dt.base + r * row, src = g.base + i * row
                for k in 0..<row { dst[k] += src[k] }
            }
            return [dt]
        }
        return out
    }

    /// One-hot encoding of whole-number class ids: shape `shape + [depth]`.
    public func oneHot(depth: Int) throws -> Tensor {
        let eye = Tensor.zeros([depth, depth])
        for i in 0..<depth { eye.base[i * depth + i] = 1 }
        return try eye.gather(self)
    }
}
