import Testing
@testable import Recur

/// The fused whole-sequence kernels and the cell loop give the same outputs, states and gradients.
@Suite("Fused kernels agree with the cell loop")
struct FusedKernelTests {
    struct Case: CustomStringConvertible, Sendable {
        let kind: String
        let returnSequences: Bool
        let goBackwards: Bool
        let initialState: Bool
        let training: Bool
        var masked = false
        /// `zeroOutputForMask`: masked steps output zeros (as Bidirectional's layers do).
        var zeroed = false
        /// 17 rows make a 16-row block and a 1-row block in the fused kernels; 150 rows, ten blocks
        /// claimed by the threads in turn (`recurrenceBlockRows`).
        var batch = 3
        var description: String { "\(kind) seq=\(returnSequences) back=\(goBackwards) init=\(initialState) mask=\(masked) zeroed=\(zeroed) batch=\(batch)" }
    }

    static let cases: [Case] = ["lstm", "gru", "gru_reset_before", "simple"].flatMap { kind in
        [(false, false, false), (true, false, false), (true, true, false), (false, true, true), (true, false, true)].map {
            Case(kind: kind, returnSequences: $0.0, goBackwards: $0.1, initialState: $0.2, training: false)
        } + [(true, false, true), (false, true, false), (true, true, true)].map {
            Case(kind: kind, returnSequences: $0.0, goBackwards: $0.1, initialState: $0.2, training: false, masked: true)
        } + [Case(kind: kind, returnSequences: true, goBackwards: true, initialState: true, training: false, masked: true, batch: 17),
             Case(kind: kind, returnSequences: false, goBackwards: false, initialState: false, training: false, batch: 17),
             Case(kind: kind, returnSequences: true, goBackwards: false, initialState: true, training: false, masked: true, batch: 150),
             Case(kind: kind, returnSequences: true, goBackwards: true, initialState: false, training: false, masked: true, zeroed: true, batch: 150),
             Case(kind: kind, returnSequences: false, goBackwards: false, initialState: true, training: false, masked: true, zeroed: true)]
    }

    /// Right padding, a gap, left padding and (from row 3 on) a fully masked row, cycling over the batch.
    static func mask(batch: Int) -> Tensor {
        let rows: [[Float]] = [[1, 1, 1, 1, 1, 0, 0], [1, 1, 0, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0]]
        let pattern = (0..<batch).flatMap { rows[$0 < 3 ? $0 : $0 % 4] }
        return try! Tensor(shape: [batch, 7], scalars: pattern)
    }

    static func makePair(_ c: Case) -> (fused: RNN, loop: RNN) {
        func make(_ mode: FusedKernelMode) -> RNN {
            switch c.kind {
            case "lstm": return LSTM(5, returnSequences: c.returnSequences, returnState: true, goBackwards: c.goBackwards, fused: mode)
            case "gru": return GRU(5, returnSequences: c.returnSequences, returnState: true, goBackwards: c.goBackwards, fused: mode)
            case "gru_reset_before":
                return GRU(5, resetAfter: false, returnSequences: c.returnSequences, returnState: true, goBackwards: c.goBackwards, fused: mode)
            default: return SimpleRNN(5, returnSequences: c.returnSequences, returnState: true, goBackwards: c.goBackwards, fused: mode)
            }
        }
        func configured(_ mode: FusedKernelMode) -> RNN {
            let layer = make(mode)
            guard c.zeroed, let fusable = layer as? FusedRNN else { return layer }
            var options = fusable.options
            options.zeroOutputForMask = true
            return type(of: fusable).init(cell: fusable.cellConfiguration, options: options, fused: mode)
        }
        return (configured(.always), configured(.never))
    }

    @Test(arguments: cases)
    func fusedMatchesLoop(_ c: Case) throws {
        var g = SeededGenerator(seed: 11)
        let x = Tensor.randomUniform([c.batch, 7, 4], low: -1, high: 1, generator: &g)
        let (fused, loop) = Self.makePair(c)
        try fused.buildIfNeeded(inputShapes: [[c.batch, 7, 4]])
        try loop.buildIfNeeded(inputShapes: [[c.batch, 7, 4]])
        // Random weights, including a nonzero bias.
        let weights = fused.getWeights().map { Tensor.randomUniform($0.shape, low: -0.6, high: 0.6, generator: &g) }
        try fused.setWeights(weights)
        try loop.setWeights(weights)
        let states = c.initialState ? fused.cell.stateShapes.map { Tensor.randomUniform([c.batch] + $0, low: -1, high: 1, generator: &g) } : []

        func run(_ layer: RNN) throws -> (outputs: [Tensor], grads: [Tensor]) {
            let xs = x.requiringGradient()
            let s0 = states.map { $0.requiringGradient() }
            for v in layer.trainableVariables { v.value = v.value.requiringGradient() }
            defer { for v in layer.trainableVariables { v.value = v.value.detached } }
            let outs = try layer.outputs(xs, initialState: s0, mask: c.masked ? Self.mask(batch: c.batch) : nil)
            var gen = SeededGenerator(seed: 5)
            var loss = Tensor(0)
            for o in outs { loss = try loss + (o * Tensor.randomUniform(o.shape, low: -1, high: 1, generator: &gen)).sum() }
            return (outs, try gradients(of: loss, wrt: [xs] + s0 + layer.trainableVariables.map(\.value)))
        }
        let a = try run(fused), b = try run(loop)
        #expect((fused as? FusedRNN)?.lastRunWasFused == true)
        // Inference (nothing requires a gradient) keeps only what the outputs need and computes each
        // step's x·W + b as it runs: the same values up to the rounding of another summation order.
        let inference = try fused.outputs(x, initialState: states, mask: c.masked ? Self.mask(batch: c.batch) : nil)
        for (k, (p, q)) in zip(inference, a.outputs).enumerated() { expectClose(p, q, tolerance: 1e-6, "inference output \(k)") }
        #expect(a.outputs.count == b.outputs.count)
        for (k, (p, q)) in zip(a.outputs, b.outputs).enumerated() { expectClose(p, q, "output \(k)") }
        // The weights' gradients are sums over every batch × time row, added in another order by each
        // path (and split differently per thread count): 1e-5 relative to their largest value.
        for (k, (p, q)) in zip(a.grads, b.grads).enumerated() {
            let scale = q.scalars.reduce(Float(1)) { Swift.max($0, Swift.abs($1)) }
            expectClose(p, q, tolerance: 1e-5 * scale, "gradient \(k)")
        }
    }

    /// Inference with a projection over 256 KiB (T·B·G scalars over 65,536) computes each step's x·W + b
    /// as it runs, x read in place with its batch stride; 33 rows split 17/16 over two threads.
    @Test(arguments: ["lstm", "gru", "gru_reset_before", "simple"], [false, true])
    func largeInferenceComputesEachStepsProjection(kind: String, goBackwards: Bool) throws {
        var g = SeededGenerator(seed: 21)
        let (batch, time, features, units) = (33, 40, 5, 64)
        let x = Tensor.randomUniform([batch, time, features], low: -1, high: 1, generator: &g)
        // Gate widths 256 (LSTM; SimpleRNN of 256 units) and 192 (GRU): 40·33·192 > 65,536.
        func make(_ mode: FusedKernelMode) -> RNN {
            switch kind {
            case "lstm": return LSTM(units, returnSequences: true, goBackwards: goBackwards, fused: mode)
            case "gru": return GRU(units, returnSequences: true, goBackwards: goBackwards, fused: mode)
            case "gru_reset_before": return GRU(units, resetAfter: false, returnSequences: true, goBackwards: goBackwards, fused: mode)
            default: return SimpleRNN(units * 4, returnSequences: true, goBackwards: goBackwards, fused: mode)
            }
        }
        let (big, bigLoop) = (make(.auto), make(.never))
        try big.buildIfNeeded(inputShapes: [[batch, time, features]])
        try bigLoop.buildIfNeeded(inputShapes: [[batch, time, features]])
        let weights = big.getWeights().map { Tensor.randomUniform($0.shape, low: -0.3, high: 0.3, generator: &g) }
        try big.setWeights(weights)
        try bigLoop.setWeights(weights)
        let longMask = try Tensor.concatenate(Array(repeating: Self.mask(batch: batch), count: 6), alongAxis: 1).slice(alongAxis: 1, 0..<time)
        for m in [nil, longMask] {
            let a = try big.outputs(x, mask: m), b = try bigLoop.outputs(x, mask: m)
            #expect((big as? FusedRNN)?.lastRunWasFused == true)
            for (p, q) in zip(a, b) { expectClose(p, q, "\(kind) goBackwards \(goBackwards) mask \(m != nil)") }
        }
    }

    @Test func alwaysThrowsWithTheReason() throws {
        let layer = LSTM(4, recurrentDropout: 0.2, fused: .always)
        let x = Tensor.zeros([2, 3, 5])
        do {
            _ = try layer.outputs(x, training: true)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("recurrentDropout"))
        }
        let relu = GRU(4, activation: .relu, fused: .always)
        #expect(throws: RecurError.self) { try relu.outputs(x) }
    }

    @Test func autoFallsBackAndStillComputes() throws {
        let layer = LSTM(4, unroll: true)
        let out = try layer.outputs(Tensor.ones([2, 3, 5]))
        #expect(layer.lastRunWasFused == false)
        #expect(out[0].shape == [2, 4])
        let plain = LSTM(4)
        _ = try plain.outputs(Tensor.ones([2, 3, 5]))
        #expect(plain.lastRunWasFused)
    }

    /// Single samples (which split the units across threads and keep the packed weights between calls)
    /// predict what the same samples predict in a batch (split by rows), before and after training
    /// steps and `setWeights` change the weights.
    @Test(arguments: ["lstm", "gru"])
    func singleSamplePredictionsFollowWeightChanges(_ cell: String) throws {
        var g = SeededGenerator(seed: 12)
        let recurrent: Layer = cell == "lstm" ? LSTM(64) : GRU(64)
        let model = Sequential([recurrent, Dense(3)], inputShape: [6, 5])
        try model.compile(optimizer: Adam(learningRate: 0.05), loss: MeanSquaredError())
        let x = Tensor.randomUniform([8, 6, 5], generator: &g), y = Tensor.randomUniform([8, 3], generator: &g)
        func expectSinglesMatchBatch(_ label: String) throws {
            let batch = try model.predictOnBatch(x).hostScalars()
            for row in [0, 5] {
                let single = try model.predictOnBatch(try x.slice(alongAxis: 0, row..<(row + 1))).hostScalars()
                let again = try model.predictOnBatch(try x.slice(alongAxis: 0, row..<(row + 1))).hostScalars()
                let expected = Array(batch[(row * 3)..<(row * 3 + 3)])
                #expect(zip(single, expected).allSatisfy { abs($0 - $1) <= 1e-5 } && single == again, "\(cell) \(label) row \(row): \(single) \(again) vs \(expected)")
            }
        }
        try expectSinglesMatchBatch("before training")
        for step in 0..<2 {
            _ = try model.trainOnBatch([x], [y])
            try expectSinglesMatchBatch("after step \(step)")
        }
        try model.setWeights(model.getWeights().map { $0.scaled(by: 0.5) })
        try expectSinglesMatchBatch("after setWeights")
    }
}
