import ArgumentParser
import Foundation
import Recur

/// `recur fit MODEL.keras --input X.npy --target Y.npy [--epochs N] [--batch-size N] [--no-shuffle]
/// --save OUT.keras`: Keras's `model.fit(x, y)` on a compiled Keras 3 model (its loss, metrics and
/// optimizer, and the optimizer's state where the file holds one), printing Keras's progress bar, then
/// saving the trained model and, with `--history`, the per-epoch logs as JSON.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a compiled Keras .keras model on .npy arrays and save it.")

    @Argument(help: "The model, a Keras 3 .keras archive saved after compile().") var model: String
    @Option(name: .customLong("input"), help: "An input array (.npy), one per model input, in the model's input order.")
    var inputs: [String] = []
    @Option(name: .customLong("target"), help: "A target array (.npy), one per model output, in the model's output order.")
    var targets: [String] = []
    @Option(help: "Per-sample loss weights (.npy of shape (samples,)).") var sampleWeight: String?
    @Option(help: "Epochs to train.") var epochs = 1
    @Option(help: "Samples per training step.") var batchSize = 32
    @Flag(inversion: .prefixedNo, help: "Shuffle the samples each epoch, as Keras's fit does by default.") var shuffle = true
    @Option(help: "Fraction of the samples (the last ones) held out for validation.") var validationSplit: Float = 0
    @Option(help: "Random seed for shuffling, dropout and weights the file leaves to their initializers.") var seed = 1337
    @Option(help: "Where to save the trained model (.keras).") var save: String
    @Option(help: "Where to write the per-epoch logs (JSON: {\"loss\": [...], ...}).") var history: String?
    @Option(help: "0 prints nothing, 1 a progress bar per epoch, 2 one line per epoch.") var verbose = 1

    func validate() throws {
        guard !inputs.isEmpty, !targets.isEmpty else { throw ValidationError("give --input X.npy and --target Y.npy") }
        guard batchSize > 0, epochs >= 0 else { throw ValidationError("--batch-size must be positive and --epochs at least 0") }
        guard (0..<1).contains(validationSplit) else { throw ValidationError("--validation-split must be in [0, 1)") }
        guard (0...2).contains(verbose) else { throw ValidationError("--verbose must be 0, 1 or 2") }
        guard save.hasSuffix(".keras") else { throw ValidationError("--save must end in .keras") }
        for path in [save] + (history.map { [$0] } ?? []) {
            do { try RecurFileIO.checkWritable(path) } catch { throw ValidationError("\(path): \(error)") }
        }
    }

    func run() throws {
        RecurFileIO.removeTemporaryFilesOnSignals()
        setRandomSeed(UInt64(truncatingIfNeeded: seed))
        let loaded = try loadModel(path: model)
        let x = try inputs.map { try NumpyFile.loadNpy(path: $0) }, y = try targets.map { try NumpyFile.loadNpy(path: $0) }
        let weights = try sampleWeight.map { try NumpyFile.loadNpy(path: $0) }
        let trained = try loaded.fit(x, y, batchSize: batchSize, epochs: epochs, validationSplit: validationSplit,
                                     shuffle: shuffle, sampleWeight: weights, verbose: verbose)
        try loaded.save(to: save)
        if let history {
            let logs = trained.history.mapValues { $0.map(Double.init) }
            let json = try JSONSerialization.data(withJSONObject: logs, options: [.sortedKeys])
            try RecurFileIO.writeAtomically(json, path: history)
        }
    }
}
