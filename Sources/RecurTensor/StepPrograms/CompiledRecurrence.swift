import Foundation

/// What a masked step outputs in a compiled loop (a masked step always keeps its states).
public enum MaskedStepOutput: Sendable, Equatable {
    /// Zeros (Keras's `zero_output_for_mask`).
    case zeros
    /// The state of this index as it was before the step (Keras's carried output).
    case state(Int)
}

/// The outputs of `Tensor.compiledRecurrence`.
public struct CompiledRecurrenceOutputs {
    /// Per step output, (batch, time, ...) in processing order; empty unless asked for.
    public var sequences: [Tensor]
    /// Per step output, the last processed step's.
    public var lastOutputs: [Tensor]
    public var finalStates: [Tensor]
}

extension Tensor {
    /// Runs a traced step program (`Tensor.traceStep`) over whole sequences: the hoisted values once
    /// for every step, then per timestep the program's groups on preallocated storage, with no graph
    /// node or allocation per op. The result is one differentiable op of the sequences, the initial
    /// states and the program's constants; its backward pass runs the program's pullbacks in reverse
    /// over the saved steps.
    ///
    /// - Parameters:
    ///   - sequences: (batch, time, features...) each, as traced per step.
    ///   - initialStates: (batch, ...) each, as traced.
    ///   - mask: (batch, time), 1 for steps to run; a masked step keeps its states and outputs
    ///     `maskedOutput`.
    ///   - reverse: process the last timestep first.
    public static func compiledRecurrence(_ program: StepProgram, sequences: [Tensor], initialStates: [Tensor], mask: Tensor?,
                                          reverse: Bool, maskedOutput: MaskedStepOutput, returnSequences: Bool) throws -> CompiledRecurrenceOutputs {
        let all = sequences + initialStates + program.constants + (mask.map { [$0] } ?? [])
        guard all.allSatisfy({ $0.device == .cpu }) else {
            throw StepTraceFailure(reason: "the compiled loop runs on the CPU, and the tensors are on \(all.first { $0.device != .cpu }!.device)")
        }
        let (batch, time) = (sequences[0].shape[0], sequences[0].shape[1])
        guard time > 0, batch > 0 else { throw StepTraceFailure(reason: "the sequence is empty") }
        let inputIDs = sequences.indices.map { k in program.values.firstIndex { $0.kind == .input(k) }! }
        let stateIDs = initialStates.indices.map { k in program.values.firstIndex { $0.kind == .state(k) }! }
        for (k, v) in stateIDs.enumerated() {
            guard program.values[program.newStates[k]].shape == program.values[v].shape else {
                throw StepTraceFailure(reason: "new state \(k) has shape \(describeShape(program.values[program.newStates[k]].shape)), "
                                           + "not the state's \(describeShape(program.values[v].shape))")
            }
        }
        for v in program.outputs where program.values[v].shape.first != batch {
            throw StepTraceFailure(reason: "an output of shape \(describeShape(program.values[v].shape)) does not start with the batch (\(batch))")
        }
        let recording = GradientRecording.isEnabled
        let saving = recording && all.contains { $0.requiresGradient }
        let plan = try StepProgramPlan(program, time: time, saving: saving,
                                       inputNeedsGradient: sequences.map { saving && $0.requiresGradient },
                                       constantNeedsGradient: program.constants.map { saving && $0.requiresGradient })
        let runner = StepProgramRunner(plan)
        let timeIndex = { (t: Int) in reverse ? time - 1 - t : t }
        // Inputs, time-major in processing order.
        for (k, x) in sequences.enumerated() {
            let features = x.count / (batch * time)
            let destination = runner.pointer(inputIDs[k], step: 0)
            for t in 0..<time {
                for b in 0..<batch {
                    (destination + (t * batch + b) * features).update(from: x.base + (b * time + timeIndex(t)) * features, count: features)
                }
            }
        }
        for (k, s) in initialStates.enumerated() { runner.pointer(stateIDs[k], step: 0).update(from: s.base, count: s.count) }
        let maskValues = mask.map { Array(UnsafeBufferPointer(start: $0.base, count: $0.count)) }
        func kept(_ b: Int, _ t: Int) -> Bool { maskValues.map { $0[b * time + timeIndex(t)] != 0 } ?? true }

        for group in plan.hoistedGroups { runner.forwardHoisted(group) }
        let outputSizes = program.outputs.map { program.values[$0].shape.reduce(1, *) / batch }
        let outputArenas = outputSizes.map { TensorBuffer(count: time * batch * $0) }
        let stateSizes = stateIDs.map { program.values[$0].shape.reduce(1, *) / batch }
        parallelParts(runner.parts) { part, samples in
            for t in 0..<time {
                for g in plan.stepGroups.indices { runner.forwardStep(g, step: t, part: part) }
                for (k, v) in program.newStates.enumerated() {
                    let size = stateSizes[k]
                    let (old, new) = (runner.pointer(stateIDs[k], step: t), runner.pointer(stateIDs[k], step: t + 1))
                    runner.copyDense(v, step: t, samples: samples, to: new)
                    for b in samples where !kept(b, t) { (new + b * size).update(from: old + b * size, count: size) }
                }
                // Without the sequence only the last step's outputs are returned.
                for (k, v) in program.outputs.enumerated() where returnSequences || t == time - 1 {
                    let size = outputSizes[k], out = outputArenas[k].base + t * batch * size
                    runner.copyDense(v, step: t, samples: samples, to: out)
                    for b in samples where !kept(b, t) {
                        switch maskedOutput {
                        case .zeros: (out + b * size).update(repeating: 0, count: size)
                        case .state(let i): (out + b * size).update(from: runner.pointer(stateIDs[i], step: t) + b * size, count: size)
                        }
                    }
                }
            }
        }

        var results: [Tensor] = []
        if returnSequences {
            for (k, v) in program.outputs.enumerated() {
                let size = outputSizes[k]
                let sequence = Tensor(uninitializedShape: [batch, time] + program.values[v].shape.dropFirst())
                for t in 0..<time {
                    for b in 0..<batch {
                        (sequence.base + (b * time + t) * size).update(from: outputArenas[k].base + (t * batch + b) * size, count: size)
                    }
                }
                results.append(sequence)
            }
        }
        for (k, v) in program.outputs.enumerated() {
            let last = Tensor(uninitializedShape: program.values[v].shape)
            last.base.update(from: outputArenas[k].base + (time - 1) * batch * outputSizes[k], count: last.count)
            results.append(last)
        }
        for v in stateIDs {
            let final = Tensor(uninitializedShape: program.values[v].shape)
            final.base.update(from: runner.pointer(v, step: time), count: final.count)
            results.append(final)
        }
        let outputCount = program.outputs.count
        let context = CompiledBackwardContext(runner: runner, inputIDs: inputIDs, stateIDs: stateIDs, batch: batch, time: time,
                                              reverse: reverse, maskValues: maskValues, maskedOutput: maskedOutput,
                                              returnSequences: returnSequences, outputSizes: outputSizes,
                                              sequenceShapes: sequences.map(\.shape))
        if saving {
            record(&results, inputs: sequences + initialStates + program.constants) { grads, _ in try context.backward(grads) }
        }
        let sequenceCount = returnSequences ? outputCount : 0
        return CompiledRecurrenceOutputs(sequences: Array(results[..<sequenceCount]),
                                         lastOutputs: Array(results[sequenceCount..<(sequenceCount + outputCount)]),
                                         finalStates: Array(results[(sequenceCount + outputCount)...]))
    }
}
