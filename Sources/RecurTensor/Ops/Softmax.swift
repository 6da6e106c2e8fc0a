extension Tensor {
    /// Softmax over the last axis: yᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x).
    public func softmax() throws -> Tensor {
        let y = try logSoftmax().detached.exp()
        var out = y
        Tensor.record(&out, inputs: [self]) { g, _ in
            // dx = y ⊙ (g − Σ g⊙y)
            [try y * (g - (g * y).sum(alongAxis: -1, keepingDimensions: true))]
        }
        return out
    }

    /// log(softmax(x)) over the last axis, computed stably.
    public func logSoftmax() throws -> Tensor {
        guard rank >= 1, let classes = shape.last, classes > 0 else {
            throw RecurError.shapeMismatch(op: "logSoftmax", expected: "a tensor with a non-empty last axis", actual: describeShape(shape))
        }
        Tensor.untraceable([self], "a (log-)softmax")
        var out = deviceBackend.logSoftmax(detached, classes: classes)
        let y = out.detached
        Tensor.record(&out, inputs: [self]) { g, _ in
            // dx = g − softmax ⊙ Σ g
            [try g - y.exp() * g.sum(alongAxis: -1, keepingDimensions: true)]
        }
        return out
    }
}
