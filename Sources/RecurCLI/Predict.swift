import ArgumentParser
import Foundation
import Recur

/// `recur predict MODEL.keras --input X.npy [--input X2.npy ...] --output OUT.npz [--batch-size N]`:
/// runs a Keras 3 model in inference mode and writes its outputs as `output_0`, `output_1`, ...
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Keras .keras model on .npy inputs and write its outputs to an .npz file.")

    @Argument(help: "The model, a Keras 3 .keras archive.") var model: String
    @Option(name: .customLong("input"), help: "An input array (.npy), one per model input, in the model's input order; integer ids are allowed for Embedding inputs.")
    var inputs: [String] = []
    @Option(help: "Where to write the outputs (.npz with output_0, output_1, ... in the model's output order).") var output: String
    @Option(help: "Samples per forward pass.") var batchSize = 32
    @Option(help: DeviceChoice.help) var device = DeviceChoice.auto

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one --input X.npy") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard output.hasSuffix(".npz") else { throw ValidationError("--output must end in .npz") }
        do { try RecurFileIO.checkWritable(output) } catch { throw ValidationError("--output: \(error)") }
        try device.validate()
    }

    func run() throws {
        RecurFileIO.removeTemporaryFilesOnSignals()
        let loaded = try loadModel(path: model, compile: false)
        let expected = loaded.inputShapes
        guard inputs.count == max(expected.count, 1) else {
            throw RecurError.invalidArgument(op: model, message: "the model takes \(max(expected.count, 1)) input(s); got \(inputs.count) --input")
        }
        var arrays = try inputs.map { try NumpyFile.loadNpy(path: $0) }
        // Each file against the model's input, naming the file (the model checks again per batch), with
        // Keras's one-axis leeway (`fittingModelInput`).
        for (k, path) in inputs.enumerated() where k < expected.count {
            let shape = [nil] + expected[k].dropFirst()
            guard let fitted = try arrays[k].fittingModelInput(shape) else {
                throw RecurError.shapeMismatch(op: "\(path) (input \(k) of \(model))", expected: describeShape(shape),
                                               actual: describeShape(arrays[k].shape.map(Optional.some)))
            }
            arrays[k] = fitted
        }
        try loaded.move(to: device.device)
        let outputs = try loaded.predict(arrays, batchSize: batchSize)
        try NumpyFile.saveNpz(outputs.enumerated().map { ("output_\($0.offset)", $0.element) }, path: output)
    }
}

/// `recur summary MODEL.keras`: prints the model's summary table, as Keras's
/// `load_model(path).summary()` does: a compiled model's optimizer is built on loading, so its
/// parameters are counted. A compile config Recur cannot follow is left out with a warning (Keras
/// warns too) and the table printed without it.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the summary of a Keras .keras model.")

    @Argument(help: "The model, a Keras 3 .keras archive.") var model: String

    func run() throws {
        let loaded: Model
        do {
            loaded = try loadModel(path: model)
        } catch {
            loaded = try loadModel(path: model, compile: false)
            FileHandle.standardError.write(Data("recur: \(model) loaded without its compile config: \(error)\n".utf8))
        }
        print(loaded.summaryText())
    }
}
