/// How `Bidirectional` combines the forward and backward outputs.
public enum MergeMode: String, Sendable {
    case concat, sum, mul, ave
}

/// `Bidirectional(layer, mergeMode:)`: runs `layer` forward in time and a copy of it backward, then merges
/// the two outputs (the backward sequence is first flipped back into forward time order). With
/// `mergeMode: nil` both outputs are returned. With `returnState` the forward states follow the
/// output(s), then the backward states; an `initialState` is split the same way, half to each direction.
/// With a mask and `returnSequences`, masked steps output zeros in both directions (Keras's rule).
public final class Bidirectional: Layer {
    public let forwardLayer: RNN
    public let backwardLayer: RNN
    public let mergeMode: MergeMode?

    public init(_ layer: RNN, mergeMode: MergeMode? = .concat, backwardLayer: RNN? = nil,
                inputShape: [Int?]? = nil, name: String? = nil) throws {
        self.forwardLayer = layer
        self.mergeMode = mergeMode
        let backward = try backwardLayer ?? layer.makeReversedCopy(name: "backward_\(layer.name)")
        guard backward.goBackwards != layer.goBackwards else {
            throw RecurError.invalidArgument(op: "Bidirectional", message: "backwardLayer must run in the opposite direction of \(layer.name) (set goBackwards)")
        }
        guard backward.returnSequences == layer.returnSequences, backward.returnState == layer.returnState else {
            throw RecurError.invalidArgument(op: "Bidirectional", message: "forward and backward layers must agree on returnSequences and returnState")
        }
        self.backwardLayer = backward
        // As Keras: with sequences returned, masked steps of both halves output zeros.
        layer.zeroOutputForMask = layer.returnSequences
        backward.zeroOutputForMask = backward.returnSequences
        super.init(name: name)
        declaredInputShape = inputShape ?? layer.declaredInputShape
    }

    public override var className: String { "Bidirectional" }
    public override var variables: [Variable] { forwardLayer.variables + backwardLayer.variables }
    public override var sublayers: [Layer] { [forwardLayer, backwardLayer] }

    public override func build(inputShapes: [[Int?]]) throws {
        try forwardLayer.buildIfNeeded(inputShapes: inputShapes)
        try backwardLayer.buildIfNeeded(inputShapes: inputShapes)
    }

    private var stateCount: Int { forwardLayer.cell.stateShapes.count }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let (fwInit, bwInit) = try splitStates(initialStateShapes)
        let fw = try forwardLayer.outputShapes(inputShapes: inputShapes, initialStateShapes: fwInit)
        let bw = try backwardLayer.outputShapes(inputShapes: inputShapes, initialStateShapes: bwInit)
        let outCount = fw.count - (forwardLayer.returnState ? stateCount : 0)
        var merged: [[Int?]]
        if let mergeMode {
            merged = (0..<outCount).map { k in
                var s = fw[k]
                if mergeMode == .concat, let a = s.last!, let b = bw[k].last! { s[s.count - 1] = a + b }
                else if mergeMode == .concat { s[s.count - 1] = nil }
                return s
            }
        } else {
            merged = Array(fw.prefix(outCount)) + Array(bw.prefix(outCount))
        }
        if forwardLayer.returnState { merged += fw.suffix(stateCount) + bw.suffix(stateCount) }
        return merged
    }

    private func splitStates<T>(_ states: [T]) throws -> ([T], [T]) {
        guard !states.isEmpty else { return ([], []) }
        guard states.count == 2 * stateCount else {
            throw RecurError.invalidArgument(op: name, message: "expected \(2 * stateCount) initial state tensors (forward then backward), got \(states.count)")
        }
        return (Array(states.prefix(stateCount)), Array(states.suffix(stateCount)))
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let (fwInit, bwInit) = try splitStates(input.initialState)
        let fw = try forwardLayer.run(LayerInput(input.tensors, initialState: fwInit, mask: input.mask, training: input.training)).tensors
        let bw = try backwardLayer.run(LayerInput(input.tensors, initialState: bwInit, mask: input.mask, training: input.training)).tensors
        let outCount = fw.count - (forwardLayer.returnState ? stateCount : 0)
        var outputs: [Tensor] = []
        var bwOutputs = Array(bw.prefix(outCount))
        if forwardLayer.returnSequences {
            bwOutputs = try bwOutputs.map { try $0.reversed(alongAxis: 1) }
        }
        if let mergeMode {
            for k in 0..<outCount {
                let a = fw[k], b = bwOutputs[k]
                switch mergeMode {
                case .concat: outputs.append(try Tensor.concatenate([a, b], alongAxis: -1))
                case .sum: outputs.append(try a + b)
                case .mul: outputs.append(try a * b)
                case .ave: outputs.append(try (a + b) * 0.5)
                }
            }
        } else {
            outputs = Array(fw.prefix(outCount)) + bwOutputs
        }
        if forwardLayer.returnState { outputs += fw.suffix(stateCount) + bw.suffix(stateCount) }
        return LayerOutput(outputs, mask: forwardLayer.returnSequences ? input.mask : nil)
    }
}
