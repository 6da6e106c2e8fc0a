/// Records the ops of one call of a recurrent cell's step into a `StepProgram`.
///
/// While a trace runs (`Tensor.traceStep`), the step computes eagerly as usual and every op that has a
/// traced form reports itself here (`Tensor.traced`). A value is recognised by its storage and shape;
/// the tracer keeps every tensor it saw alive, so storage cannot be recycled under it. An op reaching a
/// backend (`dispatch`) with a traced operand must report itself before the next one: if it does not
/// — an op with no traced form, a host read of a traced value — the trace fails with the reason,
/// and the caller falls back to running the step op by op. A tracer belongs to the one task that
/// traces (hence `@unchecked Sendable`: it is only reached through that task's task-local value).
final class StepTracer: @unchecked Sendable {
    @TaskLocal static var current: StepTracer?

    private(set) var program = StepProgram()
    /// Why the step cannot be traced, once known.
    private(set) var failure: String?
    private var ids: [Key: Int] = [:]
    /// Every tensor the program refers to, kept so that its storage cannot be reused during the trace.
    private var kept: [Tensor] = []
    /// The op that reached a backend with a traced operand and has not reported itself yet.
    private var pending: String?

    private struct Key: Hashable {
        let storage: ObjectIdentifier
        let shape: [Int]
    }

    init(inputs: [Tensor], states: [Tensor]) {
        for (k, x) in inputs.enumerated() { add(x, kind: .input(k)) }
        for (k, s) in states.enumerated() { add(s, kind: .state(k)) }
    }

    @discardableResult
    private func add(_ t: Tensor, kind: StepProgram.ValueKind) -> Int {
        let id = program.values.count
        program.values.append(StepProgram.Value(kind: kind, shape: t.shape))
        ids[Key(storage: ObjectIdentifier(t.buffer), shape: t.shape)] = id
        kept.append(t)
        return id
    }

    /// The value id of a traced (input-dependent) tensor, or nil for a constant.
    func tracedID(_ t: Tensor) -> Int? {
        guard let id = ids[Key(storage: ObjectIdentifier(t.buffer), shape: t.shape)] else { return nil }
        if case .constant = program.values[id].kind { return nil }
        return id
    }

    /// The value id of `t`, adding it as a constant when the trace has not seen it.
    private func id(of t: Tensor) -> Int {
        if let id = ids[Key(storage: ObjectIdentifier(t.buffer), shape: t.shape)] { return id }
        program.constants.append(t)
        return add(t, kind: .constant(program.constants.count - 1))
    }

    func fail(_ reason: String) {
        if failure == nil { failure = reason }
    }

    /// An op is about to compute with `operands` on a backend.
    func dispatch(_ operands: [Tensor], op: String) {
        if let pending { fail("the step uses \(pending) on a value computed from its inputs or states, and that op has no traced form") }
        if operands.contains(where: { tracedID($0) != nil }) { pending = op }
    }

    /// The op that just dispatched computed `results` from `operands` as `op`. With no traced operand
    /// it is left out of the program: its results are constants.
    func record(_ op: StepProgram.Op, operands: [Tensor], results: [Tensor]) {
        pending = nil
        guard operands.contains(where: { tracedID($0) != nil }) else { return }
        let operandIDs = operands.map { id(of: $0) }
        let resultIDs = results.map { add($0, kind: .computed) }
        program.instructions.append(StepProgram.Instruction(op: op, operands: operandIDs, results: resultIDs))
    }

    /// The step read a traced value on the host (its numbers steer the computation).
    func hostRead(_ t: Tensor) {
        if tracedID(t) != nil { fail("the step reads a value computed from its inputs or states on the host (data-dependent control flow)") }
    }

    /// Ends the trace with the step's results.
    func finish(outputs: [Tensor], states: [Tensor]) {
        if let pending { fail("the step uses \(pending) on a value computed from its inputs or states, and that op has no traced form") }
        program.outputs = outputs.map { id(of: $0) }
        program.newStates = states.map { id(of: $0) }
    }
}

extension Tensor {
    /// Reports an op to the running step trace, if any (see `StepTracer`).
    static func traced(_ op: StepProgram.Op, _ operands: @autoclosure () -> [Tensor], _ results: @autoclosure () -> [Tensor]) {
        // The operand and result lists are built only while a step is traced (eager ops run this on every call).
        guard let tracer = StepTracer.current else { return }
        tracer.record(op, operands: operands(), results: results())
    }

    /// Makes the running step trace, if any, fail: `reason` says which op form has no traced version.
    static func untraceable(_ operands: [Tensor], _ reason: @autoclosure () -> String) {
        guard let tracer = StepTracer.current, operands.contains(where: { tracer.tracedID($0) != nil }) else { return }
        tracer.fail(reason())
    }

    /// Records `step` called once on `inputs` and `states` (per-step tensors, batch first) as a program,
    /// or says why it cannot be. The step runs on copies of the values of each timestep in `inputs`
    /// (the first two): every call must record the same program with the same constants, so a step
    /// that draws new random numbers, or whose ops change from step to step, is refused — unless the
    /// first call's program has a structure in `checkedStructures` (one that passed this check before:
    /// the same ops on the same shapes), which then is the program. Gradient recording is left as it
    /// is, so constants the step computes from weights keep their gradient history.
    public static func traceStep(inputs: [[Tensor]], states: [Tensor], checkedStructures: [StepProgram.Structure] = [],
                                 step: ([Tensor], [Tensor]) throws -> (outputs: [Tensor], states: [Tensor])) throws -> Result<StepProgram, StepTraceFailure> {
        var programs: [StepProgram] = []
        for stepInputs in inputs {
            if let first = programs.first, checkedStructures.contains(first.structure) { return .success(first) }
            let (freshInputs, freshStates) = (try stepInputs.map { try $0.freshCopy() }, try states.map { try $0.freshCopy() })
            let tracer = StepTracer(inputs: freshInputs, states: freshStates)
            do {
                let result = try StepTracer.$current.withValue(tracer) { try step(freshInputs, freshStates) }
                tracer.finish(outputs: result.outputs, states: result.states)
            } catch {
                return .failure(StepTraceFailure(reason: "the step threw while traced: \(error)"))
            }
            if let failure = tracer.failure { return .failure(StepTraceFailure(reason: failure)) }
            programs.append(tracer.program)
        }
        guard let first = programs.first else { return .failure(StepTraceFailure(reason: "there is no timestep to trace")) }
        for other in programs.dropFirst() where other != first {
            return .failure(StepTraceFailure(reason: "the step's ops or the values it computes without its inputs differ between timesteps "
                                                    + "(random numbers drawn at every step, or control flow on state outside the tensors)"))
        }
        return .success(first)
    }

    /// A copy with its own storage and no gradient history.
    func freshCopy() throws -> Tensor {
        guard device == .cpu else { return try deviceBackend.upload(deviceBackend.download(detached)) }
        let copy = Tensor(uninitializedShape: shape)
        copy.base.update(from: base, count: count)
        return copy
    }
}

/// Why a step could not be traced into a program.
public struct StepTraceFailure: Error, CustomStringConvertible {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
