import Foundation
import Testing
@testable import Recur

/// `KerasLayerOrder` computes from a functional config the order Keras lists its layers in (the
/// order of its weight files): for every functional model Keras saved among the fixtures (mask ops,
/// nested models and outputs, shared layers, merges), it is the order Keras wrote.
@Suite("Keras's layer order from a config")
struct KerasLayerOrderTests {
    @Test func matchesTheOrderKerasWrote() throws {
        var checked = 0
        for folder in ["parity", "keras", "merge_shape_wrapper_layers"] {
            let dir = Fixtures.directory.appendingPathComponent(folder).path
            for file in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() where file.hasSuffix(".keras") {
                let config = try JSONValue.parse(try ZipArchive(path: "\(dir)/\(file)").contents(named: "config.json"), label: file)
                guard config["class_name"]?.string == "Functional" else { continue }
                let listed = (config["config"]?["layers"]?.array ?? []).filter { !KerasMaskGraph.isMaskOp($0) }.compactMap { $0["name"]?.string }
                #expect(KerasLayerOrder.names(functionalConfig: config) == listed, "\(folder)/\(file)")
                checked += 1
            }
        }
        #expect(checked >= 20, "only \(checked) functional fixtures")
    }

    /// Keras lists the mask ops of a functional model in its summary (`NotEqual`, `Any`, ... rows), and
    /// the mask among the inputs of the layers that take one; so does Recur, for models read from
    /// Keras's files (layers and ops in Keras's order, each op's shape and inputs), which also predict
    /// as Keras does.
    @Test(arguments: ["layer_order_masked_concatenate", "summary_embedding_lstm", "summary_masking_bidirectional"])
    func summariesListTheMaskOps(_ name: String) throws {
        let texts = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: ParityFixtures.path("masked_summaries.json"))), label: "masked_summaries.json")
        let model = try loadModel(path: ParityFixtures.path("\(name).keras"))
        #expect(model.summaryText() == texts[name]!.string!.trimmingCharacters(in: .newlines))
        if name != "layer_order_masked_concatenate" { try expectParityModelMatchesKeras(name) }
    }

    /// Keras prints a functional model that is a chain from one input as a Sequential's table (no
    /// "Connected to"), its outputs taken anywhere along it; one with a call of two tensors (an
    /// initial state, for which Keras records no mask ops) or a shared layer keeps the column. Each
    /// predicts as Keras does (the GRU given an initial state runs unmasked, as in Keras).
    @Test(arguments: ["summary_chain_lstm", "summary_chain_states", "summary_chain_outputs_along", "summary_chain_bidirectional",
                      "summary_chain_initial_state", "summary_chain_shared"])
    func chainsPrintAsSequential(_ name: String) throws {
        let texts = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: ParityFixtures.path("chain_summaries.json"))), label: "chain_summaries.json")
        let model = try loadModel(path: ParityFixtures.path("\(name).keras"))
        #expect(model.summaryText() == texts[name]!.string!.trimmingCharacters(in: .newlines))
        try expectParityModelMatchesKeras(name)
        if name == "summary_chain_initial_state" {
            // Nor does Recur's file of it record mask ops or a mask argument, as Keras's does not.
            let dir = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("m.keras").path
            try model.save(to: path)
            let config = String(decoding: try ZipArchive(path: path).contents(named: "config.json"), as: UTF8.self)
            #expect(!config.contains("NotEqual") && !config.contains("\"mask\""), "\(config)")
        }
        // Built in Swift, the same chains print alike.
        if name == "summary_chain_lstm" {
            let x = Input(shape: [5, 3], name: "x")
            let built = try Model(x, Dense(2, name: "dense")(LSTM(4, name: "lstm")(x)), name: "summary_chain_lstm")
            #expect(built.summaryText() == model.summaryText())
        }
    }

    /// Keras's summary counts a built optimizer's variables (the step count, the learning rate unless
    /// a schedule sets it, the slots of the trainable weights, Nadam's product) in "Optimizer params"
    /// and the total; a model loaded compiled has a built optimizer, trained or not. Built in Swift, the
    /// line appears after the first training step.
    @Test(arguments: ["adam", "nadam", "rmsprop_untrained", "adam_schedule", "sgd_frozen"])
    func summariesCountTheOptimizer(_ name: String) throws {
        let texts = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: ParityFixtures.path("optimizer_summaries.json"))), label: "optimizer_summaries.json")
        let model = try loadModel(path: ParityFixtures.path("summary_optimizer_\(name).keras"))
        #expect(model.summaryText() == texts["summary_optimizer_\(name)"]!.string!.trimmingCharacters(in: .newlines))
        if name == "adam" {
            let built = Sequential([LSTM(4), Dense(2)], inputShape: [5, 3])
            try built.compile(optimizer: Adam(), loss: MeanSquaredError())
            #expect(!built.summaryText().contains("Optimizer params"))
            _ = try built.trainOnBatch([Tensor.ones([2, 5, 3])], [Tensor.ones([2, 2])])
            #expect(built.summaryText().hasSuffix(" Optimizer params: 278 (1.09 KB)"), "\(built.summaryText())")
        }
    }

    /// Keras names the mask ops of a model built after others in its session with its counters
    /// (`not_equal_1`); its file keeps the names, and so does the summary of the model read from it.
    @Test func maskOpsKeepTheirNamesFromTheFile() throws {
        let texts = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: ParityFixtures.path("suffixed_mask_op_summaries.json"))),
                                        label: "suffixed_mask_op_summaries.json")
        let model = try loadModel(path: ParityFixtures.path("mask_ops_suffixed.keras"))
        #expect(model.summaryText() == texts["mask_ops_suffixed"]!.string!.trimmingCharacters(in: .newlines), "\(model.summaryText())")
        try expectParityModelMatchesKeras("mask_ops_suffixed")
    }

    /// Keras's summary measures names in terminal cells, as Rich does: CJK, fullwidth and emoji
    /// characters take two, combining marks and joined emoji none; a name wider than its column is cut
    /// to its width less one, padded where a wide character would straddle the cut, and ended by "…".
    @Test func namesOfWideCharactersLineUpAsInKeras() throws {
        let texts = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: ParityFixtures.path("wide_name_summaries.json"))),
                                        label: "wide_name_summaries.json")
        let names = ["循环层", "全连接_输出层_很长的名字很长的名字很长的名字", "ｆｕｌｌｗｉｄｔｈ", "emoji😀dense",
                     "中a文b中c文d中e文f中g文h中i文j中k文l", "a很长的名字很长的名字很长的名字很长名", "👨\u{200D}👩\u{200D}👧_family",
                     "☀\u{FE0F}_sun", "cafe\u{0301}_layer"]
        let sequential = Sequential([LSTM(4, name: names[0])] + names.dropFirst().map { Dense(2, name: $0) },
                                    inputShape: [5, 3], name: "宽字符模型")
        _ = try sequential.predictOnBatch(Tensor.zeros([1, 5, 3]))
        #expect(sequential.summaryText() == texts["sequential"]!.string!.trimmingCharacters(in: .newlines), "\(sequential.summaryText())")

        let first = Input(shape: [3], name: "入力_一"), second = Input(shape: [2], name: "入力_二")
        let joined = try Concatenate(name: "結合レイヤー_とても長い名前")([first, second])
        let functional = try Model(inputs: [first, second], outputs: [Dense(1, name: "出力層")(joined), Dense(2, name: "ｏｕｔ")(joined)],
                                   name: "関数型")
        #expect(functional.summaryText() == texts["functional"]!.string!.trimmingCharacters(in: .newlines), "\(functional.summaryText())")
    }

    /// A Keras model of named inputs and outputs (dicts in its config) loads with both in the order of
    /// their names, as Keras flattens them, and predicts as Keras does.
    @Test func dictInputsAndOutputsFlattenByName() throws {
        let model = try loadModel(path: ParityFixtures.path("functional_dict_io.keras"))
        #expect(model.inputs.map(\.node.layer.name) == ["extra", "steps"])
        #expect(model.outputs.map(\.node.layer.name) == ["x", "y"])
        try expectParityModelMatchesKeras("functional_dict_io")
    }

    /// Keras records the mask of a pooling after `Attention` as a `convert_to_tensor` of the `any` op:
    /// read as the mask it converts, the file loads and predicts as in Keras.
    @Test func convertToTensorMaskOpsAreRead() throws {
        try expectParityModelMatchesKeras("mask_convert_to_tensor")
    }

    /// A graph that is not one (a call of a missing layer, a cycle) gives no order.
    @Test func malformedGraphsGiveNoOrder() throws {
        func config(_ layers: [JSONValue]) -> JSONValue {
            .object(["class_name": "Functional", "config": .object(["layers": .array(layers), "input_layers": .array([.string("x"), .number(0), .number(0)]),
                                                                    "output_layers": .array([.string("a"), .number(0), .number(0)])])])
        }
        func call(_ producer: String) -> JSONValue {
            .array([.object(["args": .array([.object(["class_name": "__keras_tensor__",
                                                      "config": .object(["keras_history": .array([.string(producer), .number(0), .number(0)])])])]),
                             "kwargs": .object([:])])])
        }
        let input: JSONValue = .object(["class_name": "InputLayer", "name": "x", "inbound_nodes": .array([])])
        let cycle = config([input, .object(["class_name": "Dense", "name": "a", "inbound_nodes": call("b")]),
                            .object(["class_name": "Dense", "name": "b", "inbound_nodes": call("a")])])
        let missing = config([input, .object(["class_name": "Dense", "name": "a", "inbound_nodes": call("nowhere")])])
        #expect(KerasLayerOrder.names(functionalConfig: cycle) == nil)
        #expect(KerasLayerOrder.names(functionalConfig: missing) == nil)
        let fine = config([input, .object(["class_name": "Dense", "name": "a", "inbound_nodes": call("x")])])
        #expect(KerasLayerOrder.names(functionalConfig: fine) == ["x", "a"])
    }
}
