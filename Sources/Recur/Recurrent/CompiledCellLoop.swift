import Foundation

/// How `RNN` runs its cell loop: as a traced step program (`Tensor.traceStep`, then
/// `Tensor.compiledRecurrence`: no graph node or allocation per op, elementwise chains in one pass per
/// row, `x·W` hoisted into one GEMM) or op by op.
public enum CompiledLoopMode: String, Sendable {
    /// The compiled loop when the step can be traced, else op by op (the reason said once in the log).
    case auto
    /// The compiled loop or a thrown error with the reason the step cannot be traced.
    case always
    /// Always op by op.
    case never
}

extension RNN {
    /// The cell loop as a compiled program, or nil when `compiled` says to run op by op (after logging
    /// or throwing the reason the step could not be traced, as `compiled` says). The step is traced on
    /// this call's first two timesteps and states: the program captures this call's weights and dropout
    /// masks (drawn while tracing, exactly as the op-by-op loop draws them at its first step).
    func runCompiledLoop(_ sequences: [Tensor], initialStates: [Tensor], mask: Tensor?, training: Bool) throws -> SequenceResult? {
        let (batch, time) = (sequences[0].shape[0], sequences[0].shape[1])
        // A single step has no loop to compile: tracing it would cost as much as running it.
        guard compiled != .never, batch > 0, time > 1 || compiled == .always, time > 0 else { return nil }
        let outcome: Result<StepProgram, StepTraceFailure>
        if !(try Backends.backend(for: sequences[0].device)).runsStepPrograms {
            outcome = .failure(StepTraceFailure(reason: "the backend of \(sequences[0].device) does not run step programs"))
        } else {
            let order = goBackwards ? [time - 1, time - 2] : [0, 1]
            let traced = try order.prefix(min(time, 2)).map { t in try sequences.map { try $0.select(alongAxis: 1, index: t) } }
            outcome = try Tensor.traceStep(inputs: traced, states: initialStates, checkedStructures: checkedStepStructures) { inputs, states in
                try cell.step(inputs, states: states, training: training)
            }
        }
        let program: StepProgram
        switch outcome {
        case .success(let traced):
            program = traced
            try checkStepResult(outputs: traced.outputs.map { traced.values[$0].shape }, states: traced.newStates.map { traced.values[$0].shape },
                                batch: batch)
            // Later calls with the same structure trace once (a few, e.g. training and inference).
            if !checkedStepStructures.contains(traced.structure) { checkedStepStructures = Array((checkedStepStructures + [traced.structure]).suffix(4)) }
        case .failure(let failure): try declineCompiledLoop(failure.reason); return nil
        }
        let run: CompiledRecurrenceOutputs
        do {
            run = try Tensor.compiledRecurrence(program, sequences: sequences, initialStates: initialStates, mask: mask, reverse: goBackwards,
                                                maskedOutput: maskedStepOutput, returnSequences: returnSequences)
        } catch let failure as StepTraceFailure {
            try declineCompiledLoop(failure.reason)
            return nil
        }
        lastRunWasCompiled = true
        return SequenceResult(sequences: run.sequences, lastOutputs: run.lastOutputs, finalStates: run.finalStates)
    }

    /// What a masked step outputs: zeros, or the carried state as Keras's scan (`maskedOutputStateIndex`),
    /// or — Keras's unrolled loop, and cells whose output is not a state — the previous output.
    private var maskedStepOutput: MaskedStepOutput {
        if zeroesMaskedOutputs { return .zeros }
        if !unroll, let index = maskedOutputStateIndex { return .state(index) }
        return .previousOutput
    }

    private func declineCompiledLoop(_ reason: String) throws {
        lastRunWasCompiled = false
        if compiled == .always {
            throw RecurError.unsupported(op: name, message: "the cell loop cannot run compiled because \(reason) (compiled: .always)")
        }
        if !loggedCompiledFallback {
            loggedCompiledFallback = true
            FileHandle.standardError.write(Data("recur: \(name): running the cell op by op, not compiled, because \(reason)\n".utf8))
        }
    }
}
