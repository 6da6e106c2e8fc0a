/// Writes, into a functional `config.json`, the mask ops Keras records for every masked call of a layer
/// whose Keras `call` takes a mask, and the call's `mask` argument that refers to them — as Keras's own
/// files do (see `KerasMaskGraph`, which reads them).
///
/// Without them Keras recomputes the masks while it loads the file, naming the ops it makes afresh:
/// the `concatenate` op of a masked `Concatenate` then takes the name of the first `Concatenate` layer
/// ("concatenate"), and Keras refuses the file ("The name "concatenate" is used 2 times"). Written for
/// every such call, no recomputed op enters the model. The ops follow Keras's `compute_mask` rules:
///
///     Embedding(mask_zero) of x      not_equal(x, 0)
///     Masking(v) of x                any(not_equal(x, v), axis=-1)
///     Concatenate of x₁ … xₙ         any(concatenate([mᵢ or ones_like(xᵢ)], axis), axis=-1),
///                                    mᵢ = logical_or(expand_dims(maskᵢ, -1), zeros_like(xᵢ))
///     Add, Subtract, … of masked xᵢ  logical_or(mask₁, mask₂, …)
///     a layer that passes masks on   its input's mask
struct KerasMaskOpWriter {
    /// The Keras tensor reference of a layer output (`__keras_tensor__` with its history).
    let tensorReference: (SymbolicTensor) -> JSONValue
    /// Names already taken: the model's layers', then the ops written.
    private var usedNames: Set<String>
    /// Op entries written since the last `takeEntries()`, in dependency order.
    private var pending: [JSONValue] = []
    /// The mask reference of each tensor already written.
    private var written: [ObjectIdentifier: JSONValue] = [:]

    init(layerNames: Set<String>, tensorReference: @escaping (SymbolicTensor) -> JSONValue) {
        usedNames = layerNames
        self.tensorReference = tensorReference
    }

    /// Whether Keras records a `mask` argument for calls of this layer (its `call` takes one).
    static func recordsMask(_ layer: Layer) -> Bool {
        layer is RNN || layer is Bidirectional || layer is TimeDistributed || layer is GlobalAveragePooling1D
            || layer is Softmax || layer is BatchNormalization
    }

    /// The input of `node` whose mask Keras records as the call's `mask` argument (the call of a layer
    /// whose Keras call takes a mask, on one masked input); nil when the call records none. A call with
    /// an `initial_state` has two tensor arguments, for which Keras's `Layer.__call__` fills in no
    /// `mask` (the RNN then runs unmasked, in Keras as in Recur's `Model`).
    static func recordedMaskInput(of node: GraphNode) -> SymbolicTensor? {
        guard recordsMask(node.layer), node.inputs.count == 1, node.initialState.isEmpty,
              KerasMaskGraph.recurMask(of: node.inputs[0]) != nil else { return nil }
        return node.inputs[0]
    }

    /// The op entries written since the last call, to go before the layer that uses them.
    mutating func takeEntries() -> [JSONValue] {
        defer { pending = [] }
        return pending
    }

    /// A reference to the mask Recur propagates along `t`, writing the ops that compute it; nil when
    /// `t` has no mask.
    mutating func maskReference(of t: SymbolicTensor, depth: Int = 0) throws -> JSONValue? {
        if let known = written[ObjectIdentifier(t)] { return known }
        guard depth < UntrustedLimits.maxNestingDepth, KerasMaskGraph.recurMask(of: t) != nil else { return nil }
        let node = t.node, layer = node.layer
        var reference: JSONValue?
        if let masking = layer as? Masking, let x = node.inputs.first {
            let notEqual = op("NotEqual", args: [tensorReference(x), KerasValue.number(masking.maskValue)], shape: x.shape)
            reference = op("Any", ["axis": .number(-1), "keepdims": .bool(false)], args: [notEqual], shape: Array(x.shape.dropLast()))
        } else if layer is Embedding, let x = node.inputs.first {
            reference = op("NotEqual", args: [tensorReference(x), .number(0)], shape: x.shape)
        } else if let concatenate = layer as? Concatenate {
            var parts: [JSONValue] = []
            for x in node.inputs {
                if let mask = try maskReference(of: x, depth: depth + 1) {
                    let expanded = op("ExpandDims", ["axis": .number(-1)], args: [mask], shape: Array(x.shape.dropLast()) + [1])
                    let zeros = op("ZerosLike", ["dtype": "bool"], args: [tensorReference(x)], shape: x.shape)
                    parts.append(op("LogicalOr", args: [expanded, zeros], shape: x.shape))
                } else {
                    parts.append(op("OnesLike", ["dtype": "bool"], args: [tensorReference(x)], shape: x.shape))
                }
            }
            let joined = op("Concatenate", ["axis": KerasValue.number(concatenate.axis)], args: [.array(parts)], shape: t.shape)
            reference = op("Any", ["axis": .number(-1), "keepdims": .bool(false)], args: [joined], shape: Array(t.shape.dropLast()))
        } else if layer is Merge {
            var masks: [JSONValue] = []
            for x in node.inputs { if let mask = try maskReference(of: x, depth: depth + 1) { masks.append(mask) } }
            guard masks.count == node.inputs.count, var combined = masks.first else { return nil }
            for mask in masks.dropFirst() { combined = op("LogicalOr", args: [combined, mask], shape: Array(t.shape.prefix(2))) }
            reference = combined
        } else if layer.supportsMasking, let next = node.inputs.first {
            reference = try maskReference(of: next, depth: depth + 1)
        }
        if let reference { written[ObjectIdentifier(t)] = reference }
        return reference
    }

    /// Writes one op entry (module `keras.src.ops.numpy`) named as Keras names ops (`logical_or`,
    /// `logical_or_1`, ... past the names taken) and returns the reference to its output.
    private mutating func op(_ className: String, _ config: [String: JSONValue] = [:], args: [JSONValue], shape: [Int?]) -> JSONValue {
        let base = snakeCase(className)
        var name = base, k = 0
        while usedNames.contains(name) {
            k += 1
            name = "\(base)_\(k)"
        }
        usedNames.insert(name)
        var fullConfig = config
        fullConfig["name"] = .string(name)
        pending.append(.object(["module": "keras.src.ops.numpy", "class_name": .string(className), "config": .object(fullConfig),
                                "registered_name": .string(className), "name": .string(name),
                                "inbound_nodes": .array([.object(["args": .array(args), "kwargs": .object([:])])])]))
        return .object(["class_name": "__keras_tensor__",
                        "config": .object(["shape": KerasValue.shape(shape), "dtype": "bool", "keras_history": .array([.string(name), .number(0), .number(0)])])])
    }
}
