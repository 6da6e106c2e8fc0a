import Foundation
import Testing
@testable import Recur

/// Fixtures from scripts/make_merge_shape_wrapper_fixtures.py in Fixtures/merge_shape_wrapper_layers: NAME.keras saved by
/// Keras 3 with NAME.npz (input_0.., output_0..), and masked_merges.weights.h5 (+ .npz).
enum MergeShapeWrapperFixtures {
    static let directory = Fixtures.directory.appendingPathComponent("merge_shape_wrapper_layers")

    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".keras") }.map { String($0.dropLast(6)) }.sorted()
    }

    static func path(_ file: String) -> String { directory.appendingPathComponent(file).path }

    static func arrays(_ name: String) throws -> (inputs: [Tensor], outputs: [Tensor]) {
        let all = try NumpyFile.loadNpz(path: path("\(name).npz"))
        func list(_ prefix: String) -> [Tensor] { (0..<all.count).compactMap { all["\(prefix)_\($0)"] } }
        return (list("input"), list("output"))
    }

    /// The architecture of masked_merges (see masked_merges_model() in the script), built in Recur.
    /// The Concatenate is not left as `concatenate`: Keras, rebuilding a saved graph whose masks meet
    /// in a Concatenate, names the concatenate op of that mask `concatenate` too and refuses the duplicate.
    static func maskedMergesModel() throws -> Model {
        try withFreshLayerNames {
            let tok = Input(shape: [5], name: "tokens")
            let other = Input(shape: [5, 3], name: "other")
            let e = try Embedding(inputDim: 10, outputDim: 3, maskZero: true)(tok)
            let a = try LSTM(3, returnSequences: true)(e)
            let b = try GRU(3, returnSequences: true)(e)
            func merged(_ layer: Layer, _ xs: [SymbolicTensor]) throws -> SymbolicTensor { try layer.outputs(xs)[0] }
            let outs = [try GlobalAveragePooling1D()(try merged(Add(), [a, b])), try merged(Multiply(), [a, b]),
                        try merged(Maximum(), [a, b]), try merged(Minimum(), [a, b]),
                        try GlobalAveragePooling1D()(try merged(Average(), [a, b])), try merged(Subtract(), [a, b]),
                        try LSTM(2)(try merged(Concatenate(name: "concat"), [a, b])),
                        try GlobalAveragePooling1D()(try merged(Add(), [a, other])), try merged(Multiply(), [a, other]),
                        try merged(Maximum(), [a, other])]
            return try Model(inputs: [tok, other], outputs: outs, name: "masked_merges")
        }
    }
}

@Suite("Merge, reshape, TimeDistributed, pooling and LayerNormalization layers match Keras")
struct MergeShapeAndWrapperLayerTests {
    @Test func fixturesExist() {
        #expect(MergeShapeWrapperFixtures.names.count == 5, "\(MergeShapeWrapperFixtures.names)")
    }

    @Test(arguments: MergeShapeWrapperFixtures.names)
    func fixtureMatchesKeras(_ name: String) throws {
        let (inputs, expected) = try MergeShapeWrapperFixtures.arrays(name)
        try expectMatchesKeras(modelPath: MergeShapeWrapperFixtures.path("\(name).keras"), inputs: inputs, expected: expected, name: name)
    }

    @Test(arguments: MergeShapeWrapperFixtures.names)
    func roundTripsAreBitExact(_ name: String) throws {
        try expectFileRoundTrips(modelPath: MergeShapeWrapperFixtures.path("\(name).keras"), inputs: MergeShapeWrapperFixtures.arrays(name).inputs, name: name)
    }

    /// Masks through merge layers: Keras's weights loaded into the same architecture built in Recur.
    @Test func maskedMergesMatchKeras() throws {
        let model = try MergeShapeWrapperFixtures.maskedMergesModel()
        try model.loadKerasWeights(from: MergeShapeWrapperFixtures.path("masked_merges.weights.h5"))
        let (inputs, expected) = try MergeShapeWrapperFixtures.arrays("masked_merges")
        let outputs = try model.predictOnBatch(inputs)
        #expect(outputs.count == expected.count)
        for (k, (out, e)) in zip(outputs, expected).enumerated() {
            expectClose(out, e, "masked_merges output \(k)")
        }
    }

    /// TimeDistributed(BatchNormalization) in training normalises each step with that step's own batch statistics.
    @Test func timeDistributedBatchNormalizationIsPerStep() throws {
        var g = SeededGenerator(seed: 70)
        let x = Tensor.randomUniform([4, 3, 2], low: -1, high: 1, generator: &g)
        let y = try TimeDistributed(BatchNormalization()).outputs(x, training: true)[0]
        for t in 0..<3 {
            let step = try x.select(alongAxis: 1, index: t)
            let mean = try step.mean(alongAxis: 0)
            let variance = try (step - mean).squared().mean(alongAxis: 0)
            let expected = try (step - mean) / (variance + 1e-3).sqrt()
            expectClose(try y.select(alongAxis: 1, index: t), expected, "step \(t)")
        }
    }

    /// Keras's `.weights.h5` of a TimeDistributed keeps the wrapped layer's weights under `layer`.
    @Test func timeDistributedWeightsPath() throws {
        let model = try loadModel(path: MergeShapeWrapperFixtures.path("seq_time_distributed.keras"))
        let paths = try KerasWeightsFile.saveables(of: model).filter { !$0.variables.isEmpty }.map(\.path)
        #expect(paths.contains("layers/time_distributed/layer"), "\(paths)")
        #expect(paths.contains("layers/time_distributed_2/layer"), "\(paths)")
    }

    @Test func autoNamesFollowKeras() throws {
        try withFreshLayerNames { () throws -> Void in
            let layers: [Layer] = [Concatenate(), Concatenate(), Add(), Subtract(), Multiply(), Average(), Maximum(), Minimum(),
                                   ActivationLayer(.tanh), Activation.relu.layer(), Flatten(), Reshape(targetShape: [2]),
                                   RepeatVector(2), try Permute([1]), TimeDistributed(Dense(2)),
                                   GlobalAveragePooling1D(), GlobalMaxPooling1D(), LayerNormalization()]
            #expect(layers.map(\.name) == ["concatenate", "concatenate_1", "add", "subtract", "multiply", "average", "maximum",
                                           "minimum", "activation", "activation_1", "flatten", "reshape", "repeat_vector",
                                           "permute", "time_distributed", "global_average_pooling1d",
                                           "global_max_pooling1d", "layer_normalization"])
            #expect(layers.map(\.className) == ["Concatenate", "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum",
                                                "Minimum", "Activation", "Activation", "Flatten", "Reshape", "RepeatVector",
                                                "Permute", "TimeDistributed", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
                                                "LayerNormalization"])
        }
    }

    @Test func masksFollowKeras() throws {
        let x = try Tensor(shape: [2, 3, 2], scalars: (0..<12).map { Float($0) - 5 })
        let m = try Tensor(shape: [2, 3], scalars: [1, 1, 0, 1, 0, 0])
        let n = try Tensor(shape: [2, 3], scalars: [1, 0, 0, 0, 0, 1])
        func run(_ layer: Layer, _ xs: [Tensor], _ masks: [Tensor?]) throws -> LayerOutput {
            try layer.run(LayerInput(xs, mask: masks[0], masks: masks))
        }
        // Passed through: Activation, TimeDistributed, LayerNormalization.
        #expect(try run(ActivationLayer(.tanh), [x], [m]).mask?.scalars == m.scalars)
        #expect(try run(TimeDistributed(Dense(2)), [x], [m]).mask?.scalars == m.scalars)
        #expect(try run(LayerNormalization(), [x], [m]).mask?.scalars == m.scalars)
        // Dropped: Flatten, Reshape, Permute, pooling.
        #expect(try run(Flatten(), [x], [m]).mask == nil)
        #expect(try run(Reshape(targetShape: [6]), [x], [m]).mask == nil)
        #expect(try run(Permute([2, 1]), [x], [m]).mask == nil)
        #expect(try run(GlobalAveragePooling1D(), [x], [m]).mask == nil)
        #expect(try run(GlobalMaxPooling1D(), [x], [m]).mask == nil)
        // Merges: OR when every input has a mask, none otherwise.
        let or: [Float] = [1, 1, 0, 1, 0, 1]
        for layer in [Add(), Subtract(), Multiply(), Average(), Maximum(), Minimum(), Concatenate()] as [Layer] {
            #expect(try run(layer, [x, x], [m, n]).mask?.scalars == or, "\(layer.className)")
        }
        for layer in [Add(), Multiply(), Maximum()] as [Layer] {
            #expect(try run(layer, [x, x], [m, nil]).mask == nil, "\(layer.className)")
        }
        // Concatenate with one mask: the missing one counts as all ones.
        #expect(try run(Concatenate(), [x, x], [m, nil]).mask?.scalars == [1, 1, 1, 1, 1, 1])
        #expect(try run(Concatenate(axis: 1), [x, x], [m, nil]).mask?.scalars == [1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1])
    }

    // MARK: - Errors

    @Test func mergeShapeErrorsNameLayerAndShapes() throws {
        try withFreshLayerNames { () throws -> Void in
            let a = Input(shape: [5, 4]), b = Input(shape: [5, 3])
            let add = thrownMessage { _ = try Add().outputs([a, b]) }
            #expect(add.contains("Add layer 'add'") && add.contains("(None, 5, 4)") && add.contains("(None, 5, 3)"), "\(add)")
            let eager = thrownMessage { _ = try Add().outputs([Tensor.zeros([2, 5, 4]), Tensor.zeros([2, 4, 4])]) }
            #expect(eager.contains("Add layer 'add_1'") && eager.contains("(2, 5, 4)") && eager.contains("(2, 4, 4)"), "\(eager)")

            let c = Input(shape: [4, 3])
            let cat = thrownMessage { _ = try Concatenate().outputs([a, c]) }
            #expect(cat.contains("Concatenate layer 'concatenate'") && cat.contains("axis -1") && cat.contains("(None, 5, None)")
                    && cat.contains("(None, 4, 3)"), "\(cat)")
            #expect(try Concatenate(axis: 1).outputs([a, Input(shape: [2, 4])])[0].shape == [nil, 7, 4])
            let axis = thrownMessage { _ = try Concatenate(axis: 1).outputs([a, b]) }
            #expect(axis.contains("axis 1") && axis.contains("(None, 5, 3)"), "\(axis)")
            let rank = thrownMessage { _ = try Concatenate().outputs([a, Input(shape: [4])]) }
            #expect(rank.contains("(None, 4)"), "\(rank)")

            let sub = thrownMessage { _ = try Subtract().outputs([a, a, a]) }
            #expect(sub.contains("Subtract") && sub.contains("exactly 2"), "\(sub)")
            // Broadcasting as Keras: a dimension of 1, or a lower rank, fits.
            #expect(try Add().outputs([a, Input(shape: [1, 4])])[0].shape == [nil, 5, 4])
            #expect(try Maximum().outputs([a, Input(shape: [4])])[0].shape == [nil, 5, 4])
        }
    }

    @Test func singleInputShapeErrors() throws {
        let reshape = thrownMessage { _ = try Reshape(targetShape: [4, -1], name: "r").outputs([Input(shape: [5, 3])]) }
        #expect(reshape.contains("Reshape layer 'r'") && reshape.contains("(None, 5, 3)"), "\(reshape)")
        let permute = thrownMessage { _ = try Permute([1, 3]) }
        #expect(permute.contains("[1, 3]"), "\(permute)")
        let repeatVector = thrownMessage { _ = try RepeatVector(2, name: "rv").outputs([Input(shape: [5, 3])]) }
        #expect(repeatVector.contains("rv") && repeatVector.contains("rank 2"), "\(repeatVector)")
        let td = thrownMessage { _ = try TimeDistributed(Dense(2), name: "td")(Input(shape: [3])) }
        #expect(td.contains("td") && td.contains("rank ≥ 3"), "\(td)")
    }

    @Test func unsupportedArgumentsThrow() throws {
        func message(_ className: String, _ config: [String: JSONValue]) -> String {
            thrownMessage { _ = try KerasConfig.makeLayer(.object(["class_name": .string(className), "config": .object(config)])) }
        }
        #expect(message("LayerNormalization", ["axis": .number(12)]).contains("'axis'"))
        #expect(message("LayerNormalization", ["axis": .array([])]).contains("'axis'"))
        #expect(message("LayerNormalization", ["gamma_regularizer": .object(["class_name": "SpectralRegularizer"])]).contains("gamma_regularizer"))
        #expect(message("Flatten", ["data_format": "channels_first"]).contains("data_format"))
        #expect(message("GlobalAveragePooling1D", ["data_format": "channels_first"]).contains("data_format"))
        #expect(message("Activation", ["activation": "sparsemax"]).contains("sparsemax"))
        #expect(message("Reshape", [:]).contains("target_shape"))
        #expect(message("Permute", ["dims": .array([.number(2), .number(2)])]).contains("[2, 2]"))
        #expect(message("TimeDistributed", ["layer": .object(["class_name": "Conv1D", "config": .object([:])])]).contains("Conv1D"))
    }

    // MARK: - Recur-built models

    /// Recur-built models with the new layers, for the round trip here and for Keras's check.
    func recurBuiltModels() throws -> [(String, Model, [Tensor])] {
        try withRandomSeed(21) { try withFreshLayerNames {
            var g = SeededGenerator(seed: 9)
            let x = Tensor.randomUniform([2, 4, 3], low: -1, high: 1, generator: &g)
            let seqIn = Input(shape: [4, 3], name: "seq")
            let a = try LSTM(3, returnSequences: true)(seqIn)
            let b = try GRU(3, returnSequences: true, goBackwards: true)(seqIn)
            let cat = try Concatenate().outputs([a, b])[0]
            let normed = try LayerNormalization(epsilon: 1e-4)(cat)
            let td = try TimeDistributed(Dense(2, activation: .sigmoid))(normed)
            let act = try ActivationLayer(.relu)(try Add().outputs([a, b])[0])
            let flat = try Flatten()(try Permute([2, 1])(act))
            let repeated = try RepeatVector(2)(flat)
            let reshaped = try Reshape(targetShape: [-1, 3])(repeated)
            let pooled = [try GlobalAveragePooling1D()(reshaped), try GlobalMaxPooling1D(keepdims: true)(td)]
            let mins = try Minimum().outputs([try Average().outputs([a, b])[0], try Subtract().outputs([a, b])[0]])[0]
            let functional = try Model(inputs: [seqIn], outputs: pooled + [mins, try Multiply().outputs([a, b, a])[0]],
                                       name: "recur_extra_functional")
            let sequential = Sequential([LSTM(4, returnSequences: true), TimeDistributed(Dense(3)), TimeDistributed(Dropout(0.5)),
                                             LayerNormalization(center: false), GlobalMaxPooling1D()], inputShape: [4, 3])
            for model in [functional, sequential] as [Model] { perturbWeights(model) }
            let masked = try MergeShapeWrapperFixtures.maskedMergesModel()
            perturbWeights(masked)
            let tokens = try Tensor(shape: [2, 5], scalars: [1, 2, 3, 0, 0, 4, 0, 5, 6, 0])
            let other = Tensor.randomUniform([2, 5, 3], low: -1, high: 1, generator: &g)
            return [("recur_extra_functional", functional, [x]), ("recur_extra_sequential", sequential, [x]),
                    ("recur_masked_merges", masked, [tokens, other])]
        } }
    }

    @Test func recurBuiltModelsRoundTrip() throws {
        try expectKerasRoundTrip(recurBuiltModels())
    }

    /// With RECUR_KERAS_EXPORT_DIR set, writes Recur-saved files (and Recur's outputs) for
    /// `scripts/make_merge_shape_wrapper_fixtures.py --check-recur DIR`, which loads them in Keras.
    @Test(.enabled(if: kerasExportDirectory != nil))
    func exportForKerasCheck() throws {
        let dir = kerasExportDirectory!
        var models = try recurBuiltModels()
        for name in MergeShapeWrapperFixtures.names {
            let model = try loadModel(path: MergeShapeWrapperFixtures.path("\(name).keras"))
            perturbWeights(model)
            models.append((name, model, try MergeShapeWrapperFixtures.arrays(name).inputs))
        }
        try writeForKerasCheck(models, to: dir)
    }
}
