import Foundation
import Testing
@testable import Recur

@Suite("Frozen layers match Keras")
struct FrozenLayerTests {
    /// Embedding, LSTM and BatchNormalization frozen in Keras (stored as `"trainable": false` in the
    /// `.keras` file), Dense trainable: 5 steps of SGD or Adam change only the Dense, the frozen
    /// BatchNormalization normalises with its moving statistics, and the weights and losses equal Keras's.
    @Test(arguments: ["sgd", "adam"])
    func fineTuningAFrozenModelMatchesKeras(_ run: String) throws {
        let fixture = try ParityFixtures.json("frozen_finetune.json")
        let model = try loadModel(path: ParityFixtures.path("frozen_finetune.keras"))
        let optimizer: Optimizer = run == "sgd" ? SGD(learningRate: 0.1) : Adam(learningRate: 0.01)
        try model.compile(optimizer: optimizer, loss: SparseCategoricalCrossentropy(fromLogits: true))
        let history = try model.fit(try fixture["x"]!.fixtureTensor, try fixture["y"]!.fixtureTensor,
                                    batchSize: 8, epochs: 5, shuffle: false, verbose: 0)
        let expected = fixture["runs"]![run]!
        let losses = history.history["loss"] ?? []
        let kerasLosses = expected["epoch_losses"]!.array!.map { Float($0.double!) }
        #expect(losses.count == 5)
        for (a, b) in zip(losses, kerasLosses) { #expect(abs(a - b) < 1e-5, "loss \(a) vs Keras \(b)") }
        let weights = model.getWeights()
        let kerasWeights = try expected["weights_after"]!.array!.map { try $0.fixtureTensor }
        #expect(weights.count == kerasWeights.count)
        for (w, k) in zip(weights, kerasWeights) {
            #expect(w.shape == k.shape)
            let worst = zip(w.scalars, k.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-5, "\(run): weight \(w.shape) differs from Keras by \(worst)")
        }
    }

    @Test func summaryCountsFrozenWeightsAsKerasDoes() throws {
        let fixture = try ParityFixtures.json("frozen_finetune.json")
        let model = try loadModel(path: ParityFixtures.path("frozen_finetune.keras"))
        #expect(model.summaryText() == fixture["summary_text"]!.string!.trimmingCharacters(in: .newlines))
    }

    @Test func freezingInSwiftFreezesNestedWeightsAndIsSaved() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lstm = LSTM(3)
        let model = withFreshLayerNames { Sequential([lstm, Dense(2)], inputShape: [4, 2]) }
        lstm.isTrainable = false
        #expect(model.trainableVariables.count == 2)
        #expect(model.nonTrainableVariables.count == 3)
        let path = dir.appendingPathComponent("frozen.keras").path
        try model.save(to: path)
        let loaded = try loadModel(path: path)
        #expect(loaded.trainableVariables.count == 2, "trainable: false is written to config.json and read back")
    }
}
