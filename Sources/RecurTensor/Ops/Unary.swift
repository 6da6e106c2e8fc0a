extension Tensor {
    /// `op` elementwise on this tensor's device.
    private func map(_ op: UnaryOp) -> Tensor {
        let out = deviceBackend.unary(op, detached)
        Tensor.traced(.unary(op), [self], [out])
        return out
    }

    /// eˣ elementwise.
    public func exp() -> Tensor {
        var out = map(.exp)
        let y = out.detached
        Tensor.record(&out, inputs: [self]) { g, _ in [try g * y] }
        return out
    }

    /// Natural logarithm elementwise.
    public func log() -> Tensor {
        var out = map(.log)
        let x = detached
        Tensor.record(&out, inputs: [self]) { g, _ in [try g / x] }
        return out
    }

    /// Hyperbolic tangent elementwise; dy/dx = 1 − y².
    public func tanh() -> Tensor { activation(.tanh) }

    /// Logistic sigmoid 1/(1+e⁻ˣ) elementwise; dy/dx = y(1 − y).
    public func sigmoid() -> Tensor { activation(.sigmoid) }

    /// max(x, 0) elementwise.
    public func relu() -> Tensor { activation(.relu) }

    /// An activation whose gradient the backend computes from its input and output.
    private func activation(_ op: UnaryOp) -> Tensor {
        var out = map(op)
        guard Tensor.isRecorded(self) else { return out }
        let (x, y) = (detached, out.detached)
        Tensor.record(&out, inputs: [self]) { g, _ in
            let (backend, operands) = try Tensor.onCommonDevice([g, x], op: "\(op) gradient")
            return [backend.unaryGradient(op, input: operands[1], output: y, gradient: operands[0].detached)]
        }
        return out
    }

    /// x² elementwise.
    public func squared() throws -> Tensor { try self * self }

    /// √x elementwise.
    public func sqrt() throws -> Tensor {
        var out = map(.sqrt)
        let y = out.detached
        Tensor.record(&out, inputs: [self]) { g, _ in [try g / y.scaled(by: 2)] }
        return out
    }

    /// |x| elementwise; the gradient at 0 is 0.
    public func abs() throws -> Tensor {
        var out = map(.abs)
        let x = detached
        Tensor.record(&out, inputs: [self]) { g, _ in [try g * x.map(.sign)] }
        return out
    }
}
