import Foundation

/// Keras 3 `.keras` archives: a ZIP of `metadata.json`, `config.json` (the architecture) and
/// `model.weights.h5` (the weights, laid out as in `KerasWeightsFile`).
enum KerasArchive {
    /// The Keras version whose archive layout Recur writes (and has been checked against).
    static let kerasVersion = "3.15.1"

    static func load(path: String, compile: Bool = true) throws -> Model {
        try load(ZipArchive(path: path), path: path, compile: compile)
    }

    /// Loads the archive whose bytes are `data`; `label` names it in errors.
    static func load(data: Data, label: String) throws -> Model {
        try load(ZipArchive(data: data, path: label), path: label)
    }

    private static func load(_ archive: ZipArchive, path: String, compile: Bool = true) throws -> Model {
        guard archive.entry(named: "config.json") != nil else {
            throw RecurError.io(path: path, message: "not a Keras archive: config.json is missing")
        }
        guard let weightsEntry = archive.entry(named: "model.weights.h5") else {
            throw RecurError.io(path: path, message: "model.weights.h5 is missing from the archive (saved without weights?)")
        }
        let weightsLabel = "\(path)[model.weights.h5]"
        let root = try JSONValue.parse(archive.contents(named: "config.json", limit: UntrustedLimits.maxConfigBytes),
                                             label: "\(path)[config.json]")
        // Build everything first (weights as zeros, within what the weights file can hold); only then
        // read the weights into it.
        let model = try WeightsFromFile.building(source: weightsLabel, bytes: weightsEntry.uncompressedSize) {
            try withFreshLayerNames { try KerasConfig.model(from: root) }
        }
        if compile, let compileConfig = compileConfig(of: root) {
            do {
                try KerasCompileConfig.compile(model, from: compileConfig, label: path)
            } catch {
                // As Keras: a model that cannot be compiled as saved still loads, uncompiled, with a warning.
                FileHandle.standardError.write(Data("recur: \(path): loaded without compiling it: \(error)\n".utf8))
            }
        }
        // A compiled model's optimizer state comes from the same weights file, read once.
        try KerasWeightsFile.load(into: model, image: archive.contents(of: weightsEntry), label: weightsLabel) { file in
            do {
                try KerasOptimizerState.read(file, into: model, label: weightsLabel)
            } catch {
                // As Keras, which skips an optimizer state that does not fit and warns.
                FileHandle.standardError.write(Data("recur: \(path): the optimizer starts afresh: \(error)\n".utf8))
            }
        }
        return model
    }

    /// The compile config a file's root config holds, nil where Keras would not compile from it:
    /// absent, null or empty (`{}`, which Keras's `if compile_config:` skips).
    static func compileConfig(of root: JSONValue) -> JSONValue? {
        guard let config = root["compile_config"], !config.isNull, config.object?.isEmpty != true else { return nil }
        return config
    }

    static func save(_ model: Model, path: String) throws {
        var config = try KerasConfig.config(of: model)
        if let compiled = model.compiled, let compileConfig = KerasCompileConfig.config(of: compiled), case .object(var entries) = config {
            entries["compile_config"] = compileConfig
            config = .object(entries)
        }
        let configData = Data(try config.jsonText().utf8)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd@HH:mm:ss"
        let metadata = Data(try JSONValue.object(["keras_version": .string(kerasVersion),
                                                  "date_saved": .string(formatter.string(from: Date()))]).jsonText().utf8)
        var writer = ZipWriter(path: path)
        try writer.add(name: "metadata.json", data: metadata)
        try writer.add(name: "config.json", data: configData)
        try writer.add(name: "model.weights.h5", data: KerasWeightsFile.image(of: model, label: path, optimizer: true))
        try RecurFileIO.writeAtomically(writer.finish(), path: path)
    }
}

/// Loads a Keras 3 `.keras` archive (`model.save("m.keras")`): rebuilds the Sequential or
/// functional model from its config, then sets its weights. Throws, naming it, on a layer or
/// argument Recur does not support. With `compile` (Keras's default), a model that was compiled when
/// Keras saved it comes back compiled with the same optimizer, losses and metrics
/// (`KerasCompileConfig`), ready for `fit`; one whose compile options Recur lacks loads uncompiled,
/// with a warning on standard error.
public func loadModel(path: String, compile: Bool = true) throws -> Model {
    guard path.hasSuffix(".keras") else {
        throw RecurError.unsupported(op: "loadModel", message: "file type of \(path) (use a .keras archive; for .weights.h5 build the model and call loadKerasWeights(from:))")
    }
    return try KerasArchive.load(path: path, compile: compile)
}

extension Model {
    /// Saves the model as a Keras 3 `.keras` archive that `keras.saving.load_model` reads (config and
    /// weights, and a compiled model's compile config and, once it has trained, its optimizer's state,
    /// so that Keras and Recur both go on training it where it stopped). Written atomically.
    public func save(to path: String) throws {
        guard path.hasSuffix(".keras") else {
            throw RecurError.unsupported(errorSubject, "save: file type of \(path) (use .keras; saveWeights(to:) writes .npz or .weights.h5)")
        }
        try KerasArchive.save(self, path: path)
    }
}
