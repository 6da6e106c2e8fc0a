extension Tensor {
    public func greater(_ other: Tensor) throws -> Tensor { try binary(.greater, other, name: "greater") }
    public func greaterEqual(_ other: Tensor) throws -> Tensor { try binary(.greaterEqual, other, name: "greaterEqual") }
    public func less(_ other: Tensor) throws -> Tensor { try binary(.less, other, name: "less") }
    public func equal(_ other: Tensor) throws -> Tensor { try binary(.equal, other, name: "equal") }
    public func notEqual(_ other: Tensor) throws -> Tensor { try binary(.notEqual, other, name: "notEqual") }

    /// Picks `a` where `condition` is nonzero and `b` elsewhere (all three broadcast together).
    /// Differentiable in `a` and `b`.
    public static func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let mask = try condition.notEqual(Tensor(0))
        return try mask * a + (1 - mask) * b
    }
}
