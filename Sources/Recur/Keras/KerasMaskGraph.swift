/// The masks Keras 3 writes into a functional `config.json` as op "layers" (`NotEqual`, `Any`,
/// `ExpandDims`, `ZerosLike`, `LogicalOr`, the `Concatenate` op, ...) when a layer call receives a
/// mask explicitly — as every call after an `Embedding(mask_zero=True)`, a `Masking` or a merge of
/// masked branches does.
///
/// Recur does not run these ops: it propagates masks itself, by Keras's rules. A call's recorded mask
/// is accepted only when it provably equals the mask Recur propagates to that call. Both sides are
/// reduced to the same normal form, a set of mask sources OR-ed together (the OR of the branch masks
/// is what Keras's merge layers produce):
///   - `x != 0` for the ids x of an `Embedding(mask_zero=True)`  → source `e:<x>:0`
///   - `any(x != v, axis=-1)` for the input x of `Masking(v)`     → source `m:<x>:<v>`
///   - `expand_dims`, `broadcast_to`, `convert_to_tensor`         → the same mask
///   - `zeros_like` → no source; `ones_like` → everywhere
///   - `logical_or`, the `concatenate` op, `any(axis=-1)` over it  → the union
/// Anything else (another comparison, `logical_and` of two real masks, ...) is refused by name.
enum KerasMaskGraph {
    /// A mask in normal form.
    enum Value: Equatable {
        /// True at every position.
        case everywhere
        /// The OR of these sources (none: false everywhere).
        case sources(Set<String>)
        /// `x != v`, not yet known to be an Embedding's (used as is) or a Masking's (under `any`) mask.
        case comparison(x: ObjectIdentifier, value: Float)

        /// The value used as a mask: a bare comparison is an Embedding(mask_zero) mask.
        var asMask: Value {
            if case let .comparison(x, v) = self { return .sources(["e:\(UInt(bitPattern: x)):\(v)"]) }
            return self
        }

        func or(_ other: Value) -> Value {
            switch (asMask, other.asMask) {
            case (.everywhere, _), (_, .everywhere): return .everywhere
            case let (.sources(a), .sources(b)): return .sources(a.union(b))
            default: return .everywhere
            }
        }
    }

    static let opClasses: Set<String> = ["NotEqual", "Any", "LogicalOr", "LogicalAnd", "ExpandDims", "ZerosLike", "OnesLike", "BroadcastTo",
                                         "ConvertToTensor"]

    /// Whether a config entry is one of these ops (the `Concatenate` op, module `keras.src.ops.numpy`,
    /// is told from the `Concatenate` layer by its module).
    static func isMaskOp(_ spec: JSONValue) -> Bool {
        guard let className = spec["class_name"]?.string else { return false }
        if className == "Concatenate" { return spec["module"]?.string?.hasPrefix("keras.src.ops") == true }
        return opClasses.contains(className)
    }

    /// Evaluates a mask argument (a `__keras_tensor__` reference or a literal) to normal form.
    /// `ops` are the mask-op entries by name; `tensor` resolves a reference to a layer output (nil while
    /// it is not computed yet, which makes the whole value nil). Depth is limited, so a crafted chain
    /// of ops cannot exhaust the stack.
    static func evaluate(_ ref: JSONValue, ops: [String: JSONValue], depth: Int = 0,
                         tensor: (JSONValue) throws -> SymbolicTensor?, fail: () -> RecurError) throws -> Value? {
        guard depth < 4 * UntrustedLimits.maxNestingDepth else { throw fail() }
        guard let history = ref["config"]?["keras_history"]?.array, let name = history.first?.string,
              let spec = ops[name] else { throw fail() }
        let nodeIndex = history.count > 1 ? (history[1].int ?? -1) : 0
        guard let className = spec["class_name"]?.string, let nodes = spec["inbound_nodes"]?.array,
              (0..<nodes.count).contains(nodeIndex), let args = nodes[nodeIndex]["args"]?.array else { throw fail() }
        let config = spec["config"]
        func operand(_ v: JSONValue) throws -> Value? {
            try evaluate(v, ops: ops, depth: depth + 1, tensor: tensor, fail: fail)
        }
        func lastAxis(_ v: JSONValue?) -> Bool { v?.int == -1 || v?.array?.count == 1 && v?.array?.first?.int == -1 }
        switch className {
        case "NotEqual":
            guard args.count == 2, let value = args[1].double else { throw fail() }
            guard let x = try tensor(args[0]) else { return nil }
            return .comparison(x: ObjectIdentifier(x), value: Float(value))
        case "Any":
            guard args.count == 1, lastAxis(config?["axis"]), config?["keepdims"]?.bool != true else { throw fail() }
            guard let inner = try operand(args[0]) else { return nil }
            if case let .comparison(x, v) = inner { return .sources(["m:\(UInt(bitPattern: x)):\(v)"]) }
            return inner
        case "ExpandDims", "BroadcastTo", "ConvertToTensor":
            guard let first = args.first else { throw fail() }
            return try operand(first)
        case "ZerosLike": return .sources([])
        case "OnesLike": return .everywhere
        case "LogicalOr", "LogicalAnd", "Concatenate":
            let items = className == "Concatenate" ? (args.first?.array ?? []) : args
            guard items.count >= 2 else { throw fail() }
            var values: [Value] = []
            for item in items {
                guard let v = try operand(item) else { return nil }
                values.append(v.asMask)
            }
            if className == "LogicalAnd" {
                // Only AND with a mask that is true everywhere keeps the normal form.
                let real = values.filter { $0 != .everywhere }
                guard real.count <= 1 else { throw fail() }
                return real.first ?? .everywhere
            }
            return values.dropFirst().reduce(values[0]) { $0.or($1) }
        default:
            throw fail()
        }
    }

    /// The mask Recur propagates along `t` in normal form, or nil when it propagates none.
    static func recurMask(of t: SymbolicTensor, depth: Int = 0) -> Value? {
        var t = t
        while true {
            guard t.node.layer.passesMask(toOutput: t.index), depth < UntrustedLimits.maxNestingDepth else { return nil }
            let node = t.node, layer = node.layer
            if let masking = layer as? Masking, let x = node.inputs.first {
                return .sources(["m:\(UInt(bitPattern: ObjectIdentifier(x))):\(masking.maskValue)"])
            }
            if let embedding = layer as? Embedding, embedding.maskZero, let x = node.inputs.first {
                return .sources(["e:\(UInt(bitPattern: ObjectIdentifier(x))):\(Float(0))"])
            }
            if layer is Merge || layer is Concatenate {
                let masks = node.inputs.map { recurMask(of: $0, depth: depth + 1) }
                let given = masks.compactMap { $0 }
                if given.isEmpty { return nil }
                if given.count < masks.count { return layer is Concatenate ? .everywhere : nil }
                return given.dropFirst().reduce(given[0]) { $0.or($1) }
            }
            // A call with an initial state does not get the mask, but passes it on as Keras marks it.
            guard layer.supportsMasking, let next = node.inputs.first else { return nil }
            t = next
        }
    }
}
