import CRecurKernels

/// NumPy broadcasting: shapes are aligned at their last dimension and each pair of extents must be
/// equal or contain a 1.
func broadcastShape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
    if a == b { return a }
    // The longer shape with the shorter one's extents merged into its trailing dimensions.
    let (long, short) = a.count >= b.count ? (a, b) : (b, a)
    let offset = long.count - short.count
    var out = long
    for (i, extent) in short.enumerated() where extent != long[offset + i] && extent != 1 {
        guard long[offset + i] == 1 else {
            throw RecurError.shapeMismatch(op: op, expected: "a shape broadcastable with \(describeShape(a))",
                                           actual: describeShape(b))
        }
        out[offset + i] = extent
    }
    return out
}

/// Row-major strides of `shape` laid out in `rank` dimensions, with 0 for broadcast dimensions.
func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
    let padded = Array(repeating: 1, count: out.count - shape.count) + shape
    var strides = [Int](repeating: 0, count: out.count)
    var step = 1
    for i in stride(from: out.count - 1, through: 0, by: -1) {
        strides[i] = padded[i] == 1 && out[i] != 1 ? 0 : step
        if padded[i] != 1 || out[i] == 1 { step *= padded[i] }
    }
    return strides
}

/// Whether `row` is the trailing dimensions of `shape` with nothing but 1s before them, so that a
/// broadcast repeats its scalars as one contiguous row.
private func isTrailingRow(_ row: [Int], of shape: [Int]) -> Bool {
    let kept = row.drop(while: { $0 == 1 })
    return !kept.isEmpty && kept.count <= shape.count && kept.elementsEqual(shape.suffix(kept.count))
}

/// Applies a `recur_binary` op over the broadcast of host tensors `a` and `b` to `shape` (checked by
/// `broadcastShape`) into a new tensor.
func broadcastBinary(_ a: Tensor, _ b: Tensor, code: Int32, shape: [Int]) -> Tensor {
    if a.shape == b.shape {
        let out = Tensor(uninitializedShape: a.shape)
        recur_binary(code, a.base, 1, b.base, 1, out.base, a.count)
        return out
    }
    let out = Tensor(uninitializedShape: shape)
    let n = out.count
    if n == 0 { return out }
    if b.count == 1 && a.count == n { recur_binary(code, a.base, 1, b.base, 0, out.base, n); return out }
    if a.count == 1 && b.count == n { recur_binary(code, a.base, 0, b.base, 1, out.base, n); return out }
    // One operand whole, the other one row repeated (a bias, a per-feature scale): row by row.
    if a.count == n && isTrailingRow(b.shape, of: shape) {
        for row in stride(from: 0, to: n, by: b.count) { recur_binary(code, a.base + row, 1, b.base, 1, out.base + row, b.count) }
        return out
    }
    if b.count == n && isTrailingRow(a.shape, of: shape) {
        for row in stride(from: 0, to: n, by: a.count) { recur_binary(code, a.base, 1, b.base + row, 1, out.base + row, a.count) }
        return out
    }
    let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
    let rank = shape.count
    let inner = shape[rank - 1]
    let rows = n / inner
    var index = [Int](repeating: 0, count: rank - 1)
    var offA = 0, offB = 0
    for row in 0..<rows {
        recur_binary(code, a.base + offA, sa[rank - 1] == 0 ? 0 : 1, b.base + offB, sb[rank - 1] == 0 ? 0 : 1,
                     out.base + row * inner, inner)
        // Advance the odometer over the leading dimensions.
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            offA += sa[d]; offB += sb[d]
            if index[d] < shape[d] { break }
            offA -= sa[d] * shape[d]; offB -= sb[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
    return out
}

extension Tensor {
    /// `op` over this tensor and `other` broadcast together, on their common device.
    func binary(_ op: BinaryOp, _ other: Tensor, name: String) throws -> Tensor {
        let shape = try broadcastShape(self.shape, other.shape, op: name)
        let (backend, operands) = try Tensor.onCommonDevice([self, other], op: name)
        let result = backend.binary(op, operands[0].detached, operands[1].detached, shape: shape)
        Tensor.traced(.binary(op), [self, other], [result])
        return result
    }

    /// Sums this tensor (a gradient of a broadcast result) down to `target`, undoing broadcasting.
    func sumToShape(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        return try sum(alongAxes: axes, keepingDimensions: false).reshaped(to: target)
    }
}
