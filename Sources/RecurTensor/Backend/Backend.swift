import Foundation

/// Elementwise functions of one tensor.
public enum UnaryOp: Sendable, Hashable {
    case exp, log, tanh, sigmoid, relu, sqrt, abs, sign
}

/// Elementwise functions of two broadcast tensors; the comparisons give 1 or 0.
public enum BinaryOp: Sendable, Hashable {
    case add, subtract, multiply, divide, maximum, minimum
    case greater, greaterEqual, less, equal, notEqual
}

/// The computations of one device. `Tensor`'s ops check their operands, pick the backend of their
/// device (`Backends.backend(for:)`) and record gradients; the backend computes. Shapes passed in are
/// already checked. Axis-wise ops see a tensor as (outer, n, inner): `n` the extent of the axis, `outer`
/// the product of the extents before it and `inner` of those after.
///
/// `CPUBackend` computes on the host and `CUDABackend` on NVIDIA GPUs (opened on first use of
/// `Device.cuda(_:)`); another device registers its own with `Backends.register(_:)`.
public protocol Backend: AnyObject, Sendable {
    var device: Device { get }

    // Storage
    /// A tensor of this device holding the scalars of the host tensor `host`.
    func upload(_ host: Tensor) throws -> Tensor
    /// A host tensor holding the scalars of `x`, a tensor of this device.
    func download(_ x: Tensor) throws -> Tensor
    func filled(_ value: Float, shape: [Int]) -> Tensor

    // Elementwise
    func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor
    /// The gradient of `unary(op, input)` = `output` for the upstream `gradient` (tanh, sigmoid, relu).
    func unaryGradient(_ op: UnaryOp, input: Tensor, output: Tensor, gradient: Tensor) -> Tensor
    func scaled(_ x: Tensor, by alpha: Float) -> Tensor
    /// `op` over `a` and `b` broadcast to `shape`.
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, shape: [Int]) -> Tensor

    // Linear algebra
    /// `batch` products (m×k)·(k×n) of consecutive blocks (or with the last two axes of an operand
    /// transposed); `b` is shared by every block when `sharedB`. Result shape `shape`.
    func matmul(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool, batch: Int, sharedB: Bool,
                m: Int, n: Int, k: Int, shape: [Int]) -> Tensor

    // Reductions
    /// Σ over the middle of (outer, n, inner): (outer·inner) scalars in `shape`.
    func sum(_ x: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor
    /// The index of the largest value over the middle of (outer, n, inner), as whole-number scalars.
    func argmax(_ x: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor
    /// Values at `indices` (outer, inner) along the middle of (outer, n, inner).
    func pick(_ x: Tensor, indices: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor
    /// The gradient of `pick`: `gradient` (outer, inner) placed at `indices` in zeros of (outer, n, inner).
    func unpick(_ gradient: Tensor, indices: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor

    // Indexing
    /// Rows of a table (n, row) picked by `rows` (already checked against n).
    func gatherRows(_ table: Tensor, rows: [Int], shape: [Int]) -> Tensor
    /// The gradient of `gatherRows`: each row of `gradient` added into its table row.
    func scatterAddRows(_ gradient: Tensor, rows: [Int], shape: [Int]) -> Tensor

    // Layout
    func transposed(_ x: Tensor, permutation: [Int], shape: [Int]) -> Tensor
    /// The middle range `range` of (outer, n, inner).
    func slice(_ x: Tensor, outer: Int, n: Int, inner: Int, range: Range<Int>, shape: [Int]) -> Tensor
    /// `x` (outer, range.count, inner) placed at `range` in zeros of (outer, n, inner): `slice`'s gradient.
    func unslice(_ x: Tensor, outer: Int, n: Int, inner: Int, range: Range<Int>, shape: [Int]) -> Tensor
    /// Parts (outer, sizes[i], inner) joined along the middle.
    func concatenate(_ parts: [Tensor], outer: Int, inner: Int, shape: [Int]) -> Tensor
    /// (outer, n, inner) with the middle reversed.
    func reversed(_ x: Tensor, outer: Int, n: Int, inner: Int) -> Tensor

    // Neural-network ops
    /// log(softmax) over the last axis of length `classes`.
    func logSoftmax(_ x: Tensor, classes: Int) -> Tensor
    /// Batch normalization of x's rows (every axis but the last, of length `features`) by their own
    /// statistics: per feature the mean μ = Σx/N and biased variance σ² = Σ(x − μ)²/N, and
    /// y = x·s + (β − μ·s) with s = γ/√(σ² + ε) (γ = 1 and β = 0 when nil). Returns y (x's shape), μ and σ².
    func batchNormalization(_ x: Tensor, features: Int, gamma: Tensor?, beta: Tensor?, epsilon: Float) -> (y: Tensor, mean: Tensor, variance: Tensor)
    /// Its gradients from g = ∂L/∂y, with x̂ = (x − μ)/√(σ² + ε): ∂L/∂β = Σg, ∂L/∂γ = Σg·x̂ and
    /// ∂L/∂x = γ/(N·√(σ² + ε)) · (N·g − ∂L/∂β − x̂·∂L/∂γ), sums over the N rows.
    func batchNormalizationGradients(_ x: Tensor, gradient: Tensor, features: Int, mean: Tensor, variance: Tensor, gamma: Tensor?,
                                     epsilon: Float) -> (x: Tensor, gamma: Tensor, beta: Tensor)
    /// Scalars drawn from `generator` (a host generator, so that every device draws the same numbers).
    func random(_ distribution: RandomDistribution, shape: [Int], generator: inout SeededGenerator) -> Tensor
    func update(_ value: inout Tensor, by rule: UpdateRule, gradient: Tensor, slots: inout [Tensor]) throws

    // Recurrences
    /// Why this backend cannot run `kind` fused with these options and this (batch, time) mask, or nil.
    /// A backend whose kernel needs right-padded masks checks `mask.isRightPadded()` here.
    func recurrenceDeclineReason(_ kind: RecurrenceKind, _ options: RecurrenceOptions, mask: Tensor?) throws -> FusedDeclineReason?
    /// The forward values of a whole recurrence and its backward pass (see `Tensor.recurrence`). Without
    /// `savingForBackward` (inference) nothing is kept for a backward pass, which then must not be called.
    func recurrence(_ kind: RecurrenceKind, _ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                    initialStates: [Tensor], mask: Tensor?, reverse: Bool, returnSequence: Bool,
                    zeroMaskedOutputs: Bool, savingForBackward: Bool) throws -> (outputs: [Tensor], backward: RecurrenceBackward)
    /// One LSTM step's gates (see `Tensor.lstmGateStep`): h, c and what the backward pass needs.
    func lstmGates(_ z: Tensor, cPrev: Tensor) -> (h: Tensor, c: Tensor, backward: ([Tensor?]) -> [Tensor])
    /// One GRU step's gates, `resetAfter` form (see `Tensor.gruGateStep`).
    func gruGates(xproj: Tensor, hproj: Tensor, hPrev: Tensor) -> (h: Tensor, backward: (Tensor) -> [Tensor])

    // Step programs
    /// Whether this backend runs traced step programs (`Tensor.compiledRecurrence`); a layer on a device
    /// whose backend does not runs its cell op by op, saying so.
    var runsStepPrograms: Bool { get }
    /// A traced step program over whole sequences (see `Tensor.compiledRecurrence`): the results —
    /// the sequences when `returnSequences`, the last outputs, the final states — and, when
    /// `savingForBackward`, the backward pass. Throws `StepTraceFailure` for a program it cannot run.
    func runStepProgram(_ program: StepProgram, sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, reverse: Bool,
                        maskedOutput: MaskedStepOutput, returnSequences: Bool,
                        savingForBackward: Bool) throws -> (outputs: [Tensor], backward: StepProgramBackward)
}

/// The backward pass of a step program over sequences: from one gradient per result (nil where
/// unused), the gradients of [sequences..., initial states..., the program's constants...].
public typealias StepProgramBackward = ([Tensor?]) throws -> [Tensor?]

extension Backend {
    public var runsStepPrograms: Bool { false }

    public func runStepProgram(_ program: StepProgram, sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, reverse: Bool,
                               maskedOutput: MaskedStepOutput, returnSequences: Bool,
                               savingForBackward: Bool) throws -> (outputs: [Tensor], backward: StepProgramBackward) {
        throw StepTraceFailure(reason: "the backend of \(device) does not run step programs")
    }
}

/// The backward pass of a recurrence: from one gradient per output (nil where unused) and which inputs
/// need one, the gradients of [x, kernel, recurrentKernel, bias, initial states...].
public typealias RecurrenceBackward = ([Tensor?], [Bool]) throws -> [Tensor?]

/// Distributions for `Backend.random`.
public enum RandomDistribution: Sendable {
    case uniform(low: Float, high: Float)
    case normal(mean: Float, standardDeviation: Float)
    /// Normal, redrawn beyond two standard deviations.
    case truncatedNormal(mean: Float, standardDeviation: Float)
}

/// The backends by device: the CPU's, and any registered.
public enum Backends {
    nonisolated(unsafe) private static var registered: [Device: any Backend] = [.cpu: CPUBackend.shared]
    private static let lock = NSLock()

    /// Makes `backend` compute the tensors of its device.
    public static func register(_ backend: any Backend) {
        lock.lock(); defer { lock.unlock() }
        registered[backend.device] = backend
    }

    /// The backend of `device`; throws when none is registered.
    public static func backend(for device: Device) throws -> any Backend {
        if device == .cpu { return CPUBackend.shared }
        lock.lock()
        let backend = registered[device]
        lock.unlock()
        if let backend { return backend }
        // A CUDA device opens on first use (and registers its backend), or says why it cannot.
        if let ordinal = device.cudaOrdinal {
            do { return try CUDABackend.shared(ordinal: ordinal) } catch let error as RecurError {
                throw RecurError.unsupported(op: "\(device)", message: error.message)
            }
        }
        throw RecurError.unsupported(op: "\(device)", message: "no backend is registered for device \(device)")
    }
}

extension Tensor {
    /// The backend that computes this tensor's ops. It exists: tensors are only made by registered
    /// backends, and none is ever removed.
    var deviceBackend: any Backend {
        StepTracer.current?.dispatch([self], op: "an op")
        return try! Backends.backend(for: device)
    }

    /// This tensor on `device` (itself when it is there already); differentiable.
    public func to(_ device: Device) throws -> Tensor {
        if device == self.device { return self }
        let host = try deviceBackend.download(detached)
        var moved = device == .cpu ? host : try Backends.backend(for: device).upload(host)
        let source = self.device
        Tensor.record(&moved, inputs: [self]) { g, _ in [try g.to(source)] }
        return moved
    }

    /// The common backend of an op's operands, with each operand on its device. A one-scalar host
    /// tensor (a constant such as `1 - x`'s 1) moves to the others' device; any other mix throws,
    /// naming both devices.
    static func onCommonDevice(_ operands: [Tensor], op: @autoclosure () -> String) throws -> (backend: any Backend, operands: [Tensor]) {
        StepTracer.current?.dispatch(operands, op: op())
        guard let target = operands.first(where: { $0.device != .cpu })?.device else { return (CPUBackend.shared, operands) }
        for operand in operands where operand.device != target && !(operand.device == .cpu && operand.count == 1) {
            throw RecurError.invalidArgument(op: op(), message: "operands are on different devices: \(target) and \(operand.device) "
                                             + "(a tensor of shape \(describeShape(operand.shape)); move one with .to(_:))")
        }
        let backend = try Backends.backend(for: target)
        return (backend, try operands.map { $0.device == target ? $0 : try $0.to(target) })
    }
}
