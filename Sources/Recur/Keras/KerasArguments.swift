/// One layer's Keras config arguments (`{"units": 64, "activation": "tanh", ...}`), read with type and
/// range checks: what a layer's `fromKerasConfig(_:)` receives (Keras's `from_config`).
///
/// Every read marks its key as used; after the layer is built, `KerasLayerRegistry` refuses any key
/// no one read whose value would change the computation (LoRA, a quantization mode, ...), so
/// a layer declares what it supports simply by reading it. Keys that have no effect on the
/// computation are passed to `ignore(_:)`. Errors name the layer (`LSTM 'encoder'`), the key and the
/// value found.
public final class KerasArguments {
    /// The layer as errors name it: `LSTM 'encoder'`.
    public let layer: String
    public let config: [String: JSONValue]
    /// How deep this layer is nested in other layers' configs (bounded by `UntrustedLimits`).
    let depth: Int
    private(set) var usedKeys: Set<String> = []

    init(layer: String, config: [String: JSONValue], depth: Int = 0) {
        self.layer = layer
        self.config = config
        self.depth = depth
    }

    /// Arguments for a class read from a config object; errors name `className 'name'`.
    convenience init(className: String, config: [String: JSONValue], depth: Int = 0) {
        self.init(layer: config["name"]?.string.map { "\(className) '\($0)'" } ?? className, config: config, depth: depth)
    }

    /// The value of `key`, marked as used.
    public func value(_ key: String) -> JSONValue? {
        usedKeys.insert(key)
        return config[key]
    }

    /// Marks keys that do not change the computation (seeds, Keras implementation switches).
    public func ignore(_ keys: [String]) { usedKeys.formUnion(keys) }

    public func invalid(_ message: String) -> RecurError { .invalidArgument(op: layer, message: message) }

    public func int(_ key: String, default defaultValue: Int? = nil, in range: ClosedRange<Int>) throws -> Int {
        guard let v = value(key), !v.isNull else {
            if let defaultValue { return defaultValue }
            throw invalid("config is missing '\(key)'")
        }
        guard let i = v.int else { throw invalid("'\(key)' must be an integer, got \(KerasConfig.compactJSON(v))") }
        guard range.contains(i) else { throw invalid("'\(key)' must be in \(range.lowerBound)...\(range.upperBound), got \(i)") }
        return i
    }

    /// A width (`units`, `input_dim`, `n`, ...): a positive integer up to `UntrustedLimits.maxUnits`,
    /// as Keras requires ("expected a positive integer").
    public func width(_ key: String) throws -> Int {
        try int(key, in: 1...UntrustedLimits.maxUnits)
    }

    /// A width that may be `null` or absent (nil then).
    public func optionalWidth(_ key: String) throws -> Int? {
        guard let v = value(key), !v.isNull else { return nil }
        return try width(key)
    }

    /// A rate (`dropout`, `rate`): a number in [0, 1].
    public func rate(_ key: String) throws -> Float {
        let r = try float(key, default: 0)
        guard r >= 0, r <= 1 else { throw invalid("'\(key)' must be in [0, 1], got \(r)") }
        return r
    }

    /// A missing key takes `defaultValue`; an explicit `null` takes `ifNull` where Keras gives it a
    /// meaning (LayerNormalization's epsilon: the backend epsilon) and is an error elsewhere, as in Keras.
    public func float(_ key: String, default defaultValue: Float, ifNull: Float? = nil) throws -> Float {
        guard let v = value(key) else { return defaultValue }
        if v.isNull, let ifNull { return ifNull }
        guard let d = v.double, d.isFinite else { throw invalid("'\(key)' must be a finite number, got \(KerasConfig.compactJSON(v))") }
        return Float(d)
    }

    public func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let v = value(key), !v.isNull else { return defaultValue }
        guard let b = v.bool else { throw invalid("'\(key)' must be true or false, got \(KerasConfig.compactJSON(v))") }
        return b
    }

    /// A missing key takes `defaultValue`; an explicit `null` is linear, as Keras's `activations.get(None)`.
    public func activation(_ key: String, default defaultValue: Activation) throws -> Activation {
        guard let v = value(key) else { return defaultValue }
        if v.isNull { return .linear }
        guard let s = v.string, let a = Activation(kerasName: s) else {
            throw RecurError.unsupported(op: layer, message: "\(key) \(KerasConfig.compactJSON(v)) (supported: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return a
    }

    /// An initializer Recur implements; one it lacks reads as `defaultValue`, because only fresh
    /// weights use it and a Keras file's weights replace them.
    public func initializer(_ key: String, default defaultValue: Initializer) throws -> Initializer {
        guard let v = value(key), !v.isNull else { return defaultValue }
        let name = v.string ?? v["class_name"]?.string ?? ""
        let args = v["config"]
        func number(_ key: String, _ fallback: Double) -> Float { Float(args?[key]?.double ?? fallback) }
        switch name {
        case "zeros", "Zeros": return .zeros
        case "ones", "Ones": return .ones
        case "glorot_uniform", "GlorotUniform": return .glorotUniform
        case "orthogonal", "Orthogonal": return .orthogonal(gain: number("gain", 1))
        case "uniform", "random_uniform", "RandomUniform": return .uniform(min: number("minval", -0.05), max: number("maxval", 0.05))
        case "constant", "Constant": return .constant(number("value", 0))
        default: return defaultValue
        }
    }

    public var name: String? { config["name"]?.string }

    /// Keras's `batch_shape`/`batch_input_shape` without the batch dimension, and the batch size.
    public func inputShape() throws -> (shape: [Int?], batch: Int?)? {
        guard let value = value("batch_shape") ?? value("batch_input_shape"), !value.isNull else { return nil }
        let all = try KerasArguments.shape(value, key: "batch_shape", layer: layer)
        guard let batch = all.first else { throw invalid("empty batch_shape") }
        return (Array(all.dropFirst()), batch)
    }

    /// A list of integers (Keras's tuples, e.g. `target_shape`, `dims`).
    public func intList(_ key: String) throws -> [Int] {
        guard let v = value(key), !v.isNull else { throw invalid("config is missing '\(key)'") }
        guard let items = v.array, items.count <= UntrustedLimits.maxRank, case let ints = items.compactMap(\.int),
              ints.count == items.count, ints.allSatisfy({ (-1...UntrustedLimits.maxElements).contains($0) }) else {
            throw invalid("'\(key)' must be a list of at most \(UntrustedLimits.maxRank) integers "
                          + "in -1...\(UntrustedLimits.maxElements), got \(KerasConfig.compactJSON(v))")
        }
        return ints
    }

    /// A 1-D window argument (`kernel_size`, `strides`, `pool_size`, `dilation_rate`): an integer or
    /// Keras's one-element tuple, in 1...`UntrustedLimits.maxRepeats`. A missing or `null` key takes
    /// `defaultValue` (an error when there is none).
    public func windowLength(_ key: String, default defaultValue: Int? = nil) throws -> Int {
        try windowLengths(key, rank: 1, default: defaultValue)[0]
    }

    /// A window argument of a `rank`-D layer: an integer for every axis or a list of `rank`, each in
    /// 1...`UntrustedLimits.maxRepeats`. A missing or `null` key takes `defaultValue` on every axis
    /// (an error when there is none).
    public func windowLengths(_ key: String, rank: Int, default defaultValue: Int? = nil) throws -> [Int] {
        guard let v = value(key), !v.isNull else {
            if let defaultValue { return Array(repeating: defaultValue, count: rank) }
            throw invalid("config is missing '\(key)'")
        }
        let range = 1...UntrustedLimits.maxRepeats
        let lengths = v.int.map { Array(repeating: $0, count: rank) } ?? v.array.flatMap { items in
            items.count == rank && items.allSatisfy({ $0.int != nil }) ? items.compactMap(\.int) : nil
        }
        guard let lengths, lengths.allSatisfy(range.contains) else {
            throw invalid("'\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound) or a list of \(rank == 1 ? "one" : "\(rank)"), "
                          + "got \(KerasConfig.compactJSON(v))")
        }
        return lengths
    }

    /// Steps before and after (`ZeroPadding1D`'s `padding`, `Cropping1D`'s `cropping`): an integer for
    /// both or a list of two, each in 0...`UntrustedLimits.maxRepeats`.
    public func stepPair(_ key: String, default defaultValue: (Int, Int)) throws -> (before: Int, after: Int) {
        guard let v = value(key), !v.isNull else { return defaultValue }
        let range = 0...UntrustedLimits.maxRepeats
        let pair = v.int.map { ($0, $0) } ?? (v.array?.count == 2 ? v.array.flatMap { a in a[0].int.flatMap { l in a[1].int.map { (l, $0) } } } : nil)
        guard let pair, range.contains(pair.0), range.contains(pair.1) else {
            throw invalid("'\(key)' must be an integer or a list of two, each in \(range.lowerBound)...\(range.upperBound), got \(KerasConfig.compactJSON(v))")
        }
        return pair
    }

    /// Keras's `padding` of a 1-D convolution or pooling, case-insensitive; `causal` only where allowed.
    public func timePadding(allowingCausal: Bool) throws -> TimePadding {
        guard let v = value("padding"), !v.isNull else { return .valid }
        guard let p = v.string.flatMap({ TimePadding(rawValue: $0.lowercased()) }), allowingCausal || p != .causal else {
            throw invalid("'padding' must be \(allowingCausal ? "\"valid\", \"same\" or \"causal\"" : "\"valid\" or \"same\""), got \(KerasConfig.compactJSON(v))")
        }
        return p
    }

    /// Recur's layers work on channels-last data only.
    public func requireChannelsLast() throws {
        if let v = value("data_format"), !v.isNull, v.string != "channels_last" {
            throw RecurError.unsupported(op: layer, message: "argument data_format=\(KerasConfig.compactJSON(v)) (only channels_last)")
        }
    }

    /// Layers that normalise or reduce over the last axis only (Keras's `axis=-1` or `[-1]`).
    public func requireLastAxis() throws {
        if let axis = value("axis"), axis.int != -1, axis.array?.count != 1 || axis.array?.first?.int != -1 {
            throw RecurError.unsupported(op: layer, message: "axis \(KerasConfig.compactJSON(axis)) (only the last axis, -1)")
        }
    }

    /// The layer nested under `key` (a wrapper's `layer`), built through the registry.
    public func layer(_ key: String) throws -> Layer {
        guard let spec = value(key), !spec.isNull else { throw invalid("config is missing '\(key)'") }
        return try KerasLayerRegistry.layer(from: spec, context: " in \(layer)", depth: depth + 1)
    }

    /// A shape from a config (`batch_shape`, `shape`, `build_input_shape`): at most
    /// `UntrustedLimits.maxRank` entries, each `null` (unknown) or an integer in 0...`maxElements`.
    static func shape(_ value: JSONValue, key: String, layer: String) throws -> [Int?] {
        guard let items = value.array, items.count <= UntrustedLimits.maxRank + 1 else {
            throw RecurError.invalidArgument(op: layer, message: "'\(key)' must be a list of at most \(UntrustedLimits.maxRank + 1) dimensions, got \(KerasConfig.compactJSON(value))")
        }
        return try items.map { item in
            if item.isNull { return nil }
            guard let d = item.int, (0...UntrustedLimits.maxElements).contains(d) else {
                throw RecurError.invalidArgument(op: layer, message: "'\(key)' has dimension \(KerasConfig.compactJSON(item)); expected null or an integer in 0...\(UntrustedLimits.maxElements)")
            }
            return d
        }
    }

    /// Throws for the first key no one read whose value could change the computation (anything but
    /// `null`, `false` or `[]`), naming it.
    func refuseUnusedArguments() throws {
        for key in config.keys.sorted() where !usedKeys.contains(key) {
            let v = config[key]!
            if v.isNull || v == .bool(false) || v == .array([]) { continue }
            throw RecurError.unsupported(op: layer, message: "argument \(key)=\(KerasConfig.compactJSON(v))")
        }
    }
}

/// Writing Keras config values (`get_config()`'s JSON).
public enum KerasValue {
    /// A float as Keras writes it: the shortest decimal that reads back as this Float32.
    public static func number(_ f: Float) -> JSONValue { .number(Double("\(f)") ?? Double(f)) }
    public static func number(_ i: Int) -> JSONValue { .number(Double(i)) }
    public static func shape(_ s: [Int?]) -> JSONValue { .array(s.map { $0.map { .number(Double($0)) } ?? .null }) }
    public static func ints(_ values: [Int]) -> JSONValue { .array(values.map { .number(Double($0)) }) }

    /// A tensor as nested lists (NumPy's `tolist()`), a scalar as a number.
    public static func nestedArray(_ t: Tensor) -> JSONValue {
        let scalars = t.scalars
        func level(_ axis: Int, _ offset: Int) -> JSONValue {
            guard axis < t.rank else { return number(scalars[offset]) }
            let stride = t.shape[(axis + 1)...].reduce(1, *)
            return .array((0..<t.shape[axis]).map { level(axis + 1, offset + $0 * stride) })
        }
        return level(0, 0)
    }

    /// A tensor from nested lists of numbers of one rectangular shape (or a number), its size checked
    /// before it is made; `what` names the value in errors.
    static func tensor(fromNestedArray value: JSONValue, what: String) throws -> Tensor {
        func fail(_ message: String) -> RecurError { .invalidArgument(op: what, message: message) }
        var shape: [Int] = []
        var probe = value
        while let list = probe.array {
            guard shape.count < UntrustedLimits.maxRank, let first = list.first else { throw fail("must be a number or non-empty nested lists of at most \(UntrustedLimits.maxRank) levels") }
            shape.append(list.count)
            probe = first
        }
        guard let count = UntrustedLimits.elementCount(shape) else { throw fail("holds more than \(UntrustedLimits.maxElements) values") }
        var scalars: [Float] = []
        scalars.reserveCapacity(count)
        func collect(_ v: JSONValue, _ axis: Int) throws {
            if axis == shape.count {
                guard let d = v.double, Float(d).isFinite else { throw fail("must hold finite numbers, got \(KerasConfig.compactJSON(v))") }
                scalars.append(Float(d))
                return
            }
            guard let list = v.array, list.count == shape[axis] else { throw fail("must be rectangular nested lists of shape \(describeShape(shape))") }
            for item in list { try collect(item, axis + 1) }
        }
        try collect(value, 0)
        return try Tensor(shape: shape, scalars: scalars)
    }

    /// A serialised initializer (`{"module": "keras.initializers", "class_name": "Orthogonal", ...}`).
    public static func initializer(_ i: Initializer) -> JSONValue {
        let (name, config): (String, [String: JSONValue])
        switch i {
        case .zeros: (name, config) = ("Zeros", [:])
        case .ones: (name, config) = ("Ones", [:])
        case .glorotUniform: (name, config) = ("GlorotUniform", ["seed": .null])
        case .orthogonal(let gain): (name, config) = ("Orthogonal", ["gain": number(gain), "seed": .null])
        case let .uniform(low, high): (name, config) = ("RandomUniform", ["minval": number(low), "maxval": number(high), "seed": .null])
        case .constant(let v): (name, config) = ("Constant", ["value": number(v)])
        }
        return .object(["module": "keras.initializers", "class_name": .string(name), "config": .object(config), "registered_name": .null])
    }
}
