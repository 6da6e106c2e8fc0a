extension Tensor {
    /// Rows of `self` (a table of shape (n, d...)) picked by whole-number `indices` of any shape:
    /// the result has shape `indices.shape + shape[1...]`. The embedding lookup.
    /// Throws for an index that is not a whole number in `0..<n`.
    public func gather(_ indices: Tensor) throws -> Tensor {
        guard rank >= 1 else {
            throw RecurError.shapeMismatch(op: "gather", expected: "a table of rank ≥ 1", actual: describeShape(shape))
        }
        let n = shape[0]
        // The indices are checked on the host: a device's kernel must never read outside the table.
        let rows = try indices.hostScalars().enumerated().map { i, v in
            guard v == v.rounded(), v >= 0, v < Float(n) else {
                throw RecurError.invalidArgument(op: "gather", message: "index \(v) at position \(i) is out of range 0..<\(n) for table \(describeShape(shape))")
            }
            return Int(v)
        }
        Tensor.untraceable([self, indices], "gather")
        var out = deviceBackend.gatherRows(detached, rows: rows, shape: indices.shape + shape.dropFirst())
        let tableShape = shape
        Tensor.record(&out, inputs: [self]) { g, _ in [g.deviceBackend.scatterAddRows(g.detached, rows: rows, shape: tableShape)] }
        return out
    }

    /// One-hot encoding of whole-number class ids: shape `shape + [depth]`, on this tensor's device.
    public func oneHot(depth: Int) throws -> Tensor {
        var eye = [Float](repeating: 0, count: depth * depth)
        for i in 0..<depth { eye[i * depth + i] = 1 }
        return try Tensor(shape: [depth, depth], scalars: eye).to(device).gather(self)
    }
}
