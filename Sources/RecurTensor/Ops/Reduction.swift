import CRecurKernels

extension Tensor {
    /// Normalises a possibly negative axis and checks it.
    func normalizedAxis(_ axis: Int, op: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < Swift.max(rank, 1) else {
            throw RecurError.invalidArgument(op: op, message: "axis \(axis) is out of range for shape \(describeShape(shape))")
        }
        return a
    }

    /// Views the shape as (outer, shape[axis], inner).
    func split3(_ axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Sum over one axis, keeping it with extent 1.
    private func sumKeeping(axis: Int) -> Tensor {
        let (outer, n, inner) = split3(axis)
        var newShape = shape
        newShape[axis] = 1
        let out = Tensor.zeros(newShape)
        for o in 0..<outer {
            let src = base + o * n * inner, dst = out.base + o * inner
            if inner == 1 {
                dst[0] = Float(recur_sum(src, n))
            } else {
                for k in 0..<n { recur_binary(Int32(RECUR_ADD), dst, 1, src + k * inner, 1, dst, inner) }
            }
        }
        return out
    }

    /// Sum over the given axes (all axes when empty list is not given: use `sum()`).
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) throws -> Tensor {
        let normalized = Set(try axes.map { try normalizedAxis($0, op: "sum") })
        var out = self.detached
        for a in normalized.sorted() { out = out.sumKeeping(axis: a) }
        let kept = out.shape
        let finalShape = keepingDimensions ? kept : shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
        out = try out.reshaped(to: finalShape)
        let inputShape = shape
        Tensor.record(&out, inputs: [self]) { g, _ in
            [try g.reshaped(to: kept) + Tensor.zeros(inputShape)]
        }
        return out
    }

    /// Sum over one axis.
    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) throws -> Tensor {
        try sum(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Sum of all scalars, as a rank-0 tensor.
    /// The sum of all scalars, accumulated in double precision (for running totals of metrics).
    public func sumInDouble() -> Double { recur_sum(base, count) }

    /// The sum of the squares of all scalars, accumulated in double precision (for norms).
    public func sumOfSquares() -> Double {
        var total = 0.0
        for i in 0..<count { total += Double(base[i]) * Double(base[i]) }
        return total
    }

    public func sum() -> Tensor {
        var out = Tensor(Float(recur_sum(base, count)))
        let inputShape = shape
        Tensor.record(&out, inputs: [self]) { g, _ in [Tensor(repeating: g.scalar, shape: inputShape)] }
        return out
    }

    /// Mean of all scalars, as a rank-0 tensor.
    public func mean() -> Tensor { sum().scaled(by: 1 / Float(Swift.max(count, 1))) }

    /// Mean over the given axes.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) throws -> Tensor {
        let n = try axes.map { shape[try normalizedAxis($0, op: "mean")] }.reduce(1, *)
        return try sum(alongAxes: axes, keepingDimensions: keepingDimensions).scaled(by: 1 / Float(Swift.max(n, 1)))
    }

    public func mean(alongAxis axis: Int, keepingDimensions: Bool = false) throws -> Tensor {
        try mean(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Maximum over one axis; the gradient flows to the first maximal element.
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) throws -> Tensor {
        let a = try normalizedAxis(axis, op: "max")
        let idx = try argmax(alongAxis: a)
        let (outer, n, inner) = split3(a)
        var keptShape = shape
        keptShape[a] = 1
        var out = Tensor(uninitializedShape: keptShape)
        for o in 0..<outer {
            for i in 0..<inner {
                let k = Int(idx.base[o * inner + i])
                out.base[o * inner + i] = base[(o * n + k) * inner + i]
            }
        }
        if !keepingDimensions { out = try out.reshaped(to: idx.shape) }
        let inputShape = shape
        Tensor.record(&out, inputs: [self]) { g, _ in
            let dx = Tensor.zeros(inputShape)
            for o in 0..<outer {
                for i in 0..<inner {
                    let k = Int(idx.base[o * inner + i])
                    dx.base[(o * n + k) * inner + i] = g.base[o * inner + i]
                }
            }
            return [dx]
        }
        return out
    }

    /// Index of the maximum along an axis (the first on ties), as whole-number floats; the axis is removed.
    public func argmax(alongAxis axis: Int) throws -> Tensor {
        let a = try normalizedAxis(axis, op: "argmax")
        let (outer, n, inner) = split3(a)
        guard n > 0 else { throw RecurError.invalidArgument(op: "argmax", message: "axis \(axis) is empty") }
        var outShape = shape
        outShape.remove(at: a)
        let out = Tensor(uninitializedShape: outShape)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var bestValue = base[o * n * inner + i]
                for k in 1..<n where base[(o * n + k) * inner + i] > bestValue {
                    best = k
                    bestValue = base[(o * n + k) * inner + i]
                }
                out.base[o * inner + i] = Float(best)
            }
        }
        return out
    }
}
