extension Tensor {
    /// 1 where the predicate holds for the broadcast pair, else 0. Not differentiable.
    private func compare(_ other: Tensor, op: String, _ predicate: (Float, Float) -> Bool) throws -> Tensor {
        let shape = try broadcastShape(self.shape, other.shape, op: op)
        let a = try (self.detached + Tensor.zeros(shape)), b = try (other.detached + Tensor.zeros(shape))
        let out = Tensor(uninitializedShape: shape)
        for i in 0..<out.count { out.base[i] = predicate(a.base[i], b.base[i]) ? 1 : 0 }
        return out
    }

    public func greater(_ other: Tensor) throws -> Tensor { try compare(other, op: "greater", >) }
    public func greaterEqual(_ other: Tensor) throws -> Tensor { try compare(other, op: "greaterEqual", >=) }
    public func less(_ other: Tensor) throws -> Tensor { try compare(other, op: "less", <) }
    public func equal(_ other: Tensor) throws -> Tensor { try compare(other, op: "equal", ==) }
    public func notEqual(_ other: Tensor) throws -> Tensor { try compare(other, op: "notEqual", !=) }

    /// Picks `a` where `condition` is nonzero and `b` elsewhere (all three broadcast together).
    /// Differentiable in `a` and `b`.
    public static func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let mask = try condition.notEqual(Tensor(0))
        return try mask * a + (1 - mask) * b
    }
}
