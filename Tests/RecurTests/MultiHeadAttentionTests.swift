import Foundation
import Testing
@testable import Recur

/// `MultiHeadAttention` beyond its layer fixtures (outputs and gradients against Keras, in
/// KerasLayerFixtureTests): a whole Keras encoder-decoder, Keras's weight-file layout and call
/// arguments, names, shapes and parameter counts, dropout, and the errors for what cannot work.
@Suite("MultiHeadAttention")
struct MultiHeadAttentionTests {
    /// A Keras encoder-decoder (masks from Embedding(mask_zero) and Masking reach cross attention with
    /// a separate key and causal self-attention) loads, predicts what Keras predicted and round-trips
    /// through Recur's own `.keras` files.
    @Test func kerasModelMatchesKeras() throws {
        try expectParityModelMatchesKeras("mha_seq2seq")
    }

    /// A padded query step sees no step: Keras's fused attention (no dropout, no scores returned)
    /// attends to every step alike there, its Softmax-layer path (scores returned, dropout > 0 even
    /// in inference) gives zeros; Recur follows each.
    @Test func queryStepsThatSeeNothingFollowKeras() throws {
        try expectParityModelMatchesKeras("mha_masked_query_rows")
    }

    /// Keras's call `(query, value, key=key)` is what Recur writes and reads back, and the weights
    /// sit where Keras keeps them: one group per projection under the layer's.
    @Test func kerasCallAndWeightLayout() throws {
        let (model, inputs) = try crossAttentionModel()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.keras").path
        try model.save(to: path)
        let node = try attentionCall(in: ZipArchive(path: path))
        #expect((node["args"] as? [Any])?.count == 2)
        let kwargs = node["kwargs"] as? [String: Any]
        #expect((kwargs?["key"] as? [String: Any])?["class_name"] as? String == "__keras_tensor__")
        #expect(kwargs?["return_attention_scores"] as? Bool == true)

        let weightsPath = dir.appendingPathComponent("m.weights.h5").path
        try model.saveKerasWeights(to: weightsPath)
        let groups = try HDF5File.withLock {
            let file = try HDF5File.open(image: try Data(contentsOf: URL(fileURLWithPath: weightsPath)), label: weightsPath)
            return try file.allGroups(under: "layers").filter { $0.contains("multi_head_attention") && $0.hasSuffix("/vars") }.sorted()
        }
        #expect(groups == ["layers/multi_head_attention/key_dense/vars", "layers/multi_head_attention/output_dense/vars",
                           "layers/multi_head_attention/query_dense/vars", "layers/multi_head_attention/value_dense/vars",
                           "layers/multi_head_attention/vars"])
        let (twin, _) = try crossAttentionModel(seed: 8)
        try twin.loadKerasWeights(from: weightsPath)
        expectBitExact(try twin.predictOnBatch(inputs), try model.predictOnBatch(inputs), "reloaded weights")
    }

    /// A file whose call passes the key without the value, or the key twice, is refused.
    @Test func malformedCallsAreRefused() throws {
        let (model, _) = try crossAttentionModel()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.keras").path
        try model.save(to: path)
        let archive = try ZipArchive(path: path)
        for (label, edit) in [("without value", { (args: [Any]) in Array(args.prefix(1)) }), ("twice", { (args: [Any]) in args + [args[1]] })] {
            var config = try #require(JSONSerialization.jsonObject(with: archive.contents(named: "config.json")) as? [String: Any])
            var inner = config["config"] as! [String: Any]
            var layers = inner["layers"] as! [[String: Any]]
            let k = try #require(layers.firstIndex { $0["class_name"] as? String == "MultiHeadAttention" })
            var nodes = layers[k]["inbound_nodes"] as! [[String: Any]]
            nodes[0]["args"] = edit(nodes[0]["args"] as! [Any])
            layers[k]["inbound_nodes"] = nodes
            inner["layers"] = layers
            config["config"] = inner
            var writer = ZipWriter(path: "edited.keras")
            for entry in archive.entries {
                try writer.add(name: entry.name, data: entry.name == "config.json" ? JSONSerialization.data(withJSONObject: config) : try archive.contents(of: entry))
            }
            let broken = dir.appendingPathComponent("broken.keras").path
            try RecurFileIO.writeAtomically(writer.finish(), path: broken)
            #expect(throws: RecurError.self, "key \(label)") { _ = try loadModel(path: broken) }
        }
    }

    /// The recorded call of the file's MultiHeadAttention layer.
    private func attentionCall(in archive: ZipArchive) throws -> [String: Any] {
        let config = try JSONSerialization.jsonObject(with: archive.contents(named: "config.json")) as? [String: Any]
        let layers = try #require((config?["config"] as? [String: Any])?["layers"] as? [[String: Any]])
        let attention = try #require(layers.first { $0["class_name"] as? String == "MultiHeadAttention" })
        return try #require((attention["inbound_nodes"] as? [[String: Any]])?.first)
    }

    /// Keras's default name, output shapes (with the scores), parameter count and refusals.
    @Test func namesShapesParametersAndErrors() throws {
        withFreshLayerNames { #expect(MultiHeadAttention(numHeads: 2, keyDim: 3).name == "multi_head_attention") }
        let layer = MultiHeadAttention(numHeads: 3, keyDim: 2, valueDim: 4, outputDim: 7, returnAttentionScores: true)
        try layer.buildIfNeeded(inputShapes: [[nil, 5, 6], [nil, 4, 3], [nil, 4, 2]])
        let shapes: [[Int?]] = try layer.outputShapes(inputShapes: [[nil, 5, 6], [nil, 4, 3], [nil, 4, 2]], initialStateShapes: [])
        let expectedShapes: [[Int?]] = [[nil, 5, 7], [nil, 3, 5, 4]]
        #expect(shapes == expectedShapes)
        // query 6·3·2 + 3·2, key 2·3·2 + 3·2, value 3·3·4 + 3·4, output 3·4·7 + 7 (as Keras's summary counts).
        let parameters: Int = layer.variables.map { $0.value.count }.reduce(0, +)
        #expect(parameters == 42 + 18 + 48 + 91)
        let weightShapes: [[Int]] = layer.variables.map { $0.value.shape }
        let expectedWeightShapes: [[Int]] = [[6, 3, 2], [3, 2], [2, 3, 2], [3, 2], [3, 3, 4], [3, 4], [3, 4, 7], [7]]
        #expect(weightShapes == expectedWeightShapes)

        let mismatched = MultiHeadAttention(numHeads: 1, keyDim: 2)
        #expect(throws: RecurError.self) { try mismatched.buildIfNeeded(inputShapes: [[nil, 5, 6], [nil, 4, 3], [nil, 3, 2]]) }
        #expect(throws: RecurError.self) { try mismatched.buildIfNeeded(inputShapes: [[nil, 6], [nil, 4, 3]]) }
        #expect(throws: RecurError.self) { try MultiHeadAttention(numHeads: 0, keyDim: 2).buildIfNeeded(inputShapes: [[nil, 5, 6], [nil, 4, 3]]) }
        let refused: [(String, JSONValue)] = [("attention_axes", .array([.number(2)])), ("use_gate", .bool(true)),
                                              ("output_shape", .array([.number(2), .number(3)])), ("num_heads", .number(0)), ("dropout", .number(1))]
        for (key, value) in refused {
            var config: [String: JSONValue] = ["num_heads": .number(2), "key_dim": .number(3)]
            config[key] = value
            #expect(throws: RecurError.self, "\(key)") { try KerasLayerRegistry.layer(className: "MultiHeadAttention", config: config) }
        }
        let axis = try KerasLayerRegistry.layer(className: "MultiHeadAttention", config: ["num_heads": .number(2), "key_dim": .number(3), "attention_axes": .array([.number(-3)])])
        #expect((axis as? MultiHeadAttention)?.numHeads == 2)
    }

    /// Dropout applies to the attention weights in training only; inference is deterministic.
    @Test func dropoutOnlyInTraining() throws {
        let layer = withRandomSeed(2) { MultiHeadAttention(numHeads: 2, keyDim: 3, dropout: 0.5) }
        var g = SeededGenerator(seed: 4)
        let (q, v) = (Tensor.randomUniform([2, 4, 3], generator: &g), Tensor.randomUniform([2, 5, 3], generator: &g))
        try layer.buildIfNeeded(inputShapes: [[2, 4, 3], [2, 5, 3]])
        let first = try layer.run(LayerInput([q, v], training: false)).tensors[0]
        let second = try layer.run(LayerInput([q, v], training: false)).tensors[0]
        expectBitExact([first], [second], "inference")
        let trained = try layer.run(LayerInput([q, v], training: true)).tensors[0]
        #expect(zip(trained.scalars, first.scalars).contains { abs($0 - $1) > 1e-4 })
    }

    /// With RECUR_KERAS_EXPORT_DIR set, writes the Keras model and Recur-built ones (self-attention
    /// with a sliding window and no bias, cross attention with a key) for `--check-recur DIR`.
    @Test(.enabled(if: kerasExportDirectory != nil))
    func exportForKerasCheck() throws {
        let (parity, parityInputs, _) = try ParityFixtures.model("mha_seq2seq")
        let (cross, crossInputs) = try crossAttentionModel()
        var g = SeededGenerator(seed: 5)
        let x = Input(shape: [6, 4])
        let y = try withRandomSeed(6) {
            try GlobalAveragePooling1D()(MultiHeadAttention(numHeads: 2, keyDim: 2, useBias: false, useCausalMask: true, slidingWindow: 3)([x, x]))
        }
        let windowed = try Model(inputs: x, outputs: y)
        try writeForKerasCheck([("mha_seq2seq", parity, parityInputs), ("mha_cross", cross, crossInputs),
                                ("mha_window", windowed, [Tensor.randomUniform([3, 6, 4], generator: &g)])], to: kerasExportDirectory!)
    }

    /// Query (batch, 5, 4) attending to an LSTM's sequence through a separate key, with its scores.
    private func crossAttentionModel(seed: UInt64 = 3) throws -> (Model, [Tensor]) {
        try withFreshLayerNames {
            try withRandomSeed(seed) {
                let query = Input(shape: [5, 4]), source = Input(shape: [7, 3])
                let encoded = try LSTM(6, returnSequences: true)(source)
                let attention = MultiHeadAttention(numHeads: 2, keyDim: 3, valueDim: 2, returnAttentionScores: true)
                let outputs = try attention.outputs([query, encoded, source])
                let model = try Model(inputs: [query, source], outputs: outputs)
                var g = SeededGenerator(seed: seed)
                return (model, [Tensor.randomUniform([2, 5, 4], generator: &g), Tensor.randomUniform([2, 7, 3], generator: &g)])
            }
        }
    }
}
