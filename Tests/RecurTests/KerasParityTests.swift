import Foundation
import Testing
@testable import Recur

/// Fixtures from scripts/make_keras_parity_fixtures.py (Fixtures/parity): numbers from real Keras.
enum ParityFixtures {
    static let directory = Fixtures.directory.appendingPathComponent("parity")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    static func json(_ name: String) throws -> JSONValue {
        try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent(name)), label: name)
    }
}

extension JSONValue {
    /// A `{"shape", "values"}` fixture array.
    var fixtureTensor: Tensor {
        get throws {
            try Tensor(shape: (self["shape"]?.array ?? []).compactMap(\.int), scalars: (self["values"]?.array ?? []).compactMap(\.double).map(Float.init))
        }
    }
}

@Suite("Keras parity: metrics, losses")
struct KerasParityTests {
    static let accuracyCases: [String] = {
        (try? ParityFixtures.json("binary_accuracy.json"))?["cases"]?.array?.compactMap { $0["case"]?.string } ?? []
    }()

    /// `evaluate` with `metrics: ["accuracy"]` on every label/prediction shape Keras accepts, against
    /// Keras's own `evaluate` (labels (n,) against a sigmoid's (n, 1) used to broadcast to (n, n)).
    @Test(arguments: accuracyCases)
    func accuracyAndLossMatchKerasEvaluate(_ name: String) throws {
        let all = try ParityFixtures.json("binary_accuracy.json")["cases"]!.array!
        let c = all.first { $0["case"]?.string == name }!
        let spec = c["model"]!["layers"]!.array![0]
        let x = try c["x"]!.fixtureTensor, y = try c["y"]!.fixtureTensor
        let model = try withFreshLayerNames {
            try Sequential([Dense(spec["units"]!.int!, activation: Activation(rawValue: spec["activation"]!.string!)!)],
                           inputShape: spec["input_shape"]!.array!.map(\.int))
        }
        try model.setWeights(c["model"]!["weights"]!.array!.map { try $0.fixtureTensor })
        try model.compile(optimizer: SGD(), loss: lossNamed(c["compile"]!["loss"]!.string!), metrics: ["accuracy"])
        let logs = try model.evaluate(x, y, batchSize: x.shape[0], verbose: 0)
        let expected = c["evaluate"]!
        #expect(abs(logs["accuracy"]! - Float(expected["accuracy"]!.double!)) < 1e-6, "\(name): \(logs)")
        #expect(abs(logs["loss"]! - Float(expected["loss"]!.double!)) < 1e-6, "\(name): \(logs)")
    }

    @Test func mismatchedLabelsAreAnErrorNotABroadcast() throws {
        let p = try Tensor(shape: [4, 1], scalars: [0.9, 0.1, 0.8, 0.3])
        #expect(throws: RecurError.self) { _ = try Metric.binaryAccuracy.perSample(Tensor.zeros([3]), p) }
        #expect(throws: RecurError.self) { _ = try Metric.sparseCategoricalAccuracy.perSample(Tensor.zeros([4, 2]), Tensor.zeros([4, 3])) }
    }
}

@Suite("Keras parity: frozen layers")
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
        let model = try withFreshLayerNames { try Sequential([lstm, Dense(2)], inputShape: [4, 2]) }
        lstm.isTrainable = false
        #expect(model.trainableVariables.count == 2)
        #expect(model.nonTrainableVariables.count == 3)
        let path = dir.appendingPathComponent("frozen.keras").path
        try model.save(to: path)
        let loaded = try loadModel(path: path)
        #expect(loaded.trainableVariables.count == 2, "trainable: false is written to config.json and read back")
    }
}

@Suite("Keras parity: nested models, nested outputs, merged masks from .keras")
struct KerasParityFileTests {
    /// Each `.keras` file loads and predicts what Keras predicted (its `.npz`: input_i, output_i).
    @Test(arguments: ["nested_sequential", "nested_functional", "nested_output_rnn", "merged_masks", "merged_masks_add"])
    func loadsAndMatchesKeras(_ name: String) throws {
        let model = try loadModel(path: ParityFixtures.path("\(name).keras"))
        let arrays = try NumpyFile.loadNpz(path: ParityFixtures.path("\(name).npz"))
        let inputs = (0..<arrays.count).compactMap { arrays["input_\($0)"] }
        let expected = (0..<arrays.count).compactMap { arrays["output_\($0)"] }
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

extension KerasParityFileTests {
    /// A model read from Keras saves back to a `.keras` file that reads again to the same outputs.
    @Test(arguments: ["nested_sequential", "nested_functional", "nested_output_rnn", "merged_masks"])
    func roundTripsThroughRecursOwnSave(_ name: String) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try loadModel(path: ParityFixtures.path("\(name).keras"))
        let path = dir.appendingPathComponent("\(name).keras").path
        try model.save(to: path)
        let again = try loadModel(path: path)
        let arrays = try NumpyFile.loadNpz(path: ParityFixtures.path("\(name).npz"))
        let inputs = (0..<arrays.count).compactMap { arrays["input_\($0)"] }
        let a = try model.predict(inputs), b = try again.predict(inputs)
        #expect(a.map(\.scalars) == b.map(\.scalars))
    }
}

@Suite("Keras parity: summary of shared layers")
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

@Suite("Keras parity: sample and class weights")
struct SampleWeightTests {
    static func model(_ c: JSONValue) throws -> Model {
        let spec = c["model"]!["layers"]!.array![0]
        let model = try withFreshLayerNames {
            try Sequential([Dense(spec["units"]!.int!, activation: Activation(rawValue: spec["activation"]!.string!)!)],
                           inputShape: spec["input_shape"]!.array!.map(\.int))
        }
        try model.setWeights(c["model"]!["weights"]!.array!.map { try $0.fixtureTensor })
        try model.compile(optimizer: SGD(learningRate: 0.1), loss: lossNamed(c["compile"]!["loss"]!.string!),
                          metrics: ["accuracy"], weightedMetrics: ["accuracy"])
        return model
    }

    static func expectLogs(_ logs: Logs, _ expected: JSONValue, _ what: String) {
        for key in ["loss", "accuracy", "weighted_accuracy"] {
            let want = Float(expected[key]!.double!)
            #expect(logs[key].map { abs($0 - want) < 1e-6 } == true, "\(what) \(key): \(logs[key] ?? .nan) vs Keras \(want)")
        }
    }

    static func expectWeights(_ model: Model, _ expected: JSONValue, _ what: String) throws {
        for (w, k) in zip(model.getWeights(), try expected.array!.map { try $0.fixtureTensor }) {
            let worst = zip(w.scalars, k.scalars).map { abs($0 - $1) }.max() ?? 1
            #expect(worst < 1e-6, "\(what): weights differ from Keras by \(worst)")
        }
    }

    @Test(arguments: ["binary", "sparse"])
    func weightedLossesMetricsAndStepsMatchKeras(_ name: String) throws {
        let c = try ParityFixtures.json("sample_class_weights.json")["cases"]!.array!.first { $0["case"]?.string == name }!
        let x = try c["x"]!.fixtureTensor, y = try c["y"]!.fixtureTensor, sw = try c["sample_weight"]!.fixtureTensor
        let classWeight = Dictionary(uniqueKeysWithValues: c["class_weight"]!.object!.map { (Int($0.key)!, Float($0.value.double!)) })
        Self.expectLogs(try Self.model(c).evaluate(x, y, batchSize: 64, verbose: 0), c["evaluate"]!, "\(name) evaluate")
        Self.expectLogs(try Self.model(c).evaluate(x, y, batchSize: 64, sampleWeight: sw, verbose: 0), c["evaluate_sample_weight"]!, "\(name) evaluate(sampleWeight)")
        let byClass = try Self.model(c)
        Self.expectLogs(try byClass.trainOnBatch([x], [y], classWeight: classWeight), c["train_on_batch_class_weight"]!["result"]!, "\(name) trainOnBatch(classWeight)")
        try Self.expectWeights(byClass, c["train_on_batch_class_weight"]!["weights_after"]!, "\(name) classWeight step")
        let bySample = try Self.model(c)
        Self.expectLogs(try bySample.trainOnBatch([x], [y], sampleWeight: sw), c["train_on_batch_sample_weight"]!["result"]!, "\(name) trainOnBatch(sampleWeight)")
        try Self.expectWeights(bySample, c["train_on_batch_sample_weight"]!["weights_after"]!, "\(name) sampleWeight step")
        let fitted = try Self.model(c)
        let history = try fitted.fit(x, y, batchSize: 64, epochs: 1, shuffle: false, classWeight: classWeight, verbose: 0)
        #expect(abs((history.history["loss"]?.first ?? .nan) - Float(c["fit_class_weight_loss"]!.double!)) < 1e-6)
    }
}

extension KerasParityFileTests {
    /// With RECUR_KERAS_EXPORT_DIR set, writes the parity models as Recur saves them (nested models,
    /// nested outputs, merged masks, frozen layers) with Recur's outputs, for
    /// `scripts/make_keras_file_fixtures.py --check-recur DIR`, which loads them in Keras.
    @Test(.enabled(if: kerasExportDirectory != nil))
    func exportParityModelsForKerasCheck() throws {
        let dir = kerasExportDirectory!
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["nested_sequential", "nested_functional", "nested_output_rnn", "merged_masks", "merged_masks_add"] {
            let model = try loadModel(path: ParityFixtures.path("\(name).keras"))
            let arrays = try NumpyFile.loadNpz(path: ParityFixtures.path("\(name).npz"))
            let inputs = (0..<arrays.count).compactMap { arrays["input_\($0)"] }
            try model.save(to: "\(dir)/parity_\(name).keras")
            try model.saveKerasWeights(to: "\(dir)/parity_\(name).weights.h5")
            let outputs = try model.predictOnBatch(inputs)
            try NumpyFile.saveNpz(inputs.enumerated().map { ("input_\($0.offset)", $0.element) }
                                  + outputs.enumerated().map { ("output_\($0.offset)", $0.element) }, path: "\(dir)/parity_\(name).npz")
        }
    }
}
