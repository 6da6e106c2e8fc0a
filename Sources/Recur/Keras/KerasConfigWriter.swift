import Foundation

/// Writing the model configuration of Keras 3 `.keras` archives (`config.json`) for Recur's layers.
extension KerasConfig {

    static let float32Policy: JSONValue = .object(["module": "keras", "class_name": "DTypePolicy",
                                                   "config": .object(["name": "float32"]), "registered_name": .null])

    /// An InputLayer entry; `dtype` as declared, or int32 for ids (`integer`) when left at float32.
    static func inputEntry(name: String, shape: [Int?], integer: Bool, dtype: InputDType) -> JSONValue {
        let written = dtype == .float32 && integer ? "int32" : dtype.rawValue
        return .object(["module": "keras.layers", "class_name": "InputLayer", "registered_name": .null,
                 "config": .object(["batch_shape": KerasValue.shape(shape), "dtype": .string(written),
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
            layers += try s.stack.map(KerasLayerRegistry.entry(of:))
            return .object(["module": "keras", "class_name": "Sequential", "registered_name": .null,
                            "config": .object(["name": .string(s.name), "trainable": .bool(s.isTrainable), "dtype": float32Policy,
                                               "layers": .array(layers)]),
                            "build_config": .object(["input_shape": KerasValue.shape(input)])])
        }
        return try functionalConfig(of: model, order: KerasWeightsFile.kerasLayerOrder(model))
    }

    /// The `config.json` object of a functional model with its layers listed in `order`, each with its
    /// calls ("inbound_nodes") and the mask ops they use.
    static func functionalConfig(of model: Model, order: [Layer]) throws -> JSONValue {
        let nodesOf = model.callsByLayer
        func history(_ t: SymbolicTensor) -> JSONValue {
            let index = nodesOf[ObjectIdentifier(t.node.layer)]?.firstIndex { $0 === t.node } ?? 0
            return .array([.string(t.node.layer.name), .number(Double(index)), .number(Double(t.index))])
        }
        func kerasTensor(_ t: SymbolicTensor) -> JSONValue {
            .object(["class_name": "__keras_tensor__",
                     "config": .object(["shape": KerasValue.shape(t.shape), "dtype": "float32", "keras_history": history(t)])])
        }
        var names = Set<String>()
        var layers: [JSONValue] = []
        var maskOps = KerasMaskOpWriter(layerNames: Set(order.map(\.name)), tensorReference: kerasTensor)
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
                e = try KerasLayerRegistry.entry(of: layer).object!
                e["inbound_nodes"] = .array(try (nodesOf[ObjectIdentifier(layer)] ?? []).map { node in
                    // Merge layers take a list even of one tensor.
                    let asList = node.inputs.count != 1 || layer is Merge || layer is Concatenate
                    var args: [JSONValue] = asList ? [.array(node.inputs.map(kerasTensor))] : [kerasTensor(node.inputs[0])]
                    var kwargs = layer.kerasCallArguments
                    // Inputs Keras takes one per parameter: the first positionally, the rest by name.
                    if let parameters = type(of: layer).kerasInputParameters {
                        args = node.inputs.prefix(parameters.positional).map(kerasTensor)
                        for (name, input) in zip(parameters.names, node.inputs).dropFirst(parameters.positional) { kwargs[name] = kerasTensor(input) }
                    }
                    if !node.initialState.isEmpty { kwargs["initial_state"] = .array(node.initialState.map(kerasTensor)) }
                    // A mask goes in explicitly, with its ops, as Keras records it (KerasMaskOpWriter).
                    if let masked = KerasMaskOpWriter.recordedMaskInput(of: node), let mask = try maskOps.maskReference(of: masked) {
                        kwargs["mask"] = mask
                    }
                    return .object(["args": .array(args), "kwargs": .object(kwargs)])
                })
                layers += maskOps.takeEntries()
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
