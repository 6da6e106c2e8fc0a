/// Keras's weight constraints, applied to a weight after every optimizer step
/// (`Layer.weightConstraints`), with n = ‖w‖₂ over `axes` (kept for broadcasting) and ε = 10⁻⁷:
///
///     maxNorm     w · clip(n, 0, maxValue) / (ε + n)
///     minMaxNorm  w · (rate · clip(n, minValue, maxValue) + (1 − rate) · n) / (ε + n)
///     unitNorm    w / (ε + n)
///     nonNeg      max(w, 0)
public enum WeightConstraint: Sendable, Equatable {
    case maxNorm(maxValue: Float = 2, axes: [Int] = [0])
    case minMaxNorm(minValue: Float = 0, maxValue: Float = 1, rate: Float = 1, axes: [Int] = [0])
    case unitNorm(axes: [Int] = [0])
    case nonNeg

    /// The constrained weight.
    public func apply(to w: Tensor) throws -> Tensor {
        func norms(_ axes: [Int]) throws -> Tensor {
            let normalized = try axes.map { axis -> Int in
                let a = axis < 0 ? axis + w.rank : axis
                guard (0..<w.rank).contains(a) else {
                    throw RecurError.invalidArgument(op: "weight constraint", message: "axis \(axis) is out of range for a weight of shape \(describeShape(w.shape))")
                }
                return a
            }
            return try (w * w).sum(alongAxes: normalized, keepingDimensions: true).sqrt()
        }
        let epsilon = Tensor(1e-7)
        switch self {
        case .nonNeg:
            return try w.maximum(Tensor(0))
        case .unitNorm(let axes):
            return try w / (norms(axes) + epsilon)
        case .maxNorm(let maxValue, let axes):
            let n = try norms(axes)
            return try w * (n.clipped(min: 0, max: maxValue) / (n + epsilon))
        case .minMaxNorm(let minValue, let maxValue, let rate, let axes):
            let n = try norms(axes)
            let desired = try n.clipped(min: minValue, max: maxValue).scaled(by: rate) + n.scaled(by: 1 - rate)
            return try w * (desired / (n + epsilon))
        }
    }

    // MARK: - Keras

    /// As Keras serializes it: `{"module": "keras.constraints", "class_name": "MaxNorm", "config": {...}}`.
    var kerasConfig: JSONValue {
        func axis(_ axes: [Int]) -> JSONValue { axes.count == 1 ? KerasValue.number(axes[0]) : KerasValue.ints(axes) }
        let (name, config): (String, [String: JSONValue])
        switch self {
        case .nonNeg: (name, config) = ("NonNeg", [:])
        case .unitNorm(let axes): (name, config) = ("UnitNorm", ["axis": axis(axes)])
        case .maxNorm(let maxValue, let axes): (name, config) = ("MaxNorm", ["max_value": KerasValue.number(maxValue), "axis": axis(axes)])
        case .minMaxNorm(let minValue, let maxValue, let rate, let axes):
            (name, config) = ("MinMaxNorm", ["min_value": KerasValue.number(minValue), "max_value": KerasValue.number(maxValue),
                                             "rate": KerasValue.number(rate), "axis": axis(axes)])
        }
        return .object(["module": "keras.constraints", "class_name": .string(name), "config": .object(config), "registered_name": .null])
    }

    /// From a Keras config value: a serialized `MaxNorm`, `MinMaxNorm`, `UnitNorm` or `NonNeg`, or
    /// their names (`"max_norm"`: the defaults). `what` names the argument in errors.
    init(keras value: JSONValue, what: String) throws {
        let className = value.string ?? value["class_name"]?.string ?? ""
        let config = value["config"]?.object ?? [:]
        let arguments = KerasArguments(layer: "\(what) \(className)", config: config)
        func number(_ key: String, _ fallback: Float) throws -> Float {
            let v = try arguments.float(key, default: fallback)
            guard v.isFinite else { throw arguments.invalid("'\(key)' must be finite, got \(v)") }
            return v
        }
        func axes() throws -> [Int] {
            guard let v = arguments.value("axis"), !v.isNull else { return [0] }
            let list = v.array ?? [v]
            return try list.map { item in
                guard let i = item.int, abs(i) < UntrustedLimits.maxRank else { throw arguments.invalid("'axis' must be axes of the weight, got \(KerasConfig.compactJSON(v))") }
                return i
            }
        }
        switch className {
        case "NonNeg", "non_neg": self = .nonNeg
        case "UnitNorm", "unit_norm": self = .unitNorm(axes: try axes())
        case "MaxNorm", "max_norm": self = .maxNorm(maxValue: try number("max_value", 2), axes: try axes())
        case "MinMaxNorm", "min_max_norm":
            let (low, high, rate) = (try number("min_value", 0), try number("max_value", 1), try number("rate", 1))
            guard low <= high else { throw arguments.invalid("'min_value' \(low) is above 'max_value' \(high)") }
            self = .minMaxNorm(minValue: low, maxValue: high, rate: rate, axes: try axes())
        default:
            throw RecurError.unsupported(op: what, message: "constraint \(KerasConfig.compactJSON(value)) (MaxNorm, MinMaxNorm, UnitNorm and NonNeg only)")
        }
        try arguments.refuseUnusedArguments()
    }
}
