import Foundation

/// A placeholder for a tensor in a functional model (Keras's `KerasTensor`): its shape, with `nil`
/// for unknown dimensions (the batch, often the time), and the layer call that produces it.
public final class SymbolicTensor {
    public let shape: [Int?]
    /// The layer call that produces this tensor.
    let node: GraphNode
    /// Which of the node's outputs this is.
    let index: Int

    init(shape: [Int?], node: GraphNode, index: Int) {
        self.shape = shape
        self.node = node
        self.index = index
    }
}

/// One call of a layer in a functional graph: the layer, the tensors it was called on, and its outputs' shapes.
final class GraphNode {
    let layer: Layer
    let inputs: [SymbolicTensor]
    let initialState: [SymbolicTensor]
    let outputShapes: [[Int?]]
    /// Which call of `layer` this is (the `[node]` in Keras's "Connected to" column).
    let callIndex: Int
    /// Creation order, which breaks ties between nodes of equal depth (as Keras orders layers).
    let serial: Int
    nonisolated(unsafe) private static var nextSerial = 0

    init(layer: Layer, inputs: [SymbolicTensor], initialState: [SymbolicTensor], outputShapes: [[Int?]], callIndex: Int) {
        self.layer = layer
        self.inputs = inputs
        self.initialState = initialState
        self.outputShapes = outputShapes
        self.callIndex = callIndex
        self.serial = GraphNode.takeSerial()
    }

    private static let serialLock = NSLock()
    private static func takeSerial() -> Int {
        serialLock.lock()
        defer { serialLock.unlock() }
        nextSerial += 1
        return nextSerial
    }

}

/// The layer behind `Input(shape:)`: it has no weights and passes its input through.
public final class InputLayer: Layer {
    public let shape: [Int?]
    public let batchSize: Int?
    /// The declared element type; values are converted to it as Keras converts them.
    public let dtype: InputDType

    init(shape: [Int?], batchSize: Int?, dtype: InputDType, name: String?) {
        self.shape = shape
        self.batchSize = batchSize
        self.dtype = dtype
        super.init(name: name)
    }

    public override var className: String { "InputLayer" }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        LayerOutput(try input.tensors.map { try dtype.convert($0) }, mask: input.mask)
    }

    public override var hasWeights: Bool { false }
}

/// `Input(shape:)`: the entry point of a functional model; `shape` excludes the batch dimension.
public func Input(shape: [Int?], batchSize: Int? = nil, dtype: InputDType = .float32, name: String? = nil) -> SymbolicTensor {
    let layer = InputLayer(shape: shape, batchSize: batchSize, dtype: dtype, name: name)
    let full = [batchSize] + shape
    let node = GraphNode(layer: layer, inputs: [], initialState: [], outputShapes: [full], callIndex: 0)
    layer.callCount = 1
    return SymbolicTensor(shape: full, node: node, index: 0)
}

extension Layer {
    /// Calls the layer on symbolic tensors: builds it from their shapes, infers (and checks) the output
    /// shapes and records the call in the graph. Returns every output.
    public func outputs(_ inputs: [SymbolicTensor], initialState: [SymbolicTensor] = []) throws -> [SymbolicTensor] {
        guard !inputs.isEmpty else {
            throw RecurError.invalidArgument(errorSubject, "called on no inputs")
        }
        let shapes = inputs.map(\.shape)
        try buildIfNeeded(inputShapes: shapes)
        let outShapes = try outputShapes(inputShapes: shapes, initialStateShapes: initialState.map(\.shape))
        let node = GraphNode(layer: self, inputs: inputs, initialState: initialState, outputShapes: outShapes, callIndex: callCount)
        callCount += 1
        return outShapes.enumerated().map { SymbolicTensor(shape: $0.element, node: node, index: $0.offset) }
    }

    public func outputs(_ x: SymbolicTensor, initialState: [SymbolicTensor] = []) throws -> [SymbolicTensor] {
        try outputs([x], initialState: initialState)
    }

    /// Keras's `layer([a, b])` on symbolic tensors (merge layers): the single output.
    public func callAsFunction(_ inputs: [SymbolicTensor]) throws -> SymbolicTensor {
        try single(outputs(inputs))
    }

    /// Calls the layer on one symbolic tensor and returns its single output (throws if it has several).
    public func callAsFunction(_ x: SymbolicTensor, initialState: [SymbolicTensor] = []) throws -> SymbolicTensor {
        let outs = try outputs([x], initialState: initialState)
        guard outs.count == 1 else {
            throw RecurError.invalidArgument(errorSubject, "returns \(outs.count) tensors; call outputs(_:) to get all of them")
        }
        return outs[0]
    }
}
