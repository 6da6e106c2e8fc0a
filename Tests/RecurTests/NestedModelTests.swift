import Foundation
import Testing
@testable import Recur

@Suite("Nested models, nested outputs and merged masks from .keras match Keras")
struct NestedModelTests {
    /// Each `.keras` file loads and predicts what Keras predicted (its `.npz`: input_i, output_i).
    @Test(arguments: ["nested_sequential", "nested_functional", "nested_output_rnn", "merged_masks", "merged_masks_add"])
    func loadsAndMatchesKeras(_ name: String) throws {
        let (model, inputs, expected) = try ParityFixtures.model(name)
        let outputs = try model.predict(inputs)
        #expect(outputs.count == expected.count, "\(name): \(outputs.count) outputs, Keras \(expected.count)")
        for (k, (out, exp)) in zip(outputs, expected).enumerated() {
            #expect(out.shape == exp.shape, "\(name) output \(k)")
            let worst = zip(out.scalars, exp.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-5, "\(name) output \(k) differs from Keras by \(worst)")
        }
    }

    @Test func aRecordedMaskThatIsNotRecursIsRefused() throws {
        // The Add file with its second branch's mask replaced by a mask of the first input only:
        // Recur would propagate right OR left, the file says right only.
        let archive = try ZipArchive(path: ParityFixtures.path("merged_masks_add.keras"))
        var config = String(decoding: try archive.contents(named: "config.json"), as: UTF8.self)
        config = config.replacingOccurrences(of: #""keras_history": ["not_equal_1", 0, 0]}}], "kwargs": {}}]"#,
                                             with: #""keras_history": ["not_equal", 0, 0]}}], "kwargs": {}}]"#)
        var writer = ZipWriter(path: "edited.keras")
        for entry in archive.entries {
            try writer.add(name: entry.name, data: entry.name == "config.json" ? Data(config.utf8) : try archive.contents(of: entry))
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("edited.keras").path
        try RecurFileIO.writeAtomically(writer.finish(), path: path)
        #expect(throws: RecurError.self) { _ = try loadModel(path: path) }
    }
}

extension NestedModelTests {
    /// A model read from Keras saves back to a `.keras` file that reads again to the same outputs.
    @Test(arguments: ["nested_sequential", "nested_functional", "nested_output_rnn", "merged_masks"])
    func roundTripsThroughRecursOwnSave(_ name: String) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (model, inputs, _) = try ParityFixtures.model(name)
        let path = dir.appendingPathComponent("\(name).keras").path
        try model.save(to: path)
        let again = try loadModel(path: path)
        let a = try model.predict(inputs), b = try again.predict(inputs)
        #expect(a.map(\.scalars) == b.map(\.scalars))
    }
}

@Suite("Summary of shared layers matches Keras")
struct SharedLayerSummaryTests {
    /// Printed by Keras 3.15.1 for the same model (keras.Model([left, right], d(cat([shared(left), shared(right)])))).
    static let kerasText = """
    Model: "functional"
    ┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
    ┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
    ┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
    │ left (InputLayer)   │ (None, 5, 3)      │          0 │ -                 │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ right (InputLayer)  │ (None, 5, 3)      │          0 │ -                 │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ shared (LSTM)       │ (None, 4)         │        128 │ left[0][0],       │
    │                     │                   │            │ right[0][0]       │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ cat (Concatenate)   │ (None, 8)         │          0 │ shared[0][0],     │
    │                     │                   │            │ shared[1][0]      │
    ├─────────────────────┼───────────────────┼────────────┼───────────────────┤
    │ d (Dense)           │ (None, 2)         │         18 │ cat[0][0]         │
    └─────────────────────┴───────────────────┴────────────┴───────────────────┘
     Total params: 146 (584.00 B)
     Trainable params: 146 (584.00 B)
     Non-trainable params: 0 (0.00 B)
    """

    @Test func aLayerCalledTwiceListsBothCalls() throws {
        let model = try withFreshLayerNames { () -> Model in
            let left = Input(shape: [5, 3], name: "left"), right = Input(shape: [5, 3], name: "right")
            let shared = LSTM(4, name: "shared")
            let merged = try Concatenate(name: "cat").outputs([try shared(left), try shared(right)])[0]
            return try Model(inputs: [left, right], outputs: Dense(2, name: "d")(merged))
        }
        #expect(model.summaryText() == Self.kerasText)
    }
}

extension NestedModelTests {
    /// With RECUR_KERAS_EXPORT_DIR set, writes the parity models as Recur saves them (nested models,
    /// nested outputs, merged masks, frozen layers) with Recur's outputs, for
    /// `scripts/make_keras_file_fixtures.py --check-recur DIR`, which loads them in Keras.
    @Test(.enabled(if: kerasExportDirectory != nil))
    func exportParityModelsForKerasCheck() throws {
        let dir = kerasExportDirectory!
        let models = try ["nested_sequential", "nested_functional", "nested_output_rnn", "merged_masks", "merged_masks_add"].map { name in
            let (model, inputs, _) = try ParityFixtures.model(name)
            return ("parity_\(name)", model, inputs)
        }
        try writeForKerasCheck(models, to: dir)
    }
}

extension NestedModelTests {
    /// A mask that comes through a Concatenate is written as Keras writes it: the mask ops, and the
    /// consumer's `mask` argument referring to them (Keras refuses the file without them: its own
    /// concatenate op takes the layer's name "concatenate"). Recur reads the ops back to the same
    /// outputs; a Masking branch, an unmasked branch and an Add of masked branches are covered.
    @Test func masksThroughConcatenateAreWrittenAsKerasOps() throws {
        let (model, inputs) = try withFreshLayerNames {
            try withRandomSeed(5) {
                let ids = Input(shape: [6], dtype: .int32), steps = Input(shape: [6, 2]), plain = Input(shape: [6, 3])
                let embedded = try Embedding(inputDim: 9, outputDim: 3, maskZero: true)(ids)
                let masked = try Masking()(steps)
                let joined = try Concatenate()([try LSTM(4, returnSequences: true)(embedded), try Dropout(0.1)(masked), plain])
                let summed = try Add()([try GRU(2, returnSequences: true)(embedded), try SimpleRNN(2, returnSequences: true)(masked)])
                let y = try Concatenate()([try LSTM(3)(joined), try GlobalAveragePooling1D()(summed)])
                var g = SeededGenerator(seed: 6)
                let idValues = try Tensor(shape: [3, 6], scalars: [1, 2, 3, 0, 0, 0, 4, 5, 6, 7, 8, 1, 2, 0, 0, 0, 0, 0])
                var stepValues = Tensor.randomUniform([3, 6, 2], low: -1, high: 1, generator: &g).scalars
                for t in 4..<6 { stepValues[(0 * 6 + t) * 2] = 0; stepValues[(0 * 6 + t) * 2 + 1] = 0 }
                return (try Model(inputs: [ids, steps, plain], outputs: y),
                        [idValues, try Tensor(shape: [3, 6, 2], scalars: stepValues), Tensor.randomUniform([3, 6, 3], generator: &g)])
            }
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("concatenated_masks.keras").path
        try model.save(to: path)
        let config = try #require(JSONSerialization.jsonObject(with: ZipArchive(path: path).contents(named: "config.json")) as? [String: Any])
        let layers = try #require((config["config"] as? [String: Any])?["layers"] as? [[String: Any]])
        let ops = layers.filter { ($0["module"] as? String) == "keras.src.ops.numpy" }.compactMap { $0["class_name"] as? String }
        #expect(Set(ops) == ["NotEqual", "Any", "ExpandDims", "ZerosLike", "LogicalOr", "OnesLike", "Concatenate"], "\(ops)")
        let lstm = try #require(layers.first { ($0["name"] as? String) == "lstm_1" })
        let kwargs = (lstm["inbound_nodes"] as? [[String: Any]])?.first?["kwargs"] as? [String: Any]
        let history = ((kwargs?["mask"] as? [String: Any])?["config"] as? [String: Any])?["keras_history"] as? [Any]
        #expect(history?.first as? String == "any_1", "\(String(describing: kwargs))")
        let again = try loadModel(path: path)
        #expect(try again.predict(inputs).map(\.scalars) == (try model.predict(inputs)).map(\.scalars))
        if let dir = kerasExportDirectory { try writeForKerasCheck([("concatenated_masks", model, inputs)], to: dir) }
    }
}

extension NestedModelTests {
    /// Keras's `model.layers` order counts the mask ops in its graph, which can put a shallower layer
    /// first: a model read from a Keras file keeps that file's order for its weights (two SimpleRNNs
    /// of one kernel shape would otherwise swap their weights without an error).
    @Test func weightsFollowTheKerasFilesLayerOrder() throws {
        try expectParityModelMatchesKeras("layer_order_masked_concatenate")
        let (model, _, _) = try ParityFixtures.model("layer_order_masked_concatenate")
        let recurrent = KerasWeightsFile.kerasLayerOrder(model).filter { $0 is SimpleRNN }.map(\.name)
        #expect(recurrent == ["simple_rnn", "simple_rnn_1"])
    }
}

extension NestedModelTests {
    /// The same graph built in Swift: its files list the layers in the order Keras computes from
    /// them, mask ops counted (the embedding's SimpleRNN first), so that Keras reads its weights into
    /// the right layers (`--check-recur` with RECUR_KERAS_EXPORT_DIR).
    @Test func swiftBuiltModelsFollowKerasOrderWithMaskOps() throws {
        let (model, inputs) = try withFreshLayerNames {
            try withRandomSeed(8) {
                let ids = Input(shape: [5], dtype: .int32), plain = Input(shape: [5, 2]), steps = Input(shape: [5, 4])
                let first = SimpleRNN(3, returnSequences: true, name: "first")
                let second = SimpleRNN(3, returnSequences: true, name: "second")
                let joined = try Concatenate()([try first(try Embedding(inputDim: 12, outputDim: 4, maskZero: true)(ids)),
                                                try Dropout(0.1)(plain), try Dropout(0.1)(try second(steps))])
                let model = try Model(inputs: [ids, plain, steps], outputs: try Dense(2)(try LSTM(3)(joined)))
                var g = SeededGenerator(seed: 9)
                let tokens = try Tensor(shape: [3, 5], scalars: [1, 2, 3, 0, 0, 4, 0, 0, 0, 0, 5, 6, 7, 8, 9])
                return (model, [tokens, Tensor.randomUniform([3, 5, 2], generator: &g), Tensor.randomUniform([3, 5, 4], generator: &g)])
            }
        }
        let recurrent = KerasWeightsFile.kerasLayerOrder(model).filter { $0 is SimpleRNN }.map(\.name)
        #expect(recurrent == ["first", "second"])
        try expectKerasRoundTrip([("swift_masked_concatenate", model, inputs)])
        if let dir = kerasExportDirectory { try writeForKerasCheck([("swift_masked_concatenate", model, inputs)], to: dir) }
    }
}
