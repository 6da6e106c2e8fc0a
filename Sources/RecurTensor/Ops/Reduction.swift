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
        Tensor.untraceable([self], "a sum")
        return deviceBackend.sum(self, outer: outer, n: n, inner: inner, shape: newShape)
    }

    /// Sum over the given axes (all axes when empty list is not given: use `sum()`).
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) throws -> Tensor {
        let normalized = Set(try axes.map { try normalizedAxis($0, op: "sum") })
        var out = self.detached
        for a in normalized.sorted() { out = out.sumKeeping(axis: a) }
        let kept = out.shape
        let finalShape = keepingDimensions ? kept : shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
        out = try out.reshaped(to: finalShape)
        let (inputShape, inputDevice) = (shape, device)
        Tensor.record(&out, inputs: [self]) { g, _ in
            [try g.reshaped(to: kept) + Tensor.zeros(inputShape, on: inputDevice)]
        }
        return out
    }

    /// Sum over one axis.
    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) throws -> Tensor {
        try sum(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The sum of all scalars, accumulated in double precision on the host (for running totals of metrics).
    public func sumInDouble() throws -> Double {
        let host = try to(.cpu)
        return recur_sum(host.base, count)
    }

    /// The sum of the squares of all scalars, accumulated in double precision on the host (for norms).
    public func sumOfSquares() throws -> Double {
        try hostScalars().reduce(0.0) { $0 + Double($1) * Double($1) }
    }

    /// Sum of all scalars, as a rank-0 tensor.
    public func sum() -> Tensor {
        Tensor.untraceable([self], "a sum")
        var out = deviceBackend.sum(detached, outer: 1, n: count, inner: 1, shape: [])
        let (inputShape, inputDevice) = (shape, device)
        Tensor.record(&out, inputs: [self]) { g, _ in [try g + Tensor.zeros(inputShape, on: inputDevice)] }
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
        Tensor.untraceable([self], "a maximum along an axis")
        var out = deviceBackend.pick(detached, indices: idx, outer: outer, n: n, inner: inner, shape: keptShape)
        if !keepingDimensions { out = try out.reshaped(to: idx.shape) }
        let inputShape = shape
        Tensor.record(&out, inputs: [self]) { g, _ in
            [g.deviceBackend.unpick(g.detached, indices: idx, outer: outer, n: n, inner: inner, shape: inputShape)]
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
        Tensor.untraceable([self], "argmax")
        return deviceBackend.argmax(detached, outer: outer, n: n, inner: inner, shape: outShape)
    }
}
