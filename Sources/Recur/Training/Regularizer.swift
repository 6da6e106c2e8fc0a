/// Keras's weight and activity regularizers `L1`, `L2`, `L1L2` and `OrthogonalRegularizer`: a penalty
/// added to the training (and evaluation) loss,
///
///     L1, L2, L1L2:  penalty(w) = l1 · Σ|w| + l2 · Σw²
///     orthogonal:    penalty(w) = factor · ½ · Σ_{i≠j} |v̂ᵢ·v̂ⱼ| / (n(n − 1)/2)
///
/// where, for `orthogonal`, v₁ … vₙ are the rows (`mode: .rows`) or the columns (`.columns`) of the
/// matrix w and v̂ = v · min(1/‖v‖, 1/ε), ε = 1e-7 (Keras's `ops.normalize`). It is applied to a weight
/// (`Layer.weightRegularizers`), or to a layer's output divided by its batch size
/// (`Layer.activityRegularizer`), as Keras adds them to `model.losses`.
public struct Regularizer: Sendable, Equatable {
    /// Which Keras class the regularizer is (its name in files).
    public enum Kind: String, Sendable { case l1 = "L1", l2 = "L2", l1l2 = "L1L2", orthogonal = "OrthogonalRegularizer" }

    /// The vectors of a matrix that `orthogonal` pushes apart.
    public enum OrthogonalMode: String, Sendable { case rows, columns }

    public let kind: Kind
    /// The factors of `l1`, `l2` and `l1l2` (0 for `orthogonal`).
    public let l1: Float
    public let l2: Float
    /// The factor and mode of `orthogonal` (0 and `.rows` for the others).
    public let factor: Float
    public let mode: OrthogonalMode

    /// Keras's `L1(l1=0.01)`.
    public static func l1(_ l1: Float = 0.01) -> Regularizer { Regularizer(kind: .l1, l1: l1, l2: 0) }
    /// Keras's `L2(l2=0.01)`.
    public static func l2(_ l2: Float = 0.01) -> Regularizer { Regularizer(kind: .l2, l1: 0, l2: l2) }
    /// Keras's `L1L2(l1=0, l2=0)`.
    public static func l1l2(l1: Float = 0, l2: Float = 0) -> Regularizer { Regularizer(kind: .l1l2, l1: l1, l2: l2) }
    /// Keras's `OrthogonalRegularizer(factor=0.01, mode="rows")`, for matrices (rank 2) only.
    public static func orthogonal(factor: Float = 0.01, mode: OrthogonalMode = .rows) -> Regularizer {
        Regularizer(kind: .orthogonal, l1: 0, l2: 0, factor: factor, mode: mode)
    }

    /// The penalty of `w`, a scalar (see the type's equations). `orthogonal` throws for a `w` that is not
    /// a matrix, as Keras does; a matrix of one row (or column) gives NaN, Keras's 0/0.
    public func penalty(of w: Tensor) throws -> Tensor {
        if kind == .orthogonal { return try orthogonalPenalty(of: w) }
        var total: Tensor?
        if l1 != 0 { total = try w.abs().sum().scaled(by: l1) }
        if l2 != 0 {
            let squares = try (w * w).sum().scaled(by: l2)
            total = try total.map { try $0 + squares } ?? squares
        }
        return total ?? Tensor(0)
    }

    private func orthogonalPenalty(of w: Tensor) throws -> Tensor {
        guard w.rank == 2 else {
            throw RecurError.invalidArgument(op: "OrthogonalRegularizer", message: "needs a matrix (rank 2), got shape \(describeShape(w.shape))")
        }
        let rows = mode == .rows
        let n = rows ? w.shape[0] : w.shape[1]
        let squareSums = try (w * w).sum(alongAxis: rows ? 1 : 0, keepingDimensions: true)
        let unit = try w * (1 / squareSums.sqrt()).minimum(Tensor(1 / Float(1e-7)))
        let products = try unit.matmul(unit, transposingSelf: !rows, transposingOther: rows)
        let offDiagonal = try Tensor(shape: [n, n], scalars: (0..<n * n).map { $0 % (n + 1) == 0 ? 0 : 1 })
        let pairs = Float(n) * (Float(n) - 1) / 2
        return try (products * offDiagonal).abs().sum().scaled(by: factor * 0.5 / pairs)
    }

    // MARK: - Keras

    /// As Keras serializes it: `{"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01}}`.
    var kerasConfig: JSONValue {
        var config: [String: JSONValue] = [:]
        switch kind {
        case .orthogonal: config = ["factor": KerasValue.number(factor), "mode": .string(mode.rawValue)]
        case .l1: config["l1"] = KerasValue.number(l1)
        case .l2: config["l2"] = KerasValue.number(l2)
        case .l1l2: config = ["l1": KerasValue.number(l1), "l2": KerasValue.number(l2)]
        }
        return .object(["module": "keras.regularizers", "class_name": .string(kind.rawValue), "config": .object(config), "registered_name": .null])
    }

    /// From a Keras config value: a serialized `L1`, `L2`, `L1L2` or `OrthogonalRegularizer`, or their
    /// names (`"l2"`: the defaults). `what` names the argument in errors.
    init(keras value: JSONValue, what: String) throws {
        let className = value.string ?? value["class_name"]?.string
        let kinds: [String: Kind] = ["L1": .l1, "l1": .l1, "L2": .l2, "l2": .l2, "L1L2": .l1l2, "l1l2": .l1l2, "l1_l2": .l1l2,
                                     "OrthogonalRegularizer": .orthogonal, "orthogonal_regularizer": .orthogonal]
        guard let className, let kind = kinds[className] else {
            throw RecurError.unsupported(op: what, message: "regularizer \(KerasConfig.compactJSON(value)) (L1, L2, L1L2 and OrthogonalRegularizer only)")
        }
        let config = value["config"]?.object ?? [:]
        let known: Set<String> = switch kind {
        case .l1: ["l1"]
        case .l2: ["l2"]
        case .l1l2: ["l1", "l2"]
        case .orthogonal: ["factor", "mode"]
        }
        for key in config.keys where !known.contains(key) {
            throw RecurError.unsupported(op: what, message: "\(className) argument \(key)")
        }
        func number(_ key: String, default fallback: Float) throws -> Float {
            guard let v = config[key], !v.isNull else { return fallback }
            guard let d = v.double, d >= 0, Float(d).isFinite else {
                throw RecurError.invalidArgument(op: what, message: "\(className) \(key) must be a finite number ≥ 0, got \(KerasConfig.compactJSON(v))")
            }
            return Float(d)
        }
        switch kind {
        case .orthogonal:
            let modeValue = config["mode"].flatMap { $0.isNull ? nil : $0 }
            guard let mode = modeValue.map({ $0.string.flatMap(OrthogonalMode.init(rawValue:)) }) ?? .rows else {
                throw RecurError.invalidArgument(op: what, message: "\(className) mode must be \"rows\" or \"columns\", got \(KerasConfig.compactJSON(modeValue ?? .null))")
            }
            self = .orthogonal(factor: try number("factor", default: 0.01), mode: mode)
        case .l1: self = .l1(try number("l1", default: 0.01))
        case .l2: self = .l2(try number("l2", default: 0.01))
        case .l1l2: self = .l1l2(l1: try number("l1", default: 0), l2: try number("l2", default: 0))
        }
    }

    private init(kind: Kind, l1: Float, l2: Float, factor: Float = 0, mode: OrthogonalMode = .rows) {
        (self.kind, self.l1, self.l2, self.factor, self.mode) = (kind, l1, l2, factor, mode)
    }
}
