/// `Sequential`: a plain stack of single-input, single-output layers.
///
///     let model = Sequential {
///         Embedding(inputDim: 1000, outputDim: 64)
///         Bidirectional(LSTM(128))
///         Dense(10)
///     }
///     // or: let model = Sequential(); model.add(LSTM(128, inputShape: [nil, 28])); model.add(Dense(10))
///
/// The input shape comes from `Sequential(inputShape:)`, a first layer's `inputShape:`, or an
/// `Embedding` first layer (ids of shape (batch, time)). Output shapes are inferred as layers are added;
/// a layer that does not fit is reported where the model is next built, compiled or called
/// (`validate()` asks at once), naming the layer and both shapes.
public final class Sequential: Model {
    public private(set) var stack: [Layer] = []
    private var inputShape: [Int?]?
    /// The element type of the input (Keras's `Input(dtype=)` before the first layer); inputs are
    /// converted to it first.
    public var inputDType: InputDType = .float32
    /// Each layer's output shape, batch first.
    private(set) var layerOutputShapes: [[Int?]] = []

    /// Why the layers added so far do not fit together (thrown by `validate()`, `compile` and calls).
    private var buildError: Error?

    public init(_ layers: [Layer] = [], inputShape: [Int?]? = nil, batchSize: Int? = nil, name: String? = nil) {
        super.init(subclassName: name, base: "sequential")
        if let inputShape { self.inputShape = [batchSize] + inputShape }
        for layer in layers { add(layer) }
    }

    /// A result-builder form: `Sequential { LSTM(64); Dense(10) }`.
    public convenience init(inputShape: [Int?]? = nil, name: String? = nil, @SequentialBuilder _ content: () -> [Layer]) {
        self.init(content(), inputShape: inputShape, name: name)
    }

    public override var className: String { "Sequential" }
    public override var layers: [Layer] { stack }

    /// Appends a layer, building it and inferring its output shape when the input shape is known.
    public func add(_ layer: Layer) {
        if stack.isEmpty, inputShape == nil, let declared = layer.declaredInputShape {
            inputShape = [(layer as? RNN)?.batchSize] + declared
        }
        stack.append(layer)
        guard buildError == nil, layerOutputShapes.count == stack.count - 1, let shape = layerOutputShapes.last ?? inputShape else { return }
        do { layerOutputShapes.append(try infer(layer, from: shape)) } catch { buildError = error }
    }

    /// Throws why the layers do not fit together, if they do not (what Keras raises in `add`).
    public override func validate() throws {
        if let buildError { throw buildError }
    }

    private func infer(_ layer: Layer, from shape: [Int?]) throws -> [Int?] {
        try layer.buildIfNeeded(inputShapes: [shape])
        let outs = try layer.outputShapes(inputShapes: [shape], initialStateShapes: [])
        guard outs.count == 1 else {
            throw RecurError.invalidArgument(errorSubject, "layer \(layer.name) returns \(outs.count) tensors; a Sequential layer must return one (use a functional Model)")
        }
        return outs[0]
    }

    /// Builds every layer for inputs of this shape (batch first), as Keras's `model.build`.
    public func build(inputShape shape: [Int?]) throws {
        buildError = nil
        inputShape = shape
        layerOutputShapes = []
        var current = shape
        for layer in stack {
            current = try infer(layer, from: current)
            layerOutputShapes.append(current)
        }
        try placeWeights()
    }

    public override func outputLayer(_ k: Int) -> Layer? { k == 0 ? stack.last : nil }
    public override var inputShapes: [[Int?]] { inputShape.map { [$0] } ?? [] }
    public override var outputShapes: [[Int?]] { layerOutputShapes.last.map { [$0] } ?? [] }
    public override var outputNames: [String] { stack.last.map { [$0.name] } ?? [] }

    public override func forwardWithMasks(_ values: [Tensor], training: Bool) throws -> (outputs: [Tensor], masks: [Tensor?]) {
        guard values.count == 1 else {
            throw RecurError.invalidArgument(errorSubject, "a Sequential model takes one input, got \(values.count)")
        }
        try validate()
        if inputShape == nil || layerOutputShapes.count != stack.count {
            try build(inputShape: [nil] + values[0].shape.dropFirst().map(Optional.some))
        }
        var input = values[0]
        if let expected = inputShape {
            guard let fitted = try input.fittingModelInput(expected) else {
                throw RecurError.shapeMismatch(errorSubject, what: "input", expected: expected, actual: input.shape.map(Optional.some))
            }
            input = fitted
        }
        var output = LayerOutput([try inputDType.convert(input)])
        for layer in stack {
            output = try layer.run(LayerInput(output.tensors, mask: output.mask, training: training))
        }
        return (output.tensors, [output.mask])
    }
}

@resultBuilder
public enum SequentialBuilder {
    public static func buildBlock(_ layers: Layer...) -> [Layer] { layers }
}
