import Foundation

/// The layer classes Keras configs may name, by Keras class name: Recur's own, and yours after
/// `register(_:as:)`. A layer class takes part in Keras files by overriding `kerasConfig()` (Keras's
/// `get_config`) and `fromKerasConfig(_:)` (Keras's `from_config`) in its own file; nothing else
/// needs to know about it.
public enum KerasLayerRegistry {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var classes: [String: Layer.Type] = Dictionary(uniqueKeysWithValues: builtIn)

    /// Recur's layers and cells under the names Keras writes.
    private static let builtIn: [(String, Layer.Type)] = [
        ("Dense", Dense.self), ("Embedding", Embedding.self), ("BatchNormalization", BatchNormalization.self),
        ("LayerNormalization", LayerNormalization.self), ("Normalization", Normalization.self),
        ("GroupNormalization", GroupNormalization.self), ("UnitNormalization", UnitNormalization.self), ("RMSNormalization", RMSNormalization.self),
        ("Rescaling", Rescaling.self), ("ActivityRegularization", ActivityRegularization.self), ("Dropout", Dropout.self), ("Masking", Masking.self),
        ("Activation", ActivationLayer.self), ("ReLU", ReLU.self), ("LeakyReLU", LeakyReLU.self), ("ELU", ELU.self), ("Flatten", Flatten.self), ("Reshape", Reshape.self),
        ("RepeatVector", RepeatVector.self), ("Permute", Permute.self), ("TimeDistributed", TimeDistributed.self),
        ("GlobalAveragePooling1D", GlobalAveragePooling1D.self), ("GlobalMaxPooling1D", GlobalMaxPooling1D.self),
        ("Conv1D", Conv1D.self), ("Conv2D", Conv2D.self), ("Conv3D", Conv3D.self), ("MaxPooling1D", MaxPooling1D.self), ("AveragePooling1D", AveragePooling1D.self),
        ("MaxPooling2D", MaxPooling2D.self), ("MaxPooling3D", MaxPooling3D.self), ("AveragePooling2D", AveragePooling2D.self),
        ("AveragePooling3D", AveragePooling3D.self), ("GlobalAveragePooling2D", GlobalAveragePooling2D.self),
        ("GlobalAveragePooling3D", GlobalAveragePooling3D.self), ("GlobalMaxPooling2D", GlobalMaxPooling2D.self),
        ("GlobalMaxPooling3D", GlobalMaxPooling3D.self),
        ("ZeroPadding1D", ZeroPadding1D.self), ("Cropping1D", Cropping1D.self), ("UpSampling1D", UpSampling1D.self),
        ("Softmax", Softmax.self), ("PReLU", PReLU.self), ("Identity", Identity.self),
        ("Attention", Attention.self), ("AdditiveAttention", AdditiveAttention.self), ("MultiHeadAttention", MultiHeadAttention.self),
        ("SpatialDropout1D", SpatialDropout1D.self), ("GaussianNoise", GaussianNoise.self), ("GaussianDropout", GaussianDropout.self),
        ("Concatenate", Concatenate.self), ("Dot", Dot.self), ("Add", Add.self), ("Subtract", Subtract.self), ("Multiply", Multiply.self),
        ("Average", Average.self), ("Maximum", Maximum.self), ("Minimum", Minimum.self),
        ("SimpleRNN", SimpleRNN.self), ("GRU", GRU.self), ("LSTM", LSTM.self), ("RNN", RNN.self), ("ConvLSTM1D", ConvLSTM1D.self), ("ConvLSTM2D", ConvLSTM2D.self), ("ConvLSTM3D", ConvLSTM3D.self),
        ("Bidirectional", Bidirectional.self),
        ("SimpleRNNCell", SimpleRNNCell.self), ("GRUCell", GRUCell.self), ("LSTMCell", LSTMCell.self),
        ("StackedRNNCells", StackedRNNCells.self),
    ]

    /// Config keys every layer has, read here rather than by each layer.
    static let commonKeys = ["name", "trainable", "dtype", "seed", "batch_shape", "batch_input_shape", "input_shape"]

    /// Makes `type` readable from Keras configs that name `className` (Keras's `register_keras_serializable`).
    public static func register(_ type: Layer.Type, as className: String) {
        lock.lock(); defer { lock.unlock() }
        classes[className] = type
    }

    static func type(named className: String) -> Layer.Type? {
        lock.lock(); defer { lock.unlock() }
        return classes[className]
    }

    /// A layer from its Keras config arguments (`{"units": 4}` for `className` `Dense`).
    public static func layer(className: String, config: [String: JSONValue]) throws -> Layer {
        try layer(from: .object(["class_name": .string(className), "config": .object(config)]))
    }

    /// A layer from a `{"class_name", "config"}` entry (also `"class"`); models nested as layers too.
    /// Its arguments are checked as it reads them and unknown ones refused; errors name the layer.
    public static func layer(from spec: JSONValue) throws -> Layer {
        try layer(from: spec, context: "", depth: 0)
    }

    static func layer(from spec: JSONValue, context: String, depth: Int) throws -> Layer {
        guard depth < UntrustedLimits.maxNestingDepth else {
            throw RecurError.unsupported(op: "Keras config", message: "layers nested more than \(UntrustedLimits.maxNestingDepth) deep\(context)")
        }
        guard let className = spec["class_name"]?.string ?? spec["class"]?.string else {
            throw RecurError.invalidArgument(op: "Keras config", message: "layer entry\(context) has no class_name")
        }
        if ["Sequential", "Functional", "Model"].contains(className) { return try KerasConfig.model(from: spec) }
        let config = spec["config"]?.object ?? [:]
        guard let type = type(named: className), className != "InputLayer" else {
            throw RecurError.unsupported(op: "Keras config", message: "layer class '\(className)'\(config["name"]?.string.map { " (layer '\($0)')" } ?? "")\(context)")
        }
        let arguments = KerasArguments(className: className, config: config, depth: depth)
        if let dtype = config["dtype"], !dtype.isNull {
            let policy = dtype.string ?? dtype["config"]?["name"]?.string ?? "?"
            guard policy == "float32" else {
                throw RecurError.unsupported(op: arguments.layer, message: "argument dtype='\(policy)' (only float32)")
            }
        }
        arguments.ignore(commonKeys)
        let layer = try type.fromKerasConfig(arguments)
        try readWeightRules(arguments, into: layer)
        try arguments.refuseUnusedArguments()
        if config["trainable"]?.bool == false { layer.isTrainable = false }
        return layer
    }

    /// The weight a `<prefix>_regularizer` / `<prefix>_constraint` argument is about (`recurrent`: the
    /// recurrent kernel), as Keras's layers name their arguments and weights.
    private static func weightName(prefix: String) -> String { prefix == "recurrent" ? "recurrent_kernel" : prefix }

    private static func argumentPrefix(weight: String) -> String { weight == "recurrent_kernel" ? "recurrent" : weight }

    /// Reads every `*_regularizer` and `*_constraint` argument of a config into the layer's
    /// `weightRegularizers`, `weightConstraints` and `activityRegularizer` (a weight name Keras does not
    /// know, and the layer lacks, is refused when the rules are first used).
    private static func readWeightRules(_ arguments: KerasArguments, into layer: Layer) throws {
        for key in arguments.config.keys.sorted() {
            for suffix in ["_regularizer", "_constraint"] where key.hasSuffix(suffix) {
                guard let value = arguments.value(key), !value.isNull else { continue }
                let prefix = String(key.dropLast(suffix.count)), what = "\(arguments.layer) \(key)"
                if suffix == "_constraint" {
                    layer.weightConstraints[weightName(prefix: prefix)] = try WeightConstraint(keras: value, what: what)
                } else if prefix == "activity" {
                    layer.activityRegularizer = try Regularizer(keras: value, what: what)
                } else {
                    layer.weightRegularizers[weightName(prefix: prefix)] = try Regularizer(keras: value, what: what)
                }
            }
        }
    }

    /// A layer's config entry as Keras writes it (`module`, `class_name`, `config`, `registered_name`).
    static func entry(of layer: Layer) throws -> JSONValue {
        if let model = layer as? Model { return try KerasConfig.config(of: model) }
        var config = try layer.kerasConfig()
        for (weight, regularizer) in layer.weightRegularizers { config["\(argumentPrefix(weight: weight))_regularizer"] = regularizer.kerasConfig }
        for (weight, constraint) in layer.weightConstraints { config["\(argumentPrefix(weight: weight))_constraint"] = constraint.kerasConfig }
        if let activity = layer.activityRegularizer, Swift.type(of: layer).kerasConfigHasActivityRegularizer {
            config["activity_regularizer"] = activity.kerasConfig
        }
        config["name"] = .string(layer.name)
        if Swift.type(of: layer).kerasConfigHasTrainable { config["trainable"] = .bool(layer.isTrainable) }
        config["dtype"] = KerasConfig.float32Policy
        let builtIn = builtIn.contains { $0.0 == layer.className && $0.1 == Swift.type(of: layer) }
        return .object(["module": builtIn ? "keras.layers" : .null, "class_name": .string(layer.className),
                        "config": .object(config), "registered_name": builtIn ? .null : .string(layer.className)])
    }

    /// A new layer of `layer`'s configuration with fresh weights, through Keras's config round trip
    /// (`changes` replace arguments; how `Bidirectional` makes its halves).
    static func copy<L: Layer>(of layer: L, changes: [String: JSONValue]) throws -> L {
        var entry = try self.entry(of: layer)
        if case .object(var object) = entry, case .object(var config)? = object["config"] {
            config.merge(changes) { $1 }
            object["config"] = .object(config)
            entry = .object(object)
        }
        guard let copy = try self.layer(from: entry) as? L else {
            throw RecurError.unsupported(op: layer.name, message: "\(layer.className) is registered under another class; cannot copy it")
        }
        return copy
    }
}
