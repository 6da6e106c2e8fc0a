import CRecurKernels

/// hₜ = tanh(xₜ·W + b + hₜ₋₁·U): one GEMM into the projection and tanh in place.
final class SimpleRNNStepper: RecurrenceStepper {
    private let recurrentKernel: Tensor
    private let forwardMatrix: StepMatrix
    private var backwardMatrix: StepMatrix?
    private let units: Int
    private let rowsPerProduct: Int

    init(recurrentKernel: Tensor, batch: Int) {
        self.recurrentKernel = recurrentKernel.detached
        units = recurrentKernel.shape[0]
        rowsPerProduct = recurrenceRowsPerProduct(batch: batch)
        forwardMatrix = StepMatrix(recurrentKernel, transposed: false, rows: rowsPerProduct)
    }

    func forward(step t: Int, firstRow b0: Int, rows n: Int, projection: UnsafeMutablePointer<Float>,
                 previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafeMutablePointer<Float>>) {
        forwardMatrix.multiply(previous[0], rows: n, into: projection, accumulate: true, step: t)
        recur_tanh(projection, current[0], n * units)
    }

    func prepareBackward() { backwardMatrix = StepMatrix(recurrentKernel, transposed: true, rows: rowsPerProduct) }

    func backward(step t: Int, firstRow b0: Int, rows n: Int, projection: UnsafePointer<Float>,
                  previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafePointer<Float>>, dh: UnsafePointer<Float>,
                  dPrevious: StepCarries<UnsafeMutablePointer<Float>>, dProjection: UnsafeMutablePointer<Float>) {
        recur_tanh_backward(current[0], dh, dProjection, n * units)
        backwardMatrix!.multiply(dProjection, rows: n, into: dPrevious[0], accumulate: false, step: t)
    }
}

/// The LSTM step: z = x·W + b + hₜ₋₁·U, then the gates, whose activations the backward pass reads:
/// in one kernel from x where the CPU has it (`LSTMStepKernel`, `InputProjectingStepper`), else from
/// the driver's projection, a product and one vectorised gate pass (`recur_lstm_gates_forward`) that
/// leaves the activations in the projection.
final class LSTMStepper: InputProjectingStepper {
    let recurrentKernel: Tensor
    /// W and b, for the steps of a split by units, which project their units' columns themselves.
    let inputKernel: Tensor, inputBias: Tensor
    /// The step kernel, or else the forward product's U.
    private let stepKernel: LSTMStepKernel?
    private let forwardMatrix: StepMatrix?
    private var backwardMatrix: StepMatrix?
    let units: Int
    private let batch: Int
    private let rowsPerProduct: Int
    /// tanh(cₜ) of every saved step, (savedSteps, batch, units).
    private let tanhC: Tensor
    private let savedSteps: Int
    /// The threads' slices of the units when a few rows' inference splits by units (`UnitSplit`).
    var unitSlices: [UnitSlice] = []

    init(recurrentKernel: Tensor, inputKernel: Tensor, bias: Tensor, batch: Int, savedSteps: Int) {
        self.recurrentKernel = recurrentKernel.detached
        (self.inputKernel, inputBias) = (inputKernel.detached, bias.detached)
        units = recurrentKernel.shape[0]
        self.batch = batch
        rowsPerProduct = recurrenceRowsPerProduct(batch: batch)
        stepKernel = LSTMStepKernel(recurrentKernel: recurrentKernel, inputKernel: inputKernel, bias: bias, rowsPerProduct: rowsPerProduct)
        forwardMatrix = stepKernel == nil ? StepMatrix(recurrentKernel, transposed: false, rows: rowsPerProduct) : nil
        self.savedSteps = savedSteps
        tanhC = Tensor(uninitializedShape: [savedSteps, batch, units])
    }

    var projectsInput: Bool { stepKernel != nil }

    /// Where step `t`'s tanh(c) of the block starting at row `b0` is kept.
    func savedTanhC(step t: Int, firstRow b0: Int) -> UnsafeMutablePointer<Float> {
        tanhC.base + ((t % savedSteps) * batch + b0) * units
    }

    /// Without the step kernel (`projectsInput` false; the driver then computes the projection).
    func forward(step t: Int, firstRow b0: Int, rows n: Int, projection: UnsafeMutablePointer<Float>,
                 previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafeMutablePointer<Float>>) {
        forwardMatrix!.multiply(previous[0], rows: n, into: projection, accumulate: true, step: t)
        recur_lstm_gates_forward(projection, previous[1], current[1], savedTanhC(step: t, firstRow: b0), current[0], n, units)
    }

    func forward(step t: Int, firstRow b0: Int, rows n: Int, input x: UnsafePointer<Float>, inputStride: Int,
                 saving: UnsafeMutablePointer<Float>?, previous: StepCarries<UnsafePointer<Float>>,
                 current: StepCarries<UnsafeMutablePointer<Float>>) {
        stepKernel!.step(input: x, stride: inputStride, previous: previous, current: current, rows: n, activations: saving,
                         tanhC: saving == nil ? nil : savedTanhC(step: t, firstRow: b0))
    }

    func prepareBackward() { backwardMatrix = StepMatrix(recurrentKernel, transposed: true, rows: rowsPerProduct) }

    func backward(step t: Int, firstRow b0: Int, rows n: Int, projection: UnsafePointer<Float>,
                  previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafePointer<Float>>, dh: UnsafePointer<Float>,
                  dPrevious: StepCarries<UnsafeMutablePointer<Float>>, dProjection: UnsafeMutablePointer<Float>) {
        // dPrevious[1] holds ∂L/∂cₜ on entry and ∂L/∂cₜ₋₁ on return.
        recur_lstm_gates_backward(projection, previous[1], savedTanhC(step: t, firstRow: b0), dh, dPrevious[1], dProjection, n, units)
        backwardMatrix!.multiply(dProjection, rows: n, into: dPrevious[0], accumulate: false, step: t)
    }
}

/// The GRU in its `resetAfter` (cuDNN) form: hproj = hₜ₋₁·U + b_rec by one GEMM, then the gates in one
/// pass (`recur_gru_gates_forward`). Bias (2, 3U) = [input bias; recurrent bias].
final class GRUStepper: RecurrenceStepper {
    let recurrentKernel: Tensor
    let recurrentBias: Tensor
    /// W, the (2, 3U) bias and its input row, for the steps of a split by units, which project their
    /// units' columns themselves.
    let inputKernel: Tensor, bias: Tensor, inputBias: Tensor
    private let forwardMatrix: StepMatrix
    private var backwardMatrix: StepMatrix?
    let units: Int
    private let batch: Int
    private let rowsPerProduct: Int
    /// hₜ₋₁·U + b_rec and the activations [z, r, ĥ] of every saved step, (savedSteps, batch, 3U) each.
    private let hproj: Tensor, act: Tensor
    private var dhproj: Tensor?
    private let savedSteps: Int
    /// The threads' slices of the units when a few rows' inference splits by units (`UnitSplit`).
    var unitSlices: [UnitSlice] = []

    init(recurrentKernel: Tensor, inputKernel: Tensor, bias: Tensor, batch: Int, savedSteps: Int) {
        self.recurrentKernel = recurrentKernel.detached
        self.inputKernel = inputKernel.detached
        units = recurrentKernel.shape[0]
        self.batch = batch
        self.bias = bias.detached
        inputBias = try! bias.detached.select(alongAxis: 0, index: 0)
        recurrentBias = try! bias.detached.select(alongAxis: 0, index: 1)
        rowsPerProduct = recurrenceRowsPerProduct(batch: batch)
        forwardMatrix = StepMatrix(recurrentKernel, transposed: false, rows: rowsPerProduct)
        self.savedSteps = savedSteps
        hproj = Tensor(uninitializedShape: [savedSteps, batch, 3 * units])
        act = Tensor(uninitializedShape: [savedSteps, batch, 3 * units])
    }

    func forward(step t: Int, firstRow b0: Int, rows n: Int, projection: UnsafeMutablePointer<Float>,
                 previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafeMutablePointer<Float>>) {
        let g = 3 * units, row = (t % savedSteps) * batch + b0
        let hp = hproj.base + row * g
        forwardMatrix.multiply(previous[0], rows: n, into: hp, accumulate: false, step: t, bias: recurrentBias.base)
        recur_gru_gates_forward(projection, hp, previous[0], act.base + row * g, current[0], n, units)
    }

    func prepareBackward() {
        backwardMatrix = StepMatrix(recurrentKernel, transposed: true, rows: rowsPerProduct)
        dhproj = Tensor(uninitializedShape: hproj.shape)
    }

    var stepGradients: [(base: UnsafeMutablePointer<Float>, width: Int)] { [(dhproj!.base, 3 * units)] }

    func backward(step t: Int, firstRow b0: Int, rows n: Int, projection: UnsafePointer<Float>,
                  previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafePointer<Float>>, dh: UnsafePointer<Float>,
                  dPrevious: StepCarries<UnsafeMutablePointer<Float>>, dProjection: UnsafeMutablePointer<Float>) {
        let g = 3 * units, row = t * batch + b0
        let dhp = dhproj!.base + row * g
        recur_gru_gates_backward(act.base + row * g, hproj.base + row * g, previous[0], dh, dProjection, dhp, dPrevious[0], n, units)
        backwardMatrix!.multiply(dhp, rows: n, into: dPrevious[0], accumulate: true, step: t)
    }

    /// dU from the recurrent products' gradients (dhproj), not the projection's; the bias is [input; recurrent].
    func weightGradients(xs: Tensor, h0: Tensor, hs: Tensor, dProjection: Tensor,
                         need: (kernel: Bool, recurrentKernel: Bool, bias: Bool)) throws -> WeightGradients {
        WeightGradients(kernel: need.kernel ? Tensor.inputKernelGradient(xs: xs, dProjection: dProjection) : nil,
                        recurrentKernel: need.recurrentKernel ? Tensor.previousStateProducts(h0: h0, hs: hs, dhproj!.base, width: 3 * units) : nil,
                        bias: need.bias ? try Tensor.stack([Tensor.sumOfSteps(dProjection), Tensor.sumOfSteps(dhproj!)]) : nil)
    }
}

/// The GRU with the reset gate before the recurrent product (Keras's `reset_after=False`): per step
/// hzr = hₜ₋₁·U_zr (one GEMM), the z and r gates and r ⊙ hₜ₋₁, cand = (r ⊙ hₜ₋₁)·U_h (a second
/// GEMM), then ĥ and h. Bias (3U).
final class GRUResetBeforeStepper: RecurrenceStepper {
    private let uZR: Tensor, uH: Tensor
    private let zrMatrix: StepMatrix, hMatrix: StepMatrix
    private var zrBackward: StepMatrix?, hBackward: StepMatrix?
    private let units: Int, batch: Int
    private let rowsPerProduct: Int
    /// Saved per step: the activations [z, r, ĥ] (savedSteps, batch, 3U) and r ⊙ hₜ₋₁ (savedSteps, batch, U).
    private let act: Tensor, rh: Tensor
    private let savedSteps: Int
    /// Per-row scratch of one step: hₜ₋₁·U_zr and the candidate product.
    private let hzr: Tensor, cand: Tensor
    private var dhzr: Tensor?, dcand: Tensor?, drh: Tensor?

    init(recurrentKernel: Tensor, batch: Int, savedSteps: Int) throws {
        units = recurrentKernel.shape[0]
        self.batch = batch
        let parts = try recurrentKernel.detached.split(sizes: [2 * units, units], alongAxis: 1)
        (uZR, uH) = (parts[0], parts[1])
        rowsPerProduct = recurrenceRowsPerProduct(batch: batch)
        zrMatrix = StepMatrix(uZR, transposed: false, rows: rowsPerProduct)
        hMatrix = StepMatrix(uH, transposed: false, rows: rowsPerProduct)
        self.savedSteps = savedSteps
        act = Tensor(uninitializedShape: [savedSteps, batch, 3 * units])
        rh = Tensor(uninitializedShape: [savedSteps, batch, units])
        hzr = Tensor(uninitializedShape: [batch, 2 * units])
        cand = Tensor(uninitializedShape: [batch, units])
    }

    func forward(step t: Int, firstRow b0: Int, rows n: Int, projection: UnsafeMutablePointer<Float>,
                 previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafeMutablePointer<Float>>) {
        let row = (t % savedSteps) * batch + b0
        let (zr, c) = (hzr.base + b0 * 2 * units, cand.base + b0 * units)
        zrMatrix.multiply(previous[0], rows: n, into: zr, accumulate: false, step: t)
        recur_gru_rb_gates(projection, zr, previous[0], act.base + row * 3 * units, rh.base + row * units, n, units)
        hMatrix.multiply(rh.base + row * units, rows: n, into: c, accumulate: false, step: t)
        recur_gru_rb_output(projection, c, previous[0], act.base + row * 3 * units, current[0], n, units)
    }

    func prepareBackward() {
        zrBackward = StepMatrix(uZR, transposed: true, rows: rowsPerProduct)
        hBackward = StepMatrix(uH, transposed: true, rows: rowsPerProduct)
        dhzr = Tensor(uninitializedShape: [act.shape[0], batch, 2 * units])
        dcand = Tensor(uninitializedShape: [act.shape[0], batch, units])
        drh = Tensor(uninitializedShape: [batch, units])
    }

    var stepGradients: [(base: UnsafeMutablePointer<Float>, width: Int)] { [(dhzr!.base, 2 * units), (dcand!.base, units)] }

    func backward(step t: Int, firstRow b0: Int, rows n: Int, projection: UnsafePointer<Float>,
                  previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafePointer<Float>>, dh: UnsafePointer<Float>,
                  dPrevious: StepCarries<UnsafeMutablePointer<Float>>, dProjection: UnsafeMutablePointer<Float>) {
        let row = t * batch + b0
        let a = act.base + row * 3 * units, dr = drh!.base + b0 * units
        recur_gru_rb_output_backward(a, previous[0], dh, dProjection, dcand!.base + row * units, dPrevious[0], n, units)
        hBackward!.multiply(dcand!.base + row * units, rows: n, into: dr, accumulate: false, step: t)
        recur_gru_rb_gates_backward(a, previous[0], dr, dProjection, dhzr!.base + row * 2 * units, dPrevious[0], n, units)
        zrBackward!.multiply(dhzr!.base + row * 2 * units, rows: n, into: dPrevious[0], accumulate: true, step: t)
    }

    func weightGradients(xs: Tensor, h0: Tensor, hs: Tensor, dProjection: Tensor,
                         need: (kernel: Bool, recurrentKernel: Bool, bias: Bool)) throws -> WeightGradients {
        WeightGradients(kernel: need.kernel ? Tensor.inputKernelGradient(xs: xs, dProjection: dProjection) : nil,
                        recurrentKernel: need.recurrentKernel ? try recurrentKernelGradient(h0: h0, hs: hs) : nil,
                        bias: need.bias ? try Tensor.sumOfSteps(dProjection) : nil)
    }

    private func recurrentKernelGradient(h0: Tensor, hs: Tensor) throws -> Tensor {
        // dU_zr = Σₜ hₜ₋₁ᵀ·dzrₜ, dU_h = Σₜ (r ⊙ hₜ₋₁)ᵀ·dĥₜ: one GEMM each over all steps.
        let dZR = Tensor.previousStateProducts(h0: h0, hs: hs, dhzr!.base, width: 2 * units)
        let dH = Tensor(uninitializedShape: [units, units])
        parallelGemm(rh.base, transposeA: true, dcand!.base, transposeB: false, dH.base, m: units, n: units, k: rh.shape[0] * batch)
        return try Tensor.concatenate([dZR, dH], alongAxis: 1)
    }
}
