/// NumPy-like indexing that returns tensors, and readers back to Swift arrays.
///
///     x[0]                 // the first sample: rank one less
///     x[-1]                // the last
///     x[0..<32]            // the first 32 samples
///     x[axis: 1, 5]        // timestep 5 of every sample
///     x[axis: 1, 0..<10]   // the first 10 timesteps
///     x.scalar(at: [0, 2]) // one Float
///
/// An index out of range stops the program with a message naming the axis and its size, as Swift's
/// arrays do; the results take part in differentiation.
extension Tensor {
    /// The sub-tensor at `index` along the first axis (negative counts from the end).
    public subscript(_ index: Int) -> Tensor { self[axis: 0, index] }

    /// The rows `range` of the first axis.
    public subscript(_ range: Range<Int>) -> Tensor { self[axis: 0, range] }

    /// The sub-tensor at `index` along `axis` (both may be negative, counting from the end).
    public subscript(axis axis: Int, _ index: Int) -> Tensor {
        let a = checkedAxis(axis)
        let size = shape[a]
        let i = index < 0 ? index + size : index
        precondition((0..<size).contains(i), "index \(index) is out of range for axis \(a) of size \(size) in a tensor of shape \(describeShape(shape))")
        do { return try select(alongAxis: a, index: i) } catch { preconditionFailure("\(error)") }
    }

    /// The positions `range` along `axis`.
    public subscript(axis axis: Int, _ range: Range<Int>) -> Tensor {
        let a = checkedAxis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "range \(range) is out of bounds for axis \(a) of size \(shape[a]) in a tensor of shape \(describeShape(shape))")
        do { return try slice(alongAxis: a, range) } catch { preconditionFailure("\(error)") }
    }

    private func checkedAxis(_ axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition((0..<rank).contains(a), "axis \(axis) does not exist in a tensor of rank \(rank), shape \(describeShape(shape))")
        return a
    }

    /// The scalar at a full multi-index (one index per axis; negative counts from the end).
    public func scalar(at indices: [Int]) -> Float {
        precondition(indices.count == rank, "scalar(at:) needs \(rank) indices for shape \(describeShape(shape)), got \(indices.count)")
        var offset = 0
        for (axis, (i, d)) in zip(indices, shape).enumerated() {
            let j = i < 0 ? i + d : i
            precondition((0..<d).contains(j), "index \(i) is out of range for axis \(axis) of size \(d)")
            offset = offset * d + j
        }
        return base[offset]
    }

    private func requireRank(_ expected: Int, _ what: String) throws {
        guard rank == expected else {
            throw RecurError.shapeMismatch(op: what, expected: "a tensor of rank \(expected)", actual: "rank \(rank), shape \(describeShape(shape))")
        }
    }

    /// The scalars of a rank-1 tensor.
    public func array() throws -> [Float] {
        try requireRank(1, "Tensor.array()")
        return scalars
    }

    /// The rows of a rank-2 tensor.
    public func array2D() throws -> [[Float]] {
        try requireRank(2, "Tensor.array2D()")
        let all = scalars, width = shape[1]
        return (0..<shape[0]).map { Array(all[($0 * width)..<(($0 + 1) * width)]) }
    }

    /// The matrices of a rank-3 tensor.
    public func array3D() throws -> [[[Float]]] {
        try requireRank(3, "Tensor.array3D()")
        let all = scalars, (rows, width) = (shape[1], shape[2])
        return (0..<shape[0]).map { m in
            (0..<rows).map { r in Array(all[((m * rows + r) * width)..<((m * rows + r + 1) * width)]) }
        }
    }
}
