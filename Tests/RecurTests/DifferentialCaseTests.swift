import Foundation
import Testing
@testable import Recur

/// Models on which `scripts/keras_differential.py` (random models, Recur against Keras) once found
/// Recur differing from Keras, kept with Keras's inputs, outputs and summary (Fixtures/differential/:
/// NAME.keras, NAME.npz with input_i and output_i, NAME.summary.txt).
@Suite struct DifferentialCaseTests {
    static let directory = Fixtures.directory.appendingPathComponent("differential")

    static var allNames: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".keras") }.map { String($0.dropLast(".keras".count)) }.sorted()
    }

    /// Training cases have NAME.fit.json (batch size, epochs, validation split, Keras's history) and,
    /// in NAME.npz, input_i, target_i, maybe sample_weight, and Keras's weights after fitting
    /// (trained_i, in `get_weights()` order).
    static var trainingCaseNames: [String] {
        allNames.filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent("\($0).fit.json").path) }
    }

    static var caseNames: [String] { allNames.filter { !trainingCaseNames.contains($0) } }

    @Test func everyCaseIsKept() {
        #expect(Self.caseNames.count >= 1, "no inference cases under \(Self.directory.path)")
        #expect(Self.trainingCaseNames.count >= 2, "no training cases under \(Self.directory.path)")
    }

    /// `fit` of the model Keras saved compiled, unshuffled as Keras fitted it, ends at Keras's weights
    /// (1e-4: two epochs of rounding through adaptive optimizers) with Keras's epoch losses.
    @Test(arguments: trainingCaseNames) func trainingCaseMatchesKeras(_ name: String) throws {
        let file = { (suffix: String) in Self.directory.appendingPathComponent(name + suffix).path }
        let fit = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: file(".fit.json"))), label: name)
        let arrays = try NumpyFile.loadNpz(path: file(".npz"))
        let series = { (key: String) in (0..<arrays.count).compactMap { arrays["\(key)_\($0)"] } }
        let model = try loadModel(path: file(".keras"))
        let history = try model.fit(series("input"), series("target"), batchSize: fit["batch_size"]?.int ?? 0,
                                    epochs: fit["epochs"]?.int ?? 0, validationSplit: Float(fit["validation_split"]?.double ?? 0),
                                    shuffle: false, sampleWeight: arrays["sample_weight"], verbose: 0)
        let trained = series("trained"), weights = model.getWeights()
        #expect(weights.count == trained.count && !trained.isEmpty)
        for (k, (weight, want)) in zip(weights, trained).enumerated() {
            expectClose(weight, want, tolerance: 1e-4, "\(name) weight \(k)")
        }
        // Every loss Keras logged (loss, val_loss, per-output losses), epoch by epoch.
        let kerasHistory = fit["history"]?.object ?? [:]
        #expect(kerasHistory["loss"] != nil)
        for (key, values) in kerasHistory where key.hasSuffix("loss") {
            let kerasValues = values.array?.compactMap(\.double).map(Float.init) ?? []
            #expect(kerasValues.count == history.history[key]?.count, "\(name): \(key) \(history.history[key] ?? []) vs Keras \(kerasValues)")
            for (mine, theirs) in zip(history.history[key] ?? [], kerasValues) {
                #expect(abs(mine - theirs) <= 1e-4 * (1 + abs(theirs)), "\(name) \(key) \(mine) vs Keras \(theirs)")
            }
        }
    }

    /// Keras's outputs (1e-5), its summary line for line, and a round trip through Recur's own files.
    @Test(arguments: caseNames) func caseMatchesKeras(_ name: String) throws {
        try expectParityModelMatchesKeras(name, in: Self.directory)
        let summary = try String(contentsOf: Self.directory.appendingPathComponent("\(name).summary.txt"), encoding: .utf8)
        let model = try loadModel(path: Self.directory.appendingPathComponent("\(name).keras").path)
        #expect(model.summaryText() == summary.trimmingCharacters(in: .newlines), "\(model.summaryText())")
    }

    /// `recur fit` does the same from the command line: arrays from `.npy` files, the trained model
    /// saved as `.keras` and the epoch logs as JSON.
    @Test func theFitCommandTrainsAsKeras() throws {
        let name = "masked_batch_norm_training"
        let file = { (suffix: String) in Self.directory.appendingPathComponent(name + suffix).path }
        let arrays = try NumpyFile.loadNpz(path: file(".npz"))
        let fit = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: file(".fit.json"))), label: name)
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = { (name: String) in dir.appendingPathComponent(name).path }
        try NumpyFile.saveNpy(try #require(arrays["input_0"]), path: path("x.npy"))
        try NumpyFile.saveNpy(try #require(arrays["target_0"]), path: path("y.npy"))
        let result = try BackupAndRestoreTests.run(["fit", file(".keras"), "--input", path("x.npy"), "--target", path("y.npy"),
                                                    "--epochs", "2", "--batch-size", String(fit["batch_size"]?.int ?? 0), "--no-shuffle",
                                                    "--verbose", "0", "--save", path("trained.keras"), "--history", path("history.json")])
        #expect(result.status == 0)
        let weights = try loadModel(path: path("trained.keras")).getWeights()
        let trained = (0..<arrays.count).compactMap { arrays["trained_\($0)"] }
        #expect(weights.count == trained.count)
        for (k, (weight, want)) in zip(weights, trained).enumerated() { expectClose(weight, want, tolerance: 1e-4, "weight \(k)") }
        let history = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path("history.json"))), label: "history.json")
        let losses = history["loss"]?.array?.compactMap(\.double) ?? [], kerasLosses = fit["history"]?["loss"]?.array?.compactMap(\.double) ?? []
        #expect(losses.count == 2 && kerasLosses.count == 2)
        for (mine, theirs) in zip(losses, kerasLosses) { #expect(abs(mine - theirs) <= 1e-4 * (1 + abs(theirs))) }
        // An uncompiled model is refused, naming what to do.
        let refusal = try BackupAndRestoreTests.refusal(["fit", Self.directory.appendingPathComponent("initial_state_mask_downstream.keras").path,
                                                         "--input", path("x.npy"), "--target", path("y.npy"), "--save", path("no.keras")])
        #expect(refusal.failed && refusal.standardError.contains("compile"), "\(refusal.standardError)")
        #expect(!FileManager.default.fileExists(atPath: path("no.keras")))
    }

    /// Keras's `validation_split` keeps ⌊n·(1 − split)⌋ samples for training (the training cases check
    /// where that differs from n − ⌊n·split⌋), and refuses a split that leaves no training sample.
    @Test func aValidationSplitThatLeavesNothingIsRefused() throws {
        try withRandomSeed(3) {
            let model = Sequential([Dense(1)], inputShape: [2])
            try model.compile(optimizer: SGD(), loss: MeanSquaredError())
            let x = Tensor.ones([3, 2]), y = Tensor.ones([3, 1])
            #expect(throws: RecurError.self) { try model.fit(x, y, validationSplit: 0.7, verbose: 0) }  // ⌊3·0.3⌋ = 0
            #expect(try model.fit(x, y, validationSplit: 0.4, verbose: 0).history["val_loss"]?.count == 1)
        }
    }

    /// Keras compiles from a saved compile config only when it is there and not empty: `{}`, as an
    /// uncompiled model may save, loads the model uncompiled without a warning.
    @Test func anEmptyCompileConfigIsNoCompileConfig() throws {
        #expect(KerasArchive.compileConfig(of: try JSONValue.parse(Data(#"{"compile_config": {}}"#.utf8), label: "test")) == nil)
        #expect(KerasArchive.compileConfig(of: try JSONValue.parse(Data(#"{"compile_config": null}"#.utf8), label: "test")) == nil)
        #expect(KerasArchive.compileConfig(of: try JSONValue.parse(Data(#"{"compile_config": {"loss": "mse"}}"#.utf8), label: "test")) != nil)
    }
}
