extension Tensor {
    /// The same scalars viewed with another shape; one dimension may be -1 (inferred). Shares storage.
    public func reshaped(to newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw RecurError.shapeMismatch(op: "reshape", expected: "a shape with \(count) scalars", actual: describeShape(newShape))
            }
            resolved[inferred] = count / known
        }
        guard resolved.reduce(1, *) == count, resolved.allSatisfy({ $0 >= 0 }) else {
            throw RecurError.shapeMismatch(op: "reshape", expected: "a shape with \(count) scalars (from \(describeShape(shape)))",
                                           actual: describeShape(newShape))
        }
        var out = Tensor(shape: resolved, buffer: buffer)
        Tensor.traced(.reshape, [self], [out])
        let inputShape = shape
        Tensor.record(&out, inputs: [self]) { g, _ in [try g.reshaped(to: inputShape)] }
        return out
    }

    /// Inserts an axis of extent 1.
    public func expandingDimensions(at axis: Int) throws -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        guard a >= 0 && a <= rank else {
            throw RecurError.invalidArgument(op: "expandDims", message: "axis \(axis) is out of range for shape \(describeShape(shape))")
        }
        var s = shape
        s.insert(1, at: a)
        return try reshaped(to: s)
    }

    /// Permutes the axes: `out.shape[i] == shape[permutation[i]]`. Default reverses the axes.
    public func transposed(_ permutation: [Int]? = nil) throws -> Tensor {
        let perm = permutation ?? Array((0..<rank).reversed())
        guard perm.sorted() == Array(0..<rank) else {
            throw RecurError.invalidArgument(op: "transpose", message: "\(perm) is not a permutation of the axes of \(describeShape(shape))")
        }
        let outShape = perm.map { shape[$0] }
        Tensor.untraceable([self], "transpose")
        var out = deviceBackend.transposed(detached, permutation: perm, shape: outShape)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        Tensor.record(&out, inputs: [self]) { g, _ in [try g.transposed(inverse)] }
        return out
    }

    /// The sub-tensor with indices `range` along `axis`: a copy, except that rows of the first axis of a
    /// host tensor whose gradient is not recorded (a batch of a data set) share its storage, as its other
    /// values do (copy-on-write).
    public func slice(alongAxis axis: Int, _ range: Range<Int>) throws -> Tensor {
        let a = try normalizedAxis(axis, op: "slice")
        guard range.lowerBound >= 0 && range.upperBound <= shape[a] else {
            throw RecurError.invalidArgument(op: "slice", message: "range \(range) is out of bounds for axis \(a) of \(describeShape(shape))")
        }
        let (outer, n, inner) = split3(a)
        var outShape = shape
        outShape[a] = range.count
        if a == 0, device == .cpu, node == nil, StepTracer.current == nil {
            return Tensor(shape: outShape, buffer: TensorBuffer(window: buffer, offset: range.lowerBound * inner, count: range.count * inner))
        }
        var out = deviceBackend.slice(detached, outer: outer, n: n, inner: inner, range: range, shape: outShape)
        if a == rank - 1 { Tensor.traced(.sliceLastAxis(range), [self], [out]) }
        else { Tensor.untraceable([self], "a slice along axis \(a) of a rank-\(rank) value (only the last axis is traced)") }
        let inputShape = shape
        Tensor.record(&out, inputs: [self]) { g, _ in
            [g.deviceBackend.unslice(g.detached, outer: outer, n: n, inner: inner, range: range, shape: inputShape)]
        }
        return out
    }

    /// The sub-tensor at `index` along `axis`, with that axis removed.
    public func select(alongAxis axis: Int, index: Int) throws -> Tensor {
        let a = try normalizedAxis(axis, op: "select")
        var s = shape
        s.remove(at: a)
        return try slice(alongAxis: a, index..<(index + 1)).reshaped(to: s)
    }

    /// Joins tensors along an existing axis; all other extents must agree.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int) throws -> Tensor {
        guard let first = tensors.first else {
            throw RecurError.invalidArgument(op: "concatenate", message: "needs at least one tensor")
        }
        let a = try first.normalizedAxis(axis, op: "concatenate")
        for t in tensors {
            var expected = first.shape, actual = t.shape
            guard expected.count == actual.count else {
                throw RecurError.shapeMismatch(op: "concatenate", expected: describeShape(first.shape), actual: describeShape(t.shape))
            }
            expected[a] = 0; actual[a] = 0
            guard expected == actual else {
                throw RecurError.shapeMismatch(op: "concatenate", expected: "\(describeShape(first.shape)) apart from axis \(a)",
                                               actual: describeShape(t.shape))
            }
        }
        let sizes = tensors.map { $0.shape[a] }
        var outShape = first.shape
        outShape[a] = sizes.reduce(0, +)
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let (backend, parts) = try onCommonDevice(tensors, op: "concatenate")
        var out = backend.concatenate(parts.map(\.detached), outer: outer, inner: inner, shape: outShape)
        if a == first.rank - 1 { traced(.concatenateLastAxis, tensors, [out]) }
        else { untraceable(tensors, "concatenation along axis \(a) of rank-\(first.rank) values (only the last axis is traced)") }
        record(&out, inputs: tensors) { g, need in
            var grads: [Tensor?] = []
            var offset = 0
            for (i, n) in sizes.enumerated() {
                grads.append(need[i] ? try g.slice(alongAxis: a, offset..<(offset + n)) : nil)
                offset += n
            }
            return grads
        }
        return out
    }

    /// Splits along an axis into pieces of the given sizes (which must add up to the extent).
    public func split(sizes: [Int], alongAxis axis: Int) throws -> [Tensor] {
        let a = try normalizedAxis(axis, op: "split")
        guard sizes.reduce(0, +) == shape[a] else {
            throw RecurError.invalidArgument(op: "split", message: "sizes \(sizes) do not add up to \(shape[a]), axis \(a) of \(describeShape(shape))")
        }
        var start = 0
        return try sizes.map { n in
            defer { start += n }
            return try slice(alongAxis: a, start..<(start + n))
        }
    }

    /// Stacks same-shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], alongAxis axis: Int = 0) throws -> Tensor {
        try concatenate(tensors.map { try $0.expandingDimensions(at: axis) }, alongAxis: axis)
    }

    /// The slices along an axis, each with that axis removed (inverse of `stack`).
    public func unstacked(alongAxis axis: Int = 0) throws -> [Tensor] {
        let a = try normalizedAxis(axis, op: "unstack")
        return try (0..<shape[a]).map { try select(alongAxis: a, index: $0) }
    }

    /// Reverses the order along an axis.
    public func reversed(alongAxis axis: Int) throws -> Tensor {
        let a = try normalizedAxis(axis, op: "reverse")
        let (outer, n, inner) = split3(a)
        Tensor.untraceable([self], "a reversal")
        var out = deviceBackend.reversed(detached, outer: outer, n: n, inner: inner)
        Tensor.record(&out, inputs: [self]) { g, _ in [try g.reversed(alongAxis: a)] }
        return out
    }
}
