import Foundation
import Testing
@testable import Recur
import RecurExamples

/// Fixtures from scripts/make_keras_file_fixtures.py: NAME.keras (saved by Keras 3) and NAME.npz with
/// input_0.. and Keras's output_0.. of model(inputs, training=False).
enum KerasFileFixtures {
    static let directory = Fixtures.directory.appendingPathComponent("keras")

    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".keras") }.map { String($0.dropLast(6)) }.sorted()
    }

    static func modelPath(_ name: String) -> String { directory.appendingPathComponent("\(name).keras").path }

    static func arrays(_ name: String) throws -> (inputs: [Tensor], outputs: [Tensor]) {
        let all = try NumpyFile.loadNpz(path: directory.appendingPathComponent("\(name).npz").path)
        func list(_ prefix: String) -> [Tensor] {
            (0..<all.count).compactMap { all["\(prefix)_\($0)"] }
        }
        return (list("input"), list("output"))
    }
}

/// A fresh directory under the system temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-keras-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Every weight changed (deterministically), so a file that failed to carry weights cannot pass.
func perturbWeights(_ model: Model) {
    for (k, v) in model.variables.enumerated() {
        let values = v.value.scalars.enumerated().map { i, x in x * 0.75 + Float((i + k) % 7) * 0.01 }
        v.value = try! Tensor(shape: v.shape, scalars: values)
    }
}

/// A Keras fixture model loads and reproduces Keras's outputs within 1e-5.
func expectMatchesKeras(modelPath: String, inputs: [Tensor], expected: [Tensor], name: String,
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
    let model = try loadModel(path: modelPath)
    let outputs = try model.predictOnBatch(inputs)
    #expect(outputs.count == expected.count, sourceLocation: sourceLocation)
    for (k, (out, e)) in zip(outputs, expected).enumerated() {
        expectClose(out, e, "\(name) output \(k)", sourceLocation: sourceLocation)
    }
    #expect(!model.summaryText().isEmpty, sourceLocation: sourceLocation)
}

/// A fixture model with changed weights survives Recur → .keras → Recur, Recur → .weights.h5 → Recur
/// and saveWeights/loadWeights (which dispatch on the .weights.h5 suffix) bit-exactly.
func expectFileRoundTrips(modelPath: String, inputs: [Tensor], name: String,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = try loadModel(path: modelPath)
    perturbWeights(model)
    let outputs = try model.predictOnBatch(inputs)

    let archive = dir.appendingPathComponent("m.keras").path
    try model.save(to: archive)
    let reloaded = try loadModel(path: archive)
    #expect(type(of: reloaded) == type(of: model), sourceLocation: sourceLocation)
    #expect(reloaded.layers.map(\.name) == model.layers.map(\.name), sourceLocation: sourceLocation)
    #expect(reloaded.layers.map(\.className) == model.layers.map(\.className), sourceLocation: sourceLocation)
    expectBitExact(reloaded.getWeights(), model.getWeights(), "\(name) .keras weight", sourceLocation: sourceLocation)
    expectBitExact(try reloaded.predictOnBatch(inputs), outputs, "\(name) .keras output", sourceLocation: sourceLocation)

    // Into a model with Keras's original weights.
    let weights = dir.appendingPathComponent("m.weights.h5").path
    try model.saveKerasWeights(to: weights)
    let other = try loadModel(path: modelPath)
    try other.loadKerasWeights(from: weights)
    expectBitExact(other.getWeights(), model.getWeights(), "\(name) .weights.h5 weight", sourceLocation: sourceLocation)
    expectBitExact(try other.predictOnBatch(inputs), outputs, "\(name) .weights.h5 output", sourceLocation: sourceLocation)

    let viaGeneric = dir.appendingPathComponent("g.weights.h5").path
    try model.saveWeights(to: viaGeneric)
    let third = try loadModel(path: modelPath)
    try third.loadWeights(from: viaGeneric)
    expectBitExact(third.getWeights(), model.getWeights(), "\(name) saveWeights(.weights.h5) weight", sourceLocation: sourceLocation)
}

/// Saves each model as `.keras`, reloads it and expects the same layers, bit-exact weights and outputs.
func expectKerasRoundTrip(_ models: [(String, Model, [Tensor])], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    for (name, model, inputs) in models {
        let path = dir.appendingPathComponent("\(name).keras").path
        try model.save(to: path)
        let reloaded = try loadModel(path: path)
        // Layers with equal depth may be listed in another order; compare layer by layer.
        #expect(Set(reloaded.layers.map(\.name)) == Set(model.layers.map(\.name)), sourceLocation: sourceLocation)
        for layer in model.layers {
            let twin = reloaded.layers.first { $0.name == layer.name }
            expectBitExact(twin?.getWeights() ?? [], layer.getWeights(), "\(name) \(layer.name) weight", sourceLocation: sourceLocation)
        }
        expectBitExact(try reloaded.predictOnBatch(inputs), try model.predictOnBatch(inputs), "\(name) output", sourceLocation: sourceLocation)
    }
}

/// Set to a directory to export Recur-written files for the fixture scripts' `--check-recur DIR` (Keras loads them).
let kerasExportDirectory = ProcessInfo.processInfo.environment["RECUR_KERAS_EXPORT_DIR"]

/// Writes each model as Recur saves it (NAME.keras, NAME.weights.h5) with its inputs and Recur's
/// outputs (NAME.npz: input_i, output_i) into `dir`, for `--check-recur DIR`.
func writeForKerasCheck(_ models: [(String, Model, [Tensor])], to dir: String) throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for (name, model, inputs) in models {
        try model.save(to: "\(dir)/\(name).keras")
        try model.saveKerasWeights(to: "\(dir)/\(name).weights.h5")
        let outputs = try model.predictOnBatch(inputs)
        try NumpyFile.saveNpz(inputs.enumerated().map { ("input_\($0.offset)", $0.element) }
                              + outputs.enumerated().map { ("output_\($0.offset)", $0.element) }, path: "\(dir)/\(name).npz")
    }
}

func expectBitExact(_ a: [Tensor], _ b: [Tensor], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) tensors", sourceLocation: sourceLocation)
    for (k, (x, y)) in zip(a, b).enumerated() {
        #expect(x.shape == y.shape && x.scalars == y.scalars, "\(what) \(k) differs", sourceLocation: sourceLocation)
    }
}

/// The message of the error `body` throws ("" when it throws none).
func thrownMessage(_ body: () throws -> Void) -> String {
    do { try body() } catch { return "\(error)" }
    return ""
}

@Suite("KerasFile .keras and .weights.h5 interop")
struct KerasFileTests {
    @Test(arguments: KerasFileFixtures.names)
    func fixtureMatchesKeras(_ name: String) throws {
        let (inputs, expected) = try KerasFileFixtures.arrays(name)
        try expectMatchesKeras(modelPath: KerasFileFixtures.modelPath(name), inputs: inputs, expected: expected, name: name)
    }

    @Test(arguments: KerasFileFixtures.names)
    func roundTripsAreBitExact(_ name: String) throws {
        try expectFileRoundTrips(modelPath: KerasFileFixtures.modelPath(name), inputs: KerasFileFixtures.arrays(name).inputs, name: name)
    }

    /// A `.weights.h5` from Keras's `model.save_weights` (of a compiled model: it has an optimizer
    /// group) loads into the same architecture built in Recur.
    @Test func kerasWeightsFileLoadsIntoRecurBuiltModel() throws {
        let model = withFreshLayerNames {
            Sequential([LSTM(4), Dense(2, activation: .relu)], inputShape: [5, 3])
        }
        let path = KerasFileFixtures.directory.appendingPathComponent("seq_lstm_dense.weights.h5").path
        try model.loadKerasWeights(from: path)
        let (inputs, expected) = try KerasFileFixtures.arrays("seq_lstm_dense")
        expectClose(try model.predictOnBatch(inputs[0]), expected[0], "seq_lstm_dense via .weights.h5")
        let viaGeneric = Sequential([LSTM(4), Dense(2, activation: .relu)], inputShape: [5, 3])
        try viaGeneric.loadWeights(from: path)
        expectBitExact(viaGeneric.getWeights(), model.getWeights(), "loadWeights(.weights.h5)")
    }

    /// A weights file after a user block (its superblock at 512, 1024, ... bytes, as h5py writes with
    /// `userblock_size`) loads as the same file does without one; a signature anywhere else is refused.
    @Test func weightsFilesWithAUserBlockLoad() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = KerasFileFixtures.directory.appendingPathComponent("seq_lstm_dense.weights.h5")
        let (inputs, expected) = try KerasFileFixtures.arrays("seq_lstm_dense")
        for prefix in [512, 1024, 300] {
            let path = dir.appendingPathComponent("u\(prefix).weights.h5").path
            try (Data(repeating: 0x55, count: prefix) + Data(contentsOf: source)).write(to: URL(fileURLWithPath: path))
            let model = withFreshLayerNames { Sequential([LSTM(4), Dense(2, activation: .relu)], inputShape: [5, 3]) }
            if prefix == 300 {
                #expect(thrownMessage { try model.loadKerasWeights(from: path) }.contains("not an HDF5 file"))
            } else {
                try model.loadKerasWeights(from: path)
                expectClose(try model.predictOnBatch(inputs[0]), expected[0], "user block of \(prefix) bytes")
            }
        }
    }

    /// Models built in Recur (not from Keras files) survive the .keras round trip.
    @Test func recurBuiltModelsRoundTrip() throws {
        try expectKerasRoundTrip(recurBuiltModels())
    }

    /// With RECUR_KERAS_EXPORT_DIR set, writes Recur-saved files (and Recur's outputs) for
    /// `scripts/make_keras_file_fixtures.py --check-recur DIR`, which loads them in Keras.
    @Test(.enabled(if: kerasExportDirectory != nil))
    func exportForKerasCheck() throws {
        let dir = kerasExportDirectory!
        var models: [(String, Model, [Tensor])] = try recurBuiltModels()
        for name in KerasFileFixtures.names {
            let model = try loadModel(path: KerasFileFixtures.modelPath(name))
            perturbWeights(model)
            models.append((name, model, try KerasFileFixtures.arrays(name).inputs))
        }
        try writeForKerasCheck(models, to: dir)
    }

    func recurBuiltModels() throws -> [(String, Model, [Tensor])] {
        try withRandomSeed(11) { try withFreshLayerNames {
            var g = SeededGenerator(seed: 5)
            let x = Tensor.randomUniform([2, 4, 3], low: -1, high: 1, generator: &g)
            let sequential = Sequential([LSTM(3, returnSequences: true), BatchNormalization(), GRU(2, resetAfter: false),
                                             Dropout(0.2), Dense(2, activation: .sigmoid)], inputShape: [4, 3])
            let seq = Input(shape: [nil, 3], name: "sequence")
            let ids = Input(shape: [4], name: "ids")
            let embedded = try Embedding(inputDim: 6, outputDim: 3, maskZero: true)(ids)
            let states = try LSTM(2, returnState: true).outputs(seq)
            let decoded = try LSTM(2, returnSequences: true, goBackwards: true)(embedded)
            let bi = try Bidirectional(SimpleRNN(2, returnSequences: true), mergeMode: .ave)(decoded)
            let stacked = try RNN([GRUCell(3), LSTMCell(2)], returnState: true).outputs(bi)
            // Initial states only on the unmasked path: Keras 3 ignores the propagated mask of an RNN
            // called with initial_state, Recur applies it.
            let restarted = try GRU(2, returnSequences: true, goBackwards: true)(seq, initialState: [states[1]])
            let shared = Dense(2, name: "shared_head")
            let functional = try Model(inputs: [seq, ids],
                                       outputs: [try shared(states[0]), try shared(stacked[0])] + Array(stacked[1...]) + [restarted],
                                       name: "recur_functional")
            let tokens = try Tensor(shape: [2, 4], scalars: [1, 2, 3, 0, 5, 4, 0, 0])
            for model in [sequential, functional] as [Model] { perturbWeights(model) }
            return [("recur_sequential", sequential, [x]), ("recur_functional", functional, [x, tokens])]
        } }
    }

    // MARK: - Errors

    @Test func truncatedArchiveThrows() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Data(contentsOf: URL(fileURLWithPath: KerasFileFixtures.modelPath("seq_lstm_dense")))
        let path = dir.appendingPathComponent("cut.keras").path
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        let message = thrownMessage { _ = try loadModel(path: path) }
        #expect(message.contains("cut.keras"), "\(message)")
    }

    /// Writes a .keras archive of the given entries.
    func writeArchive(_ entries: [(String, Data)], to path: String) throws {
        var writer = ZipWriter(path: path)
        for (name, data) in entries { try writer.add(name: name, data: data) }
        try writer.finish().write(to: URL(fileURLWithPath: path))
    }

    func fixtureEntries(_ name: String) throws -> [String: Data] {
        let archive = try ZipArchive(path: KerasFileFixtures.modelPath(name))
        var out: [String: Data] = [:]
        for e in archive.entries { out[e.name] = try archive.contents(of: e) }
        return out
    }

    @Test func missingWeightsThrows() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let entries = try fixtureEntries("seq_lstm_dense")
        let path = dir.appendingPathComponent("noweights.keras").path
        try writeArchive([("metadata.json", entries["metadata.json"]!), ("config.json", entries["config.json"]!)], to: path)
        let message = thrownMessage { _ = try loadModel(path: path) }
        #expect(message.contains("model.weights.h5"), "\(message)")
    }

    /// Replaces `old` by `new` in config.json and returns the error of loading the result.
    func loadEditedConfig(_ name: String, _ old: String, _ new: String) throws -> String {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let entries = try fixtureEntries(name)
        let config = String(decoding: entries["config.json"]!, as: UTF8.self)
        #expect(config.contains(old))
        let edited = Data(config.replacingOccurrences(of: old, with: new).utf8)
        let path = dir.appendingPathComponent("edited.keras").path
        try writeArchive([("metadata.json", entries["metadata.json"]!), ("config.json", edited),
                          ("model.weights.h5", entries["model.weights.h5"]!)], to: path)
        return thrownMessage { _ = try loadModel(path: path) }
    }

    @Test func unknownLayerClassThrows() throws {
        let message = try loadEditedConfig("seq_lstm_dense", "\"class_name\": \"Dense\"", "\"class_name\": \"Conv1D\"")
        #expect(message.contains("Conv1D"), "\(message)")
    }

    @Test func unsupportedArgumentThrows() throws {
        let message = try loadEditedConfig("seq_lstm_dense", "\"kernel_regularizer\": null",
                                           "\"kernel_regularizer\": {\"class_name\": \"SpectralRegularizer\", \"config\": {\"factor\": 0.01}}")
        #expect(message.contains("kernel_regularizer"), "\(message)")
        let dtype = try loadEditedConfig("seq_lstm_dense", "\"config\": {\"name\": \"float32\"}", "\"config\": {\"name\": \"mixed_float16\"}")
        #expect(dtype.contains("mixed_float16"), "\(dtype)")
    }

    @Test func wrongWeightShapesThrow() throws {
        // The same config with 5 LSTM units: the file's (3, 16) kernel does not fit (3, 20).
        let message = try loadEditedConfig("seq_lstm_dense", "\"units\": 4", "\"units\": 5")
        #expect(message.contains("lstm") && message.contains("(3, 16)"), "\(message)")

        // Loading into an existing model changes nothing when one weight does not fit.
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try loadModel(path: KerasFileFixtures.modelPath("seq_gru_stack"))
        let weights = dir.appendingPathComponent("w.weights.h5").path
        try source.saveKerasWeights(to: weights)
        let target = Sequential([GRU(3, returnSequences: true), GRU(2, resetAfter: true), Dense(2)], inputShape: [5, 3])
        let before = target.getWeights()
        let shapeMessage = thrownMessage { try target.loadKerasWeights(from: weights) }
        #expect(shapeMessage.contains("(6,)") && shapeMessage.contains("(2, 6)"), "\(shapeMessage)")
        expectBitExact(target.getWeights(), before, "untouched weight")

        let fewer = Sequential([GRU(3, returnSequences: true), GRU(2, resetAfter: false)], inputShape: [5, 3])
        let extra = thrownMessage { try fewer.loadKerasWeights(from: weights) }
        #expect(extra.contains("layers/dense/vars"), "\(extra)")
    }

    @Test func corruptWeightsFileThrows() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try loadModel(path: KerasFileFixtures.modelPath("seq_lstm_dense"))
        let path = dir.appendingPathComponent("w.weights.h5").path
        try model.saveKerasWeights(to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: path))
        let message = thrownMessage { try model.loadKerasWeights(from: path) }
        #expect(message.contains("w.weights.h5"), "\(message)")
        let missing = thrownMessage { try model.loadKerasWeights(from: dir.appendingPathComponent("none.weights.h5").path) }
        #expect(missing.contains("not found"), "\(missing)")
        let wrongName = thrownMessage { try model.saveKerasWeights(to: dir.appendingPathComponent("w.h5").path) }
        #expect(wrongName.contains(".weights.h5"), "\(wrongName)")
    }

    @Test func badNpyHeaderThrows() throws {
        var data = try NumpyFile.npyData(Tensor([1, 2, 3]))
        let header = String(decoding: data, as: UTF8.self)
        let range = header.range(of: "'descr': '<f4'")!
        let offset = header.utf8.distance(from: header.startIndex, to: range.lowerBound)
        data.replaceSubrange(offset..<(offset + 14), with: Data("'descr': '>c8'".utf8))
        let message = thrownMessage { _ = try NumpyFile.readNpy(data, path: "bad.npy") }
        #expect(message.contains("bad.npy"), "\(message)")
    }

    @Test func unbuiltModelAndUnsupportedLayersThrow() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let unbuilt = Sequential([LSTM(2)])
        let message = thrownMessage { try unbuilt.save(to: dir.appendingPathComponent("u.keras").path) }
        #expect(message.contains("not built"), "\(message)")
        let custom = Sequential([RNN(NestedCellForTest(2))], inputShape: [3, 2])
        let customMessage = thrownMessage { try custom.save(to: dir.appendingPathComponent("c.keras").path) }
        #expect(customMessage.contains("NestedCellForTest"), "\(customMessage)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("c.keras").path))
    }
}

/// A custom cell, which .keras archives cannot describe.
final class NestedCellForTest: RecurrentCell {
    let units: Int
    init(_ units: Int) { self.units = units; super.init() }
    override var stateShapes: [[Int]] { [[units]] }
    override var outputShapes: [[Int]] { [[units]] }
    override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        (states, states)
    }
}
