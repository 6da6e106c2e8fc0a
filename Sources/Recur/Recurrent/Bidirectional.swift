/// How `Bidirectional` combines the forward and backward outputs.
public enum MergeMode: String, Sendable {
    case concat, sum, mul, ave
}

/// `Bidirectional(layer, mergeMode:)`: runs a copy of `layer` forward in time and a copy reading
/// backward, then merges the two outputs (the backward sequence is first flipped back into forward time
/// order). As in Keras, both halves are new layers built from `layer`'s configuration (named
/// `forward_…` and `backward_…`, fresh weights); `layer` itself is left as it is. A layer whose cell
/// Keras configs cannot hold (a cell of your own that is not registered) is used itself as the forward
/// half, and then `backwardLayer` must be given. With `mergeMode: nil` both outputs are returned. With
/// `returnState` the forward states follow the output(s), then the backward states; an `initialState`
/// is split the same way, half to each direction. With a mask and `returnSequences`, masked steps
/// output zeros in both directions (Keras's rule).
public final class Bidirectional: Layer {
    public let forwardLayer: RNN
    public let backwardLayer: RNN
    public let mergeMode: MergeMode?

    /// Why the two halves cannot work together, thrown where the layer is built.
    private let configurationError: Error?

    public init(_ layer: RNN, mergeMode: MergeMode? = .concat, backwardLayer: RNN? = nil,
                inputShape: [Int?]? = nil, name: String? = nil) {
        let stem = layer.name.hasPrefix("forward_") ? String(layer.name.dropFirst("forward_".count)) : layer.name
        var problem: Error?
        func half(_ layer: RNN, _ changes: [String: JSONValue], reuse: Bool) -> RNN {
            do { return try Bidirectional.half(layer, changes: changes, reuse: reuse) } catch {
                problem = problem ?? error
                return layer
            }
        }
        let forward = half(layer, ["name": .string("forward_\(stem)")], reuse: false)
        let backward = backwardLayer.map { half($0, [:], reuse: true) }
            ?? half(layer, ["name": .string("backward_\(stem)"), "go_backwards": .bool(!layer.goBackwards)], reuse: false)
        if problem == nil, backward.goBackwards == forward.goBackwards {
            problem = RecurError.invalidArgument(op: "Bidirectional", message: "backwardLayer must run in the opposite direction of \(layer.name) (set goBackwards)")
        } else if problem == nil, backward.returnSequences != forward.returnSequences || backward.returnState != forward.returnState {
            problem = RecurError.invalidArgument(op: "Bidirectional", message: "forward and backward layers must agree on returnSequences and returnState")
        }
        self.forwardLayer = forward
        self.backwardLayer = backward
        self.mergeMode = mergeMode
        self.configurationError = problem
        super.init(name: name)
        declaredInputShape = inputShape ?? layer.declaredInputShape
    }

    /// One half: a copy of `layer` with `changes` (fresh weights) that outputs zeros at masked steps
    /// when it returns sequences, as Keras makes its halves; `layer` itself when `reuse` is set and it
    /// already does. A layer whose cell Keras configs cannot hold is used as it is, if it can be.
    private static func half(_ layer: RNN, changes: [String: JSONValue], reuse: Bool) throws -> RNN {
        let zeroesMaskedSteps = layer.zeroOutputForMask == layer.returnSequences
        if reuse && zeroesMaskedSteps { return layer }
        guard (try? KerasLayerRegistry.entry(of: layer.cell)) != nil else {
            guard zeroesMaskedSteps, changes["go_backwards"] == nil else {
                throw RecurError.unsupported(op: "Bidirectional", message: "cannot copy \(layer.name): its cell \(layer.cell.className) is not "
                                             + "registered with KerasLayerRegistry; pass forward and backward layers built with "
                                             + "zeroOutputForMask: \(layer.returnSequences) (and goBackwards for the backward one)")
            }
            return layer
        }
        return try layer.configuredCopy(changes: changes.merging(["zero_output_for_mask": .bool(layer.returnSequences)]) { $1 })
    }

    public override var supportsMasking: Bool { forwardLayer.returnSequences }
    public override func passesMask(toOutput index: Int) -> Bool {
        index == 0 || index == 1 && mergeMode == nil && forwardLayer.returnSequences
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["merge_mode": mergeMode.map { .string($0.rawValue) } ?? .null,
         "layer": try KerasLayerRegistry.entry(of: forwardLayer), "backward_layer": try KerasLayerRegistry.entry(of: backwardLayer)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        guard let rnn = try a.layer("layer") as? RNN else {
            throw RecurError.unsupported(op: a.layer, message: "wrapped layer must be SimpleRNN, GRU, LSTM or RNN")
        }
        var mergeMode: MergeMode? = .concat
        if let m = a.value("merge_mode") {
            if m.isNull { mergeMode = nil }
            else if let s = m.string, let mode = MergeMode(rawValue: s) { mergeMode = mode }
            else { throw RecurError.unsupported(op: a.layer, message: "merge_mode \(KerasConfig.compactJSON(m))") }
        }
        var backward: RNN?
        if let spec = a.value("backward_layer"), !spec.isNull {
            guard let b = try a.layer("backward_layer") as? RNN else {
                throw RecurError.unsupported(op: a.layer, message: "backward_layer must be a recurrent layer")
            }
            backward = b
        }
        let layer = Bidirectional(rnn, mergeMode: mergeMode, backwardLayer: backward, inputShape: try a.inputShape()?.shape, name: a.name)
        if let error = layer.configurationError { throw error }
        return layer
    }

    public override var className: String { "Bidirectional" }
    public override var variables: [Variable] { forwardLayer.variables + backwardLayer.variables }
    public override var sublayers: [Layer] { [forwardLayer, backwardLayer] }

    public override func build(inputShapes: [[Int?]]) throws {
        if let configurationError { throw configurationError }
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
            throw RecurError.invalidArgument(errorSubject, "expected \(2 * stateCount) initial state tensors (forward then backward), got \(states.count)")
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
