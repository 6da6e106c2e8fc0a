/// Rewrites of a traced program that keep its values (up to float rounding) and move work out of the
/// time loop.
extension StepProgram {
    /// `(a + b) + c` with `c` a constant, `a` independent of the states and `b` dependent on them becomes
    /// `(a + c) + b`: the constant joins the part computed once for all steps (`x·W + bias` is hoisted,
    /// and the bias gradient becomes one sum over all steps). Only where `a + b` is used once and all
    /// three sums have the same shape as `a` and `b`; the rounding of the sum changes (by about one unit in
    /// the last place).
    func reassociatingConstantSums() -> StepProgram {
        var program = self
        var uses = [Int](repeating: 0, count: values.count)
        for instruction in instructions { for v in instruction.operands { uses[v] += 1 } }
        for v in outputs + newStates { uses[v] += 2 }
        var producer: [Int: Int] = [:]
        var dependsOnState = [Bool](repeating: false, count: values.count)
        for (v, value) in values.enumerated() { if case .state = value.kind { dependsOnState[v] = true } }
        for (i, instruction) in instructions.enumerated() {
            for r in instruction.results {
                producer[r] = i
                dependsOnState[r] = instruction.operands.contains { dependsOnState[$0] }
            }
        }
        func isConstant(_ v: Int) -> Bool { if case .constant = values[v].kind { return true } else { return false } }
        for (j, outer) in instructions.enumerated() where outer.op == .binary(.add) {
            guard let k = outer.operands.firstIndex(where: { !isConstant($0) }), isConstant(outer.operands[1 - k]) else { continue }
            let (inner, constant) = (outer.operands[k], outer.operands[1 - k])
            guard uses[inner] == 1, let i = producer[inner], instructions[i].op == .binary(.add) else { continue }
            let (p, q) = (instructions[i].operands[0], instructions[i].operands[1])
            guard dependsOnState[p] != dependsOnState[q] else { continue }
            let (free, dependent) = dependsOnState[p] ? (q, p) : (p, q)
            let shape = values[inner].shape
            guard values[free].shape == shape, values[dependent].shape == shape, values[outer.results[0]].shape == shape else { continue }
            program.instructions[i].operands = [free, constant]
            program.instructions[j].operands = [inner, dependent]
            dependsOnState[inner] = false
        }
        return program
    }
}
