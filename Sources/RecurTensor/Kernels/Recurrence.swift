/// What a fused recurrence returns: exactly what the layer asked for.
public struct RecurrenceOutputs {
    /// The outputs of every step, (batch, time, units) in processing order (reversed time when
    /// `reverse`); nil unless `returnSequence`.
    public let sequence: Tensor?
    /// The output of the last processed step, (batch, units).
    public let last: Tensor
    /// The final carried states, (batch, units) each: [h], or [h, c] for the LSTM.
    public let finalStates: [Tensor]
}

extension Tensor {
    /// A whole recurrent sequence as one differentiable op with several outputs: our counterpart of
    /// cuDNN's fused RNN, one driver for every `RecurrenceKind`.
    ///
    /// - x (B, T, D) with T > 0; kernel W (D, G); recurrentKernel U (U, G) with G = gates·U; bias (G), or
    ///   (2, G) for `.gru(resetAfter: true)`; `initialStates` [h0] or [h0, c0], (B, U) each.
    /// - mask (B, T), optional, 1 where a step counts: a masked step carries every state unchanged and
    ///   outputs the carried h, or zeros with `zeroMaskedOutputs`.
    /// - `reverse` processes time last to first (`goBackwards`).
    ///
    /// The driver owns the checks, the time-major layout, the input projection x·W + b (of every step
    /// up front when a backward pass needs it or it is small, else each step's as it runs), the mask
    /// carry (rows copied forward, gradients passed straight back), the split of the batch into blocks
    /// of rows that `Parallelism.threads` threads claim one at a time (rows are independent in time),
    /// and dx and the initial states' gradients; each kind adds its per-step forward and backward around
    /// its C gate kernel, and its weights' gradients.
    /// It runs on the operands' device, on its backend's kernel (`Backend.recurrence`).
    public static func recurrence(_ kind: RecurrenceKind, _ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                                  initialStates: [Tensor], mask: Tensor? = nil, reverse: Bool = false,
                                  returnSequence: Bool = true, zeroMaskedOutputs: Bool = false) throws -> RecurrenceOutputs {
        func op() -> String { "recurrence(\(kind))" }
        guard x.rank == 3, x.shape[1] > 0 else {
            throw RecurError.shapeMismatch(op: op(), expected: "x of shape (batch, time > 0, features)", actual: describeShape(x.shape))
        }
        let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
        let U = recurrentKernel.shape.first ?? 0, G = kind.gatesPerUnit * U
        let carries = kind.carryCount
        guard kernel.shape == [D, G], recurrentKernel.shape == [U, G], bias.shape == kind.biasShape(gateWidth: G),
              initialStates.count == carries, initialStates.allSatisfy({ $0.shape == [B, U] }) else {
            throw RecurError.shapeMismatch(
                op: op(), expected: "W (\(D), \(G)), U (\(U), \(G)), bias \(describeShape(kind.biasShape(gateWidth: G))), \(carries) initial state(s) (\(B), \(U))",
                actual: "W \(describeShape(kernel.shape)), U \(describeShape(recurrentKernel.shape)), bias \(describeShape(bias.shape)), "
                    + "initial states \(initialStates.map { describeShape($0.shape) }.joined(separator: ", "))")
        }
        if let mask, mask.shape != [B, T] {
            throw RecurError.shapeMismatch(op: op(), expected: "mask \(describeShape([B, T]))", actual: describeShape(mask.shape))
        }
        let inputs = [x, kernel, recurrentKernel, bias] + initialStates
        let (backend, operands) = try onCommonDevice(inputs + (mask.map { [$0] } ?? []), op: op())
        let detached = operands.map(\.detached)
        let saving = GradientRecording.isEnabled && inputs.contains(where: \.requiresGradient)
        var (outputs, backward) = try backend.recurrence(kind, detached[0], kernel: detached[1], recurrentKernel: detached[2], bias: detached[3],
                                                         initialStates: Array(detached[4..<(4 + carries)]), mask: mask == nil ? nil : detached.last,
                                                         reverse: reverse, returnSequence: returnSequence, zeroMaskedOutputs: zeroMaskedOutputs,
                                                         savingForBackward: saving)
        record(&outputs, inputs: inputs, pullback: backward)
        return RecurrenceOutputs(sequence: returnSequence ? outputs[0] : nil, last: outputs[returnSequence ? 1 : 0],
                                 finalStates: Array(outputs.suffix(carries)))
    }
}

/// The batch rows a thread claims at a time in a fused recurrence (`parallelBlocks`): about four
/// blocks a thread, so that a faster core can take over a slower one's share, in multiples of the GEMM
/// tile's 8 rows, at least 16 (fewer rows make the step products slower than the balance gains) and
/// at most 64.
func recurrenceBlockRows(batch: Int) -> Int {
    Swift.min(64, Swift.max(16, batch / (4 * Parallelism.threads) / 8 * 8))
}

/// The fewest rows of a block that the recurrences' blocks shrink to toward the end of the batch
/// (`parallelBlocks`): as `recurrenceBlockRows`, fewer make the step products slower.
let recurrenceSmallestBlockRows = 16

/// The most rows of one step product in a fused recurrence: a block's, or the whole batch when it is
/// smaller (`StepMatrix` packs its weights only for products of more than a few rows).
func recurrenceRowsPerProduct(batch: Int) -> Int {
    Swift.min(batch, recurrenceBlockRows(batch: batch))
}

extension CPUBackend {
    /// The CPU's fused recurrence on checked host operands: the forward values and the backward pass.
    func hostRecurrence(_ kind: RecurrenceKind, _ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                        initialStates: [Tensor], mask: Tensor?, reverse: Bool, returnSequence: Bool,
                        zeroMaskedOutputs: Bool, savingForBackward: Bool) throws -> (outputs: [Tensor], backward: RecurrenceBackward) {
        let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
        let U = recurrentKernel.shape[0], G = kind.gatesPerUnit * U
        let carries = kind.carryCount
        let steps = try StepMask(mask, batch: B, time: T, reverse: reverse)
        // Inference keeps one step of the stepper's values, and two of the carries unless the sequence is returned.
        let stepper = try kind.stepper(inputKernel: kernel, recurrentKernel: recurrentKernel, bias: bias, batch: B,
                                       savedSteps: savingForBackward ? T : 1)
        // The carries of every step, (T, B, U) each in processing order: states[k][t] follows step t; or,
        // when neither a backward pass nor the sequence needs them, the last two steps', alternating.
        let keptSteps = savingForBackward || returnSequence ? T : Swift.min(T, 2)
        let states = (0..<carries).map { _ in Tensor(uninitializedShape: [keptSteps, B, U]) }
        let initial = initialStates.map(\.detached)
        func carry(_ k: Int, step t: Int) -> UnsafeMutablePointer<Float> {
            t < 0 ? initial[k].base : states[k].base + (t % keptSteps) * B * U
        }
        // A few rows' inference splits the units across threads where it can (`UnitSplit`); else the rows
        // go in blocks to the threads.
        let splitByUnits = !savingForBackward
            && UnitSplit.forward(stepper, x: x, reverse: reverse, carries: carries, steps: steps, carry: { k, t in carry(k, step: t) })
        // A stepper that can compute x·W + b inside its step kernel does so, from x read in place (in
        // training from its time-major copy, which the backward pass needs), leaving what its backward
        // pass reads in a (T, B, G) buffer. Else a backward pass needs x·W + b of every step up front
        // (the gate kernels leave their activations there); inference computes each step's just before
        // the step, reading x in place, so the products stay in cache instead of streaming a (T, B, G)
        // buffer through memory — unless that buffer is small: then one GEMM reads W once instead of at
        // every step.
        let projecting = (stepper as? InputProjectingStepper).flatMap { $0.projectsInput ? $0 : nil }
        let input: StepInput
        if splitByUnits {
            input = .insideSteps(saved: nil)  // the threads of the split projected their own units' columns
        } else if projecting != nil {
            input = .insideSteps(saved: savingForBackward ? (xs: Tensor(uninitializedShape: [T, B, D]), projection: Tensor(uninitializedShape: [T, B, G])) : nil)
        } else if savingForBackward || T * B * G <= StepInput.smallProjectionScalars {
            let (xs, projection) = projectSequence(x, kernel: kernel, bias: bias.base, reverse: reverse)
            input = .wholeSequence(xs: xs, projection: projection)
        } else {
            input = .perStep(x: x, kernel: StepMatrix(kernel, transposed: false, rows: recurrenceRowsPerProduct(batch: B)),
                             projection: Tensor(uninitializedShape: [B, G]), bias: bias)
        }
        let wholeProjection = input.wholeProjection, saved = input.saved
        if !splitByUnits {
            parallelBlocks(B, blockSize: recurrenceBlockRows(batch: B), smallestBlock: recurrenceSmallestBlockRows) { block in
                let (b0, n) = (block.lowerBound, block.count)
                for t in 0..<T {
                    let previous = StepCarries(carries) { UnsafePointer(carry($0, step: t - 1) + b0 * U) }
                    let current = StepCarries(carries) { carry($0, step: t) + b0 * U }
                    if let projecting {
                        if let saved {
                            // The block's rows of xs for this step, laid out as the step reads them.
                            SequenceLayout.timeMajor(x.base, batch: B, time: T, features: D, reversed: reverse, into: saved.xs.base,
                                                     steps: t..<(t + 1), rows: block)
                            projecting.forward(step: t, firstRow: b0, rows: n, input: saved.xs.base + (t * B + b0) * D, inputStride: D,
                                               saving: saved.projection.base + (t * B + b0) * G, previous: previous, current: current)
                        } else {
                            projecting.forward(step: t, firstRow: b0, rows: n, input: x.base + (b0 * T + (reverse ? T - 1 - t : t)) * D,
                                               inputStride: T * D, saving: nil, previous: previous, current: current)
                        }
                    } else {
                        let projection = wholeProjection.map { $0 + (t * B + b0) * G } ?? input.computeProjection(step: t, rows: block, reverse: reverse)
                        stepper.forward(step: t, firstRow: b0, rows: n, projection: projection, previous: previous, current: current)
                    }
                    steps.forEachMaskedRow(step: t, in: block) { b in
                        for k in 0..<carries { copyRow(b, count: U, from: carry(k, step: t - 1), to: carry(k, step: t)) }
                    }
                }
            }
        }

        // The outputs, each converted once from the time-major states.
        let zeroed = zeroMaskedOutputs && !steps.isEmpty
        var outputs: [Tensor] = []
        if returnSequence {
            let sequence = Tensor(uninitializedShape: [B, T, U])
            SequenceLayout.batchMajor(states[0].base, batch: B, time: T, features: U, reversed: false, into: sequence.base)
            if zeroed {
                for t in 0..<T { steps.forEachMaskedRow(step: t, in: 0..<B) { b in (sequence.base + (b * T + t) * U).update(repeating: 0, count: U) } }
            }
            outputs.append(sequence)
        }
        let last = Tensor(uninitializedShape: [B, U])
        last.base.update(from: carry(0, step: T - 1), count: B * U)
        if zeroed { steps.forEachMaskedRow(step: T - 1, in: 0..<B) { b in (last.base + b * U).update(repeating: 0, count: U) } }
        outputs.append(last)
        for k in 0..<carries {
            let final = Tensor(uninitializedShape: [B, U])
            final.base.update(from: carry(k, step: T - 1), count: B * U)
            outputs.append(final)
        }

        let weights = kernel.detached
        let backward: RecurrenceBackward = { grads, need in
            guard savingForBackward, let (xs, projection) = input.saved else {
                throw RecurError.invalidArgument(op: "recurrence(\(kind))", message: "the forward pass ran for inference and kept nothing for a backward pass")
            }
            let dSequence = returnSequence ? grads[0] : nil
            let dLast = grads[returnSequence ? 1 : 0]
            let dFinal = Array(grads.suffix(carries))
            stepper.prepareBackward()
            let dProjection = Tensor(uninitializedShape: [T, B, G])
            // ∂L/∂ of the carries after the step being processed, walking back in time.
            let dCarries = (0..<carries).map { k in dFinal[k]?.detachedCopy() ?? Tensor.zeros([B, U]) }
            let dhTotal = Tensor(uninitializedShape: [B, U])
            let savedCarries = Tensor(uninitializedShape: [carries, B, U])
            parallelBlocks(B, blockSize: recurrenceBlockRows(batch: B), smallestBlock: recurrenceSmallestBlockRows) { part in
                let (b0, n) = (part.lowerBound, part.count)
                for t in stride(from: T - 1, through: 0, by: -1) {
                    let skipped = steps.maskedRows(step: t, in: part)
                    // The step's h receives the carried gradient plus its outputs' gradients (none for an
                    // output that was zeroed): the block's rows are contiguous, so whole-block copies and
                    // adds where no row is left out.
                    let total = dhTotal.base + b0 * U
                    total.update(from: dCarries[0].base + b0 * U, count: n * U)
                    let counted = zeroed && !skipped.isEmpty ? part.filter { !steps.isMasked(step: t, row: $0) } : nil
                    if let dSequence {
                        for b in counted ?? Array(part) { addInPlace(dSequence.base + (b * T + t) * U, into: dhTotal.base + b * U, U) }
                    }
                    if t == T - 1, let dLast {
                        if let counted {
                            for b in counted { addInPlace(dLast.base + b * U, into: dhTotal.base + b * U, U) }
                        } else {
                            addInPlace(dLast.base + b0 * U, into: total, n * U)
                        }
                    }
                    for b in skipped { for k in 1..<carries { copyRow(b, count: U, from: dCarries[k].base, to: savedCarries.base + k * B * U) } }
                    stepper.backward(step: t, firstRow: b0, rows: n, projection: projection.base + (t * B + b0) * G,
                                     previous: StepCarries(carries) { UnsafePointer(carry($0, step: t - 1) + b0 * U) },
                                     current: StepCarries(carries) { UnsafePointer(carry($0, step: t) + b0 * U) },
                                     dh: dhTotal.base + b0 * U, dPrevious: StepCarries(carries) { dCarries[$0].base + b0 * U },
                                     dProjection: dProjection.base + (t * B + b0) * G)
                    // A masked row passed its states through unchanged: their gradients pass straight back.
                    for b in skipped {
                        copyRow(b, count: U, from: dhTotal.base, to: dCarries[0].base)
                        for k in 1..<carries { copyRow(b, count: U, from: savedCarries.base + k * B * U, to: dCarries[k].base) }
                        (dProjection.base + (t * B + b) * G).update(repeating: 0, count: G)
                        for (base, width) in stepper.stepGradients { (base + (t * B + b) * width).update(repeating: 0, count: width) }
                    }
                }
            }
            var results: [Tensor?] = Array(repeating: nil, count: 4 + carries)
            if need[0] {
                let dxs = Tensor(uninitializedShape: [T, B, D])
                parallelGemm(dProjection.base, transposeA: false, weights.base, transposeB: true, dxs.base, m: T * B, n: D, k: G)
                let dx = Tensor(uninitializedShape: [B, T, D])
                SequenceLayout.batchMajor(dxs.base, batch: B, time: T, features: D, reversed: reverse, into: dx.base)
                results[0] = dx
            }
            if need[1] || need[2] || need[3] {
                let sums = try stepper.weightGradients(xs: xs, h0: initial[0], hs: states[0], dProjection: dProjection,
                                                       need: (kernel: need[1], recurrentKernel: need[2], bias: need[3]))
                (results[1], results[2], results[3]) = (sums.kernel, sums.recurrentKernel, sums.bias)
            }
            for k in 0..<carries where need[4 + k] { results[4 + k] = dCarries[k] }
            return results
        }
        return (outputs, backward)
    }
}

/// Where a fused forward pass finds each step's input projection x·W + b, (rows, G) per step.
private enum StepInput {
    /// The most scalars (256 KiB) of a projection of every step that inference computes up front.
    static let smallProjectionScalars = 1 << 16

    /// Every step's, computed up front by one GEMM: xs (T, B, D) time-major, projection (T, B, G).
    case wholeSequence(xs: Tensor, projection: Tensor)
    /// Each step's computed when it runs from x (B, T, D) read in place, into one (B, G) buffer.
    case perStep(x: Tensor, kernel: StepMatrix, projection: Tensor, bias: Tensor)
    /// Computed by the stepper's own step kernel from x read in place (`InputProjectingStepper`); for a
    /// backward pass, `saved` receives xs (T, B, D) time-major and the steps' saved values (T, B, G).
    case insideSteps(saved: (xs: Tensor, projection: Tensor)?)

    /// The (T, B, G) projection of every step, for `.wholeSequence`: read in the time loop without
    /// unpacking the enum at every step.
    var wholeProjection: UnsafeMutablePointer<Float>? {
        if case .wholeSequence(_, let projection) = self { projection.base } else { nil }
    }

    /// What the backward pass reads: xs (T, B, D) and the (T, B, G) buffer the steps left their values in.
    var saved: (xs: Tensor, projection: Tensor)? {
        switch self {
        case .wholeSequence(let xs, let projection): (xs, projection)
        case .insideSteps(let saved): saved
        case .perStep: nil
        }
    }

    /// The projection of processing step `t` for batch rows `rows`, computed now (`.perStep`).
    func computeProjection(step t: Int, rows: Range<Int>, reverse: Bool) -> UnsafeMutablePointer<Float> {
        guard case .perStep(let x, let kernel, let projection, let bias) = self else {
            preconditionFailure("a whole sequence's projection is computed up front: read it at wholeProjection")
        }
        let (T, D, G) = (x.shape[1], x.shape[2], kernel.n)
        let time = reverse ? T - 1 - t : t
        let out = projection.base + rows.lowerBound * G
        kernel.multiply(x.base + (rows.lowerBound * T + time) * D, rows: rows.count, rowStride: T * D, into: out, accumulate: false,
                        step: t, bias: bias.base)
        return out
    }
}
