/// Keras's weight and activity regularizers `L1`, `L2` and `L1L2`: a penalty added to the training
/// (and evaluation) loss,
///
///     penalty(w) = l1 · Σ|w| + l2 · Σw²
///
/// for a weight (`Layer.weightRegularizers`), or for a layer's output divided by its batch size
/// (`Layer.activityRegularizer`), as Keras adds them to `model.losses`.
public struct Regularizer: Sendable, Equatable {
    /// Which Keras class the regularizer is (its name in files).
    public enum Kind: String, Sendable { case l1 = "L1", l2 = "L2", l1l2 = "L1L2" }

    public let kind: Kind
    public let l1: Float
    public let l2: Float

    /// Keras's `L1(l1=0.01)`.
    public static func l1(_ l1: Float = 0.01) -> Regularizer { Regularizer(kind: .l1, l1: l1, l2: 0) }
    /// Keras's `L2(l2=0.01)`.
    public static func l2(_ l2: Float = 0.01) -> Regularizer { Regularizer(kind: .l2, l1: 0, l2: l2) }
    /// Keras's `L1L2(l1=0, l2=0)`.
    public static func l1l2(l1: Float = 0, l2: Float = 0) -> Regularizer { Regularizer(kind: .l1l2, l1: l1, l2: l2) }

    /// l1 · Σ|w| + l2 · Σw², a scalar.
    public func penalty(of w: Tensor) throws -> Tensor {
        var total: Tensor?
        if l1 != 0 { total = try w.abs().sum().scaled(by: l1) }
        if l2 != 0 {
            let squares = try (w * w).sum().scaled(by: l2)
            total = try total.map { try $0 + squares } ?? squares
        }
        return total ?? Tensor(0)
    }

    // MARK: - Keras

    /// As Keras serializes it: `{"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01}}`.
    var kerasConfig: JSONValue {
        var config: [String: JSONValue] = [:]
        if kind != .l2 { config["l1"] = KerasValue.number(l1) }
        if kind != .l1 { config["l2"] = KerasValue.number(l2) }
        return .object(["module": "keras.regularizers", "class_name": .string(kind.rawValue), "config": .object(config), "registered_name": .null])
    }

    /// From a Keras config value: a serialized `L1`, `L2` or `L1L2`, or their names (`"l2"`: the defaults).
    /// `what` names the argument in errors.
    init(keras value: JSONValue, what: String) throws {
        let className = value.string ?? value["class_name"]?.string
        let kinds: [String: Kind] = ["L1": .l1, "l1": .l1, "L2": .l2, "l2": .l2, "L1L2": .l1l2, "l1l2": .l1l2, "l1_l2": .l1l2]
        guard let className, let kind = kinds[className] else {
            throw RecurError.unsupported(op: what, message: "regularizer \(KerasConfig.compactJSON(value)) (L1, L2 and L1L2 only)")
        }
        let config = value["config"]?.object ?? [:]
        for key in config.keys where !(key == "l1" && kind != .l2) && !(key == "l2" && kind != .l1) {
            throw RecurError.unsupported(op: what, message: "\(className) argument \(key)")
        }
        func factor(_ key: String, default fallback: Float) throws -> Float {
            guard let v = config[key], !v.isNull else { return fallback }
            guard let d = v.double, d >= 0, Float(d).isFinite else {
                throw RecurError.invalidArgument(op: what, message: "\(className) \(key) must be a finite number ≥ 0, got \(KerasConfig.compactJSON(v))")
            }
            return Float(d)
        }
        let (l1Default, l2Default): (Float, Float) = kind == .l1 ? (0.01, 0) : kind == .l2 ? (0, 0.01) : (0, 0)
        self.init(kind: kind, l1: try factor("l1", default: l1Default), l2: try factor("l2", default: l2Default))
    }

    private init(kind: Kind, l1: Float, l2: Float) {
        (self.kind, self.l1, self.l2) = (kind, l1, l2)
    }
}
