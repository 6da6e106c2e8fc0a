extension Tensor {
    /// Rows of `self` (a table of shape (n, d...)) picked by whole-number `indices` of any shape:
    /// the result has shape `indices.shape + shape[1...]`. The embedding lookup.
    /// Throws for an index that is not a whole number in `0..<n`.
    public func gather(_ indices: Tensor) throws -> Tensor {
        guard rank >= 1 else {
            throw RecurError.shapeMismatch(op: "gather", expected: "a table of rank ≥ 1", actual: describeShape(shape))
        }
        let rows = try Tensor.checkedIndices(indices, below: shape[0], op: "gather", of: "table \(describeShape(shape))")
        Tensor.untraceable([self, indices], "gather")
        var out = deviceBackend.gatherRows(detached, rows: rows, shape: indices.shape + shape.dropFirst())
        let tableShape = shape
        Tensor.record(&out, inputs: [self]) { g, _ in [g.deviceBackend.scatterAddRows(g.detached, rows: rows, shape: tableShape)] }
        return out
    }

    /// The element of each row's last axis that `indices` names: this tensor (..., n) and whole-number
    /// `indices` of shape (...) give (...), as a sparse label's log-probability. The gradient goes to the
    /// picked elements only. Throws for an index that is not a whole number in `0..<n`.
    public func picking(alongLastAxis indices: Tensor) throws -> Tensor {
        guard rank >= 1, let n = shape.last, n > 0, indices.shape == Array(shape.dropLast()) else {
            throw RecurError.shapeMismatch(op: "picking", expected: "indices of shape \(describeShape(Array(shape.dropLast()))) for a tensor of shape \(describeShape(shape))",
                                           actual: describeShape(indices.shape))
        }
        _ = try Tensor.checkedIndices(indices, below: n, op: "picking", of: "rows of \(describeShape(shape))")
        Tensor.untraceable([self, indices], "picking")
        let (backend, operands) = try Tensor.onCommonDevice([self, indices], op: "picking")
        let rows = count / n, index = operands[1].detached
        var out = backend.pick(operands[0].detached, indices: index, outer: rows, n: n, inner: 1, shape: indices.shape)
        let inputShape = shape
        Tensor.record(&out, inputs: [self]) { g, _ in
            [g.deviceBackend.unpick(g.detached, indices: index, outer: rows, n: n, inner: 1, shape: inputShape)]
        }
        return out
    }

    /// `indices`' scalars as whole numbers in `0..<n`, read and checked on the host: a device's kernel
    /// must never read outside what it indexes. Throws naming `op`, the index, its position and `what`.
    static func checkedIndices(_ indices: Tensor, below n: Int, op: String, of what: String) throws -> [Int] {
        try indices.hostScalars().enumerated().map { i, v in
            guard v == v.rounded(), v >= 0, v < Float(n) else {
                throw RecurError.invalidArgument(op: op, message: "index \(v) at position \(i) is out of range 0..<\(n) for \(what)")
            }
            return Int(v)
        }
    }

    /// One-hot encoding of whole-number class ids: shape `shape + [depth]`, on this tensor's device.
    public func oneHot(depth: Int) throws -> Tensor {
        var eye = [Float](repeating: 0, count: depth * depth)
        for i in 0..<depth { eye[i * depth + i] = 1 }
        return try Tensor(shape: [depth, depth], scalars: eye).to(device).gather(self)
    }
}
