import Foundation

/// Writing the model configuration of Keras 3 `.keras` archives (`config.json`) for Recur's layers.
extension KerasConfig {

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
        // A model used as a layer is written as Keras writes it: its own config entry, nested.
        if let model = layer as? Model { return try config(of: model) }
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

    /// An InputLayer entry; `dtype` as declared, or int32 for ids (`integer`) when left at float32.
    static func inputEntry(name: String, shape: [Int?], integer: Bool, dtype: InputDType) -> JSONValue {
        let written = dtype == .float32 && integer ? "int32" : dtype.rawValue
        return .object(["module": "keras.layers", "class_name": "InputLayer", "registered_name": .null,
                 "config": .object(["batch_shape": self.shape(shape), "dtype": .string(written),
                                    "sparse": .bool(false), "ragged": .bool(false), "name": .string(name)])])
    }

    /// The `config.json` object for `model`.
    static func config(of model: Model) throws -> JSONValue {
        if let s = model as? Sequential {
            guard let input = s.inputShapes.first, s.layerOutputShapes.count == s.stack.count else {
                throw RecurError.invalidArgument(op: s.name, message: "the model is not built: give it an input shape before saving")
            }
            let inputName = LayerNameRegistry().uniqueName("input_layer")
            var layers = [inputEntry(name: inputName, shape: input, integer: s.stack.first is Embedding, dtype: s.inputDType)]
            layers += try s.stack.map(layerEntry)
            return .object(["module": "keras", "class_name": "Sequential", "registered_name": .null,
                            "config": .object(["name": .string(s.name), "trainable": .bool(s.isTrainable), "dtype": float32Policy,
                                               "layers": .array(layers)]),
                            "build_config": .object(["input_shape": shape(input)])])
        }
        // Functional: layers in Keras's order, each with its calls ("inbound_nodes").
        let order = KerasWeightsFile.kerasLayerOrder(model)
        let nodesOf = model.callsByLayer
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
                e = inputEntry(name: input.name, shape: [input.batchSize] + input.shape, integer: integer, dtype: input.dtype).object!
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
