import Foundation

/// Reading and writing the model configuration of Keras 3 `.keras` archives (`config.json`).
///
/// Reading checks every layer's arguments before anything is built: an argument Recur does not
/// implement (a regularizer, a constraint, a non-float32 dtype policy, LoRA, ...) throws an error that
/// names it; arguments without effect on the computation (seeds, initializers Recur lacks, which the
/// loaded weights replace anyway) are ignored.
enum KerasConfig {
    // MARK: - Argument checks

    /// Arguments Recur implements or that do not change the computation, per class.
    static let common: Set<String> = ["name", "trainable", "dtype", "seed", "batch_shape", "batch_input_shape", "input_shape"]
    static let recurrentCellKeys: Set<String> = ["units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                                                 "recurrent_initializer", "bias_initializer", "unit_forget_bias", "reset_after",
                                                 "dropout", "recurrent_dropout", "implementation"]
    static let rnnKeys: Set<String> = ["return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask", "use_cudnn"]
    static let known: [String: Set<String>] = [
        "InputLayer": ["batch_shape", "batch_input_shape", "shape", "batch_size", "dtype", "name"],
        "Dense": ["units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "lora_alpha"],
        "Embedding": ["input_dim", "output_dim", "embeddings_initializer", "mask_zero", "input_length", "lora_alpha"],
        "BatchNormalization": ["axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
                               "moving_mean_initializer", "moving_variance_initializer", "synchronized", "renorm_momentum"],
        "Dropout": ["rate"],
        "Masking": ["mask_value"],
        "SimpleRNN": recurrentCellKeys.union(rnnKeys), "GRU": recurrentCellKeys.union(rnnKeys), "LSTM": recurrentCellKeys.union(rnnKeys),
        "SimpleRNNCell": recurrentCellKeys, "GRUCell": recurrentCellKeys, "LSTMCell": recurrentCellKeys,
        "RNN": rnnKeys.union(["cell"]),
        "StackedRNNCells": ["cells"],
        "Bidirectional": ["layer", "backward_layer", "merge_mode"],
        "Concatenate": ["axis"], "Add": [], "Subtract": [], "Multiply": [], "Average": [], "Maximum": [], "Minimum": [],
        "Activation": ["activation"],
        "Flatten": ["data_format"], "Reshape": ["target_shape"], "RepeatVector": ["n"], "Permute": ["dims"],
        "GlobalAveragePooling1D": ["data_format", "keepdims"], "GlobalMaxPooling1D": ["data_format", "keepdims"],
        "LayerNormalization": ["axis", "epsilon", "center", "scale", "rms_scaling", "beta_initializer", "gamma_initializer"],
        "TimeDistributed": ["layer"],
    ]
    /// Ops Keras 3 records in a functional config when it carries a mask through a merge layer
    /// (the OR of the masks); Recur computes merged masks itself but does not read these graphs.
    static let mergedMaskOps: Set<String> = ["LogicalOr", "LogicalAnd", "ExpandDims", "ZerosLike", "OnesLike", "BroadcastTo"]

    /// Checks a `{"class_name", "config"}` layer entry and the layers or cells nested in it, and returns
    /// it with initializers Recur lacks removed (the weights loaded next replace their values).
    static func prepare(_ spec: JSONValue, context: String = "") throws -> JSONValue {
        guard let className = spec["class_name"]?.string ?? spec["class"]?.string else {
            throw RecurError.invalidArgument(op: "Keras config", message: "layer entry\(context) has no class_name")
        }
        var config = spec["config"]?.object ?? [:]
        let label = config["name"]?.string.map { "\(className) '\($0)'" } ?? className
        guard let allowed = known[className] else {
            throw RecurError.unsupported(op: "Keras config", message: "layer class '\(className)'\(config["name"]?.string.map { " (layer '\($0)')" } ?? "")")
        }
        if className != "InputLayer", let dtype = config["dtype"], !dtype.isNull {
            let policy = dtype.string ?? dtype["config"]?["name"]?.string ?? "?"
            guard policy == "float32" else {
                throw RecurError.unsupported(op: label, message: "argument dtype='\(policy)' (only float32)")
            }
        }
        if className == "InputLayer" {
            for key in ["sparse", "ragged", "optional"] where config[key]?.bool == true {
                throw RecurError.unsupported(op: label, message: "argument \(key)=True")
            }
            config["sparse"] = nil; config["ragged"] = nil; config["optional"] = nil
        }
        for (key, value) in config where !common.contains(key) && !allowed.contains(key) {
            if value.isNull || value == .bool(false) || value == .array([]) { continue }
            throw RecurError.unsupported(op: label, message: "argument \(key)=\(compactJSON(value))")
        }
        // Initializers only matter for fresh weights; drop the ones Recur does not implement.
        let reader = KerasLayerFactory.Arguments(layer: label, config: config)
        for key in config.keys where key.hasSuffix("_initializer") {
            if (try? reader.initializer(key, default: .zeros)) == nil { config[key] = nil }
        }
        switch className {
        case "Bidirectional", "TimeDistributed":
            if let inner = config["layer"] { config["layer"] = try prepare(inner, context: " in \(label)") }
            if let b = config["backward_layer"], !b.isNull { config["backward_layer"] = try prepare(b, context: " in \(label)") }
        case "RNN":
            if let cells = config["cell"]?.array {
                config["cell"] = .array(try cells.map { try prepare($0, context: " in \(label)") })
            } else if let cell = config["cell"] {
                config["cell"] = try prepare(cell, context: " in \(label)")
            }
        case "StackedRNNCells":
            if let cells = config["cells"]?.array { config["cells"] = .array(try cells.map { try prepare($0, context: " in \(label)") }) }
        default: break
        }
        var out = spec.object ?? [:]
        out["config"] = .object(config)
        return .object(out)
    }

    /// Builds a (non-input) layer from a checked entry, with the arguments the factory leaves out.
    static func makeLayer(_ spec: JSONValue) throws -> Layer {
        let prepared = try prepare(spec)
        let layer = try KerasLayerFactory.layer(from: prepared)
        func applyMaskFlag(_ rnn: RNN, _ config: JSONValue?) {
            if let flag = config?["zero_output_for_mask"]?.bool { rnn.zeroOutputForMask = flag }
        }
        let config = prepared["config"]
        if let rnn = layer as? RNN { applyMaskFlag(rnn, config) }
        if let b = layer as? Bidirectional {
            applyMaskFlag(b.forwardLayer, config?["layer"]?["config"])
            applyMaskFlag(b.backwardLayer, config?["backward_layer"]?["config"] ?? config?["layer"]?["config"])
        }
        if config?["trainable"]?.bool == false { layer.isTrainable = false }
        if let td = layer as? TimeDistributed, config?["layer"]?["config"]?["trainable"]?.bool == false { td.layer.isTrainable = false }
        return layer
    }

    static func compactJSON(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
    }

    // MARK: - Model from config.json

    /// `Input(...)` from an InputLayer config.
    static func makeInput(_ spec: JSONValue) throws -> SymbolicTensor {
        let prepared = try prepare(spec)
        let config = prepared["config"]?.object ?? [:]
        let name = config["name"]?.string
        if let dims = (config["batch_shape"] ?? config["batch_input_shape"])?.array {
            let all = dims.map(\.int)
            guard !all.isEmpty else { throw RecurError.invalidArgument(op: "InputLayer '\(name ?? "?")'", message: "empty batch_shape") }
            return Input(shape: Array(all.dropFirst()), batchSize: all[0], name: name)
        }
        if let dims = config["shape"]?.array {
            return Input(shape: dims.map(\.int), batchSize: config["batch_size"]?.int, name: name)
        }
        throw RecurError.invalidArgument(op: "InputLayer '\(name ?? "?")'", message: "config has no batch_shape")
    }

    /// A model from the parsed `config.json`: `Sequential` or `Functional`. Every layer is built from
    /// its config; no weights are set.
    static func model(from root: JSONValue) throws -> Model {
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
        var inputShape: [Int?]?, batchSize: Int?
        var layers: [Layer] = []
        for (i, spec) in specs.enumerated() {
            if spec["class_name"]?.string == "InputLayer" {
                guard i == 0 else { throw RecurError.unsupported(op: "Sequential '\(name)'", message: "InputLayer after the first layer") }
                let input = try makeInput(spec)
                inputShape = Array(input.shape.dropFirst())
                batchSize = input.shape[0]
                continue
            }
            layers.append(try makeLayer(spec))
        }
        if inputShape == nil, let dims = (config["build_input_shape"] ?? buildConfig?["input_shape"])?.array, !dims.isEmpty {
            inputShape = Array(dims.dropFirst().map(\.int))
            batchSize = dims[0].int
        }
        let model = try Sequential(layers, inputShape: inputShape, batchSize: batchSize, name: name)
        guard model.layerOutputShapes.count == model.stack.count else {
            throw RecurError.invalidArgument(op: "Sequential '\(name)'", message: "the config gives no input shape, so the model cannot be built")
        }
        return model
    }

    /// `[layer_name, node_index, tensor_index]`.
    static func history(_ value: JSONValue?, what: String) throws -> (String, Int, Int) {
        guard let a = value?.array, a.count >= 3, let layer = a[0].string, let node = a[1].int, let index = a[2].int else {
            throw RecurError.invalidArgument(op: "config.json", message: "bad \(what) \(value.map(compactJSON) ?? "null") (expected [layer_name, node_index, tensor_index])")
        }
        return (layer, node, index)
    }

    static func functional(_ config: [String: JSONValue]) throws -> Model {
        let modelName = config["name"]?.string ?? "functional"
        let op = "Functional '\(modelName)'"
        guard let specs = config["layers"]?.array else { throw RecurError.invalidArgument(op: op, message: "config has no layers") }
        struct Pending { let name: String; let layer: Layer?; let nodes: [JSONValue]; var next = 0 }
        var pending: [Pending] = []
        var produced: [String: [[SymbolicTensor]]] = [:]
        var maskOps: [String: JSONValue] = [:]
        for spec in specs {
            guard let name = spec["name"]?.string ?? spec["config"]?["name"]?.string else {
                throw RecurError.invalidArgument(op: op, message: "a layer entry has no name")
            }
            guard produced[name] == nil, !pending.contains(where: { $0.name == name }) else {
                throw RecurError.invalidArgument(op: op, message: "two layers are named '\(name)'")
            }
            if spec["class_name"]?.string == "InputLayer" {
                produced[name] = [[try makeInput(spec)]]
            } else if let className = spec["class_name"]?.string, mergedMaskOps.contains(className) {
                throw RecurError.unsupported(op: op, message: "op '\(className)' (layer '\(name)'): Keras records it when a mask reaches a merge layer (Add, Concatenate, ...); Recur propagates such masks itself but cannot read them from a .keras file")
            } else if ["NotEqual", "Any"].contains(spec["class_name"]?.string ?? "") {
                // Keras records the mask of a Masking layer as these ops when it passes the mask explicitly.
                maskOps[name] = spec
            } else {
                pending.append(Pending(name: name, layer: try makeLayer(spec), nodes: spec["inbound_nodes"]?.array ?? []))
                produced[name] = []
            }
        }
        func tensor(_ value: JSONValue) throws -> SymbolicTensor? {
            let (layer, node, index) = try history(value["config"]?["keras_history"] ?? value, what: "keras_history")
            if let spec = maskOps[layer] {
                throw RecurError.unsupported(op: "Keras config", message: "layer class '\(spec["class_name"]?.string ?? "?")' (layer '\(layer)'; supported only as the mask of a Masking layer)")
            }
            guard let nodes = produced[layer] else { throw RecurError.invalidArgument(op: op, message: "a node refers to unknown layer '\(layer)'") }
            guard node < nodes.count else { return nil }
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
        /// Accepts an explicit `mask` argument only when it is the mask Recur passes along by itself:
        /// `any(x != v, axis=-1)` for the input x of a Masking(mask_value=v) layer, or `x != 0` for the
        /// ids x of an Embedding(mask_zero=True), whose mask reaches this layer through mask-preserving
        /// layers (Keras 3 records these ops when it hands a mask over explicitly).
        func checkImplicitMask(_ value: JSONValue, firstInput: SymbolicTensor, layer: String) throws {
            let fail = RecurError.unsupported(op: "layer '\(layer)'", message: "an explicit mask argument \(compactJSON(value)) (only the mask of a Masking or Embedding(mask_zero) layer, which Recur passes along itself)")
            func opSpec(_ v: JSONValue?) -> (String, JSONValue, [JSONValue])? {
                guard let v, let (name, node, _) = try? history(v["config"]?["keras_history"], what: "mask"),
                      let spec = maskOps[name], let className = spec["class_name"]?.string,
                      let nodes = spec["inbound_nodes"]?.array, node < nodes.count, let args = nodes[node]["args"]?.array else { return nil }
                return (className, spec, args)
            }
            // The layer whose mask reaches this call.
            var t = firstInput
            var origin: GraphNode?
            while origin == nil {
                let l = t.node.layer
                guard t.index == 0 else { throw fail }
                if l is Masking || (l as? Embedding)?.maskZero == true { origin = t.node; break }
                let passesMask = l is Dense || l is BatchNormalization || l is Dropout
                    || l is ActivationLayer || l is LayerNormalization || l is TimeDistributed
                    || (l as? RNN)?.returnSequences == true || (l as? Bidirectional)?.forwardLayer.returnSequences == true
                guard passesMask, let next = t.node.inputs.first else { throw fail }
                t = next
            }
            guard var (className, spec, args) = opSpec(value) else { throw fail }
            if let masking = origin!.layer as? Masking {
                guard className == "Any", args.count == 1,
                      spec["config"]?["axis"]?.int == -1 || spec["config"]?["axis"]?.array?.first?.int == -1,
                      spec["config"]?["keepdims"]?.bool != true, let inner = opSpec(args[0]) else { throw fail }
                (className, spec, args) = inner
                guard className == "NotEqual", args.count == 2, args[1].double.map(Float.init) == masking.maskValue else { throw fail }
            } else {
                guard className == "NotEqual", args.count == 2, args[1].double == 0 else { throw fail }
            }
            guard let source = try tensor(args[0]), origin!.inputs.first === source else { throw fail }
        }
        // Create the calls in dependency order (Keras lists them so, but do not rely on it).
        var progress = true
        while progress {
            progress = false
            for k in pending.indices where pending[k].next < pending[k].nodes.count {
                let p = pending[k]
                let node = p.nodes[p.next]
                var inputs: [SymbolicTensor] = [], initialState: [SymbolicTensor] = []
                var ready = true
                if let args = node["args"]?.array {
                    for arg in args {
                        guard let ts = try tensors(arg, what: "argument", layer: p.name) else { ready = false; break }
                        inputs += ts
                    }
                    for (key, value) in node["kwargs"]?.object ?? [:] where ready {
                        switch key {
                        case "training": continue
                        case "mask" where value.isNull: continue
                        case "mask":
                            guard let first = inputs.first else { ready = false; break }
                            try checkImplicitMask(value, firstInput: first, layer: p.name)
                        case "initial_state" where !value.isNull:
                            guard let ts = try tensors(value, what: "initial_state", layer: p.name) else { ready = false; break }
                            initialState = ts
                        default:
                            if value.isNull { continue }
                            throw RecurError.unsupported(op: "layer '\(p.name)'", message: "call argument \(key)=\(compactJSON(value))")
                        }
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
                guard ready else { continue }
                guard !inputs.isEmpty else { throw RecurError.invalidArgument(op: op, message: "layer '\(p.name)' is called on no tensors") }
                let outs = try p.layer!.outputs(inputs, initialState: initialState)
                produced[p.name]!.append(outs)
                pending[k].next += 1
                progress = true
            }
        }
        if let stuck = pending.first(where: { $0.next < $0.nodes.count }) {
            throw RecurError.invalidArgument(op: op, message: "layer '\(stuck.name)' depends on tensors no layer computes (cycle or missing layer)")
        }
        func endpoints(_ key: String) throws -> [SymbolicTensor] {
            guard let list = config[key]?.array, !list.isEmpty else { throw RecurError.invalidArgument(op: op, message: "config has no \(key)") }
            let entries = list[0].string != nil ? [JSONValue.array(list)] : list
            return try entries.map { e in
                guard let t = try tensor(e) else { throw RecurError.invalidArgument(op: op, message: "\(key) entry \(compactJSON(e)) is never computed") }
                return t
            }
        }
        return try Model(inputs: try endpoints("input_layers"), outputs: try endpoints("output_layers"), name: modelName)
    }

    // MARK: - config.json from a model

    static func number(_ f: Float) -> JSONValue { .number(Double("\(f)") ?? Double(f)) }
    static func shape(_ s: [Int?]) -> JSONValue { .array(s.map { $0.map { .number(Double($0)) } ?? .null }) }
    static let float32Policy: JSONValue = .object(["module": "keras", "class_name": "DTypePolicy",
                                                   "config": .object(["name": "float32"]), "registered_name": .null])

    static func initializer(_ i: Initializer) -> JSONValue {
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

    static func entry(_ className: String, _ config: [String: JSONValue]) -> JSONValue {
        .object(["module": "keras.layers", "class_name": .string(className), "config": .object(config), "registered_name": .null])
    }

    static func base(_ layer: Layer) -> [String: JSONValue] {
        ["name": .string(layer.name), "trainable": .bool(layer.isTrainable), "dtype": float32Policy]
    }

    /// A cell's Keras config entry.
    static func cellEntry(_ cell: RecurrentCell) throws -> JSONValue {
        var c = base(cell)
        switch cell {
        case let l as LSTMCell:
            c.merge(["units": .number(Double(l.units)), "activation": .string(l.activation.rawValue),
                     "recurrent_activation": .string(l.recurrentActivation.rawValue), "use_bias": .bool(l.useBias),
                     "unit_forget_bias": .bool(l.unitForgetBias), "kernel_initializer": initializer(l.kernelInitializer),
                     "recurrent_initializer": initializer(l.recurrentInitializer), "bias_initializer": initializer(l.biasInitializer),
                     "dropout": number(l.dropout), "recurrent_dropout": number(l.recurrentDropoutRate)]) { $1 }
            return entry("LSTMCell", c)
        case let g as GRUCell:
            c.merge(["units": .number(Double(g.units)), "activation": .string(g.activation.rawValue),
                     "recurrent_activation": .string(g.recurrentActivation.rawValue), "use_bias": .bool(g.useBias),
                     "reset_after": .bool(g.resetAfter), "kernel_initializer": initializer(g.kernelInitializer),
                     "recurrent_initializer": initializer(g.recurrentInitializer), "bias_initializer": initializer(g.biasInitializer),
                     "dropout": number(g.dropout), "recurrent_dropout": number(g.recurrentDropoutRate)]) { $1 }
            return entry("GRUCell", c)
        case let s as SimpleRNNCell:
            c.merge(["units": .number(Double(s.units)), "activation": .string(s.activation.rawValue), "use_bias": .bool(s.useBias),
                     "kernel_initializer": initializer(s.kernelInitializer), "recurrent_initializer": initializer(s.recurrentInitializer),
                     "bias_initializer": initializer(s.biasInitializer),
                     "dropout": number(s.dropout), "recurrent_dropout": number(s.recurrentDropoutRate)]) { $1 }
            return entry("SimpleRNNCell", c)
        case let stacked as StackedRNNCells:
            c["cells"] = .array(try stacked.cells.map(cellEntry))
            return entry("StackedRNNCells", c)
        default:
            throw RecurError.unsupported(op: "Keras config", message: "cell \(cell.name) of class \(cell.className) (only LSTMCell, GRUCell, SimpleRNNCell and lists of them)")
        }
    }

    /// A layer's Keras config entry (`module`, `class_name`, `config`, `registered_name`).
    static func layerEntry(_ layer: Layer) throws -> JSONValue {
        var c = base(layer)
        switch layer {
        case let d as Dense:
            c.merge(["units": .number(Double(d.units)), "activation": .string(d.activation.rawValue), "use_bias": .bool(d.useBias),
                     "kernel_initializer": initializer(d.kernelInitializer), "bias_initializer": initializer(d.biasInitializer)]) { $1 }
            return entry("Dense", c)
        case let e as Embedding:
            c.merge(["input_dim": .number(Double(e.inputDim)), "output_dim": .number(Double(e.outputDim)),
                     "embeddings_initializer": initializer(e.embeddingsInitializer), "mask_zero": .bool(e.maskZero)]) { $1 }
            return entry("Embedding", c)
        case let b as BatchNormalization:
            c.merge(["axis": .number(-1), "momentum": number(b.momentum), "epsilon": number(b.epsilon),
                     "center": .bool(b.center), "scale": .bool(b.scale)]) { $1 }
            return entry("BatchNormalization", c)
        case let d as Dropout:
            c.merge(["rate": number(d.rate), "seed": .null, "noise_shape": .null]) { $1 }
            return entry("Dropout", c)
        case let m as Masking:
            c["mask_value"] = number(m.maskValue)
            return entry("Masking", c)
        case let cat as Concatenate:
            c["axis"] = .number(Double(cat.axis))
            return entry("Concatenate", c)
        case is Merge:
            return entry(layer.className, c)
        case let act as ActivationLayer:
            c["activation"] = .string(act.activation.rawValue)
            return entry("Activation", c)
        case is Flatten:
            c["data_format"] = "channels_last"
            return entry("Flatten", c)
        case let r as Reshape:
            c["target_shape"] = .array(r.targetShape.map { .number(Double($0)) })
            return entry("Reshape", c)
        case let r as RepeatVector:
            c["n"] = .number(Double(r.n))
            return entry("RepeatVector", c)
        case let p as Permute:
            c["dims"] = .array(p.dims.map { .number(Double($0)) })
            return entry("Permute", c)
        case let g as GlobalAveragePooling1D:
            c.merge(["data_format": "channels_last", "keepdims": .bool(g.keepdims)]) { $1 }
            return entry("GlobalAveragePooling1D", c)
        case let g as GlobalMaxPooling1D:
            c.merge(["data_format": "channels_last", "keepdims": .bool(g.keepdims)]) { $1 }
            return entry("GlobalMaxPooling1D", c)
        case let n as LayerNormalization:
            c.merge(["axis": .array([.number(-1)]), "epsilon": number(n.epsilon), "center": .bool(n.center), "scale": .bool(n.scale),
                     "rms_scaling": .bool(false), "beta_initializer": initializer(n.betaInitializer),
                     "gamma_initializer": initializer(n.gammaInitializer), "beta_regularizer": .null, "gamma_regularizer": .null,
                     "beta_constraint": .null, "gamma_constraint": .null]) { $1 }
            return entry("LayerNormalization", c)
        case let td as TimeDistributed:
            c["layer"] = try layerEntry(td.layer)
            return entry("TimeDistributed", c)
        case let b as Bidirectional:
            c["merge_mode"] = b.mergeMode.map { .string($0.rawValue) } ?? .null
            c["layer"] = try layerEntry(b.forwardLayer)
            c["backward_layer"] = try layerEntry(b.backwardLayer)
            return entry("Bidirectional", c)
        case let rnn as RNN:
            c.merge(["return_sequences": .bool(rnn.returnSequences), "return_state": .bool(rnn.returnState),
                     "go_backwards": .bool(rnn.goBackwards), "stateful": .bool(rnn.stateful), "unroll": .bool(rnn.unroll),
                     "zero_output_for_mask": .bool(rnn.zeroOutputForMask)]) { $1 }
            let builtIn = layer is LSTM || layer is GRU || layer is SimpleRNN
            if builtIn, case .object(let cellConfig)? = try cellEntry(rnn.cell)["config"] {
                for (k, v) in cellConfig where !["name", "trainable", "dtype"].contains(k) { c[k] = v }
                return entry(layer.className, c)
            }
            c["cell"] = try cellEntry(rnn.cell)
            return entry("RNN", c)
        default:
            throw RecurError.unsupported(op: "Keras config", message: "layer \(layer.name) of class \(layer.className) cannot be saved in a .keras archive")
        }
    }

    static func inputEntry(name: String, shape: [Int?], integer: Bool) -> JSONValue {
        .object(["module": "keras.layers", "class_name": "InputLayer", "registered_name": .null,
                 "config": .object(["batch_shape": self.shape(shape), "dtype": .string(integer ? "int32" : "float32"),
                                    "sparse": .bool(false), "ragged": .bool(false), "name": .string(name)])])
    }

    /// The `config.json` object for `model`.
    static func config(of model: Model) throws -> JSONValue {
        if let s = model as? Sequential {
            guard let input = s.inputShapes.first, s.layerOutputShapes.count == s.stack.count else {
                throw RecurError.invalidArgument(op: s.name, message: "the model is not built: give it an input shape before saving")
            }
            let inputName = LayerNameRegistry().uniqueName("input_layer")
            var layers = [inputEntry(name: inputName, shape: input, integer: s.stack.first is Embedding)]
            layers += try s.stack.map(layerEntry)
            return .object(["module": "keras", "class_name": "Sequential", "registered_name": .null,
                            "config": .object(["name": .string(s.name), "trainable": .bool(s.isTrainable), "dtype": float32Policy,
                                               "layers": .array(layers)]),
                            "build_config": .object(["input_shape": shape(input)])])
        }
        // Functional: layers in Keras's order, each with its calls ("inbound_nodes").
        let order = KerasWeightsFile.kerasLayerOrder(model)
        var nodesOf: [ObjectIdentifier: [GraphNode]] = [:]
        for node in model.nodes { nodesOf[ObjectIdentifier(node.layer), default: []].append(node) }
        for (k, v) in nodesOf { nodesOf[k] = v.sorted { $0.callIndex < $1.callIndex } }
        func history(_ t: SymbolicTensor) -> JSONValue {
            let index = nodesOf[ObjectIdentifier(t.node.layer)]?.firstIndex { $0 === t.node } ?? 0
            return .array([.string(t.node.layer.name), .number(Double(index)), .number(Double(t.index))])
        }
        func kerasTensor(_ t: SymbolicTensor) -> JSONValue {
            .object(["class_name": "__keras_tensor__",
                     "config": .object(["shape": shape(t.shape), "dtype": "float32", "keras_history": history(t)])])
        }
        var names = Set<String>()
        var layers: [JSONValue] = []
        for layer in order {
            guard names.insert(layer.name).inserted else {
                throw RecurError.invalidArgument(op: model.name, message: "two layers are named '\(layer.name)'; Keras needs unique names")
            }
            var e: [String: JSONValue]
            if let input = layer as? InputLayer {
                let consumers = model.nodes.filter { n in n.inputs.contains { $0.node.layer === input } }
                let integer = !consumers.isEmpty && consumers.allSatisfy { $0.layer is Embedding }
                e = inputEntry(name: input.name, shape: [input.batchSize] + input.shape, integer: integer).object!
                e["inbound_nodes"] = .array([])
            } else {
                e = try layerEntry(layer).object!
                e["inbound_nodes"] = .array((nodesOf[ObjectIdentifier(layer)] ?? []).map { node in
                    // Merge layers take a list even of one tensor.
                    let asList = node.inputs.count != 1 || layer is Merge || layer is Concatenate
                    let args: [JSONValue] = asList ? [.array(node.inputs.map(kerasTensor))] : [kerasTensor(node.inputs[0])]
                    var kwargs: [String: JSONValue] = [:]
                    if !node.initialState.isEmpty { kwargs["initial_state"] = .array(node.initialState.map(kerasTensor)) }
                    return .object(["args": .array(args), "kwargs": .object(kwargs)])
                })
            }
            e["name"] = .string(layer.name)
            layers.append(.object(e))
        }
        return .object(["module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
                        "config": .object(["name": .string(model.name), "trainable": .bool(model.isTrainable),
                                           "layers": .array(layers),
                                           "input_layers": .array(model.inputs.map(history)),
                                           "output_layers": .array(model.outputs.map(history))]),
                        "build_config": .object(["input_shape": .null])])
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}
