import Foundation

/// The CPU's step-program executor (see `Tensor.compiledRecurrence`): the program planned for the
/// sequence (`StepProgramPlan`), run by a `StepProgramRunner` over time-major copies of the inputs, the
/// hoisted groups once, then every step on each thread's share of the batch.
extension CPUBackend {
    public var runsStepPrograms: Bool { true }

    public func runStepProgram(_ program: StepProgram, sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, reverse: Bool,
                               maskedOutput: MaskedStepOutput, returnSequences: Bool,
                               savingForBackward saving: Bool) throws -> (outputs: [Tensor], backward: StepProgramBackward) {
        let (batch, time) = (sequences[0].shape[0], sequences[0].shape[1])
        let inputIDs = sequences.indices.map { k in program.values.firstIndex { $0.kind == .input(k) }! }
        let stateIDs = initialStates.indices.map { k in program.values.firstIndex { $0.kind == .state(k) }! }
        let plan = try StepProgramPlan(program, time: time, saving: saving,
                                       inputNeedsGradient: sequences.map { saving && $0.requiresGradient },
                                       constantNeedsGradient: program.constants.map { saving && $0.requiresGradient })
        let runner = StepProgramRunner(plan)
        // Inputs, time-major in processing order.
        for (k, x) in sequences.enumerated() {
            SequenceLayout.timeMajor(x.base, batch: batch, time: time, features: x.count / (batch * time), reversed: reverse,
                                     into: runner.pointer(inputIDs[k], step: 0))
        }
        for (k, s) in initialStates.enumerated() { runner.pointer(stateIDs[k], step: 0).update(from: s.base, count: s.count) }
        let steps = try StepMask(mask, batch: batch, time: time, reverse: reverse)

        for group in plan.hoistedGroups { runner.forwardHoisted(group) }
        let outputSizes = program.outputs.map { program.values[$0].shape.reduce(1, *) / batch }
        let outputArenas = outputSizes.map { TensorBuffer(count: time * batch * $0) }
        let stateSizes = stateIDs.map { program.values[$0].shape.reduce(1, *) / batch }
        parallelParts(runner.parts) { part, samples in
            for t in 0..<time {
                runner.forwardStep(t, part: part)
                for (k, v) in program.newStates.enumerated() {
                    let size = stateSizes[k]
                    let (old, new) = (runner.pointer(stateIDs[k], step: t), runner.pointer(stateIDs[k], step: t + 1))
                    runner.copyDense(v, step: t, samples: samples, to: new)
                    steps.forEachMaskedRow(step: t, in: samples) { b in (new + b * size).update(from: old + b * size, count: size) }
                }
                // Without the sequence only the last step's outputs are returned (and read).
                for (k, v) in program.outputs.enumerated() where returnSequences || t == time - 1 || maskedOutput == .previousOutput {
                    let size = outputSizes[k], out = outputArenas[k].base + t * batch * size
                    runner.copyDense(v, step: t, samples: samples, to: out)
                    steps.forEachMaskedRow(step: t, in: samples) { b in
                        switch maskedOutput {
                        case .zeros: (out + b * size).update(repeating: 0, count: size)
                        case .state(let i): (out + b * size).update(from: runner.pointer(stateIDs[i], step: t) + b * size, count: size)
                        case .previousOutput:
                            if t == 0 { (out + b * size).update(repeating: 0, count: size) }
                            else { (out + b * size).update(from: out - batch * size + b * size, count: size) }
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
                SequenceLayout.batchMajor(outputArenas[k].base, batch: batch, time: time, features: size, reversed: false, into: sequence.base)
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
        let context = CompiledBackwardContext(runner: runner, inputIDs: inputIDs, stateIDs: stateIDs, batch: batch, time: time,
                                              reverse: reverse, steps: steps, maskedOutput: maskedOutput,
                                              returnSequences: returnSequences, outputSizes: outputSizes,
                                              sequenceShapes: sequences.map(\.shape))
        return (results, { grads in try context.backward(grads) })
    }
}
