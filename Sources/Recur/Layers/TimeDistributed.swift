/// `TimeDistributed(layer)`: applies `layer` to every step of a sequence with the same weights:
/// x (batch, time, d...) → y (batch, time, e...) with y[:, t] = layer(x[:, t]) for a layer that maps
/// (batch, d...) → (batch, e...) (Dense, Dropout, ActivationLayer, LayerNormalization, ...).
/// The steps run as one batch of batch·time rows, except for BatchNormalization, which (as in Keras)
/// runs step by step so that training normalises each step's batch with its own statistics and moves
/// the moving statistics once per step. The weights are the wrapped layer's (saved under
/// `<time_distributed>/layer` in Keras files). Passes the mask through, as Keras.
public final class TimeDistributed: Layer {
    public let layer: Layer

    public init(_ layer: Layer, name: String? = nil) {
        self.layer = layer
        super.init(name: name)
    }

    public override var variables: [Variable] { layer.variables }
    public override var sublayers: [Layer] { [layer] }

    var label: RecurError.Subject { errorSubject }

    /// (batch, d...) from (batch, time, d...).
    func childShape(_ shape: [Int?]) throws -> [Int?] {
        guard shape.count >= 3 else {
            throw RecurError.shapeMismatch(label, expected: "an input of rank ≥ 3 (batch, time, features...)", actual: describeShape(shape))
        }
        return [shape[0]] + shape.dropFirst(2)
    }

    public override func build(inputShapes: [[Int?]]) throws {
        try layer.buildIfNeeded(inputShapes: [try childShape(inputShapes[0])])
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let child = try layer.outputShapes(inputShapes: [try childShape(inputShapes[0])], initialStateShapes: [])
        guard child.count == 1, let first = child[0].first else {
            throw RecurError.invalidArgument(label, "the wrapped layer \(layer.name) must return one tensor with a batch axis")
        }
        return [[first, inputShapes[0][1]] + child[0].dropFirst()]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let x = input.tensors[0]
        let (batch, time) = (x.shape[0], x.shape.count > 1 ? x.shape[1] : 0)
        _ = try childShape(x.shape.map(Optional.some))
        if layer.mixesBatchSamples {
            let steps = try (0..<time).map { t in
                try layer.run(LayerInput([try x.select(alongAxis: 1, index: t)], training: input.training)).tensors[0]
            }
            return LayerOutput([try Tensor.stack(steps, alongAxis: 1)], mask: input.mask)
        }
        let rows = try x.reshaped(to: [batch * time] + x.shape.dropFirst(2))
        let out = try layer.run(LayerInput([rows], training: input.training))
        guard out.tensors.count == 1 else {
            throw RecurError.invalidArgument(label, "the wrapped layer \(layer.name) must return one tensor")
        }
        let y = out.tensors[0]
        return LayerOutput([try y.reshaped(to: [batch, time] + y.shape.dropFirst())], mask: input.mask)
    }

    public override var supportsMasking: Bool { true }

    public override func kerasConfig() throws -> [String: JSONValue] { ["layer": try KerasLayerRegistry.entry(of: layer)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        TimeDistributed(try a.layer("layer"), name: a.name)
    }
}
