extension Tensor {
    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        var out = try a.binary(.add, b, name: "add")
        if isRecorded(a, b) {
            record(&out, inputs: [a, b]) { g, need in
                [need[0] ? try g.sumToShape(a.shape) : nil, need[1] ? try g.sumToShape(b.shape) : nil]
            }
        }
        return out
    }

    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        var out = try a.binary(.subtract, b, name: "subtract")
        if isRecorded(a, b) {
            record(&out, inputs: [a, b]) { g, need in
                [need[0] ? try g.sumToShape(a.shape) : nil, need[1] ? try (-g).sumToShape(b.shape) : nil]
            }
        }
        return out
    }

    /// Elementwise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        var out = try a.binary(.multiply, b, name: "multiply")
        if isRecorded(a, b) {
            let (ad, bd) = (a.detached, b.detached)
            record(&out, inputs: [a, b]) { g, need in
                [need[0] ? try (g * bd).sumToShape(a.shape) : nil, need[1] ? try (g * ad).sumToShape(b.shape) : nil]
            }
        }
        return out
    }

    /// Elementwise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        var out = try a.binary(.divide, b, name: "divide")
        if isRecorded(a, b) {
            let (ad, bd) = (a.detached, b.detached)
            record(&out, inputs: [a, b]) { g, need in
                let ga = need[0] ? try (g / bd).sumToShape(a.shape) : nil
                let gb = need[1] ? try (-(g * ad) / (bd * bd)).sumToShape(b.shape) : nil
                return [ga, gb]
            }
        }
        return out
    }

    public static prefix func - (a: Tensor) -> Tensor { a.scaled(by: -1) }

    /// `alpha * self`.
    public func scaled(by alpha: Float) -> Tensor {
        var out = deviceBackend.scaled(detached, by: alpha)
        Tensor.traced(.scaled(alpha), [self], [out])
        Tensor.record(&out, inputs: [self]) { g, _ in [g.scaled(by: alpha)] }
        return out
    }

    public static func + (a: Tensor, b: Float) -> Tensor { try! a + Tensor(b) }
    public static func - (a: Tensor, b: Float) -> Tensor { try! a - Tensor(b) }
    public static func * (a: Tensor, b: Float) -> Tensor { a.scaled(by: b) }
    public static func / (a: Tensor, b: Float) -> Tensor { a.scaled(by: 1 / b) }
    public static func + (a: Float, b: Tensor) -> Tensor { try! Tensor(a) + b }
    public static func - (a: Float, b: Tensor) -> Tensor { try! Tensor(a) - b }
    public static func * (a: Float, b: Tensor) -> Tensor { b.scaled(by: a) }
    public static func / (a: Float, b: Tensor) -> Tensor { try! Tensor(a) / b }

    /// Elementwise maximum with broadcasting; the gradient goes to `a` where `a >= b`.
    public func maximum(_ b: Tensor) throws -> Tensor {
        var out = try binary(.maximum, b, name: "maximum")
        let (ad, bd) = (self.detached, b.detached)
        let shapeA = shape
        Tensor.record(&out, inputs: [self, b]) { g, need in
            let pickA = try ad.greaterEqual(bd)
            return [need[0] ? try (g * pickA).sumToShape(shapeA) : nil,
                    need[1] ? try (g * (1 - pickA)).sumToShape(bd.shape) : nil]
        }
        return out
    }

    /// Elementwise minimum with broadcasting; the gradient goes to `a` where `a <= b`.
    public func minimum(_ b: Tensor) throws -> Tensor {
        try -((-self).maximum(-b))
    }

    /// Clips every scalar into `[low, high]`; the gradient is zero outside.
    public func clipped(min low: Float, max high: Float) throws -> Tensor {
        try maximum(Tensor(low)).minimum(Tensor(high))
    }
}
