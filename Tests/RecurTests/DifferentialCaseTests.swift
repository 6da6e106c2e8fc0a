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

    /// A training case's files: the compiled model, how Keras fitted it (NAME.fit.json) and its
    /// arrays (NAME.npz: input_i, target_i, maybe sample_weight, and trained_i).
    struct TrainingCase {
        let name: String
        let fit: JSONValue
        let arrays: [String: Tensor]

        init(_ name: String) throws {
            self.name = name
            fit = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: Self.path(name, ".fit.json"))), label: name)
            arrays = try NumpyFile.loadNpz(path: Self.path(name, ".npz"))
        }

        static func path(_ name: String, _ suffix: String) -> String {
            DifferentialCaseTests.directory.appendingPathComponent(name + suffix).path
        }
        var modelPath: String { Self.path(name, ".keras") }
        var batchSize: Int { fit["batch_size"]?.int ?? 0 }
        func series(_ key: String) -> [Tensor] { (0..<arrays.count).compactMap { arrays["\(key)_\($0)"] } }

        /// `weights` (in `get_weights()` order) are Keras's after fitting, to 1e-4: two epochs of
        /// rounding through adaptive optimizers.
        func expectKerasWeights(_ weights: [Tensor], sourceLocation: SourceLocation = #_sourceLocation) {
            let trained = series("trained")
            #expect(weights.count == trained.count && !trained.isEmpty, sourceLocation: sourceLocation)
            for (k, (weight, want)) in zip(weights, trained).enumerated() {
                expectClose(weight, want, tolerance: 1e-4, "\(name) weight \(k)", sourceLocation: sourceLocation)
            }
        }

        /// Every loss Keras logged (loss, val_loss, per-output losses) is in `history`, epoch by epoch.
        func expectKerasLosses(_ history: [String: [Float]], sourceLocation: SourceLocation = #_sourceLocation) {
            let kerasHistory = fit["history"]?.object ?? [:]
            #expect(kerasHistory["loss"] != nil, sourceLocation: sourceLocation)
            for (key, values) in kerasHistory where key.hasSuffix("loss") {
                let kerasValues = values.array?.compactMap(\.double).map(Float.init) ?? []
                #expect(kerasValues.count == history[key]?.count, "\(name): \(key) \(history[key] ?? []) vs Keras \(kerasValues)",
                        sourceLocation: sourceLocation)
                for (mine, theirs) in zip(history[key] ?? [], kerasValues) {
                    #expect(abs(mine - theirs) <= 1e-4 * (1 + abs(theirs)), "\(name) \(key) \(mine) vs Keras \(theirs)",
                            sourceLocation: sourceLocation)
                }
            }
        }
    }

    /// `fit` of the model Keras saved compiled, unshuffled as Keras fitted it, ends at Keras's weights
    /// with Keras's epoch losses.
    @Test(arguments: trainingCaseNames) func trainingCaseMatchesKeras(_ name: String) throws {
        let training = try TrainingCase(name)
        let model = try loadModel(path: training.modelPath)
        let history = try model.fit(training.series("input"), training.series("target"), batchSize: training.batchSize,
                                    epochs: training.fit["epochs"]?.int ?? 0,
                                    validationSplit: Float(training.fit["validation_split"]?.double ?? 0),
                                    shuffle: false, sampleWeight: training.arrays["sample_weight"], verbose: 0)
        training.expectKerasWeights(model.getWeights())
        training.expectKerasLosses(history.history)
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
        let training = try TrainingCase("masked_batch_norm_training")
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = { (name: String) in dir.appendingPathComponent(name).path }
        try NumpyFile.saveNpy(try #require(training.arrays["input_0"]), path: path("x.npy"))
        try NumpyFile.saveNpy(try #require(training.arrays["target_0"]), path: path("y.npy"))
        let result = try BackupAndRestoreTests.run(["fit", training.modelPath, "--input", path("x.npy"), "--target", path("y.npy"),
                                                    "--epochs", "2", "--batch-size", String(training.batchSize), "--no-shuffle",
                                                    "--verbose", "0", "--save", path("trained.keras"), "--history", path("history.json")])
        #expect(result.status == 0)
        training.expectKerasWeights(try loadModel(path: path("trained.keras")).getWeights())
        let history = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path("history.json"))), label: "history.json")
        training.expectKerasLosses((history.object ?? [:]).mapValues { $0.array?.compactMap(\.double).map(Float.init) ?? [] })
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
