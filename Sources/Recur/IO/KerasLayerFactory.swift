/// Builds Recur layers from Keras layer configs (`{"class_name": "LSTM", "config": {...}}`), the form
/// found in `.keras` archives. Arguments left out take Keras's defaults; an unsupported layer class or
/// argument value throws an error naming it.
public enum KerasLayerFactory {
    /// Reads the config arguments of one layer, checking types.
    struct Arguments {
        let layer: String
        let config: [String: JSONValue]

        func int(_ key: String, default value: Int? = nil, in range: ClosedRange<Int>) throws -> Int {
            guard let v = config[key], !v.isNull else {
                if let value { return value }
                throw RecurError.invalidArgument(op: layer, message: "config is missing '\(key)'")
            }
            guard let i = v.int else {
                throw RecurError.invalidArgument(op: layer, message: "'\(key)' must be an integer, got \(KerasConfig.compactJSON(v))")
            }
            guard range.contains(i) else {
                throw RecurError.invalidArgument(op: layer, message: "'\(key)' must be in \(range.lowerBound)...\(range.upperBound), got \(i)")
            }
            return i
        }

        /// A width (`units`, `input_dim`, `n`, ...): a positive integer up to `UntrustedLimits.maxUnits`,
        /// as Keras requires ("expected a positive integer").
        func width(_ key: String) throws -> Int {
            try int(key, in: 1...UntrustedLimits.maxUnits)
        }

        /// A rate (`dropout`, `rate`): a number in [0, 1].
        func rate(_ key: String) throws -> Float {
            let r = try float(key, default: 0)
            guard r >= 0, r <= 1 else {
                throw RecurError.invalidArgument(op: layer, message: "'\(key)' must be in [0, 1], got \(r)")
            }
            return r
        }

        /// A missing key takes `value`; an explicit `null` takes `ifNull` where Keras gives it a meaning
        /// (LayerNormalization's epsilon: the backend epsilon) and is an error elsewhere, as in Keras.
        func float(_ key: String, default value: Float, ifNull: Float? = nil) throws -> Float {
            guard let v = config[key] else { return value }
            if v.isNull, let ifNull { return ifNull }
            guard let d = v.double, d.isFinite else {
                throw RecurError.invalidArgument(op: layer, message: "'\(key)' must be a finite number, got \(KerasConfig.compactJSON(v))")
            }
            return Float(d)
        }

        func bool(_ key: String, default value: Bool) throws -> Bool {
            guard let v = config[key], !v.isNull else { return value }
            guard let b = v.bool else { throw RecurError.invalidArgument(op: layer, message: "'\(key)' must be true or false, got \(KerasConfig.compactJSON(v))") }
            return b
        }

        /// A missing key takes `value`; an explicit `null` is linear, as Keras's `activations.get(None)`.
        func activation(_ key: String, default value: Activation) throws -> Activation {
            guard let v = config[key] else { return value }
            if v.isNull { return .linear }
            guard let s = v.string, let a = Activation(rawValue: s) else {
                throw RecurError.unsupported(op: layer, message: "\(key) \(KerasConfig.compactJSON(v)) (supported: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return a
        }

        func initializer(_ key: String, default value: Initializer) throws -> Initializer {
            guard let v = config[key], !v.isNull else { return value }
            let name = v.string ?? v["class_name"]?.string ?? ""
            let args = v["config"]
            switch name {
            case "zeros", "Zeros": return .zeros
            case "ones", "Ones": return .ones
            case "glorot_uniform", "GlorotUniform": return .glorotUniform
            case "orthogonal", "Orthogonal": return .orthogonal(gain: Float(args?["gain"]?.double ?? 1))
            case "uniform", "random_uniform", "RandomUniform":
                return .uniform(min: Float(args?["minval"]?.double ?? -0.05), max: Float(args?["maxval"]?.double ?? 0.05))
            case "constant", "Constant": return .constant(Float(args?["value"]?.double ?? 0))
            default: throw RecurError.unsupported(op: layer, message: "initializer \(KerasConfig.compactJSON(v)) for '\(key)'")
            }
        }

        var name: String? { config["name"]?.string }

        /// Keras's `batch_shape`/`batch_input_shape` without the batch dimension, and the batch size.
        func inputShape() throws -> (shape: [Int?], batch: Int?)? {
            guard let value = config["batch_shape"] ?? config["batch_input_shape"], !value.isNull else { return nil }
            let all = try KerasLayerFactory.shape(value, key: "batch_shape", layer: layer)
            guard let batch = all.first else { throw RecurError.invalidArgument(op: layer, message: "empty batch_shape") }
            return (Array(all.dropFirst()), batch)
        }

        /// A list of integers (Keras's tuples, e.g. `target_shape`, `dims`).
        func intList(_ key: String) throws -> [Int] {
            guard let v = config[key], !v.isNull else { throw RecurError.invalidArgument(op: layer, message: "config is missing '\(key)'") }
            guard let items = v.array, items.count <= UntrustedLimits.maxRank, case let ints = items.compactMap(\.int),
                  ints.count == items.count, ints.allSatisfy({ (-1...UntrustedLimits.maxElements).contains($0) }) else {
                throw RecurError.invalidArgument(op: layer, message: "'\(key)' must be a list of at most \(UntrustedLimits.maxRank) integers "
                                                 + "in -1...\(UntrustedLimits.maxElements), got \(KerasConfig.compactJSON(v))")
            }
            return ints
        }

        /// Recur's layers work on channels-last data only.
        func requireChannelsLast() throws {
            if let v = config["data_format"], !v.isNull, v.string != "channels_last" {
                throw RecurError.unsupported(op: layer, message: "argument data_format=\(KerasConfig.compactJSON(v)) (only channels_last)")
            }
        }

        func rejectTrue(_ keys: [String]) throws {
            for key in keys where config[key]?.bool == true {
                throw RecurError.unsupported(op: layer, message: "argument \(key)=True")
            }
        }
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

    /// A layer from a `{"class_name", "config"}` object (also accepts `"class"`).
    public static func layer(from spec: JSONValue) throws -> Layer {
        guard let className = spec["class_name"]?.string ?? spec["class"]?.string else {
            throw RecurError.invalidArgument(op: "Keras config", message: "layer entry has no class_name")
        }
        return try layer(className: className, config: spec["config"]?.object ?? [:])
    }

    public static func layer(className: String, config: [String: JSONValue]) throws -> Layer {
        let a = Arguments(layer: config["name"]?.string.map { "\(className) '\($0)'" } ?? className, config: config)
        switch className {
        case "Dense":
            return Dense(try a.width("units"), activation: try a.activation("activation", default: .linear),
                         useBias: try a.bool("use_bias", default: true),
                         kernelInitializer: try a.initializer("kernel_initializer", default: .glorotUniform),
                         biasInitializer: try a.initializer("bias_initializer", default: .zeros),
                         inputShape: try a.inputShape()?.shape, name: a.name)
        case "Embedding":
            return Embedding(inputDim: try a.width("input_dim"), outputDim: try a.width("output_dim"),
                             maskZero: try a.bool("mask_zero", default: false),
                             embeddingsInitializer: try a.initializer("embeddings_initializer", default: .uniform()), name: a.name)
        case "BatchNormalization":
            if let axis = config["axis"], axis.int != -1, axis.array?.count != 1 || axis.array?.first?.int != -1 {
                throw RecurError.unsupported(op: a.layer, message: "axis \(KerasConfig.compactJSON(axis)) (only the last axis)")
            }
            return BatchNormalization(momentum: try a.float("momentum", default: 0.99), epsilon: try a.float("epsilon", default: 1e-3),
                                      center: try a.bool("center", default: true), scale: try a.bool("scale", default: true), name: a.name)
        case "Dropout":
            return Dropout(try a.rate("rate"), name: a.name)
        case "Masking":
            return Masking(maskValue: try a.float("mask_value", default: 0), name: a.name)
        case "Concatenate":
            return Concatenate(axis: try a.int("axis", default: -1, in: -UntrustedLimits.maxRank...UntrustedLimits.maxRank), name: a.name)
        case "Add": return Add(name: a.name)
        case "Subtract": return Subtract(name: a.name)
        case "Multiply": return Multiply(name: a.name)
        case "Average": return Average(name: a.name)
        case "Maximum": return Maximum(name: a.name)
        case "Minimum": return Minimum(name: a.name)
        case "Activation":
            guard config["activation"].map({ !$0.isNull }) == true else {
                throw RecurError.invalidArgument(op: a.layer, message: "config is missing 'activation'")
            }
            return ActivationLayer(try a.activation("activation", default: .linear), name: a.name)
        case "Flatten":
            try a.requireChannelsLast()
            return Flatten(name: a.name)
        case "Reshape":
            return Reshape(targetShape: try a.intList("target_shape"), name: a.name)
        case "RepeatVector":
            return RepeatVector(try a.int("n", in: 1...UntrustedLimits.maxRepeats), name: a.name)
        case "Permute":
            do { return try Permute(try a.intList("dims"), name: a.name) } catch RecurError.invalidArgument(_, let message) {
                throw RecurError.invalidArgument(op: a.layer, message: message)
            }
        case "GlobalAveragePooling1D", "GlobalMaxPooling1D":
            try a.requireChannelsLast()
            let keepdims = try a.bool("keepdims", default: false)
            return className == "GlobalMaxPooling1D" ? GlobalMaxPooling1D(keepdims: keepdims, name: a.name)
                                                     : GlobalAveragePooling1D(keepdims: keepdims, name: a.name)
        case "LayerNormalization":
            try a.rejectTrue(["rms_scaling"])
            if let axis = config["axis"], axis.int != -1, axis.array?.count != 1 || axis.array?.first?.int != -1 {
                throw RecurError.unsupported(op: a.layer, message: "axis \(KerasConfig.compactJSON(axis)) (only the last axis, -1)")
            }
            return LayerNormalization(epsilon: try a.float("epsilon", default: 1e-3, ifNull: 1e-7), center: try a.bool("center", default: true),
                                      scale: try a.bool("scale", default: true),
                                      gammaInitializer: try a.initializer("gamma_initializer", default: .ones),
                                      betaInitializer: try a.initializer("beta_initializer", default: .zeros), name: a.name)
        case "TimeDistributed":
            guard let inner = config["layer"], !inner.isNull else {
                throw RecurError.invalidArgument(op: a.layer, message: "config is missing 'layer'")
            }
            return TimeDistributed(try layer(from: inner), name: a.name)
        case "SimpleRNN", "GRU", "LSTM":
            try a.rejectTrue(["time_major"])
            // The layer's cell arguments are the cell's; the cell takes the name Keras gives it.
            var cellConfig = config
            cellConfig["name"] = .string(snakeCase(className) + "_cell")
            let cell = try self.cell(className: className + "Cell", config: cellConfig, label: a.layer)
            let (sequences, state, backwards) = (try a.bool("return_sequences", default: false),
                                                 try a.bool("return_state", default: false),
                                                 try a.bool("go_backwards", default: false))
            let (stateful, unroll, input) = (try a.bool("stateful", default: false), try a.bool("unroll", default: false), try a.inputShape())
            switch cell {
            case let c as LSTMCell:
                return LSTM(cell: c, returnSequences: sequences, returnState: state, goBackwards: backwards, stateful: stateful,
                            unroll: unroll, inputShape: input?.shape, batchSize: input?.batch, name: a.name)
            case let c as GRUCell:
                return GRU(cell: c, returnSequences: sequences, returnState: state, goBackwards: backwards, stateful: stateful,
                           unroll: unroll, inputShape: input?.shape, batchSize: input?.batch, name: a.name)
            default:
                return SimpleRNN(cell: cell as! SimpleRNNCell, returnSequences: sequences, returnState: state, goBackwards: backwards,
                                 stateful: stateful, unroll: unroll, inputShape: input?.shape, batchSize: input?.batch, name: a.name)
            }
        case "Bidirectional":
            guard let inner = config["layer"], let rnn = try layer(from: inner) as? RNN else {
                throw RecurError.unsupported(op: a.layer, message: "wrapped layer must be SimpleRNN, GRU, LSTM or RNN")
            }
            var mergeMode: MergeMode? = .concat
            if let m = config["merge_mode"] {
                if m.isNull { mergeMode = nil }
                else if let s = m.string, let mode = MergeMode(rawValue: s) { mergeMode = mode }
                else { throw RecurError.unsupported(op: a.layer, message: "merge_mode \(KerasConfig.compactJSON(m))") }
            }
            let backward = try config["backward_layer"].map { spec -> RNN in
                guard let b = try layer(from: spec) as? RNN else {
                    throw RecurError.unsupported(op: a.layer, message: "backward_layer must be a recurrent layer")
                }
                return b
            }
            return try Bidirectional(rnn, mergeMode: mergeMode, backwardLayer: backward, inputShape: try a.inputShape()?.shape, name: a.name)
        case "RNN":
            guard let cellSpec = config["cell"] else { throw RecurError.invalidArgument(op: a.layer, message: "config is missing 'cell'") }
            let cell: RecurrentCell
            if let list = cellSpec.array {
                cell = StackedRNNCells(try list.map(self.cell(from:)))
            } else if cellSpec["class_name"]?.string == "StackedRNNCells", let list = cellSpec["config"]?["cells"]?.array {
                cell = StackedRNNCells(try list.map(self.cell(from:)))
            } else {
                cell = try self.cell(from: cellSpec)
            }
            try a.rejectTrue(["time_major"])
            let input = try a.inputShape()
            return RNN(cell, returnSequences: try a.bool("return_sequences", default: false),
                       returnState: try a.bool("return_state", default: false),
                       goBackwards: try a.bool("go_backwards", default: false),
                       stateful: try a.bool("stateful", default: false), unroll: try a.bool("unroll", default: false),
                       zeroOutputForMask: try a.bool("zero_output_for_mask", default: false),
                       inputShape: input?.shape, batchSize: input?.batch, name: a.name)
        default:
            throw RecurError.unsupported(op: "Keras config", message: "layer class '\(className)'")
        }
    }

    /// A built-in cell from its Keras config.
    public static func cell(from spec: JSONValue) throws -> RecurrentCell {
        guard let className = spec["class_name"]?.string ?? spec["class"]?.string else {
            throw RecurError.invalidArgument(op: "Keras config", message: "cell entry has no class_name")
        }
        return try cell(className: className, config: spec["config"]?.object ?? [:], label: className)
    }

    /// A built-in cell from its class name and config; errors name `label` (the cell, or the layer it belongs to).
    static func cell(className: String, config: [String: JSONValue], label: String) throws -> RecurrentCell {
        let a = Arguments(layer: label, config: config)
        let dropout = try a.rate("dropout"), recurrentDropout = try a.rate("recurrent_dropout")
        switch className {
        case "SimpleRNNCell":
            return SimpleRNNCell(try a.width("units"), activation: try a.activation("activation", default: .tanh),
                                 useBias: try a.bool("use_bias", default: true),
                                 kernelInitializer: try a.initializer("kernel_initializer", default: .glorotUniform),
                                 recurrentInitializer: try a.initializer("recurrent_initializer", default: .orthogonal()),
                                 biasInitializer: try a.initializer("bias_initializer", default: .zeros),
                                 dropout: dropout, recurrentDropout: recurrentDropout, name: a.name)
        case "GRUCell":
            return GRUCell(try a.width("units"), activation: try a.activation("activation", default: .tanh),
                           recurrentActivation: try a.activation("recurrent_activation", default: .sigmoid),
                           useBias: try a.bool("use_bias", default: true), resetAfter: try a.bool("reset_after", default: true),
                           kernelInitializer: try a.initializer("kernel_initializer", default: .glorotUniform),
                           recurrentInitializer: try a.initializer("recurrent_initializer", default: .orthogonal()),
                           biasInitializer: try a.initializer("bias_initializer", default: .zeros),
                           dropout: dropout, recurrentDropout: recurrentDropout, name: a.name)
        case "LSTMCell":
            return LSTMCell(try a.width("units"), activation: try a.activation("activation", default: .tanh),
                            recurrentActivation: try a.activation("recurrent_activation", default: .sigmoid),
                            useBias: try a.bool("use_bias", default: true), unitForgetBias: try a.bool("unit_forget_bias", default: true),
                            kernelInitializer: try a.initializer("kernel_initializer", default: .glorotUniform),
                            recurrentInitializer: try a.initializer("recurrent_initializer", default: .orthogonal()),
                            biasInitializer: try a.initializer("bias_initializer", default: .zeros),
                            dropout: dropout, recurrentDropout: recurrentDropout, name: a.name)
        default:
            throw RecurError.unsupported(op: "Keras config", message: "cell class '\(className)'")
        }
    }
}
