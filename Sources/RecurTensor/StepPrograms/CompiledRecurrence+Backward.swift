import CRecurKernels

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

        let buffers = StepBuffers(carries: carries.map(\.base), passes: passes.map(\.base), outputPasses: outputPasses.map(\.base),
                                  outputGrads: outputGrads.map(\.base), sequenceGrads: sequenceGrads.map { $0?.base },
                                  lastGrads: lastGrads.map { $0?.base }, stateSizes: stateSizes,
                                  stateSeeds: program.newStates.enumerated().map { k, v in (v, plan.assignedWrites.contains(.stateSeed(k))) },
                                  outputSeeds: program.outputs.enumerated().map { k, v in (v, plan.assignedWrites.contains(.outputSeed(k))) })
        parallelParts(runner.parts) { part, samples in
            for t in stride(from: time - 1, through: 0, by: -1) { backwardStep(t, part: part, samples: samples, buffers) }
        }
        withExtendedLifetime((carries, passes, outputPasses, outputGrads, sequenceGrads, lastGrads)) {}
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

    /// The backward loop's host buffers, by state or output: the carried state gradients, the parts of
    /// them that masked samples pass through a step, the output gradients that masked steps pass back
    /// (`.previousOutput`), the step's output gradients, and the seeds from the op's results.
    struct StepBuffers {
        let carries: [UnsafeMutablePointer<Float>]
        let passes: [UnsafeMutablePointer<Float>]
        let outputPasses: [UnsafeMutablePointer<Float>]
        let outputGrads: [UnsafeMutablePointer<Float>]
        let sequenceGrads: [UnsafeMutablePointer<Float>?]
        let lastGrads: [UnsafeMutablePointer<Float>?]
        let stateSizes: [Int]
        /// Each new state's and output's value, and whether its seed is stored, not added.
        let stateSeeds: [(value: Int, assign: Bool)]
        let outputSeeds: [(value: Int, assign: Bool)]
    }

    /// Step `t`'s backward pass on the samples of `part`: the output gradients, the carried state
    /// gradients (passed through unchanged for masked samples), then the program's pullbacks; leaves
    /// the gradients of the step's input states in `carries`.
    private func backwardStep(_ t: Int, part: Int, samples: Range<Int>, _ buffers: StepBuffers) {
        runner.zeroStepGradients(part: part)
        // Without a mask nothing passes through a step: no state gradient is set aside, and an output
        // with no gradient at this step (no sequence gradient, not the last step) adds nothing.
        let unmasked = steps.isEmpty
        func isSilent(_ k: Int) -> Bool {
            unmasked && buffers.sequenceGrads[k] == nil && (t != time - 1 || buffers.lastGrads[k] == nil) && !buffers.outputSeeds[k].assign
        }
        for (k, size) in outputSizes.enumerated() where !isSilent(k) {
            let rows = buffers.outputGrads[k] + samples.lowerBound * size, count = samples.count * size
            let last = t == time - 1 ? buffers.lastGrads[k] : nil
            if let g = buffers.sequenceGrads[k] {
                for b in samples { (buffers.outputGrads[k] + b * size).update(from: g + (b * time + t) * size, count: size) }
            } else {
                rows.update(repeating: 0, count: count)
            }
            if let last { addInPlace(last + samples.lowerBound * size, into: rows, count) }
            if maskedOutput == .previousOutput && !unmasked {
                let pass = buffers.outputPasses[k] + samples.lowerBound * size
                addInPlace(pass, into: rows, count)
                pass.update(repeating: 0, count: count)
            }
        }
        if !unmasked {
            for (k, size) in buffers.stateSizes.enumerated() { (buffers.passes[k] + samples.lowerBound * size).update(repeating: 0, count: samples.count * size) }
        }
        steps.forEachMaskedRow(step: t, in: samples) { b in
            for (k, size) in buffers.stateSizes.enumerated() {
                (buffers.passes[k] + b * size).update(from: buffers.carries[k] + b * size, count: size)
                (buffers.carries[k] + b * size).update(repeating: 0, count: size)
            }
            for (k, size) in outputSizes.enumerated() {
                let d = buffers.outputGrads[k] + b * size
                switch maskedOutput {
                case .zeros: break
                case .state(let i): addInPlace(d, into: buffers.passes[i] + b * size, size)
                case .previousOutput: (buffers.outputPasses[k] + b * size).update(from: d, count: size)
                }
                d.update(repeating: 0, count: size)
            }
        }
        for (k, seed) in buffers.stateSeeds.enumerated() {
            runner.addDense(buffers.carries[k], into: seed.value, step: t, samples: samples, part: part, assign: seed.assign)
        }
        for (k, seed) in buffers.outputSeeds.enumerated() where !isSilent(k) {
            runner.addDense(buffers.outputGrads[k], into: seed.value, step: t, samples: samples, part: part, assign: seed.assign)
        }
        runner.backwardStep(t, part: part)
        for (k, v) in stateIDs.enumerated() {
            let size = buffers.stateSizes[k], first = samples.lowerBound * size
            let d = runner.gradientPointer(v, step: t, part: part) + first
            if unmasked {
                (buffers.carries[k] + first).update(from: d, count: samples.count * size)
            } else {
                recur_binary(Int32(RECUR_ADD), d, 1, buffers.passes[k] + first, 1, buffers.carries[k] + first, samples.count * size)
            }
        }
    }
}
