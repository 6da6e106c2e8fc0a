import Foundation
import Testing
@testable import Recur

@Suite("Stateful layers and masked losses match real Keras")
struct KerasSemanticsFixtureTests {
    struct StatefulFixture: Decodable {
        struct ChunkOutput: Decodable { let output: FixtureTensor; let h: FixtureTensor; let c: FixtureTensor }
        let weights: [FixtureTensor]
        let chunks: [FixtureTensor]
        let chunk_outputs: [ChunkOutput]
        let long_input: FixtureTensor
        let long_output: FixtureTensor
        let after_reset_output: FixtureTensor
    }

    struct MaskedLossFixture: Decodable {
        let ids: FixtureTensor
        let targets: FixtureTensor
        let weights: [FixtureTensor]
        let predictions: FixtureTensor
        let evaluate: [String: Float]
    }

    @Test func statefulChunksMatchKeras() throws {
        let f = try JSONDecoder().decode(StatefulFixture.self, from: Fixtures.data("stateful.json"))
        let layer = LSTM(4, returnSequences: true, returnState: true, stateful: true, batchSize: 2)
        try layer.buildIfNeeded(inputShapes: [[2, 3, 3]])
        try layer.setWeights(f.weights.map(\.tensor))
        for (chunk, expected) in zip(f.chunks, f.chunk_outputs) {
            let out = try layer.outputs(chunk.tensor)
            expectClose(out[0], expected.output.tensor, "stateful output")
            expectClose(out[1], expected.h.tensor, "stateful h")
            expectClose(out[2], expected.c.tensor, "stateful c")
        }
        let long = LSTM(4, returnSequences: true)
        try long.buildIfNeeded(inputShapes: [[2, 9, 3]])
        try long.setWeights(f.weights.map(\.tensor))
        expectClose(try long(f.long_input.tensor), f.long_output.tensor, "one long sequence")
        layer.resetStates()
        expectClose(try layer.outputs(f.chunks[0].tensor)[0], f.after_reset_output.tensor, "after resetStates()")
    }

    @Test func maskedSequenceLossAndAccuracyMatchKeras() throws {
        let f = try JSONDecoder().decode(MaskedLossFixture.self, from: Fixtures.data("masked_loss.json"))
        try withFreshLayerNames {
            let model = Sequential([Embedding(inputDim: 7, outputDim: 3, maskZero: true), LSTM(4, returnSequences: true), Dense(5)])
            _ = try model.predictOnBatch(f.ids.tensor)
            try model.setWeights(f.weights.map(\.tensor))
            expectClose(try model.predictOnBatch(f.ids.tensor), f.predictions.tensor, "predictions")
            try model.compile(optimizer: "sgd", loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
            let logs = try model.evaluate(f.ids.tensor, f.targets.tensor, batchSize: 3, verbose: 0)
            #expect(abs(logs["loss"]! - f.evaluate["loss"]!) < 1e-5, "masked loss \(logs["loss"]!) vs \(f.evaluate["loss"]!)")
            #expect(abs(logs["accuracy"]! - f.evaluate["accuracy"]!) < 1e-6)
        }
    }
}
