/// The backward pass of `Tensor.compiledRecurrence`: from the gradients of its outputs, the step
/// program's pullbacks from the last processed step to the first, carrying the states' gradients
/// (a masked step passes them through unchanged), then the hoisted values' and the deferred weight
/// gradients once for all steps.
struct CompiledBackwardContext {
    let runner: StepProgramRunner
    let inputIDs: [Int]
    let stateIDs: [Int]
    let batch: Int
    let time: Int
    let reverse: Bool
    let steps: StepMask
    let maskedOutput: MaskedStepOutput
    let returnSequences: Bool
    let outputSizes: [Int]
    let sequenceShapes: [[Int]]

    /// `grads`: per result of the op (sequences when returned, last outputs, final states), nil when
    /// unused. Returns the gradients of the sequences, initial states and constants.
    func backward(_ grads: [Tensor?]) throws -> [Tensor?] {
        let plan = runner.plan, program = plan.program
        let outputCount = program.outputs.count
        let sequenceGrads = returnSequences ? Array(grads[..<outputCount]) : Array(repeating: nil, count: outputCount)
        let offset = returnSequences ? outputCount : 0
        let lastGrads = Array(grads[offset..<(offset + outputCount)])
        let finalGrads = Array(grads[(offset + outputCount)...])
        runner.allocateGradients()
        let stateSizes = stateIDs.map { program.values[$0].shape.reduce(1, *) / batch }
        let carries = stateSizes.enumerated().map { k, size -> TensorBuffer in
            let carry = TensorBuffer(count: batch * size)
            if let g = finalGrads[k] { carry.base.update(from: g.base, count: batch * size) } else { carry.base.update(repeating: 0, count: batch * size) }
            return carry
        }
        let passes = stateSizes.map { TensorBuffer(count: batch * $0) }
        // Gradients of masked steps' outputs, passed on to the previous step's (`.previousOutput`).
        let outputPasses = outputSizes.map { size -> TensorBuffer in
            let pass = TensorBuffer(count: batch * size)
            pass.base.update(repeating: 0, count: batch * size)
            return pass
        }
        let outputGrads = outputSizes.map { TensorBuffer(count: batch * $0) }

        parallelParts(runner.parts) { part, samples in
            for t in stride(from: time - 1, through: 0, by: -1) {
                backwardStep(t, part: part, samples: samples, sequenceGrads: sequenceGrads, lastGrads: lastGrads,
                             carries: carries, passes: passes, outputPasses: outputPasses, outputGrads: outputGrads, stateSizes: stateSizes)
            }
        }
        for group in plan.hoistedGroups.reversed() { runner.backwardHoisted(group) }
        runner.deferredWeightGradients()

        var result: [Tensor?] = []
        for (k, v) in inputIDs.enumerated() {
            guard plan.needsGradient[v] else { result.append(nil); continue }
            let dx = Tensor(uninitializedShape: sequenceShapes[k])
            SequenceLayout.batchMajor(runner.gradientPointer(v, step: 0), batch: batch, time: time, features: dx.count / (batch * time),
                                      reversed: reverse, into: dx.base)
            result.append(dx)
        }
        for (k, v) in stateIDs.enumerated() {
            let d = Tensor(uninitializedShape: program.values[v].shape)
            d.base.update(from: carries[k].base, count: d.count)
            result.append(d)
        }
        for (v, value) in program.values.enumerated() {
            guard case .constant = value.kind else { continue }
            result.append(plan.needsGradient[v] ? runner.constantGradient(v) : nil)
        }
        return result
    }

    /// Step `t`'s backward pass on the samples of `part`: the output gradients, the carried state
    /// gradients (passed through unchanged for masked samples), then the program's pullbacks; leaves
    /// the gradients of the step's input states in `carries`.
    private func backwardStep(_ t: Int, part: Int, samples: Range<Int>, sequenceGrads: [Tensor?], lastGrads: [Tensor?],
                              carries: [TensorBuffer], passes: [TensorBuffer], outputPasses: [TensorBuffer], outputGrads: [TensorBuffer],
                              stateSizes: [Int]) {
        let plan = runner.plan, program = plan.program
        runner.zeroStepGradients(part: part)
        for (k, size) in outputSizes.enumerated() {
            let d = outputGrads[k].base
            for b in samples {
                let row = d + b * size
                if let g = sequenceGrads[k] { row.update(from: g.base + (b * time + t) * size, count: size) } else { row.update(repeating: 0, count: size) }
                if t == time - 1, let g = lastGrads[k] { for i in 0..<size { row[i] += g.base[b * size + i] } }
                if maskedOutput == .previousOutput {
                    let pass = outputPasses[k].base + b * size
                    for i in 0..<size { row[i] += pass[i] }
                    pass.update(repeating: 0, count: size)
                }
            }
        }
        for (k, size) in stateSizes.enumerated() { (passes[k].base + samples.lowerBound * size).update(repeating: 0, count: samples.count * size) }
        for b in steps.maskedRows(step: t, in: samples) {
            for (k, size) in stateSizes.enumerated() {
                (passes[k].base + b * size).update(from: carries[k].base + b * size, count: size)
                (carries[k].base + b * size).update(repeating: 0, count: size)
            }
            for (k, size) in outputSizes.enumerated() {
                let d = outputGrads[k].base + b * size
                switch maskedOutput {
                case .zeros: break
                case .state(let i):
                    let pass = passes[i].base + b * size
                    for j in 0..<size { pass[j] += d[j] }
                case .previousOutput: (outputPasses[k].base + b * size).update(from: d, count: size)
                }
                d.update(repeating: 0, count: size)
            }
        }
        for (k, v) in program.newStates.enumerated() {
            runner.addDense(carries[k].base, into: v, step: t, samples: samples, part: part, assign: plan.assignedWrites.contains(.stateSeed(k)))
        }
        for (k, v) in program.outputs.enumerated() {
            runner.addDense(outputGrads[k].base, into: v, step: t, samples: samples, part: part, assign: plan.assignedWrites.contains(.outputSeed(k)))
        }
        for g in plan.stepGroups.indices.reversed() { runner.backwardStep(g, step: t, part: part) }
        for (k, v) in stateIDs.enumerated() {
            let size = stateSizes[k], first = samples.lowerBound * size
            let (carry, pass, d) = (carries[k].base + first, passes[k].base + first, runner.gradientPointer(v, step: t, part: part) + first)
            for i in 0..<(samples.count * size) { carry[i] = d[i] + pass[i] }
        }
    }
}
