import Foundation

/// Reading the model configuration of Keras 3 `.keras` archives (`config.json`); writing it is in
/// KerasConfigWriter.swift.
///
/// Each layer reads its own arguments (`Layer.fromKerasConfig`, through `KerasLayerRegistry`): an
/// argument Recur does not implement (a regularizer other than L1/L2/L1L2, an unknown constraint, a
/// non-float32 dtype policy, LoRA, ...) throws an error that names it; arguments without effect on the computation (seeds,
/// initializers Recur lacks, which the loaded weights replace anyway) are ignored.
enum KerasConfig {
    /// The name of a layer or op entry of a functional config: its own `name`, or its config's.
    static func entryName(_ spec: JSONValue) -> String? {
        spec["name"]?.string ?? spec["config"]?["name"]?.string
    }

    /// A dict's values in the order of its keys (Keras's `tree.flatten` of a dict); nil for anything else.
    static func valuesByKey(_ value: JSONValue) -> [JSONValue]? {
        value.object.map { object in object.keys.sorted().map { object[$0]! } }
    }

    /// Builds a (non-input) layer, or a model used as a layer, from its config entry.
    static func makeLayer(_ spec: JSONValue) throws -> Layer {
        try KerasLayerRegistry.layer(from: spec)
    }

    static func compactJSON(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
    }

    // MARK: - Model from config.json

    /// `Input(...)` from an InputLayer config.
    static func makeInput(_ spec: JSONValue) throws -> SymbolicTensor {
        let config = spec["config"]?.object ?? [:]
        let name = config["name"]?.string
        let a = KerasArguments(layer: "InputLayer '\(name ?? "?")'", config: config)
        for key in ["sparse", "ragged", "optional"] where try a.bool(key, default: false) {
            throw RecurError.unsupported(op: a.layer, message: "argument \(key)=True")
        }
        let dtype = try inputDType(a.value("dtype"), label: a.layer)
        a.ignore(["name"])
        let input: SymbolicTensor
        if let shape = try a.inputShape() {
            input = Input(shape: shape.shape, batchSize: shape.batch, dtype: dtype, name: name)
        } else if let value = a.value("shape"), !value.isNull {
            let batch = try a.int("batch_size", default: 0, in: 0...UntrustedLimits.maxElements)
            input = Input(shape: try KerasArguments.shape(value, key: "shape", layer: a.layer), batchSize: batch == 0 ? nil : batch,
                          dtype: dtype, name: name)
        } else {
            throw a.invalid("config has no batch_shape")
        }
        try a.refuseUnusedArguments()
        return input
    }

    /// An InputLayer's `dtype` (a name, or a dtype-policy object naming one); float32 when absent.
    static func inputDType(_ value: JSONValue?, label: String) throws -> InputDType {
        guard let value, !value.isNull else { return .float32 }
        let name = value.string ?? value["config"]?["name"]?.string ?? ""
        guard let dtype = InputDType(rawValue: name) else {
            throw RecurError.unsupported(op: label, message: "dtype \(compactJSON(value)) (supported: \(InputDType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return dtype
    }

    /// A model from the parsed `config.json`: `Sequential` or `Functional`. Every layer is built from
    /// its config; no weights are set.
    static func model(from root: JSONValue) throws -> Model {
        guard modelDepth < UntrustedLimits.maxNestingDepth else {
            throw RecurError.unsupported(op: "config.json", message: "models nested more than \(UntrustedLimits.maxNestingDepth) deep")
        }
        return try $modelDepth.withValue(modelDepth + 1) { try modelAtThisDepth(from: root) }
    }

    /// How many models enclose the one being read (models can be layers of models).
    @TaskLocal static var modelDepth = 0

    private static func modelAtThisDepth(from root: JSONValue) throws -> Model {
        guard let className = root["class_name"]?.string else {
            throw RecurError.invalidArgument(op: "config.json", message: "no class_name at the top level")
        }
        guard let config = root["config"]?.object else {
            throw RecurError.invalidArgument(op: "config.json", message: "no config for \(className)")
        }
        let model: Model
        switch className {
        case "Sequential": model = try sequential(config, buildConfig: root["build_config"])
        case "Functional", "Model": model = try functional(config)
        default: throw RecurError.unsupported(op: "config.json", message: "model class '\(className)' (Sequential and Functional are supported)")
        }
        if config["trainable"]?.bool == false { model.isTrainable = false }
        return model
    }

    static func sequential(_ config: [String: JSONValue], buildConfig: JSONValue?) throws -> Model {
        let name = config["name"]?.string ?? "sequential"
        guard let specs = config["layers"]?.array else {
            throw RecurError.invalidArgument(op: "Sequential '\(name)'", message: "config has no layers")
        }
        var inputShape: [Int?]?, batchSize: Int?, inputDType = InputDType.float32
        var layers: [Layer] = []
        for (i, spec) in specs.enumerated() {
            if spec["class_name"]?.string == "InputLayer" {
                guard i == 0 else { throw RecurError.unsupported(op: "Sequential '\(name)'", message: "InputLayer after the first layer") }
                let input = try makeInput(spec)
                inputShape = Array(input.shape.dropFirst())
                batchSize = input.shape[0]
                inputDType = (input.node.layer as? InputLayer)?.dtype ?? .float32
                continue
            }
            layers.append(try makeLayer(spec))
        }
        if inputShape == nil, let value = config["build_input_shape"] ?? buildConfig?["input_shape"], !value.isNull {
            let dims = try KerasArguments.shape(value, key: "build_input_shape", layer: "Sequential '\(name)'")
            if let batch = dims.first {
                inputShape = Array(dims.dropFirst())
                batchSize = batch
            }
        }
        let model = Sequential(layers, inputShape: inputShape, batchSize: batchSize, name: name)
        try model.validate()
        if inputDType.isInteger, let first = layers.first, !InputDType.layerComputesInFloat(first) {
            throw integerInputRefusal(dtype: inputDType, consumer: first)
        }
        model.inputDType = inputDType
        guard model.layerOutputShapes.count == model.stack.count else {
            throw RecurError.invalidArgument(op: "Sequential '\(name)'", message: "the config gives no input shape, so the model cannot be built")
        }
        return model
    }

    /// `[layer_name, node_index, tensor_index]`.
    static func history(_ value: JSONValue?, what: String) throws -> (String, Int, Int) {
        guard let a = value?.array, a.count >= 3, let layer = a[0].string, let node = a[1].int, let index = a[2].int,
              abs(node) < UntrustedLimits.maxLayers, abs(index) < UntrustedLimits.maxLayers else {
            throw RecurError.invalidArgument(op: "config.json", message: "bad \(what) \(value.map(compactJSON) ?? "null") (expected [layer_name, node_index, tensor_index] with indices below \(UntrustedLimits.maxLayers) in size)")
        }
        return (layer, node, index)
    }

    static func functional(_ config: [String: JSONValue]) throws -> Model {
        let modelName = config["name"]?.string ?? "functional"
        let op = "Functional '\(modelName)'"
        guard let specs = config["layers"]?.array else { throw RecurError.invalidArgument(op: op, message: "config has no layers") }
        let callCount = specs.reduce(0) { $0 + ($1["inbound_nodes"]?.array?.count ?? 0) }
        guard specs.count <= UntrustedLimits.maxLayers, callCount <= UntrustedLimits.maxLayers else {
            throw RecurError.invalidArgument(op: op, message: "\(specs.count) layers with \(callCount) calls; at most \(UntrustedLimits.maxLayers) of each are read")
        }
        struct Pending { let name: String; let layer: Layer?; let nodes: [JSONValue]; var next = 0 }
        var pending: [Pending] = []
        var produced: [String: [[SymbolicTensor]]] = [:]
        var maskOps: [String: JSONValue] = [:]
        for spec in specs {
            guard let name = entryName(spec) else {
                throw RecurError.invalidArgument(op: op, message: "a layer entry has no name")
            }
            guard produced[name] == nil, !maskOps.keys.contains(name) else {
                throw RecurError.invalidArgument(op: op, message: "two layers are named '\(name)'")
            }
            if spec["class_name"]?.string == "InputLayer" {
                produced[name] = [[try makeInput(spec)]]
            } else if KerasMaskGraph.isMaskOp(spec) {
                // A mask Keras passes explicitly; checked against Recur's own at the call that uses it.
                maskOps[name] = spec
            } else {
                pending.append(Pending(name: name, layer: try makeLayer(spec), nodes: spec["inbound_nodes"]?.array ?? []))
                produced[name] = []
            }
        }
        /// The layer whose output the last `tensor(_:)` that returned nil waits for.
        var blockedOn = ""
        let pendingIndex = Dictionary(pending.indices.map { (pending[$0].name, $0) }, uniquingKeysWith: { a, _ in a })
        /// A node or tensor index as Python reads it: negative counts from the end of `count`.
        func resolve(_ i: Int, count: Int, what: String, layer: String) throws -> Int {
            guard i < 0 else { return i }
            guard i + count >= 0 else {
                throw RecurError.invalidArgument(op: op, message: "\(what) \(i) of layer '\(layer)' is out of range (it has \(count))")
            }
            return i + count
        }
        func tensor(_ value: JSONValue) throws -> SymbolicTensor? {
            var (layer, node, index) = try history(value["config"]?["keras_history"] ?? value, what: "keras_history")
            let calls = pendingIndex[layer].map { pending[$0].nodes.count } ?? produced[layer]?.count ?? 0
            node = try resolve(node, count: calls, what: "node index", layer: layer)
            if let spec = maskOps[layer] {
                throw RecurError.unsupported(op: "Keras config", message: "layer class '\(spec["class_name"]?.string ?? "?")' (layer '\(layer)'; supported only as the mask of a Masking layer)")
            }
            guard let nodes = produced[layer] else { throw RecurError.invalidArgument(op: op, message: "a node refers to unknown layer '\(layer)'") }
            guard node < nodes.count else { blockedOn = layer; return nil }
            index = try resolve(index, count: nodes[node].count, what: "output index", layer: layer)
            guard index < nodes[node].count else {
                throw RecurError.invalidArgument(op: op, message: "layer '\(layer)' has no output \(index)")
            }
            return nodes[node][index]
        }
        func isTensor(_ v: JSONValue) -> Bool { v["class_name"]?.string == "__keras_tensor__" }
        /// The tensors of one argument (a tensor or a list of tensors); nil while some are not computed yet.
        func tensors(_ v: JSONValue, what: String, layer: String) throws -> [SymbolicTensor]? {
            let items = v.array ?? [v]
            var out: [SymbolicTensor] = []
            for item in items {
                guard isTensor(item) else {
                    throw RecurError.unsupported(op: "layer '\(layer)'", message: "non-tensor \(what) \(compactJSON(item))")
                }
                guard let t = try tensor(item) else { return nil }
                out.append(t)
            }
            return out
        }
        // Create the calls in dependency order (Keras lists them so, but do not rely on it): a call whose
        // inputs are not computed yet waits on the layer that computes them and is retried when that
        // layer is called, so scheduling is linear in the number of calls whatever the listing order.
        var queue = Array(pending.indices.reversed())
        var waiting: [String: [Int]] = [:]
        while let k = queue.popLast() {
            guard pending[k].next < pending[k].nodes.count else { continue }
            let p = pending[k]
            let node = p.nodes[p.next]
            var inputs: [SymbolicTensor] = [], initialState: [SymbolicTensor] = []
            var ready = true
            if let args = node["args"]?.array {
                for arg in args {
                    guard let ts = try tensors(arg, what: "argument", layer: p.name) else { ready = false; break }
                    inputs += ts
                }
                // Inputs passed by name (`key=` of MultiHeadAttention), by their parameter's position.
                var namedInputs: [Int: SymbolicTensor] = [:]
                for (key, value) in node["kwargs"]?.object ?? [:] where ready {
                    switch key {
                    case "training": continue
                    case "mask" where value.isNull: continue
                    case "mask":
                        guard !inputs.isEmpty else { ready = false; break }
                        let fail = { RecurError.unsupported(op: "layer '\(p.name)'", message: "an explicit mask argument \(compactJSON(value)) that is not the mask Recur propagates to this call (Recur computes masks itself, by Keras's rules for Embedding(mask_zero), Masking and merge layers)") }
                        // One mask, or (a layer called on a list, such as Attention) one per input, null for none.
                        let recordedMasks = value.array ?? [value]
                        guard recordedMasks.count <= inputs.count else { throw fail() }
                        for (recordedMask, input) in zip(recordedMasks, inputs) {
                            guard !recordedMask.isNull else {
                                if KerasMaskGraph.recurMask(of: input) != nil { throw fail() }
                                continue
                            }
                            guard let recorded = try KerasMaskGraph.evaluate(recordedMask, ops: maskOps, tensor: tensor, fail: fail) else { ready = false; break }
                            guard recorded.asMask == KerasMaskGraph.recurMask(of: input) else { throw fail() }
                        }
                    case "initial_state" where !value.isNull:
                        guard let ts = try tensors(value, what: "initial_state", layer: p.name) else { ready = false; break }
                        initialState = ts
                    default:
                        if let slot = type(of: p.layer!).kerasInputParameters?.names.firstIndex(of: key), !value.isNull {
                            guard let ts = try tensors(value, what: key, layer: p.name) else { ready = false; break }
                            guard ts.count == 1 else {
                                throw RecurError.invalidArgument(op: op, message: "layer '\(p.name)': call argument \(key) must be one tensor, got \(ts.count)")
                            }
                            namedInputs[slot] = ts[0]
                            continue
                        }
                        if try value.isNull || p.layer!.readKerasCallArgument(key, value) { continue }
                        throw RecurError.unsupported(op: "layer '\(p.name)'", message: "call argument \(key)=\(compactJSON(value))")
                    }
                }
                for slot in namedInputs.keys.sorted() where ready {
                    let names = type(of: p.layer!).kerasInputParameters!.names
                    guard slot == inputs.count else {
                        throw RecurError.invalidArgument(op: op, message: "layer '\(p.name)' is called with \(names[slot]) "
                                                         + (slot < inputs.count ? "twice" : "but without \(names[inputs.count])"))
                    }
                    inputs.append(namedInputs[slot]!)
                }
            } else if let legacy = node.array {
                // Keras 2: [[layer_name, node_index, tensor_index, kwargs], ...]
                for entry in legacy {
                    if let kwargs = entry.array?.dropFirst(3).first?.object, kwargs.contains(where: { !$0.value.isNull && $0.key != "training" }) {
                        throw RecurError.unsupported(op: "layer '\(p.name)'", message: "call arguments \(compactJSON(.object(kwargs)))")
                    }
                    guard let t = try tensor(entry) else { ready = false; break }
                    inputs.append(t)
                }
            } else {
                throw RecurError.invalidArgument(op: op, message: "layer '\(p.name)' has an inbound node in an unknown format")
            }
            guard ready else {
                guard pendingIndex[blockedOn] != nil else {
                    throw RecurError.invalidArgument(op: op, message: "layer '\(p.name)' uses output \(produced[blockedOn]?.count ?? 0) or later of layer '\(blockedOn)', which has fewer calls")
                }
                waiting[blockedOn, default: []].append(k)
                continue
            }
            guard !inputs.isEmpty else { throw RecurError.invalidArgument(op: op, message: "layer '\(p.name)' is called on no tensors") }
            let outs = try p.layer!.outputs(inputs, initialState: initialState)
            produced[p.name]!.append(outs)
            pending[k].next += 1
            queue.append(k)
            if let waiters = waiting.removeValue(forKey: p.name) { queue += waiters }
        }
        if let stuck = pending.first(where: { $0.next < $0.nodes.count }) {
            throw RecurError.invalidArgument(op: op, message: "layer '\(stuck.name)' depends on tensors no layer computes (cycle or missing layer)")
        }
        /// The `[layer, node, index]` triples of a (possibly nested) structure, flattened in order as
        /// Keras flattens a model's outputs (`RNN(cells, return_state=True)` nests its states per cell;
        /// a model of named inputs or outputs has a dict, flattened in the order of its keys).
        func triples(_ value: JSONValue, depth: Int = 0) throws -> [JSONValue] {
            guard depth < UntrustedLimits.maxNestingDepth, let list = value.array ?? KerasConfig.valuesByKey(value) else {
                throw RecurError.invalidArgument(op: op, message: "bad model input/output entry \(compactJSON(value))")
            }
            if list.first?.string != nil { return [value] }
            return try list.flatMap { try triples($0, depth: depth + 1) }
        }
        func endpoints(_ key: String) throws -> [SymbolicTensor] {
            guard let value = config[key], !((value.array ?? KerasConfig.valuesByKey(value))?.isEmpty ?? true) else {
                throw RecurError.invalidArgument(op: op, message: "config has no \(key)")
            }
            let entries = try triples(value)
            return try entries.map { e in
                guard let t = try tensor(e) else { throw RecurError.invalidArgument(op: op, message: "\(key) entry \(compactJSON(e)) is never computed") }
                return t
            }
        }
        let model = try Model(inputs: try endpoints("input_layers"), outputs: try endpoints("output_layers"), name: modelName)
        // Keras lists the layers as `model.layers` orders them; its depths count the mask ops, which
        // Recur's graph does not hold, so its weight files are read in this order.
        model.kerasFileLayerOrder = specs.filter { !KerasMaskGraph.isMaskOp($0) }.compactMap(entryName)
        model.kerasFileMaskOps = specs.filter(KerasMaskGraph.isMaskOp).compactMap { spec in
            guard let name = entryName(spec), let className = spec["class_name"]?.string else { return nil }
            return FileMaskOp(name: name, className: className, inputs: Array(KerasLayerOrder.callInputs(of: spec).joined()))
        }
        for node in model.nodes {
            for t in node.inputs + node.initialState {
                guard let input = t.node.layer as? InputLayer, input.dtype.isInteger, !InputDType.layerComputesInFloat(node.layer) else { continue }
                throw integerInputRefusal(dtype: input.dtype, consumer: node.layer)
            }
        }
        return model
    }

    static func integerInputRefusal(dtype: InputDType, consumer: Layer) -> RecurError {
        .unsupported(op: "\(consumer.className) '\(consumer.name)'", message: "an \(dtype.rawValue) input straight into this layer (Keras computes it in integer arithmetic; Recur reads integer inputs only as Embedding ids)")
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}
