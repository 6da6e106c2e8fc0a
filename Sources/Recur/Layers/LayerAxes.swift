/// Keras's `axis` argument of the layers that work over some axes of their input (`Softmax` and the
/// normalisation layers): an integer or a list of integers, negative ones counted from the last axis.
extension KerasArguments {
    /// The axes under `key`: an integer or a non-empty list of at most `UntrustedLimits.maxRank`, each
    /// in ±`UntrustedLimits.maxRank`; a missing or `null` key takes `defaultValue`.
    public func axes(_ key: String = "axis", default defaultValue: [Int]) throws -> [Int] {
        guard let v = value(key), !v.isNull else { return defaultValue }
        let limit = UntrustedLimits.maxRank
        let items = v.array ?? [v]
        let axes = items.compactMap(\.int)
        guard !items.isEmpty, items.count <= limit, axes.count == items.count, axes.allSatisfy({ (-limit...limit).contains($0) }) else {
            throw invalid("'\(key)' must name axes in -\(limit)...\(limit), got \(KerasConfig.compactJSON(v))")
        }
        return axes
    }
}

extension KerasValue {
    /// Axes as Keras writes them: an integer for one, a list for several.
    public static func axes(_ axes: [Int]) -> JSONValue { axes.count == 1 ? number(axes[0]) : ints(axes) }
}

extension Layer {
    /// `axes` counted from 0 for an input of rank `rank`, sorted; throws, naming this layer, unless they
    /// are distinct axes of that rank.
    public func resolvedAxes(_ axes: [Int], rank: Int) throws -> [Int] {
        let resolved = axes.map { $0 < 0 ? $0 + rank : $0 }
        guard !resolved.isEmpty, resolved.allSatisfy({ (0..<rank).contains($0) }), Set(resolved).count == resolved.count else {
            throw RecurError.invalidArgument(errorSubject, "axes \(axes) are not distinct axes of an input of rank \(rank)")
        }
        return resolved.sorted()
    }

    /// The sizes of `shape` at the resolved `axes`; throws, naming this layer, where one is unknown.
    public func knownSizes(_ shape: [Int?], at axes: [Int]) throws -> [Int] {
        try axes.map { a in
            guard let size = shape[a] else {
                throw RecurError.shapeMismatch(errorSubject, expected: "a known size at axis \(a)", actual: describeShape(shape))
            }
            return size
        }
    }

    /// The shape that lays a weight of the `axes`' sizes against an input of `shape`: its sizes at
    /// those axes, 1 elsewhere.
    public func broadcastShape(_ shape: [Int?], at axes: [Int]) throws -> [Int] {
        let sizes = try knownSizes(shape, at: axes)
        var out = Array(repeating: 1, count: shape.count)
        for (a, size) in zip(axes, sizes) { out[a] = size }
        return out
    }
}
