import CRecurCUDA
import Foundation

/// Recurrences on cuDNN's RNN (../shared/GPU.md §3–6): one layer, one direction, float math with FMA
/// (`CUDNN_FMA_MATH`, no TF32), batch-major padded input. Keras's weights are packed into cuDNN's
/// weight space at each call (one kernel per matrix) and its weight gradients unpacked the same way.
/// Masks reach cuDNN as per-row sequence lengths; a right-padded mask's masked steps keep Recur's
/// semantics (the carried state as output, or zeros) through glue kernels; any other mask, and the GRU
/// without `resetAfter`, is declined with its reason.
extension CUDABackend {
    public func recurrenceDeclineReason(_ kind: RecurrenceKind, _ options: RecurrenceOptions, mask: Tensor?) throws -> FusedDeclineReason? {
        if let reason = options.commonDeclineReason(kind) { return reason }
        if kind == .gru(resetAfter: false) { return .gruResetBefore }
        guard let mask else { return nil }
        if case .declined(let reason) = try CuDNNSequenceLengths.plan(for: mask, batch: mask.shape.first ?? 0, time: mask.shape.last ?? 0) {
            return reason
        }
        return nil
    }

    public func recurrence(_ kind: RecurrenceKind, _ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                           initialStates: [Tensor], mask: Tensor?, reverse: Bool, returnSequence: Bool,
                           zeroMaskedOutputs: Bool, savingForBackward: Bool) throws -> (outputs: [Tensor], backward: RecurrenceBackward) {
        let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
        let U = recurrentKernel.shape[0]
        guard case .lengths(let lengths) = try CuDNNSequenceLengths.plan(for: mask, batch: B, time: T) else {
            throw RecurError.unsupported(op: "recurrence(\(kind))", message: "cuDNN cannot run this mask (\(device))")
        }
        if B == 0 { return emptyRecurrence(kind, x, weights: [kernel, recurrentKernel, bias], units: U, returnSequence: returnSequence) }
        context.makeCurrent()
        let rnn = try self.rnn(kind, inputs: D, units: U)
        let padded = lengths.contains { Int($0) < T }
        let deviceLengths = deviceIntegers(lengths)
        let lengthsPointer = devicePointer(deviceLengths)?.assumingMemoryBound(to: Int32.self)
        let (xD, yD) = try (rnn.sequence(features: D, lengths: lengths, time: T), rnn.sequence(features: U, lengths: lengths, time: T))
        let stateDescriptor = try rnn.stateDescriptor(batch: B)
        let weights = try rnn.packedWeights(kernel: kernel, recurrentKernel: recurrentKernel, bias: bias)
        // cuDNN runs forward in time: a reversed recurrence gets each row's valid steps reversed.
        let input = reverse ? reversedSteps(x, lengths: deviceLengths, padded: padded) : x
        let mode: Int32 = savingForBackward ? 1 : 0
        let (workspace, reserve) = try rnn.temporarySpaces(mode: mode, data: xD.descriptor)
        let y = make([B, T, U]), hy = make([B, U])
        let (hx, cx) = (initialStates[0], kind == .lstm ? initialStates[1] : nil)
        let cy = kind == .lstm ? make([B, U]) : nil
        try CUDAContext.check(recur_cudnnRNNForward(context.cudnn, rnn.descriptor, mode, lengthsPointer, xD.descriptor, devicePointer(input),
                                                    yD.descriptor, mutableDevicePointer(y), stateDescriptor.descriptor, devicePointer(hx),
                                                    mutableDevicePointer(hy), stateDescriptor.descriptor, cx.flatMap(devicePointer),
                                                    cy.flatMap(mutableDevicePointer), rnn.weightBytes, devicePointer(weights),
                                                    workspace.bytes, workspace.pointer, reserve?.bytes ?? 0, reserve?.pointer), "cudnnRNNForward")

        // Recur's outputs from cuDNN's: masked steps output the carried state (or zeros), in processing order.
        let carry = !zeroMaskedOutputs
        var sequence = y
        if padded && !reverse && carry {
            sequence = copy(y)
            context.launch("recur_rnn_carry_padding", total: y.count, [.pointer(address(sequence)), .pointer(address(hy)), .pointer(address(deviceLengths)),
                                                                       .int(B), .int(T), .int(U)])
        } else if padded && reverse {
            sequence = make([B, T, U])
            context.launch("recur_rnn_reverse_outputs", total: y.count, [.pointer(address(y)), .pointer(address(hx)), .pointer(address(sequence)),
                                                                         .pointer(address(deviceLengths)), .int(B), .int(T), .int(U), .int(carry ? 1 : 0)])
        }
        // The last processed step: cuDNN's final h, except a forward padded row's, whose last step was masked.
        let lastIsFinal = !(padded && !reverse)
        let last = lastIsFinal ? hy : slice(sequence, outer: B, n: T, inner: U, range: (T - 1)..<T, shape: [B, U])
        var outputs = returnSequence ? [sequence] : []
        outputs += [last, hy] + (cy.map { [$0] } ?? [])

        let backward: RecurrenceBackward = { [self] grads, need in
            guard let reserve else {
                throw RecurError.invalidArgument(op: "recurrence(\(kind))", message: "the forward pass ran for inference and kept nothing for a backward pass")
            }
            context.makeCurrent()
            let dSequence = returnSequence ? grads[0] : nil
            let dLast = grads[returnSequence ? 1 : 0]
            let dFinal = Array(grads.suffix(kind.carryCount))
            // ∂L/∂ of cuDNN's y and hy, and what the masked steps pass straight to h0.
            var dy = filled(0, shape: [B, T, U])
            var dhy = dFinal[0].map(copy) ?? filled(0, shape: [B, U])
            let dh0Masked = filled(0, shape: [B, U])
            if let dLast {
                if lastIsFinal { dhy = binary(.add, dhy, dLast, shape: [B, U]) } else {
                    dy = unslice(dLast, outer: B, n: T, inner: U, range: (T - 1)..<T, shape: [B, T, U])
                }
            }
            if let dSequence {
                if padded && reverse {
                    context.launch("recur_rnn_reverse_outputs_backward", total: B * U, [.pointer(address(dSequence)), .pointer(address(dy)),
                                                                                        .pointer(address(dh0Masked)), .pointer(address(deviceLengths)),
                                                                                        .int(B), .int(T), .int(U), .int(carry ? 1 : 0)])
                } else {
                    dy = binary(.add, dy, dSequence, shape: [B, T, U])
                }
            }
            if padded && !reverse {
                context.launch("recur_rnn_carry_padding_backward", total: B * U, [.pointer(address(dy)), .pointer(address(dhy)),
                                                                                  .pointer(address(deviceLengths)), .int(B), .int(T), .int(U),
                                                                                  .int(carry ? 1 : 0)])
            }
            let dcy = kind == .lstm ? (dFinal[1].map(copy) ?? filled(0, shape: [B, U])) : nil
            let dInput = make([B, T, D]), dhx = make([B, U]), dcx = kind == .lstm ? make([B, U]) : nil
            try CUDAContext.check(recur_cudnnRNNBackwardData_v8(context.cudnn, rnn.descriptor, lengthsPointer, yD.descriptor, devicePointer(y),
                                                                devicePointer(dy), xD.descriptor, mutableDevicePointer(dInput),
                                                                stateDescriptor.descriptor, devicePointer(hx), devicePointer(dhy), mutableDevicePointer(dhx),
                                                                stateDescriptor.descriptor, cx.flatMap(devicePointer), dcy.flatMap(devicePointer),
                                                                dcx.flatMap(mutableDevicePointer), rnn.weightBytes, devicePointer(weights),
                                                                workspace.bytes, workspace.pointer, reserve.bytes, reserve.pointer), "cudnnRNNBackwardData_v8")
            var results: [Tensor?] = Array(repeating: nil, count: 4 + kind.carryCount)
            if need[0] { results[0] = reverse ? reversedSteps(dInput, lengths: deviceLengths, padded: padded) : dInput }
            if need[1] || need[2] || need[3] {
                let dWeights = filled(0, shape: [rnn.weightBytes / 4])
                try CUDAContext.check(recur_cudnnRNNBackwardWeights_v8(context.cudnn, rnn.descriptor, 0 /* add */, lengthsPointer,
                                                                       xD.descriptor, devicePointer(input), stateDescriptor.descriptor, devicePointer(hx),
                                                                       yD.descriptor, devicePointer(y), rnn.weightBytes, mutableDevicePointer(dWeights),
                                                                       workspace.bytes, workspace.pointer, reserve.bytes, reserve.pointer),
                                      "cudnnRNNBackwardWeights_v8")
                (results[1], results[2], results[3]) = rnn.kerasGradients(dWeights, kernelShape: kernel.shape, biasShape: bias.shape)
            }
            if need[4] { results[4] = padded && reverse ? binary(.add, dhx, dh0Masked, shape: [B, U]) : dhx }
            if kind == .lstm, need[5] { results[5] = dcx }
            return results
        }
        return (outputs, backward)
    }

    /// Each row's first `lengths[b]` steps in reverse order (all T steps without padding).
    private func reversedSteps(_ x: Tensor, lengths: Tensor, padded: Bool) -> Tensor {
        let (B, T, F) = (x.shape[0], x.shape[1], x.shape[2])
        guard padded else { return reversed(x, outer: B, n: T, inner: F) }
        let y = make(x.shape)
        context.launch("recur_reverse_within_lengths", total: x.count, [.pointer(address(x)), .pointer(address(y)), .pointer(address(lengths)),
                                                                        .int(B), .int(T), .int(F)])
        return y
    }

    /// An empty batch: empty outputs, and gradients of zeros.
    private func emptyRecurrence(_ kind: RecurrenceKind, _ x: Tensor, weights: [Tensor], units: Int,
                                 returnSequence: Bool) -> (outputs: [Tensor], backward: RecurrenceBackward) {
        let states = (0..<kind.carryCount).map { _ in make([0, units]) }
        let outputs = (returnSequence ? [make([0, x.shape[1], units])] : []) + [make([0, units])] + states
        return (outputs, { _, need in
            let shapes = [x.shape] + weights.map(\.shape) + states.map(\.shape)
            return shapes.enumerated().map { i, shape in need[i] ? self.filled(0, shape: shape) : nil }
        })
    }

    func devicePointer(_ x: Tensor) -> UnsafeRawPointer? { UnsafeRawPointer(bitPattern: UInt(address(x))) }
    func mutableDevicePointer(_ x: Tensor) -> UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt(address(x))) }
}
