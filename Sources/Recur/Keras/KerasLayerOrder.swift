/// Keras's `model.layers` order computed from a functional `config.json` as Keras loads it
/// (keras/src/ops/function.py `map_graph`), over every operation in it — the mask ops included, which
/// make some layers deeper than Recur's own graph says. A model built in Swift whose file holds mask
/// ops (`KerasMaskOpWriter`) is ordered this way, so that its weight files follow the order Keras
/// will compute when it reads them.
///
/// Nodes are found depth first from the outputs, each node's inputs in Keras's order (positional
/// arguments, then keyword arguments by sorted key); an operation is numbered when first reached.
/// A node's depth is its longest distance to an output, an operation's the largest of its nodes';
/// operations come by decreasing depth, ties in numbering order, unused inputs last.
enum KerasLayerOrder {
    /// One call of an operation: its entry's name and the call's index.
    private struct NodeKey: Hashable { let name: String; let index: Int }

    /// A Keras tensor an inbound node refers to: its producer's name, the producer's call and output
    /// index, and its shape.
    struct TensorReference {
        var producer: String
        let call: Int
        let index: Int
        let shape: [Int?]?

        /// As Keras's summary lists it: `producer[call][index]`.
        var description: String { "\(producer)[\(call)][\(index)]" }
    }

    /// The Keras tensors `value` (a node's `args` or `kwargs`) refers to, in Keras's order: lists in
    /// order, objects by sorted key (`tree.flatten`).
    static func tensorReferences(in value: JSONValue) -> [TensorReference] {
        var found: [TensorReference] = []
        func collect(_ value: JSONValue, _ depth: Int) {
            guard depth < UntrustedLimits.maxNestingDepth else { return }
            if value["class_name"]?.string == "__keras_tensor__", let history = value["config"]?["keras_history"]?.array,
               let producer = history.first?.string, let call = history.count > 1 ? history[1].int : 0,
               let index = history.count > 2 ? history[2].int : 0 {
                let shape = value["config"]?["shape"]?.array.map { $0.map(\.int) }
                found.append(TensorReference(producer: producer, call: call, index: index, shape: shape))
            } else if let list = value.array {
                list.forEach { collect($0, depth + 1) }
            } else if let object = value.object {
                for key in object.keys.sorted() { collect(object[key]!, depth + 1) }
            }
        }
        collect(value, 0)
        return found
    }

    /// The Keras tensors each call of `entry` takes, call by call: positional arguments, then keyword
    /// arguments by sorted key.
    static func callInputs(of entry: JSONValue) -> [[TensorReference]] {
        (entry["inbound_nodes"]?.array ?? []).map { tensorReferences(in: .array([$0["args"] ?? .array([]), $0["kwargs"] ?? .object([:])])) }
    }

    /// The names of the config's non-op entries (InputLayers included; with `includingOps`, the mask
    /// ops too) in Keras's order; nil when the config is not a graph this can order (a reference to a
    /// missing call, a cycle).
    static func names(functionalConfig config: JSONValue, includingOps: Bool = false) -> [String]? {
        guard let entries = config["config"]?["layers"]?.array else { return nil }
        var inputsOf: [NodeKey: [NodeKey]] = [:]
        var isOp: [String: Bool] = [:], isInput: [String: Bool] = [:]
        for entry in entries {
            guard let name = KerasConfig.entryName(entry) else { return nil }
            isOp[name] = KerasMaskGraph.isMaskOp(entry)
            isInput[name] = entry["class_name"]?.string == "InputLayer"
            for (index, references) in callInputs(of: entry).enumerated() {
                inputsOf[NodeKey(name: name, index: index)] = references.map { NodeKey(name: $0.producer, index: $0.call) }
            }
        }
        /// The [name, call, index] triples of `input_layers` / `output_layers`, in order, however nested.
        func endpoints(_ key: String) -> [NodeKey]? {
            guard let value = config["config"]?[key] else { return nil }
            var out: [NodeKey] = []
            func walk(_ v: JSONValue, _ depth: Int) -> Bool {
                guard depth < UntrustedLimits.maxNestingDepth, let list = v.array ?? KerasConfig.valuesByKey(v) else { return false }
                if let name = list.first?.string {
                    guard let call = list.count > 1 ? list[1].int : 0 else { return false }
                    out.append(NodeKey(name: name, index: call))
                    return true
                }
                return list.allSatisfy { walk($0, depth + 1) }
            }
            return walk(value, 0) ? out : nil
        }
        guard let outputs = endpoints("output_layers"), let inputs = endpoints("input_layers") else { return nil }
        // Depth first from the outputs (iteratively): numbered when reached, finished after its inputs.
        var finished = Set<NodeKey>(), inProgress = Set<NodeKey>(), decreasing: [NodeKey] = []
        var number: [String: Int] = [:]
        var stack: [(node: NodeKey, expanded: Bool)] = outputs.reversed().map { ($0, false) }
        while let (node, expanded) = stack.popLast() {
            if expanded {
                inProgress.remove(node)
                finished.insert(node)
                decreasing.append(node)
                continue
            }
            guard !finished.contains(node) else { continue }
            guard !inProgress.contains(node), isOp[node.name] != nil else { return nil }
            if number[node.name] == nil { number[node.name] = number.count }
            inProgress.insert(node)
            stack.append((node, true))
            if isInput[node.name] != true {
                guard let parents = inputsOf[node] else { return nil }
                stack += parents.reversed().map { ($0, false) }
            }
        }
        let inGraph = Set(decreasing)
        var nodeDepth: [NodeKey: Int] = [:], depth: [String: Int] = [:]
        for node in decreasing.reversed() {
            let d = max(nodeDepth[node] ?? 0, depth[node.name] ?? 0)
            depth[node.name] = d
            nodeDepth[node] = d
            for parent in inputsOf[node] ?? [] where inGraph.contains(parent) { nodeDepth[parent] = max(d + 1, nodeDepth[parent] ?? 0) }
        }
        for input in inputs where depth[input.name] == nil && isInput[input.name] == true {
            depth[input.name] = 0
            number[input.name] = -1
        }
        return depth.keys.filter { includingOps || isOp[$0] == false }.sorted { a, b in
            depth[a]! != depth[b]! ? depth[a]! > depth[b]! : number[a]! < number[b]!
        }
    }
}
