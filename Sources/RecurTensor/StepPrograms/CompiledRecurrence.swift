import Foundation

/// What a masked step outputs in a compiled loop (a masked step always keeps its states).
public enum MaskedStepOutput: Sendable, Equatable {
    /// Zeros (Keras's `zero_output_for_mask`).
    case zeros
    /// The state of this index as it was before the step (Keras's carried output).
    case state(Int)
    /// The previous step's output, zeros before the first (Keras's unrolled loop, and cells whose
    /// output is not a state).
    case previousOutput
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
        guard let first = sequences.first else {
            throw RecurError.invalidArgument(op: "compiledRecurrence", message: "needs at least one sequence")
        }
        let all = sequences + initialStates + program.constants + (mask.map { [$0] } ?? [])
        let device = first.device
        if let other = all.first(where: { $0.device != device }) {
            throw RecurError.invalidArgument(op: "compiledRecurrence", message: "operands are on different devices: \(device) and \(other.device)")
        }
        let backend = try Backends.backend(for: device)
        let (batch, time) = (sequences[0].shape[0], sequences[0].shape[1])
        guard time > 0, batch > 0 else { throw StepTraceFailure(reason: "the sequence is empty") }
        // The program must have been traced for these shapes: one value per input and state, of the
        // per-step shape, and a new value for every state.
        func tracedValues(_ kind: (Int) -> StepProgram.ValueKind, _ shapes: [[Int]], what: String) throws -> [Int] {
            return try shapes.enumerated().map { k, shape in
                guard let v = program.values.firstIndex(where: { $0.kind == kind(k) }), program.values[v].shape == shape else {
                    throw RecurError.shapeMismatch(op: "compiledRecurrence", expected: "\(what) \(k) of a traced step of shape \(describeShape(shape))",
                                                   actual: program.values.first { $0.kind == kind(k) }.map { describeShape($0.shape) } ?? "none in the program")
                }
                return v
            }
        }
        for s in sequences where s.rank < 3 || s.shape[0] != batch || s.shape[1] != time {
            throw RecurError.shapeMismatch(op: "compiledRecurrence", expected: "(\(batch), \(time), features...) for every sequence", actual: describeShape(s.shape))
        }
        _ = try tracedValues({ .input($0) }, sequences.map { [batch] + $0.shape.dropFirst(2) }, what: "input")
        let stateIDs = try tracedValues({ .state($0) }, initialStates.map(\.shape), what: "state")
        let programInputs = program.values.filter { if case .input = $0.kind { return true } else { return false } }.count
        let programStates = program.values.filter { if case .state = $0.kind { return true } else { return false } }.count
        guard programInputs == sequences.count, programStates == initialStates.count, program.newStates.count == initialStates.count else {
            throw RecurError.invalidArgument(op: "compiledRecurrence", message: "the program was traced with \(programInputs) input(s) and \(programStates) state(s), "
                                             + "returning \(program.newStates.count) state(s); given \(sequences.count) sequence(s) and \(initialStates.count) state(s)")
        }
        if let mask, mask.shape != [batch, time] {
            throw RecurError.shapeMismatch(op: "compiledRecurrence", expected: "a mask of shape \(describeShape([batch, time]))", actual: describeShape(mask.shape))
        }
        for (k, v) in stateIDs.enumerated() {
            guard program.values[program.newStates[k]].shape == program.values[v].shape else {
                throw StepTraceFailure(reason: "new state \(k) has shape \(describeShape(program.values[program.newStates[k]].shape)), "
                                           + "not the state's \(describeShape(program.values[v].shape))")
            }
        }
        for v in program.outputs where program.values[v].shape.first != batch {
            throw StepTraceFailure(reason: "an output of shape \(describeShape(program.values[v].shape)) does not start with the batch (\(batch))")
        }
        if case .state(let i) = maskedOutput {
            guard stateIDs.indices.contains(i), program.outputs.allSatisfy({ program.values[$0].shape == program.values[stateIDs[i]].shape }) else {
                throw RecurError.invalidArgument(op: "compiledRecurrence", message: "masked steps cannot output state \(i): the step has \(stateIDs.count) state(s) "
                                                 + "and outputs of shapes \(program.outputs.map { describeShape(program.values[$0].shape) }.joined(separator: ", "))")
            }
        }
        let saving = GradientRecording.isEnabled && all.contains { $0.requiresGradient }
        let run = try backend.runStepProgram(program, sequences: sequences, initialStates: initialStates, mask: mask, reverse: reverse,
                                             maskedOutput: maskedOutput, returnSequences: returnSequences, savingForBackward: saving)
        var results = run.outputs
        let outputCount = program.outputs.count
        if saving {
            record(&results, inputs: sequences + initialStates + program.constants) { grads, _ in try run.backward(grads) }
        }
        let sequenceCount = returnSequences ? outputCount : 0
        return CompiledRecurrenceOutputs(sequences: Array(results[..<sequenceCount]),
                                         lastOutputs: Array(results[sequenceCount..<(sequenceCount + outputCount)]),
                                         finalStates: Array(results[(sequenceCount + outputCount)...]))
    }
}
