/// The per-step math of a recurrent layer. `RNN` owns the time loop and calls `step` once per timestep.
///
/// Inputs, outputs and states are lists of tensors, each with the batch first: a cell with nested
/// inputs or states (the guide's `NestedCell`) simply uses several. Subclass it to write your own
/// cell: declare `stateShapes` and `outputShapes` (per sample, batch excluded), create weights in
/// `build(inputShapes:)` (per-step shapes, batch first) and compute one step in `step`.
open class RecurrentCell: Layer {
    /// The shape of each state per sample, e.g. `[[units], [units]]` for an LSTM.
    open var stateShapes: [[Int]] { fatalError("\(className) must override stateShapes") }
    /// The shape of each per-step output per sample.
    open var outputShapes: [[Int]] { fatalError("\(className) must override outputShapes") }

    /// One timestep: `inputs` (batch, features...) and `states` → outputs and new states. A cell of
    /// your own overrides it; this one throws, naming the cell.
    open func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        throw RecurError.unsupported(errorSubject, "computes nothing: \(className) must override step(_:states:training:)")
    }

    /// Called by `RNN` before each sequence: cells with dropout forget the masks of the last one.
    open func resetDropoutMasks() {}

    /// Zero states for a batch: "no initial state" means exactly these.
    public func zeroStates(batch: Int) -> [Tensor] {
        stateShapes.map { Tensor.zeros([batch] + $0) }
    }

    /// Zero states on `device`.
    public func zeroStates(batch: Int, on device: Device) throws -> [Tensor] {
        try stateShapes.map { try Tensor.zeros([batch] + $0, on: device) }
    }
}

/// Dropout masks drawn once per sequence and reused at every timestep (Keras's `DropoutRNNCell`).
struct SequenceDropout {
    let rate: Float
    private var mask: Tensor?

    init(rate: Float) { self.rate = rate }

    mutating func reset() { mask = nil }

    /// `x` times this sequence's mask (drawn on first use), or `x` when not training or rate is 0.
    mutating func apply(_ x: Tensor, training: Bool) throws -> Tensor {
        guard training, rate > 0 else { return x }
        if mask == nil || mask!.shape != x.shape { mask = try dropoutKeepMask(shape: x.shape, rate: rate, on: x.device) }
        return try x * mask!
    }

    /// A whole sequence (batch, time, features) times one mask per sample, shared by every timestep:
    /// the same numbers the cell loop gets by applying `apply` at each step.
    mutating func applyPerSequence(_ x: Tensor, training: Bool) throws -> Tensor {
        guard training, rate > 0 else { return x }
        let (batch, features) = (x.shape[0], x.shape[2])
        let stepMask = try apply(Tensor.ones([batch, features]), training: true)
        reset()
        return try x * stepMask.reshaped(to: [batch, 1, features])
    }
}
