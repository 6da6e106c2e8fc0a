import Foundation

/// Keras 3 `.keras` archives: a ZIP of `metadata.json`, `config.json` (the architecture) and
/// `model.weights.h5` (the weights, laid out as in `KerasWeightsFile`).
enum KerasArchive {
    /// The Keras version whose archive layout Recur writes (and has been checked against).
    static let kerasVersion = "3.15.1"

    static func load(path: String) throws -> Model {
        let archive = try ZipArchive(path: path)
        guard archive.entry(named: "config.json") != nil else {
            throw RecurError.io(path: path, message: "not a Keras archive: config.json is missing")
        }
        guard archive.entry(named: "model.weights.h5") != nil else {
            throw RecurError.io(path: path, message: "model.weights.h5 is missing from the archive (saved without weights?)")
        }
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: archive.contents(named: "config.json"))
        } catch let error as RecurError {
            throw error
        } catch {
            throw RecurError.io(path: path, message: "config.json is not valid JSON")
        }
        // Build everything first; only then read the weights into it.
        let model = try withFreshLayerNames { try KerasConfig.model(from: root) }
        let weights = try archive.contents(named: "model.weights.h5")
        try withTemporaryFile(weights, suffix: ".weights.h5") { tmp in
            try KerasWeightsFile.load(into: model, path: tmp, label: "\(path)[model.weights.h5]")
        }
        return model
    }

    static func save(_ model: Model, path: String) throws {
        let config = try KerasConfig.config(of: model)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let configData = try encoder.encode(config)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd@HH:mm:ss"
        let metadata = try encoder.encode(JSONValue.object(["keras_version": .string(kerasVersion),
                                                            "date_saved": .string(formatter.string(from: Date()))]))
        let weights = try withTemporaryFile(Data(), suffix: ".weights.h5") { tmp -> Data in
            try KerasWeightsFile.write(model, to: tmp)
            return try Data(contentsOf: URL(fileURLWithPath: tmp))
        }
        var writer = ZipWriter(path: path)
        try writer.add(name: "metadata.json", data: metadata)
        try writer.add(name: "config.json", data: configData)
        try writer.add(name: "model.weights.h5", data: weights)
        try RecurFileIO.writeAtomically(writer.finish(), path: path)
    }

    /// Runs `body` with the path of a private temporary file holding `data`, removed afterwards.
    static func withTemporaryFile<R>(_ data: Data, suffix: String, _ body: (String) throws -> R) throws -> R {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-\(UUID().uuidString)\(suffix)")
        do { try data.write(to: url) } catch {
            throw RecurError.io(path: url.path, message: "cannot write a temporary file: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url.path)
    }
}

/// Loads a Keras 3 `.keras` archive (`model.save("m.keras")`): rebuilds the Sequential or
/// functional model from its config, then sets its weights. Throws, naming it, on a layer or
/// argument Recur does not support.
public func loadModel(path: String) throws -> Model {
    guard path.hasSuffix(".keras") else {
        throw RecurError.unsupported(op: "loadModel", message: "file type of \(path) (use a .keras archive; for .weights.h5 build the model and call loadKerasWeights(from:))")
    }
    return try KerasArchive.load(path: path)
}

extension Model {
    /// Saves the model as a Keras 3 `.keras` archive that `keras.saving.load_model` reads (config and
    /// weights; no optimizer state). Written atomically.
    public func save(to path: String) throws {
        guard path.hasSuffix(".keras") else {
            throw RecurError.unsupported(op: "\(name).save", message: "file type of \(path) (use .keras; saveWeights(to:) writes .npz or .weights.h5)")
        }
        try KerasArchive.save(self, path: path)
    }
}
