import Testing
@testable import Recur
import RecurExamples

@Suite("RNN semantics: states, masks, dropout, direction, errors")
struct RecurrentSemanticsTests {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor.randomUniform(shape, low: -1, high: 1, generator: &g)
    }

    @Test func rnnOfLSTMCellEqualsLSTM() throws {
        let x = random([3, 6, 5], seed: 1)
        let lstm = LSTM(10, returnSequences: true), wrapped = RNN(LSTMCell(10), returnSequences: true)
        _ = try lstm(x); _ = try wrapped(x)
        try wrapped.setWeights(lstm.getWeights())
        expectClose(try lstm(x), try wrapped(x), "RNN(LSTMCell(10)) vs LSTM(10)")
    }

    @Test func statefulChunksEqualOneLongSequence() throws {
        let chunks = (0..<3).map { random([2, 4, 3], seed: UInt64(10 + $0)) }
        let stateful = LSTM(5, returnSequences: true, stateful: true)
        let plain = LSTM(5, returnSequences: true)
        _ = try plain(chunks[0])
        _ = try stateful(chunks[0])
        stateful.resetStates()
        try stateful.setWeights(plain.getWeights())
        let pieces = try chunks.map { try stateful($0) }
        let long = try plain(Tensor.concatenate(chunks, alongAxis: 1))
        expectClose(try Tensor.concatenate(pieces, alongAxis: 1), long, "three stateful chunks vs one sequence")
        #expect(stateful.states?.count == 2)
        #expect(stateful.getWeights().count == 3, "states are not weights")
        stateful.resetStates()
        #expect(stateful.states == nil)
        expectClose(try stateful(chunks[0]), pieces[0], "after resetStates the layer starts from zeros")
        let h = Tensor.ones([2, 5]), c = Tensor.zeros([2, 5])
        try stateful.resetStates(to: [h, c])
        #expect(stateful.states![0].scalars == h.scalars)
        #expect(throws: RecurError.self) { try stateful.resetStates(to: [h]) }
        #expect(throws: RecurError.self) { try stateful(random([3, 4, 3], seed: 1)) }
        // As Keras: resetting a layer that is not stateful does nothing; giving it states is an error.
        LSTM(5).resetStates()
        #expect(throws: RecurError.self) { try LSTM(5).resetStates(to: [h, c]) }
    }

    /// Keras's `layer.states` is zeros before the first call and after `reset_states()` when the
    /// batch size is declared.
    @Test func statesAreZerosBeforeTheFirstCallAndAfterAReset() throws {
        let lstm = LSTM(3, stateful: true, batchSize: 2)
        #expect(lstm.states?.map(\.shape) == [[2, 3], [2, 3]])
        #expect(lstm.states?.allSatisfy { $0.scalars.allSatisfy { $0 == 0 } } == true)
        _ = try lstm(random([2, 4, 5], seed: 3))
        #expect(lstm.states?[0].scalars.contains { $0 != 0 } == true)
        lstm.resetStates()
        #expect(lstm.states?.allSatisfy { $0.scalars.allSatisfy { $0 == 0 } } == true)
        #expect(LSTM(3).states == nil)
    }

    @Test func statesFeedAnotherLayersInitialState() throws {
        let p = (0..<3).map { random([4, 5, 3], seed: UInt64(20 + $0)) }
        let first = LSTM(6, stateful: true)
        _ = try first(p[0]); _ = try first(p[1])
        let existing = first.states!
        let second = LSTM(6)
        let out = try second.outputs(p[2], initialState: existing)[0]
        #expect(out.shape == [4, 6])
        let zero = try second.outputs(p[2], initialState: [Tensor.zeros([4, 6]), Tensor.zeros([4, 6])])[0]
        expectClose(zero, try second(p[2]), tolerance: 0, "no initial state means zeros, exactly")
    }

    @Test func initialStateErrorsNameLayerAndShapes() throws {
        let x = random([2, 3, 4], seed: 2)
        let lstm = LSTM(5, name: "decoder")
        do {
            _ = try lstm.outputs(x, initialState: [Tensor.zeros([2, 4]), Tensor.zeros([2, 5])])
            Issue.record("expected a shape error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("decoder") && text.contains("(2, 5)") && text.contains("(2, 4)"), "\(text)")
        }
        #expect(throws: RecurError.self) { try lstm.outputs(x, initialState: [Tensor.zeros([2, 5])]) }
        // Graph-build time, functional API.
        let input = Input(shape: [nil, 4])
        let h = Input(shape: [7]), c = Input(shape: [5])
        #expect(throws: RecurError.self) { try LSTM(5)(input, initialState: [h, c]) }
        #expect(throws: RecurError.self) { try LSTM(5, stateful: true)(input) }
        // As Keras's JAX and NumPy backends, `unroll` takes its number of steps from each call's input.
        #expect(try LSTM(5, unroll: true)(input).shape == [nil, 5])
        #expect(throws: RecurError.self) { try lstm.outputs(x, mask: Tensor.ones([2, 4])) }
        do {
            _ = try lstm.outputs(random([2, 3, 6], seed: 3))
            Issue.record("expected a feature-size error")
        } catch {
            #expect("\(error)".contains("decoder") && "\(error)".contains("(None, None, 4)") && "\(error)".contains("(2, 3, 6)"), "\(error)")
        }
    }

    @Test func rightPaddedMaskEqualsTruncatedSequences() throws {
        let x = random([2, 6, 3], seed: 3)
        let lengths = [6, 4]
        var maskValues: [Float] = []
        for l in lengths { maskValues += (0..<6).map { $0 < l ? 1 : 0 } }
        let mask = try Tensor(shape: [2, 6], scalars: maskValues)
        for layer in [LSTM(4, returnState: true) as RNN, GRU(4, returnState: true), SimpleRNN(4, returnState: true)] {
            let masked = try layer.outputs(x, mask: mask)
            for (row, l) in lengths.enumerated() {
                let sample = try x.slice(alongAxis: 0, row..<(row + 1)).slice(alongAxis: 1, 0..<l)
                let alone = try layer.outputs(sample)
                for (k, (m, a)) in zip(masked, alone).enumerated() {
                    expectClose(try m.slice(alongAxis: 0, row..<(row + 1)), a, "\(layer.className) output \(k) row \(row)")
                }
            }
        }
        let allMasked = try LSTM(4, returnSequences: true).outputs(x, mask: Tensor.zeros([2, 6]))[0]
        #expect(allMasked.scalars.allSatisfy { $0 == 0 })
    }

    @Test func maskingLayerAndEmbeddingMaskFlowThroughModels() throws {
        try withFreshLayerNames {
            var x = random([2, 5, 3], seed: 40)
            // Steps 3 and 4 of row 1 are padding.
            try x.withUnsafeMutableBufferPointer { p in for i in (1 * 15 + 9)..<(2 * 15) { p[i] = 0 } }
            let lstm = LSTM(4, returnSequences: true)
            let model = Sequential([Masking(maskValue: 0, inputShape: [5, 3]), lstm])
            let viaModel = try model.predictOnBatch(x)
            let mask = try Tensor(shape: [2, 5], scalars: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
            expectClose(viaModel, try lstm.outputs(x, mask: mask)[0], "Masking(0) = explicit mask")

            let ids = try Tensor(shape: [2, 4], scalars: [3, 1, 2, 0, 4, 0, 0, 0])
            let embedded = Sequential([Embedding(inputDim: 5, outputDim: 3, maskZero: true), GRU(4)])
            let out = try embedded.predictOnBatch(ids)
            let alone = try embedded.predictOnBatch(ids.slice(alongAxis: 1, 0..<3).slice(alongAxis: 0, 0..<1))
            expectClose(try out.slice(alongAxis: 0, 0..<1), alone, "maskZero: trailing zeros do not count")
            #expect(throws: RecurError.self) { try Masking().outputs(Tensor.zeros([2, 3])) }
        }
    }

    @Test func leadingMaskedStepsOutputTheInitialState() throws {
        // Keras's (non-unrolled) rule: a masked step outputs the carried state — h0 before any counted step.
        let x = random([1, 4, 3], seed: 41)
        let h0 = random([1, 5], seed: 42), c0 = random([1, 5], seed: 43)
        let mask = try Tensor(shape: [1, 4], scalars: [0, 0, 1, 1])
        for fused in [FusedKernelMode.always, .never] {
            let out = try LSTM(5, returnSequences: true, fused: fused).outputs(x, initialState: [h0, c0], mask: mask)[0]
            expectClose(try out.select(alongAxis: 1, index: 1), h0, tolerance: 0, "masked step 1 outputs h0")
        }
        // Keras's unrolled path repeats the previous output instead, zeros at first.
        let unrolled = try LSTM(5, returnSequences: true, unroll: true).outputs(x, initialState: [h0, c0], mask: mask)[0]
        #expect(try unrolled.select(alongAxis: 1, index: 1).scalars.allSatisfy { $0 == 0 })
    }

    @Test func functionalCallsWithInitialStateGetNoPropagatedMask() throws {
        // Keras populates a propagated mask only for a call with one tensor argument.
        try withFreshLayerNames {
            let ids = Input(shape: [nil]), h = Input(shape: [4]), c = Input(shape: [4])
            let embedded = try Embedding(inputDim: 6, outputDim: 3, maskZero: true)(ids)
            let lstm = LSTM(4, returnSequences: true)
            let model = try Model(inputs: [ids, h, c], outputs: lstm(embedded, initialState: [h, c]))
            let x = try Tensor(shape: [1, 3], scalars: [2, 0, 0])
            let h0 = Tensor.zeros([1, 4]), c0 = Tensor.zeros([1, 4])
            let out = try model.predictOnBatch([x, h0, c0])[0]
            let embedding = model.layers.first { $0 is Embedding }!
            let unmasked = try lstm.outputs(embedding.outputs(x)[0], initialState: [h0, c0])[0]
            expectClose(out, unmasked, "no mask applied")
        }
    }

    @Test func dropoutMasksAreDrawnOncePerSequence() throws {
        var dropout = SequenceDropout(rate: 0.4)
        let ones = Tensor.ones([200, 50])
        let first = try dropout.apply(ones, training: true), second = try dropout.apply(ones, training: true)
        #expect(first.scalars == second.scalars, "same mask at every timestep")
        let zeros = Float(first.scalars.filter { $0 == 0 }.count) / Float(first.count)
        #expect(abs(zeros - 0.4) < 0.02, "zero fraction \(zeros)")
        #expect(first.scalars.allSatisfy { $0 == 0 || abs($0 - 1 / 0.6) < 1e-6 })
        dropout.reset()
        #expect(try dropout.apply(ones, training: true).scalars != first.scalars)
        #expect(try dropout.apply(ones, training: false).scalars == ones.scalars)

        let x = random([4, 5, 3], seed: 4)
        let layer = LSTM(6, dropout: 0.5, recurrentDropout: 0.3)
        let inference = try layer(x)
        #expect(try layer(x).scalars == inference.scalars, "no dropout in inference")
        let a = try withRandomSeed(1) { try layer(x, training: true) }
        let b = try withRandomSeed(1) { try layer(x, training: true) }
        #expect(a.scalars == b.scalars, "seeded")
        #expect(a.scalars != inference.scalars)
    }

    @Test func fusedDropoutMatchesLoopDropout() throws {
        let x = random([4, 5, 3], seed: 5)
        let fused = LSTM(6, dropout: 0.5, fused: .always), loop = LSTM(6, dropout: 0.5, fused: .never)
        _ = try fused(x); _ = try loop(x)
        try loop.setWeights(fused.getWeights())
        let a = try withRandomSeed(2) { try fused(x, training: true) }
        let b = try withRandomSeed(2) { try loop(x, training: true) }
        expectClose(a, b, "same dropout mask on both paths")
    }

    @Test func goBackwardsReadsTheReversedSequence() throws {
        let x = random([2, 5, 3], seed: 6)
        for fused in [FusedKernelMode.always, .never] {
            let backward = LSTM(4, returnSequences: true, goBackwards: true, fused: fused)
            let forward = LSTM(4, returnSequences: true, fused: fused)
            _ = try backward(x); _ = try forward(x)
            try forward.setWeights(backward.getWeights())
            expectClose(try backward(x), try forward(x.reversed(alongAxis: 1)), "goBackwards = forward over reversed input")
        }
    }

    @Test func unrollGivesTheLoopNumbers() throws {
        let x = random([2, 5, 3], seed: 7)
        let unrolled = GRU(4, returnSequences: true, unroll: true), looped = GRU(4, returnSequences: true)
        _ = try unrolled(x); _ = try looped(x)
        try looped.setWeights(unrolled.getWeights())
        expectClose(try unrolled(x), try looped(x), "unroll")
    }

    @Test func bidirectionalMergesAndSplitsStates() throws {
        let x = random([2, 5, 3], seed: 8)
        let layer = Bidirectional(LSTM(4, returnSequences: true, returnState: true), mergeMode: .concat)
        let states = (0..<4).map { random([2, 4], seed: UInt64(30 + $0)) }
        let out = try layer.outputs(x, initialState: states)
        #expect(out.map(\.shape) == [[2, 5, 8], [2, 4], [2, 4], [2, 4], [2, 4]])
        let fw = try layer.forwardLayer.outputs(x, initialState: Array(states[0..<2]))
        let bw = try layer.backwardLayer.outputs(x, initialState: Array(states[2..<4]))
        expectClose(out[0], try Tensor.concatenate([fw[0], bw[0].reversed(alongAxis: 1)], alongAxis: -1), "concat")
        expectClose(out[3], bw[1], "backward h")
        #expect(throws: RecurError.self) { try layer.outputs(x, initialState: Array(states[0..<2])) }
        let none = Bidirectional(GRU(4), mergeMode: nil)
        #expect(try none.outputs(x).count == 2)
    }

    @Test func nestedCellTrainsWithTwoOutputs() throws {
        try withRandomSeed(11) { try withFreshLayerNames {
            let cell = NestedCell(unit1: 3, unit2: 2, unit3: 4)
            let input1 = Input(shape: [nil, 5]), input2 = Input(shape: [nil, 6, 2])
            let model = try Model(inputs: [input1, input2], outputs: RNN(cell).outputs([input1, input2]))
            try model.compile(optimizer: "adam", loss: "mse", metrics: ["accuracy"])
            var g = SeededGenerator(seed: 12)
            let x = [Tensor.randomUniform([16, 7, 5], generator: &g), Tensor.randomUniform([16, 7, 6, 2], generator: &g)]
            let y = [Tensor.randomUniform([16, 3], generator: &g), Tensor.randomUniform([16, 2, 4], generator: &g)]
            let history = try model.fit(x, y, batchSize: 8, epochs: 2, verbose: 0)
            #expect(history.history.keys.sorted() == ["loss", "rnn_1_accuracy", "rnn_1_loss", "rnn_accuracy", "rnn_loss"])
            #expect(history.history["loss"]![1] < history.history["loss"]![0])
            #expect(try model.predict(x).map(\.shape) == [[16, 3], [16, 2, 4]])
        } }
    }
}
