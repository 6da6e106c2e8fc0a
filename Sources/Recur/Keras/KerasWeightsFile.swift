import Foundation

/// Keras 3 weight files (`.weights.h5`, also `model.weights.h5` inside `.keras` archives).
///
/// Keras 3 walks its "saving object tree" from the model: every object with variables writes them as
/// datasets `0`, `1`, ... (trainable first, then non-trainable, i.e. `get_weights()` order) in the
/// group `<path>/vars`, with the layer's name in the group's `name` attribute. Child objects live in
/// sub-groups named after the Python attribute holding them:
///
///     vars                                        the model's own (none)
///     layers/<lstm>/vars                          a layer (empty for an RNN: the cell has the weights)
///     layers/<lstm>/cell/vars/0..2                kernel, recurrent_kernel, bias
///     layers/<bidirectional>/forward_layer/cell/vars/*  and  .../backward_layer/cell/vars/*
///     layers/<rnn>/cell/cells/<lstm_cell>/vars/*   a cell of StackedRNNCells
///     layers/<time_distributed>/layer/vars/*       the layer a TimeDistributed wraps
///
/// In a list (`layers`, `cells`) an object's group is its class name in snake case, numbered from the
/// second of a class on (`dense`, `dense_1`, ...), in the order of Keras's `model.layers` — not the
/// layer's own name. A functional model's `layers` are ordered as Keras's graph mapping orders them
/// (`kerasLayerOrder`), InputLayers included; a Sequential's are its layers without the input.
/// Other top-level groups (`optimizer`, ...) are ignored on load and not written.
enum KerasWeightsFile {
    /// One object of the saving tree: its group path ("" for the model) and its own variables.
    struct Saveable {
        let path: String
        let layer: Layer
        let variables: [Variable]
        /// The group's `name` attribute when it is not the layer's (a `MultiHeadAttention`'s projections).
        var groupName: String? = nil
    }

    /// The saving tree of `root`, parents before children.
    static func saveables(of root: Layer) throws -> [Saveable] {
        var out: [Saveable] = []
        var visited = Set<ObjectIdentifier>()
        func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : "\(a)/\(b)" }
        func container(_ items: [Layer], at path: String) throws {
            var used: [String: Int] = [:]
            for item in items {
                var name = snakeCase(kerasClassName(item))
                if let n = used[name] {
                    used[name] = n + 1
                    name = "\(name)_\(n + 1)"
                } else {
                    used[name] = 0
                }
                try visit(item, join(path, name))
            }
        }
        func visit(_ layer: Layer, _ path: String) throws {
            guard visited.insert(ObjectIdentifier(layer)).inserted else { return }
            switch layer {
            case let model as Model:
                if let s = model as? Sequential, s.layerOutputShapes.count != s.stack.count {
                    throw RecurError.invalidArgument(op: model.name, message: "the model is not built: give it an input shape or call build(inputShape:) first")
                }
                out.append(Saveable(path: path, layer: layer, variables: []))
                try container(kerasLayerOrder(model), at: join(path, "layers"))
            case let bidirectional as Bidirectional:
                out.append(Saveable(path: path, layer: layer, variables: []))
                try visit(bidirectional.backwardLayer, join(path, "backward_layer"))
                try visit(bidirectional.forwardLayer, join(path, "forward_layer"))
            case let rnn as RNN:
                out.append(Saveable(path: path, layer: layer, variables: []))
                try visit(rnn.cell, join(path, "cell"))
            case let td as TimeDistributed:
                out.append(Saveable(path: path, layer: layer, variables: []))
                try visit(td.layer, join(path, "layer"))
            case let attention as MultiHeadAttention:
                out.append(Saveable(path: path, layer: layer, variables: []))
                for projection in attention.projections {
                    out.append(Saveable(path: join(path, projection.group), layer: layer, variables: projection.variables, groupName: projection.kerasName))
                }
            case let stacked as StackedRNNCells:
                out.append(Saveable(path: path, layer: layer, variables: []))
                try container(stacked.cells, at: join(path, "cells"))
            default:
                let needsBuild = layer.hasWeights
                if needsBuild && !layer.isBuilt {
                    throw RecurError.invalidArgument(op: layer.name, message: "the layer is not built (its weights do not exist yet): build the model first")
                }
                out.append(Saveable(path: path, layer: layer, variables: layer.variables))
            }
        }
        try visit(root, "")
        return out
    }

    /// The Python class name Keras would save `layer` under.
    static func kerasClassName(_ layer: Layer) -> String {
        layer is Model && !(layer is Sequential) ? "Functional" : layer.className
    }

    /// Keras's `model.layers` order, which its weight files follow: a Sequential's layers; a model read
    /// from a Keras file, that file's; one whose file holds mask ops, the order Keras computes from that
    /// file (`KerasLayerOrder`); else `graphLayerOrder`.
    static func kerasLayerOrder(_ model: Model) -> [Layer] {
        if let s = model as? Sequential { return s.stack }
        let computed = graphLayerOrder(model)
        // A model read from a Keras file keeps that file's order (Keras's own, mask ops counted).
        // One built in Swift whose masks Keras computes with ops: the order Keras computes from the file
        // Recur writes (KerasMaskOpWriter), as the ops make some layers deeper.
        var names = model.kerasFileLayerOrder
        if names == nil, hasMaskOps(model), let draft = try? KerasConfig.functionalConfig(of: model, order: computed) {
            names = KerasLayerOrder.names(functionalConfig: draft)
        }
        if let names, names.count == computed.count {
            let byName = Dictionary(computed.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            let ordered = names.compactMap { byName[$0] }
            if ordered.count == computed.count, Set(ordered.map(ObjectIdentifier.init)).count == computed.count { return ordered }
        }
        return computed
    }

    /// Whether a Keras file of `model` holds mask ops: a masked call of a layer whose Keras call takes a mask.
    static func hasMaskOps(_ model: Model) -> Bool {
        model.nodes.contains { KerasMaskOpWriter.recordedMaskInput(of: $0) != nil }
    }

    /// Keras's order (keras/src/ops/function.py `map_graph`) computed from Recur's graph, which has no
    /// mask ops: nodes found depth first from the outputs, each layer's depth being its longest distance
    /// to an output; layers sorted by decreasing depth, ties in order of discovery, model inputs not
    /// otherwise reached last.
    private static func graphLayerOrder(_ model: Model) -> [Layer] {
        let inputTensors = Set(model.inputs.map { ObjectIdentifier($0) })
        var finished = Set<ObjectIdentifier>()
        var decreasing: [GraphNode] = []
        var layerIndex: [ObjectIdentifier: Int] = [:]
        var layers: [ObjectIdentifier: Layer] = [:]
        func parents(_ node: GraphNode) -> [SymbolicTensor] { node.inputs + node.initialState }
        // Depth first from each output, iteratively: a layer is numbered when first reached, a node
        // is finished after all its parents.
        var stack: [(tensor: SymbolicTensor, expanded: Bool)] = model.outputs.reversed().map { ($0, false) }
        while let (t, expanded) = stack.popLast() {
            let node = t.node
            guard !finished.contains(ObjectIdentifier(node)) else { continue }
            if !expanded {
                let lid = ObjectIdentifier(node.layer)
                if layerIndex[lid] == nil { layerIndex[lid] = layerIndex.count; layers[lid] = node.layer }
                if !(node.layer is InputLayer) && !inputTensors.contains(ObjectIdentifier(t)) {
                    stack.append((t, true))
                    stack += parents(node).reversed().map { ($0, false) }
                    continue
                }
            }
            finished.insert(ObjectIdentifier(node))
            decreasing.append(node)
        }
        var nodeDepth: [ObjectIdentifier: Int] = [:]
        var layerDepth: [ObjectIdentifier: Int] = [:]
        for node in decreasing.reversed() {
            let nid = ObjectIdentifier(node), lid = ObjectIdentifier(node.layer)
            let depth = max(nodeDepth[nid] ?? 0, layerDepth[lid] ?? 0)
            layerDepth[lid] = depth
            nodeDepth[nid] = depth
            for p in parents(node) {
                let pid = ObjectIdentifier(p.node)
                nodeDepth[pid] = max(depth + 1, nodeDepth[pid] ?? 0)
            }
        }
        for t in model.inputs {
            let lid = ObjectIdentifier(t.node.layer)
            if layerDepth[lid] == nil {
                layerDepth[lid] = 0
                layerIndex[lid] = -1
                layers[lid] = t.node.layer
            }
        }
        return layerDepth.keys.sorted { a, b in
            let (da, db) = (layerDepth[a]!, layerDepth[b]!)
            return da != db ? da > db : layerIndex[a]! < layerIndex[b]!
        }.map { layers[$0]! }
    }

    /// The weights in the HDF5 file whose bytes are `image` for `root`'s saving tree, checked against
    /// every variable's shape; nothing is assigned. `label` names the file in errors. `alsoReading`, when
    /// given, reads more from the same open file once the weights have been read and checked (a
    /// `.keras` archive's optimizer state), so the file is decoded and probed once.
    static func read(for root: Layer, image: Data, label: String,
                     alsoReading: ((HDF5File) throws -> Void)? = nil) throws -> [(Variable, Tensor)] {
        let tree = try saveables(of: root)
        return try HDF5File.withLock {
            let file = try HDF5File.open(image: image, label: label)
            func fail(_ message: String) -> RecurError { .io(path: label, message: message) }
            var assignments: [(Variable, Tensor)] = []
            var expectedGroups = Set<String>()
            for item in tree {
                let group = item.path.isEmpty ? "vars" : "\(item.path)/vars"
                expectedGroups.insert(group)
                let what = "\(item.layer.name) (\(item.layer.className))"
                guard try file.kind(of: group) == .group else {
                    if item.variables.isEmpty { continue }
                    throw fail("no weights for layer \(what): group '\(group)' is missing (the file is for a different architecture?)")
                }
                let names = try file.memberNames(group)
                let expectedNames = Set(item.variables.indices.map(String.init))
                guard Set(names) == expectedNames else {
                    throw fail("layer \(what) has \(item.variables.count) weight(s) but '\(group)' holds \(names.count) (\(names.prefix(10).sorted().joined(separator: ", ")))")
                }
                for (i, v) in item.variables.enumerated() {
                    let t = try file.readTensor("\(group)/\(i)", expectedShape: v.shape, weight: "\(item.layer.name).\(v.name)")
                    assignments.append((v, t))
                }
            }
            // Weights the model has no place for mean the file is for another architecture.
            if try file.kind(of: "layers") == .group {
                for group in try file.allGroups(under: "layers") where group.hasSuffix("/vars") && !expectedGroups.contains(group) {
                    guard !(try file.memberNames(group)).isEmpty else { continue }
                    throw fail("weights at '\(group)' match no layer of \(root.name) (the file is for a different architecture?)")
                }
            }
            try alsoReading?(file)
            return assignments
        }
    }

    /// Loads the file at `path` into `root` atomically: every weight is read and checked before any is set.
    static func load(into root: Layer, path: String) throws {
        try load(into: root, image: RecurFileIO.read(path: path), label: path)
    }

    /// Loads the HDF5 bytes `image` into `root` atomically; `label` names them in errors. `alsoReading`:
    /// as in `read(for:image:label:alsoReading:)`.
    static func load(into root: Layer, image: Data, label: String, alsoReading: ((HDF5File) throws -> Void)? = nil) throws {
        let assignments = try read(for: root, image: image, label: label, alsoReading: alsoReading)
        for (v, t) in assignments { v.value = t }
    }

    /// `root`'s weights in Keras 3's layout, as the bytes of an HDF5 file (built in memory); with
    /// `optimizer`, a trained model's optimizer state too (`KerasOptimizerState`).
    static func image(of root: Layer, label: String, optimizer: Bool = false) throws -> Data {
        let tree = try saveables(of: root)
        return try HDF5File.withLock {
            let file = try HDF5File.createInMemory(label: label)
            var groups: Set<String> = [""]
            func ensure(_ group: String) throws {
                guard !groups.contains(group) else { return }
                if let slash = group.lastIndex(of: "/") { try ensure(String(group[..<slash])) }
                try file.createGroup(group)
                groups.insert(group)
            }
            for item in tree {
                let group = item.path.isEmpty ? "vars" : "\(item.path)/vars"
                try ensure(group)
                try file.setStringAttribute("name", item.groupName ?? item.layer.name, on: group)
                for (i, v) in item.variables.enumerated() {
                    try file.writeTensor(v.value, at: "\(group)/\(i)")
                }
            }
            if optimizer, let model = root as? Model { try KerasOptimizerState.write(model, into: file) }
            let bytes = try file.image()
            try file.close()
            return bytes
        }
    }
}

extension Model {
    /// Loads a Keras 3 `.weights.h5` file (from `model.save_weights`) into this model, which must have
    /// the same architecture and be built. Every weight is read and checked before any is changed.
    public func loadKerasWeights(from path: String) throws {
        try KerasWeightsFile.load(into: self, path: path)
    }

    /// Saves the weights as a Keras 3 `.weights.h5` file that `model.load_weights` accepts for the
    /// same architecture. Written atomically.
    public func saveKerasWeights(to path: String) throws {
        guard path.hasSuffix(".weights.h5") else {
            throw RecurError.unsupported(errorSubject, "saveKerasWeights: file name \(path) (Keras 3 requires the suffix .weights.h5)")
        }
        try RecurFileIO.writeAtomically(KerasWeightsFile.image(of: self, label: path), path: path)
    }
}
