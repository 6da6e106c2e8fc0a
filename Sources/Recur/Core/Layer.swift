/// What a layer receives when it runs: its input tensors, optional initial states (recurrent layers),
/// the mask of the first input (batch, time) with 1 for steps that count, and the training flag.
/// Layers called on several tensors (merge layers) read every input's mask in `masks`.
public struct LayerInput: Sendable {
    public var tensors: [Tensor]
    public var initialState: [Tensor]
    public var mask: Tensor?
    /// One mask (or nil) per input tensor; `masks[0]` is `mask` unless given separately.
    public var masks: [Tensor?]
    public var training: Bool

    public init(_ tensors: [Tensor], initialState: [Tensor] = [], mask: Tensor? = nil, masks: [Tensor?]? = nil, training: Bool = false) {
        self.tensors = tensors
        self.initialState = initialState
        self.mask = mask
        self.masks = masks ?? [mask] + Array(repeating: nil, count: Swift.max(tensors.count - 1, 0))
        self.training = training
    }
}

/// What a layer returns: its output tensors and the mask that goes with the first output.
public struct LayerOutput: Sendable {
    public var tensors: [Tensor]
    public var mask: Tensor?

    public init(_ tensors: [Tensor], mask: Tensor? = nil) {
        self.tensors = tensors
        self.mask = mask
    }
}

/// The base of every Keras layer: a name, weights in Keras's order, lazy building from the input
/// shapes, shape inference (with `nil` for unknown dimensions) and the computation itself.
///
/// Subclasses override `className`, `build(inputShapes:)`, `outputShapes(inputShapes:initialStateShapes:)`
/// and `call(_:)`, and list their weights in `variables`.
open class Layer {
    /// The layer's name, unique per session unless given (`lstm`, `lstm_1`, ...).
    public let name: String
    public private(set) var isBuilt = false
    /// Set to false to freeze every weight of the layer and of the layers inside it (Keras's
    /// `trainable`): `fit` leaves them unchanged, `summary()` counts them as non-trainable, and a
    /// frozen `BatchNormalization` runs in inference mode.
    public var isTrainable = true {
        didSet { for layer in sublayers { layer.isTrainable = isTrainable } }
    }
    /// The input shape a layer was constructed with (Keras's `input_shape=`), batch dimension excluded.
    public var declaredInputShape: [Int?]?
    /// How many times the layer was called on symbolic tensors.
    var callCount = 0

    public init(name: String? = nil) {
        self.name = name ?? LayerNameRegistry.current.uniqueName(snakeCase(Self.defaultNameBase))
    }

    /// The Keras class name shown in `summary()`.
    open var className: String { String(describing: type(of: self)) }

    /// The stem of automatic names; Keras snake-cases the class name.
    open class var defaultNameBase: String { String(describing: self) }

    /// Every weight, trainable and not, in Keras's `get_weights()` order. By default the weights made
    /// with `addWeight`, trainable ones first, as Keras orders them.
    open var variables: [Variable] { addedWeights.filter(\.isTrainable) + addedWeights.filter { !$0.isTrainable } }

    private var addedWeights: [Variable] = []
    /// The generator `addWeight` draws from, seeded by one draw from the global one on first use.
    private var weightStream: SeededGenerator?

    /// Keras's `add_weight`: a new weight of this layer, listed in `variables` (so that it trains,
    /// saves and loads), drawn by `initializer` from the layer's own random stream, which one draw
    /// from the global seed starts (`setRandomSeed` reproduces it; two instances differ) — or zeros
    /// while a model is read from a file, whose values replace it. Call it from `build(inputShapes:)`.
    @discardableResult
    public func addWeight(name: String, shape: [Int], initializer: Initializer = .glorotUniform, trainable: Bool = true) throws -> Variable {
        let value = try initializer.make(shape, for: name, stream: &weightStream)
        let weight = Variable(name: name, value: value, trainable: trainable)
        addedWeights.append(weight)
        return weight
    }

    /// The layers inside this one (a model's layers, an RNN's cell, a wrapper's layers); a layer with
    /// sublayers has no weights of its own: `variables` lists theirs.
    open var sublayers: [Layer] { [] }

    /// The weights `fit` updates: none when the layer is frozen; otherwise those of its trainable
    /// sublayers, or its own trainable ones (not BatchNormalization's moving statistics).
    public var trainableVariables: [Variable] {
        guard isTrainable else { return [] }
        let nested = sublayers
        return nested.isEmpty ? variables.filter(\.isTrainable) : nested.flatMap(\.trainableVariables)
    }

    /// Every weight not in `trainableVariables`, in `variables` order.
    public var nonTrainableVariables: [Variable] {
        let trainable = Set(trainableVariables.map(ObjectIdentifier.init))
        return variables.filter { !trainable.contains(ObjectIdentifier($0)) }
    }

    /// Whether the layer, or one inside it, keeps states across batches (a `stateful` RNN).
    open var isStateful: Bool { sublayers.contains { $0.isStateful } }

    /// Penalties added to the loss in training and evaluation, by weight name (`kernel`,
    /// `recurrent_kernel`, `bias`, `embeddings`, `gamma`, `beta`, `alpha`): Keras's
    /// `kernel_regularizer` and kin. Every trainable weight of the layer with that name is penalized
    /// (all four kernels of a `MultiHeadAttention`).
    public var weightRegularizers: [String: Regularizer] = [:]
    /// Constraints applied after every optimizer step, by weight name: Keras's `kernel_constraint` and kin.
    public var weightConstraints: [String: WeightConstraint] = [:]
    /// A penalty on the layer's outputs (each divided by its batch size), added to the loss in
    /// training and evaluation: Keras's `activity_regularizer`.
    public var activityRegularizer: Regularizer?

    /// Whether the layer passes the mask of its input on to its output unchanged (Keras's
    /// `supports_masking` for layers that do not make their own mask).
    open var supportsMasking: Bool { false }

    /// Whether output `index` carries the mask the layer passes on (Keras's `compute_mask` sets it on
    /// each output it lists): the first output; both sequences of a `Bidirectional` with no merge.
    open func passesMask(toOutput index: Int) -> Bool { index == 0 }

    /// Whether building the layer creates weights (false for `Dropout`, `Flatten`, merge layers, ...).
    open var hasWeights: Bool { true }

    /// The weights each data-parallel rank keeps for itself and that `fit` averages over the ranks at
    /// the end of every epoch (per-replica BatchNormalization statistics).
    open var replicaLocalVariables: [Variable] { sublayers.flatMap(\.replicaLocalVariables) }

    /// Whether a sample's output depends on the other samples of its batch (batch statistics in
    /// training), so that `TimeDistributed` must run it once per timestep, as Keras does.
    open var mixesBatchSamples: Bool { false }

    // MARK: - Keras configuration (Keras's get_config / from_config)

    /// The layer's Keras arguments as `get_config()` writes them, without `name`, `trainable` and
    /// `dtype`, which `KerasLayerRegistry` writes for every layer. A class Keras files cannot hold throws.
    open func kerasConfig() throws -> [String: JSONValue] {
        throw RecurError.unsupported(op: "Keras config", message: "layer \(name) of class \(className) cannot be saved in a .keras archive "
                                     + "(a layer class of your own overrides kerasConfig() and fromKerasConfig(_:) and is registered with KerasLayerRegistry)")
    }

    /// Keras call arguments this layer's calls pass (beyond the inputs, `initial_state`, `mask` and
    /// `training`), as a `.keras` file's inbound nodes record them: Recur keeps them as options of
    /// the layer (`Attention`'s `use_causal_mask`). Empty for most layers.
    open var kerasCallArguments: [String: JSONValue] { [:] }

    /// Takes call argument `key` from a `.keras` file's call of this layer, before the call; false
    /// for an argument the layer does not know (the file is then refused, naming it).
    open func readKerasCallArgument(_ key: String, _ value: JSONValue) throws -> Bool { false }

    /// The names of the Keras call parameters that take the layer's inputs one each, and how many of
    /// them Recur writes positionally (the rest by keyword): `MultiHeadAttention`'s
    /// `(query, value, key=...)`. nil (most layers): Keras passes the inputs as one argument, a list
    /// when there are several.
    open class var kerasInputParameters: (names: [String], positional: Int)? { nil }

    /// Whether Keras's `from_config` for this class takes `trainable` (all but a few, such as
    /// `SpatialDropout1D`, whose constructor has no `**kwargs`): when false, `KerasLayerRegistry`
    /// leaves it out of the config it writes, so that Keras can read the file.
    open class var kerasConfigHasTrainable: Bool { true }

    /// Whether `activityRegularizer` is written to the config as Keras's `activity_regularizer`
    /// (all but `ActivityRegularization`, whose config holds it as `l1` and `l2`).
    open class var kerasConfigHasActivityRegularizer: Bool { true }

    /// A layer from its Keras arguments (Keras's `from_config`); reading an argument marks it as
    /// supported, and arguments no one reads are refused after this returns.
    open class func fromKerasConfig(_ arguments: KerasArguments) throws -> Layer {
        throw RecurError.unsupported(op: arguments.layer, message: "\(self) does not read Keras configs (override fromKerasConfig(_:))")
    }

    /// Creates the weights for inputs of these shapes (batch dimension first, `nil` when unknown).
    open func build(inputShapes: [[Int?]]) throws {}

    /// The output shapes for inputs of these shapes.
    open func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        inputShapes
    }

    /// Runs the layer. A layer class of your own overrides it; this one throws, naming the layer.
    open func call(_ input: LayerInput) throws -> LayerOutput {
        throw RecurError.unsupported(errorSubject, "computes nothing: \(className) must override call(_:)")
    }

    /// Builds once, checking the shapes; weights it makes go to the layer's `device`.
    public func buildIfNeeded(inputShapes: [[Int?]]) throws {
        guard !isBuilt else { return }
        try build(inputShapes: inputShapes)
        isBuilt = true
        try placeWeights()
    }

    /// Runs the layer on concrete tensors, building it from their shapes the first time. Inside a
    /// training or evaluation step, an `activityRegularizer`'s penalty on the outputs is recorded.
    public func run(_ input: LayerInput) throws -> LayerOutput {
        if !isBuilt { try buildIfNeeded(inputShapes: input.tensors.map { $0.shape.map(Optional.some) }) }
        let output = try call(input)
        if let activityRegularizer, let penalties = ActivityPenalties.current {
            try restatingErrors(as: "activity regularizer") { try penalties.record(activityRegularizer, on: output.tensors) }
        }
        return output
    }

    /// `body`'s result; a `RecurError` it throws is restated as this layer's, its message after `what`.
    func restatingErrors<R>(as what: String, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as RecurError {
            throw RecurError(error.kind, errorSubject, message: "\(what): \(error.description)")
        }
    }

    /// The number of scalars in all weights (Keras's `count_params()`).
    public var parameterCount: Int { variables.reduce(0) { $0 + $1.value.count } }

    /// The device the layer's weights live on (`move(to:)`); the CPU unless moved.
    public private(set) var device = Device.cpu

    /// Moves every weight to `device` (PyTorch's `module.to(device)`): the layer then runs there, on
    /// inputs of that device. Weights made later — a layer or model built on its first call — are made
    /// there too. Stateful layers start their next call from zeros.
    public func move(to device: Device) throws {
        setDevice(device)
        try placeWeights()
    }

    private func setDevice(_ target: Device) {
        device = target
        for layer in sublayers { layer.setDevice(target) }
    }

    /// Moves any weight not on the layer's device there.
    func placeWeights() throws {
        for v in variables where v.value.device != device { v.value = try v.value.detached.to(device) }
    }

    /// Keras's `get_weights()`: copies of every weight in order.
    public func getWeights() -> [Tensor] { variables.map(\.value) }

    /// Keras's `set_weights()`: same count and shapes as `getWeights()`. Every array is checked before
    /// any weight changes; an error names the layer that owns the weight and both shapes.
    public func setWeights(_ weights: [Tensor]) throws {
        let vars = variables
        if vars.isEmpty, !weights.isEmpty, !isBuilt || sublayers.contains(where: { $0.hasWeights && !$0.isBuilt }) {
            throw RecurError.invalidArgument(errorSubject, "setWeights got \(weights.count) arrays but the weights do not exist yet: "
                                             + "build the model first (give it an input shape, call build(inputShape:) or run it once)")
        }
        guard weights.count == vars.count else {
            throw RecurError.invalidArgument(errorSubject, "setWeights expects \(vars.count) arrays (getWeights() order), got \(weights.count)")
        }
        for (k, (v, w)) in zip(vars, weights).enumerated() where v.shape != w.shape {
            let owner = ownerOfWeight(v)
            throw RecurError.shapeMismatch(owner.errorSubject, what: "setWeights array \(k) (\(owner === self ? "" : "\(name)'s ")\(v.name))",
                                           expected: v.shape, actual: w.shape)
        }
        for (v, w) in zip(vars, weights) { v.value = w.detached }
    }

    /// The innermost layer (this one or one inside it) that lists `weight` among its own.
    func ownerOfWeight(_ weight: Variable) -> Layer {
        for layer in sublayers where layer.variables.contains(where: { $0 === weight }) { return layer.ownerOfWeight(weight) }
        return self
    }

    // MARK: - Eager calls

    /// Calls the layer on one tensor and returns its single output.
    /// Throws when the layer returns several tensors (use `outputs(_:)`).
    public func callAsFunction(_ x: Tensor, training: Bool = false) throws -> Tensor {
        let out = try run(LayerInput([x], training: training))
        guard out.tensors.count == 1 else {
            throw RecurError.invalidArgument(errorSubject, "returns \(out.tensors.count) tensors; call outputs(_:) to get all of them")
        }
        return out.tensors[0]
    }

    /// Calls the layer and returns every output (e.g. output, h, c of an LSTM with `returnState`).
    public func outputs(_ inputs: [Tensor], initialState: [Tensor] = [], mask: Tensor? = nil, training: Bool = false) throws -> [Tensor] {
        try run(LayerInput(inputs, initialState: initialState, mask: mask, training: training)).tensors
    }

    public func outputs(_ x: Tensor, initialState: [Tensor] = [], mask: Tensor? = nil, training: Bool = false) throws -> [Tensor] {
        try outputs([x], initialState: initialState, mask: mask, training: training)
    }

    /// Keras's `layer(x, initial_state=s)` on concrete tensors: the single output.
    public func callAsFunction(_ x: Tensor, initialState: [Tensor], mask: Tensor? = nil, training: Bool = false) throws -> Tensor {
        try single(outputs([x], initialState: initialState, mask: mask, training: training))
    }

    /// Keras's `layer([a, b])` on concrete tensors (merge layers): the single output.
    public func callAsFunction(_ inputs: [Tensor], training: Bool = false) throws -> Tensor {
        try single(outputs(inputs, training: training))
    }

    func single<T>(_ outputs: [T]) throws -> T {
        guard outputs.count == 1 else {
            throw RecurError.invalidArgument(errorSubject, "returns \(outputs.count) tensors; call outputs(_:) to get all of them")
        }
        return outputs[0]
    }
}

extension Layer {
    /// This layer as errors name it: `Dense layer 'dense_1'`.
    public var errorSubject: RecurError.Subject { .layer(name: name, className: className) }
}

/// Checks that a concrete or symbolic shape has the expected rank; errors name `layer`.
public func requireRank(_ shape: [Int?], _ rank: Int, of layer: Layer, what: String = "input") throws {
    guard shape.count == rank else {
        throw RecurError.shapeMismatch(layer.errorSubject, expected: "\(what) of rank \(rank)", actual: describeShape(shape))
    }
}

/// The last dimension of an input shape, which must be known to create weights; errors name `layer`.
public func knownLastDimension(_ shape: [Int?], of layer: Layer) throws -> Int {
    guard let d = shape.last, let value = d else {
        throw RecurError.shapeMismatch(layer.errorSubject, expected: "an input whose last dimension is known", actual: describeShape(shape))
    }
    return value
}

/// Checks that a concrete or symbolic shape has the expected rank.
public func requireRank(_ shape: [Int?], _ rank: Int, layer: String, what: String = "input") throws {
    guard shape.count == rank else {
        throw RecurError.shapeMismatch(op: layer, expected: "\(what) of rank \(rank)", actual: describeShape(shape))
    }
}

/// The last dimension of an input shape, which must be known to create weights; throws naming `layer`.
public func knownLastDimension(_ shape: [Int?], layer: String) throws -> Int {
    guard let d = shape.last, let value = d else {
        throw RecurError.shapeMismatch(op: layer, expected: "input whose last dimension is known", actual: describeShape(shape))
    }
    return value
}
