/// A functional model (`keras.Model(inputs, outputs)`): a graph of layer calls from symbolic inputs to
/// symbolic outputs, with any number of each. It is itself a layer, so models nest.
open class Model: Layer {
    /// The symbolic inputs and outputs (empty for a `Sequential` until it is built).
    public internal(set) var inputs: [SymbolicTensor] = []
    public internal(set) var outputs: [SymbolicTensor] = []
    /// Layer calls in execution order.
    var nodes: [GraphNode] = []
    /// The layers' names in the order of the Keras file the model was read from (Keras's `model.layers`,
    /// which its weight files follow); nil for a model built in Swift.
    var kerasFileLayerOrder: [String]?
    /// The mask ops of the Keras file the model was read from, in the file's order: Keras names them
    /// with counters of the session that built the model (`not_equal_1`), which its summary shows.
    var kerasFileMaskOps: [FileMaskOp]?
    /// Training configuration and state, set by `compile`.
    public internal(set) var compiled: CompiledState?
    /// Set by callbacks (EarlyStopping, TerminateOnNaN) to end `fit` after the current batch.
    public var stopTraining = false

    /// A functional model from `Input`s to the tensors computed from them.
    public init(inputs: [SymbolicTensor], outputs: [SymbolicTensor], name: String? = nil) throws {
        super.init(name: name ?? LayerNameRegistry.current.uniqueName("functional"))
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = try Model.orderNodes(inputs: inputs, outputs: outputs, model: self.name)
    }

    /// Keras's `Model(inputs, outputs)` without labels.
    public convenience init(_ inputs: [SymbolicTensor], _ outputs: [SymbolicTensor], name: String? = nil) throws {
        try self.init(inputs: inputs, outputs: outputs, name: name)
    }

    public convenience init(_ inputs: SymbolicTensor, _ outputs: SymbolicTensor, name: String? = nil) throws {
        try self.init(inputs: [inputs], outputs: [outputs], name: name)
    }

    public convenience init(_ inputs: [SymbolicTensor], _ outputs: SymbolicTensor, name: String? = nil) throws {
        try self.init(inputs: inputs, outputs: [outputs], name: name)
    }

    public convenience init(inputs: SymbolicTensor, outputs: SymbolicTensor, name: String? = nil) throws {
        try self.init(inputs: [inputs], outputs: [outputs], name: name)
    }

    public convenience init(inputs: [SymbolicTensor], outputs: SymbolicTensor, name: String? = nil) throws {
        try self.init(inputs: inputs, outputs: [outputs], name: name)
    }

    /// For subclasses that run their layers themselves (`Sequential`).
    init(subclassName name: String?, base: String) {
        super.init(name: name ?? LayerNameRegistry.current.uniqueName(base))
    }

    open override var className: String { "Functional" }

    /// The layer that computes output `k` (errors about that output name it).
    open func outputLayer(_ k: Int) -> Layer? { outputs.indices.contains(k) ? outputs[k].node.layer : nil }

    /// Throws when the model cannot run as built (a `Sequential` whose layers do not fit together).
    open func validate() throws {}

    /// The layers in execution order, each once (inputs included), as Keras's `model.layers`.
    open var layers: [Layer] {
        var seen = Set<ObjectIdentifier>()
        return nodes.map(\.layer).filter { seen.insert(ObjectIdentifier($0)).inserted }
    }

    open override var variables: [Variable] { layers.flatMap(\.variables) }
    open override var sublayers: [Layer] { layers }

    /// Orders the graph's nodes by depth from the inputs (ties in creation order) and checks that every
    /// output is computed from the given inputs only. Iterative: a chain of any length is fine.
    static func orderNodes(inputs: [SymbolicTensor], outputs: [SymbolicTensor], model: String) throws -> [GraphNode] {
        var depth: [ObjectIdentifier: Int] = [:]
        var order: [GraphNode] = []
        let inputNodes = Set(inputs.map { ObjectIdentifier($0.node) })
        func parents(_ node: GraphNode) -> [SymbolicTensor] {
            node.layer is InputLayer ? [] : node.inputs + node.initialState
        }
        // Depth-first post-order with an explicit stack: a node is finished once all its parents are.
        var stack: [(node: GraphNode, expanded: Bool)] = (inputs + outputs).reversed().map { ($0.node, false) }
        while let (node, expanded) = stack.popLast() {
            let id = ObjectIdentifier(node)
            if depth[id] != nil { continue }
            if node.layer is InputLayer, !inputNodes.contains(id) {
                throw RecurError.invalidArgument(op: model, message: "output depends on input \(node.layer.name), which is not among the model's inputs")
            }
            let ps = parents(node)
            if expanded || ps.allSatisfy({ depth[ObjectIdentifier($0.node)] != nil }) {
                depth[id] = ps.map { depth[ObjectIdentifier($0.node)]! + 1 }.max() ?? 0
                order.append(node)
            } else {
                stack.append((node, true))
                for t in ps.reversed() where depth[ObjectIdentifier(t.node)] == nil { stack.append((t.node, false)) }
            }
        }
        return order.sorted { a, b in
            let (da, db) = (depth[ObjectIdentifier(a)]!, depth[ObjectIdentifier(b)]!)
            return da != db ? da < db : a.serial < b.serial
        }
    }

    /// Releases the graph from the outputs back to the inputs, so that freeing a long chain of layer
    /// calls does not recurse once per call.
    deinit {
        outputs = []
        while !nodes.isEmpty { nodes.removeLast() }
    }

    /// Each layer's calls within this model, in call order (a shared layer has several).
    var callsByLayer: [ObjectIdentifier: [GraphNode]] {
        var calls: [ObjectIdentifier: [GraphNode]] = [:]
        for node in nodes { calls[ObjectIdentifier(node.layer), default: []].append(node) }
        return calls.mapValues { $0.sorted { $0.callIndex < $1.callIndex } }
    }

    /// The model's input shapes, batch first.
    open var inputShapes: [[Int?]] { inputs.map(\.shape) }
    /// The model's output shapes, batch first.
    open var outputShapes: [[Int?]] { outputs.map(\.shape) }
    /// The names Keras logs per output (`<layer>` or `<layer>_<k>` when a layer has several outputs).
    open var outputNames: [String] {
        outputs.map { t in t.node.outputShapes.count > 1 && t.index > 0 ? "\(t.node.layer.name)_\(t.index)" : t.node.layer.name }
    }

    /// Runs the model on concrete inputs (one per model input) and returns every output.
    public func forward(_ values: [Tensor], training: Bool) throws -> [Tensor] {
        try forwardWithMasks(values, training: training).outputs
    }

    /// Runs the model and returns every output with the mask that came with it (e.g. from
    /// `Embedding(maskZero: true)` through recurrent layers with `returnSequences`).
    open func forwardWithMasks(_ values: [Tensor], training: Bool) throws -> (outputs: [Tensor], masks: [Tensor?]) {
        guard values.count == inputs.count else {
            throw RecurError.invalidArgument(op: name, message: "expected \(inputs.count) input(s), got \(values.count)")
        }
        var computed: [ObjectIdentifier: (tensors: [Tensor], mask: Tensor?)] = [:]
        for (symbol, value) in zip(inputs, values) {
            let expected = symbol.shape
            guard let fitted = try value.fittingModelInput(expected) else {
                throw RecurError.shapeMismatch(errorSubject, what: "input '\(symbol.node.layer.name)'", expected: expected, actual: value.shape.map(Optional.some))
            }
            let converted = try (symbol.node.layer as? InputLayer)?.dtype.convert(fitted) ?? fitted
            computed[ObjectIdentifier(symbol.node)] = ([converted], nil)
        }
        func value(_ t: SymbolicTensor) -> Tensor { computed[ObjectIdentifier(t.node)]!.tensors[t.index] }
        // Keras's MultiHeadAttention clears the mask of its query, value and key tensors in place when
        // it runs, so the layers that run after it see those tensors unmasked, unless the mask reaches
        // them as a call argument Keras recorded (a recurrent layer on one masked input, ...): a merge
        // with the query then passes on no mask, nor does the loss count one.
        struct TensorKey: Hashable { let node: ObjectIdentifier, index: Int }
        func key(_ t: SymbolicTensor) -> TensorKey { TensorKey(node: ObjectIdentifier(t.node), index: t.index) }
        var maskCleared = Set<TensorKey>()
        func runtimeMask(_ t: SymbolicTensor) -> Tensor? {
            guard t.node.layer.passesMask(toOutput: t.index), !maskCleared.contains(key(t)) else { return nil }
            return computed[ObjectIdentifier(t.node)]!.mask
        }
        for node in nodes where !(node.layer is InputLayer) {
            // As Keras, a propagated mask reaches a layer called on one tensor argument only: a call
            // with an initial state gets none.
            let first = node.inputs[0]
            let recorded = maskCleared.contains(key(first)) && KerasMaskOpWriter.recordedMaskInput(of: node) != nil
            let firstMask = recorded ? computed[ObjectIdentifier(first.node)]!.mask : runtimeMask(first)
            let mask = node.initialState.isEmpty ? firstMask : nil
            // Merge layers see the mask of each of their inputs (Keras keeps a mask on every tensor).
            let masks = node.inputs.map(runtimeMask)
            let result = try node.layer.run(LayerInput(node.inputs.map(value), initialState: node.initialState.map(value),
                                                       mask: mask, masks: node.initialState.isEmpty ? masks : nil, training: training))
            // Keras still marks such a call's output with the mask of its first input, as the layer
            // would pass it on (`compute_mask`): the layers after it, and the loss, use that mask.
            let outputMask = node.initialState.isEmpty ? result.mask : (node.layer.supportsMasking ? firstMask : nil)
            computed[ObjectIdentifier(node)] = (result.tensors, outputMask)
            if node.layer is MultiHeadAttention {
                for t in node.inputs { maskCleared.insert(key(t)) }
            }
        }
        let masks = outputs.map(runtimeMask)
        return (outputs.map(value), masks)
    }

    open override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        outputShapes
    }

    open override func call(_ input: LayerInput) throws -> LayerOutput {
        LayerOutput(try forward(input.tensors, training: input.training))
    }

    /// Keras's `predict_on_batch`: one forward pass in inference mode.
    public func predictOnBatch(_ x: [Tensor]) throws -> [Tensor] {
        try GradientRecording.disabled { try inferenceForward(x).outputs }
    }

    public func predictOnBatch(_ x: Tensor) throws -> Tensor {
        try predictOnBatch([x])[0]
    }
}
