import CRecurKernels

/// The recurrences Recur runs as one fused op — cuDNN's RNN modes. Keras gate orders: LSTM [i, f, c, o],
/// GRU [z, r, h].
public enum RecurrenceKind: Sendable, Equatable, CustomStringConvertible {
    /// hₜ = tanh(xₜ·W + b + hₜ₋₁·U)
    case simpleRNN
    /// c = σ(z_f) ⊙ c₋₁ + σ(z_i) ⊙ tanh(z_c), h = σ(z_o) ⊙ tanh(c), z = xₜ·W + hₜ₋₁·U + b
    case lstm
    /// z = σ(x_z + r_z), r = σ(x_r + r_r), h = z ⊙ h₋₁ + (1 − z) ⊙ ĥ, with ĥ = tanh(x_h + r ⊙ (h₋₁·U_h + b_h))
    /// when `resetAfter` (cuDNN's form, bias (2, 3U)), else ĥ = tanh(x_h + (r ⊙ h₋₁)·U_h) (bias (3U)).
    case gru(resetAfter: Bool)

    public var description: String {
        switch self {
        case .simpleRNN: "SimpleRNN"
        case .lstm: "LSTM"
        case .gru(let resetAfter): "GRU(resetAfter: \(resetAfter))"
        }
    }

    /// Gates per unit: the kernels are (features, gates·units) and (units, gates·units).
    var gatesPerUnit: Int {
        switch self {
        case .simpleRNN: 1
        case .lstm: 4
        case .gru: 3
        }
    }

    /// The carried states: h, and c for the LSTM.
    var carryCount: Int { self == .lstm ? 2 : 1 }

    /// The bias shape for gate width `g`.
    func biasShape(gateWidth g: Int) -> [Int] { self == .gru(resetAfter: true) ? [2, g] : [g] }

    /// The per-step math of this kind for a sequence of `batch` rows, keeping its per-step values for
    /// `savedSteps` steps: all of them for a backward pass, one (reused) for inference. With the input
    /// kernel W a stepper may compute x·W + b within its steps (`InputProjectingStepper`).
    func stepper(inputKernel: Tensor, recurrentKernel: Tensor, bias: Tensor, batch: Int, savedSteps: Int) throws -> any RecurrenceStepper {
        switch self {
        case .simpleRNN: SimpleRNNStepper(recurrentKernel: recurrentKernel, batch: batch)
        case .lstm: LSTMStepper(recurrentKernel: recurrentKernel, inputKernel: inputKernel, bias: bias, batch: batch, savedSteps: savedSteps)
        case .gru(resetAfter: true): GRUStepper(recurrentKernel: recurrentKernel, inputKernel: inputKernel, bias: bias, batch: batch, savedSteps: savedSteps)
        case .gru(resetAfter: false): try GRUResetBeforeStepper(recurrentKernel: recurrentKernel, batch: batch, savedSteps: savedSteps)
        }
    }
}

/// The carried states of one step for a thread's rows — h, and c for the LSTM — as pointers, built
/// without an array allocation at every step.
struct StepCarries<Pointer> {
    private let h: Pointer
    private let c: Pointer?

    /// `count` (1 or 2) carries, carry k at `pointer(k)`.
    init(_ count: Int, _ pointer: (Int) -> Pointer) {
        h = pointer(0)
        c = count > 1 ? pointer(1) : nil
    }

    subscript(k: Int) -> Pointer { k == 0 ? h : c! }
}

/// The per-step math of one recurrence kind on a block of `n` batch rows starting at row `b0`; the
/// driver (`Tensor.recurrence`) owns everything else: validation, layout, reversal, masks, threads and
/// the gradients of x and the initial states.
///
/// Pointers address the block's first row: `projection` the step's rows of x·W + b (n × G), which
/// `forward` may overwrite with what `backward` needs; `previous`/`current` the carries before and
/// after the step (n × U each, h first).
protocol RecurrenceStepper: AnyObject {
    func forward(step t: Int, firstRow b0: Int, rows n: Int, projection: UnsafeMutablePointer<Float>,
                 previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafeMutablePointer<Float>>)

    /// Called once before the backward pass (allocates its buffers and transposed weights).
    func prepareBackward()

    /// From `dh` = ∂L/∂hₜ (and ∂L/∂cₜ in `dPrevious[1]` for the LSTM) writes ∂L/∂(x·W + b) into
    /// `dProjection` and the gradients of the previous carries into `dPrevious` (h first).
    func backward(step t: Int, firstRow b0: Int, rows n: Int, projection: UnsafePointer<Float>,
                  previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafePointer<Float>>, dh: UnsafePointer<Float>,
                  dPrevious: StepCarries<UnsafeMutablePointer<Float>>, dProjection: UnsafeMutablePointer<Float>)

    /// Per-step gradient buffers besides dProjection, (time, batch, width) each: a masked row's are zeroed.
    var stepGradients: [(base: UnsafeMutablePointer<Float>, width: Int)] { get }

    /// After the backward pass, the weights' gradients that `need` asks for (nil for the others):
    /// ∂L/∂W from the time-major inputs xs (time, batch, features), ∂L/∂U from the initial h0 and the
    /// states hs (time, batch, units), and ∂L/∂b.
    func weightGradients(xs: Tensor, h0: Tensor, hs: Tensor, dProjection: Tensor,
                         need: (kernel: Bool, recurrentKernel: Bool, bias: Bool)) throws -> WeightGradients
}

/// A stepper that can compute a step's input projection x·W + b inside its own step kernel, from x's
/// rows read in place, so that the projection never goes through memory: the driver then hands it x.
protocol InputProjectingStepper: RecurrenceStepper {
    /// Whether it does so for this sequence (its kernel runs on this CPU).
    var projectsInput: Bool { get }

    /// The step from `n` rows of x (features floats each, `inputStride` apart), when `projectsInput`.
    /// For a backward pass `saving` is the step's rows (n × G) of the buffer that `backward` later reads
    /// as `projection`, which receives what it needs; nil in inference.
    func forward(step t: Int, firstRow b0: Int, rows n: Int, input x: UnsafePointer<Float>, inputStride: Int,
                 saving: UnsafeMutablePointer<Float>?, previous: StepCarries<UnsafePointer<Float>>,
                 current: StepCarries<UnsafeMutablePointer<Float>>)
}

/// The gradients of a recurrence's weights: kernel W, recurrent kernel U and bias, each when asked for.
struct WeightGradients {
    var kernel: Tensor?
    var recurrentKernel: Tensor?
    var bias: Tensor?
}

extension RecurrenceStepper {
    var stepGradients: [(base: UnsafeMutablePointer<Float>, width: Int)] { [] }

    /// For kinds whose every weight gradient is a sum over the projection's gradient d (LSTM,
    /// SimpleRNN): dW = Σ xᵀ·d, dU = Σₜ hₜ₋₁ᵀ·dₜ and db = Σ d over the time × batch rows, in one pass
    /// over d's rows (`parallelSumsOverRows`), where three passes read d from memory three times.
    func weightGradients(xs: Tensor, h0: Tensor, hs: Tensor, dProjection: Tensor,
                         need: (kernel: Bool, recurrentKernel: Bool, bias: Bool)) throws -> WeightGradients {
        let (T, B, G) = (dProjection.shape[0], dProjection.shape[1], dProjection.shape[2])
        let (D, U) = (xs.shape[2], hs.shape[2])
        let result = WeightGradients(kernel: need.kernel ? Tensor(uninitializedShape: [D, G]) : nil,
                                     recurrentKernel: need.recurrentKernel ? Tensor(uninitializedShape: [U, G]) : nil,
                                     bias: need.bias ? Tensor(uninitializedShape: [G]) : nil)
        let outputs = [result.kernel, result.recurrentKernel, result.bias].compactMap { $0 }
        let d = dProjection.base
        parallelSumsOverRows(sizes: outputs.map(\.count), work: (D + U + 1) * G * T * B, k: T * B, into: outputs.map(\.base),
                             accumulate: false) { rows, targets, accumulate in
            var next = targets.makeIterator()
            if need.kernel {
                gemm(xs.base + rows.lowerBound * D, transposeA: true, d + rows.lowerBound * G, transposeB: false, next.next()!,
                     m: D, n: G, k: rows.count, beta: accumulate ? 1 : 0)
            }
            if need.recurrentKernel {
                Tensor.addPreviousStateProducts(rows: rows, h0: h0, hs: hs, d, width: G, into: next.next()!, accumulate: accumulate)
            }
            if need.bias { Tensor.sumRows(d + rows.lowerBound * G, rows: rows.count, width: G, into: next.next()!, accumulate: accumulate) }
        }
        return result
    }
}

extension Tensor {
    /// Σ over steps and rows of a (time, batch, width) tensor: (width).
    static func sumOfSteps(_ steps: Tensor) throws -> Tensor {
        try steps.reshaped(to: [steps.shape[0] * steps.shape[1], steps.shape[2]]).sum(alongAxis: 0)
    }

    /// Σₜ hₜ₋₁ᵀ·dₜ for the states hs (time, batch, units) after h0 (batch, units) and per-step
    /// gradients d (time, batch, width): (units, width), a sum over the time × batch rows of d
    /// (`parallelSumOverRows`).
    static func previousStateProducts(h0: Tensor, hs: Tensor, _ d: UnsafePointer<Float>, width: Int) -> Tensor {
        let (T, B, U) = (hs.shape[0], hs.shape[1], hs.shape[2])
        let result = Tensor(uninitializedShape: [U, width])
        parallelSumOverRows(m: U, n: width, k: T * B, into: result.base, accumulate: false) { rows, target, accumulate in
            addPreviousStateProducts(rows: rows, h0: h0, hs: hs, d, width: width, into: target, accumulate: accumulate)
        }
        return result
    }

    /// Σ hₜ₋₁ᵀ·dₜ over `rows` of the time × batch rows of d into `target` (units, width), or added to it
    /// with `accumulate`: rows r < B pair with h0's row r, the rest with hs's row r − B (the state
    /// before their step).
    static func addPreviousStateProducts(rows: Range<Int>, h0: Tensor, hs: Tensor, _ d: UnsafePointer<Float>, width: Int,
                                         into target: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let (T, B, U) = (hs.shape[0], hs.shape[1], hs.shape[2])
        let first = rows.clamped(to: 0..<B), rest = rows.clamped(to: B..<(T * B))
        if !first.isEmpty {
            gemm(h0.base + first.lowerBound * U, transposeA: true, d + first.lowerBound * width, transposeB: false, target,
                 m: U, n: width, k: first.count, beta: accumulate ? 1 : 0)
        }
        if !rest.isEmpty {
            gemm(hs.base + (rest.lowerBound - B) * U, transposeA: true, d + rest.lowerBound * width, transposeB: false, target,
                 m: U, n: width, k: rest.count, beta: accumulate || !first.isEmpty ? 1 : 0)
        }
    }

    /// The sum of `rows` rows of width `width` (contiguous) into `target`, or added to it with `accumulate`.
    static func sumRows(_ x: UnsafePointer<Float>, rows: Int, width: Int, into target: UnsafeMutablePointer<Float>, accumulate: Bool) {
        guard accumulate else { recur_sum_rows(x, rows, width, width, target); return }
        let sums = Tensor(uninitializedShape: [width])
        recur_sum_rows(x, rows, width, width, sums.base)
        addInPlace(sums.base, into: target, width)
    }

    /// dW = Σ xᵀ·d over the time × batch rows of the time-major inputs xs (time, batch, features) and
    /// the projection's gradient d (time, batch, G): (features, G).
    static func inputKernelGradient(xs: Tensor, dProjection: Tensor) -> Tensor {
        let (T, B, D, G) = (xs.shape[0], xs.shape[1], xs.shape[2], dProjection.shape[2])
        let dW = Tensor(uninitializedShape: [D, G])
        parallelGemm(xs.base, transposeA: true, dProjection.base, transposeB: false, dW.base, m: D, n: G, k: T * B)
        return dW
    }
}
