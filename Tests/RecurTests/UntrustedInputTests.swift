import Foundation
import Testing
@testable import Recur

/// Regression tests for hostile files (Fixtures/crafted, made by scripts/make_crafted_files.py; its
/// README lists what each file does) and hostile configs built here: every one is a clean
/// `RecurError` naming the problem, or Keras's own result — never a crash, hang, file read outside
/// the file, or allocation of a declared size.
@Suite("Untrusted files and options")
struct UntrustedInputTests {
    static let crafted = Fixtures.directory.appendingPathComponent("crafted")
    static func path(_ name: String) -> String { crafted.appendingPathComponent(name).path }

    /// The error `body` throws, as text (records an issue if it throws none).
    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            Issue.record("expected an error")
            return ""
        } catch {
            return "\(error)"
        }
    }

    /// The model the crafted weights files are for: Sequential([Input((4, 3)), Dense(2)]).
    func denseModel() throws -> Sequential {
        withFreshLayerNames { Sequential([Dense(2)], inputShape: [4, 3]) }
    }

    @Test func validWeightsFileLoads() throws {
        let model = try denseModel()
        try model.loadKerasWeights(from: Self.path("valid_dense.weights.h5"))
        #expect(model.getWeights()[0].shape == [3, 2])
    }

    @Test(arguments: [
        ("external_link.weights.h5", "external link"),
        ("external_link_group.weights.h5", "external link"),
        ("soft_link.weights.h5", "soft link"),
        ("external_storage.weights.h5", "external storage"),
        ("virtual_dataset.weights.h5", "virtual dataset"),
        ("unknown_filter.weights.h5", "filter 307"),
        ("huge_declared.weights.h5", "expected shape (3, 2), got (2147483648, 2147483648)"),
        ("huge_declared_matching_rank.weights.h5", "expected shape (3, 2), got (3, 1099511627776)"),
        ("wrong_dtype.weights.h5", "not a numeric array of standard"),
        ("compound_dtype.weights.h5", "not a numeric array of standard"),
    ])
    func hostileWeightsFilesAreRefused(_ file: String, _ reason: String) throws {
        let model = try denseModel()
        let before = model.getWeights()
        let text = message { try model.loadKerasWeights(from: Self.path(file)) }
        #expect(text.contains(reason), "\(file): \(text)")
        #expect(text.contains(file), "the error names the file: \(text)")
        #expect(model.getWeights().map(\.scalars) == before.map(\.scalars), "nothing is assigned when loading fails")
    }

    @Test func hardLinkCycleTerminates() throws {
        // The extra group holds no weights, so the file loads as Keras loads it; the walk must notice
        // that `layers/extra/loop` leads back to `layers`.
        let model = try denseModel()
        try model.loadKerasWeights(from: Self.path("hardlink_cycle.weights.h5"))
        let valid = try denseModel()
        try valid.loadKerasWeights(from: Self.path("valid_dense.weights.h5"))
        #expect(model.getWeights().map(\.scalars) == valid.getWeights().map(\.scalars))
    }

    @Test(arguments: [
        ("units_1e19.keras", "'units' must be an integer"),
        ("units_neg1.keras", "'units' must be in 1...16777216, got -1"),
        ("units_2e62.keras", "'units' must be an integer, got 4.611686018427388e+18"),
        ("units_2e31.keras", "'units' must be in 1...16777216, got 2147483648"),
        ("units_0.keras", "'units' must be in 1...16777216, got 0"),
        ("units_float.keras", "'units' must be an integer, got 2.5"),
        ("duplicate_config.keras", "two entries are named 'config.json'"),
        ("config_bomb.keras", "decompresses to more than 2799 bytes"),
        ("deep_nesting.keras", "not valid JSON"),
    ])
    func hostileKerasArchivesAreRefused(_ file: String, _ reason: String) throws {
        let text = message { _ = try loadModel(path: Self.path(file)) }
        #expect(text.contains(reason), "\(file): \(text)")
    }

    @Test func nullRecurrentActivationIsLinearAsInKeras() throws {
        let model = try loadModel(path: Self.path("null_recurrent_activation.keras"))
        let arrays = try NumpyFile.loadNpz(path: Self.path("null_recurrent_activation.npz"))
        let out = try model.predict(arrays["input_0"]!)
        let expected = arrays["output_0"]!
        #expect(out.shape == expected.shape)
        #expect(zip(out.scalars, expected.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func negativeNodeIndexCountsFromTheEndAsInKeras() throws {
        // ["lstm", -1, 0]: Python reads -1 as the LSTM's last (here only) call.
        let model = try loadModel(path: Self.path("negative_node_index.keras"))
        #expect(model.layers.count == 3)
        let x = Tensor.zeros([2, 4, 3])
        #expect(try model.predict(x).shape == [2, 2])
    }

    @Test func tenMegabyteLayerNameLoadsAndSummarisesLikeKeras() throws {
        let model = try loadModel(path: Self.path("long_name.keras"))
        let text = model.summaryText()
        // Keras cuts a word longer than the column to its width with an ellipsis.
        #expect(text.contains(String(repeating: "a", count: 30) + "… │"))
        #expect(text.utf8.count < 10_000)
    }

    @Test(arguments: [
        ("deep_parens.npy", "malformed header"),
        ("huge_shape.npy", "is too large"),
        ("negative_shape.npy", "shape (-1, 3) must hold whole numbers ≥ 0"),
    ])
    func hostileNpyFilesAreRefused(_ file: String, _ reason: String) throws {
        let text = message { _ = try NumpyFile.loadNpy(path: Self.path(file)) }
        #expect(text.contains(reason), "\(file): \(text)")
    }

    @Test(arguments: [
        ("bomb.idx.gz", "decompresses to more than 7856 bytes"),
        ("huge_header.idx", "more than 1073741824 elements"),
    ])
    func hostileIDXFilesAreRefused(_ file: String, _ reason: String) throws {
        let text = message { _ = try IDX.load(path: Self.path(file)) }
        #expect(text.contains(reason), "\(file): \(text)")
    }

    // MARK: - Configs built here

    /// A `.keras` archive with `config` and an HDF5 weights file that holds `weightsOf`'s weights
    /// (or none).
    func archive(config: JSONValue, weightsOf model: Model? = nil, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("m-\(UUID().uuidString).keras").path
        let encoder = JSONEncoder()
        var writer = ZipWriter(path: path)
        try writer.add(name: "metadata.json", data: Data(#"{"keras_version": "3.15.1"}"#.utf8))
        try writer.add(name: "config.json", data: encoder.encode(config))
        let empty = withFreshLayerNames { Sequential([], name: "empty") }
        try writer.add(name: "model.weights.h5", data: KerasWeightsFile.image(of: model ?? empty, label: path))
        try RecurFileIO.writeAtomically(writer.finish(), path: path)
        return path
    }

    func layerSpec(_ className: String, _ name: String, _ config: [String: JSONValue] = [:], inbound: String?) -> JSONValue {
        var c = config
        c["name"] = .string(name)
        var spec: [String: JSONValue] = ["class_name": .string(className), "name": .string(name), "config": .object(c)]
        if let inbound {
            let history: JSONValue = .array([.string(inbound), .number(0), .number(0)])
            let tensor: JSONValue = .object(["class_name": "__keras_tensor__", "config": .object(["keras_history": history])])
            spec["inbound_nodes"] = .array([.object(["args": .array([tensor]), "kwargs": .object([:])])])
        }
        return .object(spec)
    }

    func functionalConfig(layers: [JSONValue], input: String, output: String) -> JSONValue {
        .object(["class_name": "Functional", "config": .object([
            "name": "chain", "layers": .array(layers),
            "input_layers": .array([.string(input), .number(0), .number(0)]),
            "output_layers": .array([.string(output), .number(0), .number(0)]),
        ])])
    }

    @Test func longChainLoadsWithoutRecursion() throws {
        // 60,000 layers in a chain: graph walks, scheduling and freeing the graph must not recurse per layer.
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = 60_000
        var layers = [layerSpec("InputLayer", "in", ["batch_shape": .array([.null, .number(3)])], inbound: nil)]
        for i in 0..<n {
            layers.append(layerSpec("Activation", "a\(i)", ["activation": "relu"], inbound: i == 0 ? "in" : "a\(i - 1)"))
        }
        let path = try archive(config: functionalConfig(layers: layers, input: "in", output: "a\(n - 1)"), in: dir)
        let model = try loadModel(path: path)
        let y = try model.predict(try Tensor(shape: [1, 3], scalars: [-1, 0, 2]))
        #expect(y.scalars == [0, 0, 2])
    }

    @Test func layersListedInReverseAreScheduledInLinearTime() throws {
        // Keras lists layers in dependency order; a file need not. 20,000 layers listed in reverse
        // took over a minute with the quadratic scheduler; the guard below only catches a hang.
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = 20_000
        var layers: [JSONValue] = []
        for i in 0..<n {
            layers.append(layerSpec("Activation", "a\(i)", ["activation": "linear"], inbound: i == 0 ? "in" : "a\(i - 1)"))
        }
        layers.append(layerSpec("InputLayer", "in", ["batch_shape": .array([.null, .number(2)])], inbound: nil))
        let path = try archive(config: functionalConfig(layers: layers.reversed(), input: "in", output: "a\(n - 1)"), in: dir)
        let start = Date()
        let model = try loadModel(path: path)
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(model.layers.count == n + 1)
    }

    @Test func configWeightsLargerThanTheWeightsFileAreRefusedBeforeAllocating() throws {
        // Dense(16,777,216) on 4,096 features would be 256 GiB; the weights file holds a few KB.
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let layers = [
            layerSpec("InputLayer", "in", ["batch_shape": .array([.null, .number(4096)])], inbound: nil),
            layerSpec("Dense", "big", ["units": .number(16_777_216)], inbound: "in"),
        ]
        let path = try archive(config: functionalConfig(layers: layers, input: "in", output: "big"), in: dir)
        let text = message { _ = try loadModel(path: path) }
        #expect(text.contains("too large") || text.contains("more than the file's weights can hold"), "\(text)")
    }

    /// Weights whose sizes come from the input's shape (RMSNormalization's scale, Normalization's
    /// statistics, a convolution's kernel) are refused by size, not allocated, when the shape is vast.
    @Test(arguments: [
        ("RMSNormalization", ["axis": JSONValue.array([.number(-2), .number(-1)])]),
        ("Normalization", ["axis": .array([.number(1), .number(2)])]),
        ("Conv2D", ["filters": .number(4), "kernel_size": .array([.number(60_000), .number(60_000)])]),
        ("GroupNormalization", ["groups": .number(1)]),
    ] as [(String, [String: JSONValue])])
    func weightsSizedByVastShapesAreRefusedBeforeAllocating(_ className: String, _ config: [String: JSONValue]) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let channels: JSONValue = className == "GroupNormalization" ? .number(1_073_741_824) : .number(1)
        let layers = [
            layerSpec("InputLayer", "in", ["batch_shape": .array([.null, .number(70_000), .number(70_000), channels])], inbound: nil),
            layerSpec(className, "vast", config, inbound: "in"),
        ]
        let path = try archive(config: functionalConfig(layers: layers, input: "in", output: "vast"), in: dir)
        let text = message { _ = try loadModel(path: path) }
        #expect(text.contains("too large") || text.contains("more than the file's weights can hold"), "\(className): \(text)")
    }

    @Test func loadingDrawsNoRandomNumbers() throws {
        // Weights that a file provides are not initialised first: the global generator is untouched
        // (so an O(units³) orthogonal initializer never runs on load).
        let path = KerasFileFixtures.modelPath(KerasFileFixtures.names[0])
        func drawWeights() throws -> [Tensor] {
            let dense = Dense(3, name: "probe")
            try dense.build(inputShapes: [[nil, 5]])
            return dense.getWeights()
        }
        let afterLoad = try withRandomSeed(7) { () -> [Tensor] in
            _ = try loadModel(path: path)
            return try drawWeights()
        }
        let fresh = try withRandomSeed(7) { try drawWeights() }
        #expect(afterLoad.map(\.scalars) == fresh.map(\.scalars))
    }

    @Test func orthogonalInitializerIsOrthogonal() throws {
        // (units, 4·units) as an LSTM's recurrent kernel: orthonormal rows; (40, 10): orthonormal columns.
        // [256, 1024] takes the Cholesky-QR path (three times taller than wide), the others Householder.
        for shape in [[8, 32], [40, 10], [256, 1024]] {
            var g = SeededGenerator(seed: 3)
            let w = Initializer.orthogonal().make(shape, generator: &g)
            let gram = shape[0] < shape[1] ? try w.matmul(w.transposed()) : try w.transposed().matmul(w)
            let n = min(shape[0], shape[1])
            for i in 0..<n { for j in 0..<n {
                #expect(abs(gram.scalars[i * n + j] - (i == j ? 1 : 0)) < 1e-5)
            } }
        }
    }

    @Test func zeroAndNegativeWidthsAreRefusedFromConfigs() throws {
        for units in [0, -3] {
            let text = message { _ = try KerasLayerRegistry.layer(className: "Dense", config: ["units": .number(Double(units))]) }
            #expect(text.contains("'units' must be in 1...16777216, got \(units)"), "\(text)")
        }
    }

    @Test func atomicWritesLeaveNoTemporaryFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try denseModel()
        try model.save(to: dir.appendingPathComponent("m.keras").path)
        try model.saveWeights(to: dir.appendingPathComponent("m.weights.h5").path)
        // A failed write (the destination is a directory) cleans up too.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("taken.npz"), withIntermediateDirectories: false)
        _ = message { try model.saveWeights(to: dir.appendingPathComponent("taken.npz").path) }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["m.keras", "m.weights.h5", "taken.npz"])
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("m.keras").path)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 != 0o077 } == true)
        #expect(message { try RecurFileIO.checkWritable(dir.appendingPathComponent("missing/m.keras").path) }.contains("does not exist"))
    }
}

/// Files from a black-box attack (Fixtures/crafted/attack/README.md).
@Suite("Untrusted files: found by attack")
struct AttackRegressionTests {
    static func path(_ name: String) -> String {
        Fixtures.directory.appendingPathComponent("crafted/attack/\(name)").path
    }

    @Test(arguments: [
        ("repeat_vector_n_16777216.keras", "'n' must be in 1...65536, got 16777216"),
        ("float_zero_exponent.keras", "not a numeric array of standard"),
        ("float_odd_precision.keras", "not a numeric array of standard"),
        ("float_overlapping_fields.keras", "not a numeric array of standard"),
        ("local_name_mismatch.keras", "names another file than the central directory"),
        ("dense_int32_input.keras", "an int32 input straight into this layer"),
    ])
    func refused(_ file: String, _ reason: String) {
        do {
            _ = try loadModel(path: Self.path(file))
            Issue.record("\(file) loaded")
        } catch {
            #expect("\(error)".contains(reason), "\(file): \(error)")
        }
    }

    @Test(arguments: ["layer_norm_epsilon_null", "embedding_uint8_input"])
    func matchesKeras(_ name: String) throws {
        let model = try loadModel(path: Self.path("\(name).keras"))
        let arrays = try NumpyFile.loadNpz(path: Self.path("\(name).npz"))
        let out = try model.predict(arrays["input_0"]!)
        let expected = arrays["output_0"]!
        #expect(out.shape == expected.shape)
        let worst = zip(out.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "\(name) differs from Keras by \(worst)")
    }
}

/// Inputs on which a fuzzer crashed Recur (Fixtures/crafted/fuzz), each now a clean error.
@Suite("Untrusted files: found by fuzzing")
struct FuzzRegressionTests {
    /// FuzzWeights: libhdf5's contiguous read path did a NULL memcpy on this corrupt file; Recur now
    /// decodes contiguous data itself after checking where it lies.
    @Test func corruptContiguousDatasetIsAnError() throws {
        let model = withFreshLayerNames { Sequential([LSTM(4), Dense(2)], inputShape: [4, 3]) }
        let path = Fixtures.directory.appendingPathComponent("crafted/fuzz/contiguous_read_segv.weights.h5").path
        #expect(throws: RecurError.self) { try model.loadKerasWeights(from: path) }
    }

    /// FuzzWeights (ASan in the probe child): libhdf5 reads past a corrupt symbol-table name
    /// (`strdup` in H5G__node_by_idx); whatever the child's fate, loading is an error, not a crash.
    @Test func corruptSymbolTableIsAnError() throws {
        let model = withFreshLayerNames { Sequential([LSTM(4), Dense(2)], inputShape: [4, 3]) }
        let path = Fixtures.directory.appendingPathComponent("crafted/fuzz/symbol_table_name_overread.weights.h5").path
        #expect(throws: RecurError.self) { try model.loadKerasWeights(from: path) }
    }

    /// FuzzWeights: libhdf5 itself dies (a NULL memcpy in its metadata reader, looking up a link) on
    /// this corrupt file; the probe in a child process takes the crash and the load is an error.
    @Test func libhdf5CrashIsAnError() throws {
        let model = withFreshLayerNames { Sequential([LSTM(4), Dense(2)], inputShape: [4, 3]) }
        let path = Fixtures.directory.appendingPathComponent("crafted/fuzz/local_heap_null_memcpy.weights.h5").path
        #expect(throws: RecurError.io(path: path, message: "corrupt HDF5 file (the HDF5 library crashed or failed reading it, in a child process)")) {
            try model.loadKerasWeights(from: path)
        }
    }
}
