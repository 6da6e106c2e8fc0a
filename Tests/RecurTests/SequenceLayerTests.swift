import Foundation
import Testing
@testable import Recur

/// The layers sequence models put around recurrent ones (convolution, pooling, time-step, softmax,
/// PReLU, noise, identity) beyond the layer fixtures (which compare each layer's outputs and
/// gradients with Keras's): whole Keras models with them, Recur's own files, Keras's names, shapes,
/// training-time noise and the errors for arguments and inputs that cannot work.
@Suite("Sequence layers around recurrent layers")
struct SequenceLayerTests {
    /// Models Keras saved (convolutions and pooling before recurrent layers; every other layer here
    /// around an LSTM; an encoder-decoder whose attention layers get masks per input, return their
    /// scores and attend causally) load and predict what Keras predicted, and round-trip through
    /// Recur's own `.keras` files.
    @Test(arguments: ["conv_lstm", "conv_bidirectional", "sequence_layers", "attention_seq2seq", "convlstm1d_stack", "convlstm2d_stack", "next_frame", "cnn_lstm", "volume_pooling", "convlstm2d_bidirectional_state"])
    func kerasModelsMatchKeras(_ name: String) throws {
        try expectParityModelMatchesKeras(name)
    }

    /// Keras's default names, the output shapes Keras computes (an unknown time length stays
    /// unknown) and the parameter count of a grouped convolution.
    @Test func namesShapesAndParameters() throws {
        withFreshLayerNames {
            #expect(Conv1D(2, kernelSize: 3).name == "conv1d")
            #expect(MaxPooling1D().name == "max_pooling1d" && AveragePooling1D().name == "average_pooling1d")
            let others: [Layer] = [Softmax(), PReLU(), Identity(), SpatialDropout1D(0.1), GaussianNoise(stddev: 0.1), GaussianDropout(0.1),
                                   ZeroPadding1D(), Cropping1D(), UpSampling1D()]
            #expect(others.map(\.name) == ["softmax", "p_re_lu", "identity", "spatial_dropout1d", "gaussian_noise", "gaussian_dropout",
                                           "zero_padding1d", "cropping1d", "up_sampling1d"])
        }
        let model = Sequential([Conv1D(8, kernelSize: 4, strides: 2, padding: .same, groups: 2),
                                MaxPooling1D(poolSize: 3, strides: 1, padding: .same),
                                Conv1D(3, kernelSize: 2, padding: .causal, dilationRate: 3),
                                AveragePooling1D(poolSize: 2)])
        try model.build(inputShape: [nil, 9, 4])
        #expect(model.outputShapes == [[nil, 2, 3]])
        // (4 taps · 2 channels a group · 8 filters + 8) + (2 · 8 · 3 + 3)
        #expect(model.parameterCount == 72 + 51)
        let open = Sequential([Conv1D(2, kernelSize: 3, padding: .valid), MaxPooling1D()])
        try open.build(inputShape: [nil, nil, 3])
        #expect(open.outputShapes == [[nil, nil, 2]])
        #expect(try open.predict(Tensor.zeros([1, 7, 3])).shape == [1, 2, 2])
    }

    /// Arguments Keras refuses, and inputs too short for one window, are errors that name the layer
    /// and the values.
    @Test func impossibleArgumentsAndInputsAreNamedErrors() throws {
        func config(_ className: String, _ entries: [String: JSONValue]) throws -> Layer {
            try KerasLayerRegistry.layer(className: className, config: entries)
        }
        func building(_ layer: Layer, time: Int? = 5) -> String {
            thrownMessage { try Sequential([layer]).build(inputShape: [nil, time, 4]) }
        }
        #expect(building(Conv1D(3, kernelSize: 2, groups: 2, name: "grouped")).contains("grouped"))
        #expect(building(Conv1D(2, kernelSize: 2, strides: 2, dilationRate: 2)).contains("dilationRate (2)"))
        #expect(building(AveragePooling1D(poolSize: 6)).contains("5 steps"))
        #expect(thrownMessage { _ = try config("MaxPooling1D", ["pool_size": .array([.number(2)]), "padding": "causal"]) }.contains("causal"))
        #expect(thrownMessage { _ = try config("Conv1D", ["filters": .number(2), "kernel_size": .array([.number(0)])]) }.contains("kernel_size"))
        #expect(thrownMessage { _ = try config("Conv1D", ["filters": .number(2), "kernel_size": .array([.number(2), .number(2)])]) }.contains("kernel_size"))
        #expect(thrownMessage { _ = try config("Conv1D", ["filters": .number(2), "kernel_size": .number(2), "data_format": "channels_first"]) }
            .contains("channels_first"))
        let short = Sequential([Conv1D(2, kernelSize: 5, name: "wide")])
        try short.build(inputShape: [nil, nil, 3])
        let message = thrownMessage { _ = try short.predict(Tensor.zeros([1, 4, 3])) }
        #expect(message.contains("wide") && message.contains("4 steps") && message.contains("at least 5 steps"))
    }

    /// ConvLSTM1D, 2D and 3D: Keras's names, output shapes and parameter counts, and their refusals,
    /// naming the layer.
    @Test func convLSTMShapesAndErrors() throws {
        withFreshLayerNames {
            #expect([ConvLSTM1D(2, kernelSize: 3), ConvLSTM2D(2, kernelSize: [3, 3]), ConvLSTM3D(2, kernelSize: [1, 2, 3])].map(\.name)
                    == ["conv_lstm1d", "conv_lstm2d", "conv_lstm3d"])
        }
        let video = Sequential([ConvLSTM2D(3, kernelSize: [3, 3], padding: .same, returnSequences: true),
                                ConvLSTM2D(2, kernelSize: [2, 3], strides: [2, 1])])
        try video.build(inputShape: [nil, 4, 6, 5, 1])
        #expect(video.outputShapes == [[nil, 3, 3, 2]])
        // (9 taps · 1 channel + 9 · 3 filters + 1) · 12 gates, then (6 · 3 + 6 · 2 + 1) · 8
        #expect(video.parameterCount == 444 + 248)
        let wrongRank = thrownMessage { try Sequential([ConvLSTM2D(2, kernelSize: [3], name: "flat")]).build(inputShape: [nil, 4, 6, 5, 1]) }
        #expect(wrongRank.contains("flat") && wrongRank.contains("kernelSize must be 2 lengths"), "\(wrongRank)")
        let shortInput = thrownMessage { try Sequential([ConvLSTM3D(2, kernelSize: [2, 2, 2], name: "cube")]).build(inputShape: [nil, 4, 6, 5, 1]) }
        #expect(shortInput.contains("cube") && shortInput.contains("rank 6"), "\(shortInput)")
        let model = Sequential([ConvLSTM1D(4, kernelSize: 3, padding: .same, returnSequences: true), ConvLSTM1D(2, kernelSize: 2, strides: 2)])
        try model.build(inputShape: [nil, 5, 8, 3])
        #expect(model.outputShapes == [[nil, 4, 2]])
        // (3 taps · 3 channels + 3 taps · 4 filters + 1) · 16 gates, then (2 · 4 + 2 · 2 + 1) · 8
        #expect(model.parameterCount == 352 + 104)
        #expect(try model.predict(Tensor.zeros([2, 5, 8, 3])).shape == [2, 4, 2])
        func building(_ layer: Layer, _ shape: [Int?]) -> String { thrownMessage { try Sequential([layer]).build(inputShape: shape) } }
        let rank = building(ConvLSTM1D(2, kernelSize: 3, name: "clstm"), [nil, 5, 4])
        #expect(rank.contains("clstm") && rank.contains("rank 4") && rank.contains("(None, 5, 4)"), "\(rank)")
        let width = building(ConvLSTM1D(2, kernelSize: 3, name: "open"), [nil, 5, nil, 4])
        #expect(width.contains("open") && width.contains("spatial sizes and channels known"), "\(width)")
        #expect(building(ConvLSTM1D(2, kernelSize: 3, strides: 2, dilationRate: 2), [nil, 5, 8, 4]).contains("dilationRate ([2])"))
        #expect(building(ConvLSTM1D(2, kernelSize: 9, name: "narrow"), [nil, 5, 8, 4]).contains("at least 9 steps"))
        func config(_ entries: [String: JSONValue]) -> String {
            thrownMessage { _ = try KerasLayerRegistry.layer(className: "ConvLSTM1D", config: entries) }
        }
        #expect(config(["filters": .number(2), "kernel_size": .number(3), "padding": "causal"]).contains("causal"))
        #expect(config(["filters": .number(2), "kernel_size": .number(3), "data_format": "channels_first"]).contains("channels_first"))
        #expect(config(["kernel_size": .number(3)]).contains("filters"))
        let kernel = thrownMessage {
            _ = try KerasLayerRegistry.layer(className: "ConvLSTM2D", config: ["filters": .number(2), "kernel_size": .array([.number(3)])])
        }
        #expect(kernel.contains("kernel_size") && kernel.contains("list of 2"), "\(kernel)")
    }

    /// Conv2D and Conv3D: Keras's names, output shapes (an unknown size stays unknown) and parameter
    /// counts, and their refusals, naming the layer.
    @Test func convolutionsOverSeveralAxes() throws {
        withFreshLayerNames { #expect([Conv2D(2, kernelSize: [3, 3]), Conv3D(2, kernelSize: [3, 3, 3])].map(\.name) == ["conv2d", "conv3d"]) }
        let model = Sequential([Conv2D(8, kernelSize: [3, 3], strides: [2, 2], padding: .same, groups: 2, activation: .relu),
                                Conv2D(3, kernelSize: [2, 3], dilationRate: [2, 1])])
        try model.build(inputShape: [nil, 9, nil, 4])
        #expect(model.outputShapes == [[nil, 3, nil, 3]])
        // (9 taps · 2 channels a group · 8 filters + 8) + (6 · 8 · 3 + 3)
        #expect(model.parameterCount == 152 + 147)
        #expect(try model.predict(Tensor.zeros([1, 9, 7, 4])).shape == [1, 3, 2, 3])
        let volume = Sequential([Conv3D(2, kernelSize: [2, 2, 2], padding: .same)])
        try volume.build(inputShape: [nil, 3, 4, 5, 1])
        #expect(volume.outputShapes == [[nil, 3, 4, 5, 2]])
        func building(_ layer: Layer, _ shape: [Int?]) -> String { thrownMessage { try Sequential([layer]).build(inputShape: shape) } }
        let rank = building(Conv2D(2, kernelSize: [3, 3], name: "image"), [nil, 5, 4])
        #expect(rank.contains("image") && rank.contains("rank 4"), "\(rank)")
        let kernel = building(Conv3D(2, kernelSize: [3, 3], name: "volume"), [nil, 5, 5, 5, 1])
        #expect(kernel.contains("volume") && kernel.contains("kernelSize must be 3 lengths"), "\(kernel)")
        let groups = building(Conv2D(3, kernelSize: [1, 1], groups: 2, name: "grouped"), [nil, 5, 5, 4])
        #expect(groups.contains("grouped") && groups.contains("groups (2)"), "\(groups)")
        let small = building(Conv2D(2, kernelSize: [6, 1], name: "tall"), [nil, 5, 5, 1])
        #expect(small.contains("tall") && small.contains("at least 6 steps"), "\(small)")
        let causal = thrownMessage {
            _ = try KerasLayerRegistry.layer(className: "Conv2D", config: ["filters": .number(2), "kernel_size": .number(3), "padding": "causal"])
        }
        #expect(causal.contains("causal"), "\(causal)")
        // More positions than Float32 indices address exactly: an error, not a silently wrong gather.
        let vast = Sequential([Conv2D(1, kernelSize: [1, 1], name: "vast")])
        try vast.build(inputShape: [nil, nil, nil, 1])
        let message = thrownMessage { _ = try vast.predict(Tensor.zeros([1, 4097, 4097, 1])) }
        #expect(message.contains("vast") && message.contains("4097 × 4097 positions"), "\(message)")
    }

    /// 2-D and 3-D pooling: Keras's names and output shapes (Keras's default pool of 2 and strides of
    /// the pool), and their refusals, naming the layer.
    @Test func poolingOverSeveralAxes() throws {
        withFreshLayerNames {
            let layers: [Layer] = [MaxPooling2D(), AveragePooling3D(), GlobalAveragePooling2D(), GlobalMaxPooling3D()]
            #expect(layers.map(\.name) == ["max_pooling2d", "average_pooling3d", "global_average_pooling2d", "global_max_pooling3d"])
        }
        var shape: [Int?] = [nil, 9, 7, 4]
        for (layer, expected) in [(MaxPooling2D(), [nil, 4, 3, 4]), (AveragePooling2D(poolSize: [3, 2], strides: [1, 2], padding: .same), [nil, 4, 2, 4]),
                                  (GlobalMaxPooling2D(keepdims: true), [nil, 1, 1, 4])] as [(Layer, [Int?])] {
            shape = try layer.outputShapes(inputShapes: [shape], initialStateShapes: [])[0]
            #expect(shape == expected, "\(layer.className)")
        }
        let volume = Sequential([MaxPooling3D(poolSize: [2, 2, 1]), GlobalAveragePooling3D()])
        #expect(try volume.predict(Tensor.ones([2, 4, 4, 3, 5])).shape == [2, 5])
        let rank = thrownMessage { try Sequential([MaxPooling2D(name: "pool")]).build(inputShape: [nil, 5, 4]) }
        #expect(rank.contains("pool") && rank.contains("rank 4"), "\(rank)")
        let size = thrownMessage { try Sequential([MaxPooling3D(poolSize: [2, 2], name: "flat")]).build(inputShape: [nil, 4, 4, 4, 1]) }
        #expect(size.contains("flat") && size.contains("kernelSize must be 3 lengths"), "\(size)")
        let global = thrownMessage { try Sequential([GlobalAveragePooling3D(name: "everything")]).build(inputShape: [nil, 4, 4, 1]) }
        #expect(global.contains("everything") && global.contains("rank 5"), "\(global)")
        let pool = thrownMessage { _ = try KerasLayerRegistry.layer(className: "MaxPooling2D", config: ["pool_size": .array([.number(2)])]) }
        #expect(pool.contains("pool_size") && pool.contains("list of 2"), "\(pool)")
        // The shared bases are no layers of their own: refused, not a crash.
        let bases: [Layer] = [Convolution(2, kernelSize: [3, 3], name: "c"), MaxPooling(name: "m"), GlobalAveragePooling(name: "g"),
                              ConvLSTM(2, kernelSize: [3, 3], name: "l")]
        for (layer, shape) in zip(bases, [[nil, 5, 5, 1], [nil, 5, 5, 1], [nil, 5, 5, 1], [nil, 3, 5, 5, 1]] as [[Int?]]) {
            let message = thrownMessage { try Sequential([layer]).build(inputShape: shape) }
            #expect(message.contains("'\(layer.name)'") && message.contains("shared base"), "\(message)")
        }
        let plain = thrownMessage { _ = try Layer(name: "plain").run(LayerInput([Tensor.zeros([2, 3])])) }
        #expect(plain.contains("'plain'") && plain.contains("must override call"), "\(plain)")
        for merge in [Merge(name: "merge"), ElementwiseExtremum(name: "extremum")] {
            let message = thrownMessage { _ = try merge.run(LayerInput([Tensor.zeros([2, 3]), Tensor.zeros([2, 3])])) }
            #expect(message.contains("'\(merge.name)'"), "\(message)")
        }
    }

    /// A window far larger than the input, with `same` padding, would gather more values than
    /// Recur allows: an error, not an allocation.
    @Test func hugeWindowsAreRefusedBeforeAllocating() throws {
        let model = Sequential([MaxPooling1D(poolSize: 60_000, strides: 1, padding: .same, name: "vast")])
        try model.build(inputShape: [nil, nil, 4])
        let message = thrownMessage { _ = try model.predict(Tensor.zeros([2, 5_000, 4])) }
        #expect(message.contains("vast") && message.contains("more than"))
    }

    /// Trained by `fit`, a convolution in front of an LSTM learns (the loss falls), as a use of the
    /// gradients the layer fixtures check.
    @Test func trainsInFrontOfAnLSTM() throws {
        let model = withRandomSeed(7) {
            Sequential([Conv1D(6, kernelSize: 3, padding: .causal, activation: .relu), MaxPooling1D(), LSTM(5), Dense(2)])
        }
        var g = SeededGenerator(seed: 2)
        let x = Tensor.randomUniform([64, 8, 3], generator: &g)
        // Whether a sample's first channel averages above 0.5 over time: a sum a convolution sees.
        let y = try x.slice(alongAxis: 2, 0..<1).mean(alongAxes: [1, 2]).greater(Tensor(0.5))
        try model.compile(optimizer: Adam(learningRate: 0.02), loss: SparseCategoricalCrossentropy(fromLogits: true))
        // Seeded: the weights (made when fit builds the model) and the shuffles must not depend on what
        // concurrently running tests draw from the global generator (one CI run trained too slowly).
        let history = try withRandomSeed(7) { try model.fit(x, y, batchSize: 16, epochs: 15, verbose: 0) }
        let losses = try #require(history.history["loss"])
        #expect(losses.last! < losses.first! * 0.7, "losses \(losses)")
    }

    /// Keras's `SpatialDropout1D` constructor takes no `trainable`: Recur's files leave it out there
    /// (Keras could not read them otherwise) and write it for every other layer.
    @Test func spatialDropoutConfigsHaveNoTrainable() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("spatial.keras").path
        try Sequential([SpatialDropout1D(0.2), GaussianDropout(0.1), LSTM(2)], inputShape: [4, 3]).save(to: path)
        let config = try JSONSerialization.jsonObject(with: ZipArchive(path: path).contents(named: "config.json")) as? [String: Any]
        let layers = try #require((config?["config"] as? [String: Any])?["layers"] as? [[String: Any]])
        let keys = Dictionary(uniqueKeysWithValues: layers.compactMap { entry in
            (entry["class_name"] as? String).map { ($0, (entry["config"] as? [String: Any])?.keys.contains("trainable") ?? false) }
        })
        #expect(keys["SpatialDropout1D"] == false && keys["GaussianDropout"] == true && keys["LSTM"] == true, "\(keys)")
    }

    /// In training, SpatialDropout1D drops whole channels (the same at every step) and scales the
    /// rest by 1/(1 − rate); GaussianNoise adds N(0, σ²) and GaussianDropout multiplies by
    /// N(1, rate/(1 − rate)); in inference all three are the identity.
    @Test func noiseLayersAreRandomInTrainingOnly() throws {
        let x = Tensor.ones([8, 50, 40])
        for layer in [SpatialDropout1D(0.5), GaussianNoise(stddev: 0.5), GaussianDropout(0.5)] as [Layer] {
            #expect(try layer.outputs(x, training: false)[0].scalars == x.scalars, "\(layer.name) in inference")
        }
        let dropped = try SpatialDropout1D(0.5).outputs(x, training: true)[0]
        var zeroChannels = 0
        for b in 0..<8 {
            for c in 0..<40 {
                let steps = (0..<50).map { dropped.scalars[(b * 50 + $0) * 40 + c] }
                #expect(Set(steps).count == 1 && (steps[0] == 0 || steps[0] == 2), "sample \(b) channel \(c): \(Set(steps))")
                if steps[0] == 0 { zeroChannels += 1 }
            }
        }
        #expect((100...220).contains(zeroChannels), "\(zeroChannels) of 320 channels dropped at rate 0.5")
        func moments(_ t: Tensor) -> (mean: Double, std: Double) {
            let v = t.scalars.map(Double.init), mean = v.reduce(0, +) / Double(v.count)
            return (mean, (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot())
        }
        let noisy = moments(try GaussianNoise(stddev: 0.5).outputs(x, training: true)[0])
        #expect(abs(noisy.mean - 1) < 0.02 && abs(noisy.std - 0.5) < 0.02, "GaussianNoise: \(noisy)")
        let scaled = moments(try GaussianDropout(0.2).outputs(x, training: true)[0])
        #expect(abs(scaled.mean - 1) < 0.02 && abs(scaled.std - 0.5) < 0.02, "GaussianDropout: \(scaled)")
    }

    /// Softmax refuses a mask that does not broadcast to its input (as Keras), and PReLU an axis
    /// whose size is unknown unless alpha is shared along it; the time-step layers check their sizes.
    @Test func softmaxPReLUAndTimeStepErrorsNameTheLayer() throws {
        let message = thrownMessage { _ = try Softmax(name: "probabilities").outputs(Tensor.zeros([2, 3, 4]), mask: Tensor.ones([2, 3])) }
        #expect(message.contains("probabilities") && message.contains("(2, 3)"))
        #expect(try Softmax().outputs(Tensor.zeros([2, 3, 4]), mask: Tensor.ones([2, 1, 4]))[0].shape == [2, 3, 4])
        #expect(thrownMessage { try Sequential([PReLU(name: "leaky")]).build(inputShape: [nil, nil, 3]) }.contains("leaky"))
        let shared = Sequential([PReLU(sharedAxes: [1])])
        try shared.build(inputShape: [nil, nil, 3])
        #expect(shared.parameterCount == 3)
        let crop = thrownMessage { try Sequential([Cropping1D(before: 2, after: 3, name: "trim")]).build(inputShape: [nil, 5, 2]) }
        #expect(crop.contains("trim") && crop.contains("5 steps"))
        #expect(thrownMessage { _ = try KerasLayerRegistry.layer(className: "ZeroPadding1D", config: ["padding": .array([.number(1)])]) }
            .contains("padding"))
        let attention = AdditiveAttention(name: "attend")
        let huge = Tensor.zeros([1, 40_000, 1])
        #expect(thrownMessage { _ = try attention.outputs([huge, huge]) }.contains("attend"))
        let vast = Sequential([UpSampling1D(size: 60_000, name: "stretch")])
        try vast.build(inputShape: [nil, nil, 4])
        #expect(thrownMessage { _ = try vast.predict(Tensor.zeros([2, 10_000, 4])) }.contains("stretch"))
    }

    /// With RECUR_KERAS_EXPORT_DIR set, writes models with these layers, and compiled models with
    /// every optimizer, loss and metric Recur writes in compile configs (untrained and trained), as
    /// Recur saves them with Recur's outputs, for `scripts/make_keras_file_fixtures.py --check-recur
    /// DIR`, which loads each in Keras and fails on an error, a warning or other outputs.
    @Test(.enabled(if: kerasExportDirectory != nil))
    func exportForKerasCheck() throws {
        let dir = kerasExportDirectory!
        var g = SeededGenerator(seed: 9)
        var models: [(String, Model, [Tensor])] = []
        for name in ["conv_lstm", "conv_bidirectional", "sequence_layers", "attention_seq2seq", "convlstm1d_stack", "convlstm2d_stack", "next_frame", "cnn_lstm", "volume_pooling", "convlstm2d_bidirectional_state"] {
            let (model, inputs, _) = try ParityFixtures.model(name)
            models.append(("sequence_\(name)", model, inputs))
        }
        let built = withRandomSeed(4) {
            Sequential([GaussianNoise(stddev: 0.2), Conv1D(6, kernelSize: 3, strides: 2, padding: .same, activation: .relu),
                        MaxPooling1D(poolSize: 3, strides: 1, padding: .same), ZeroPadding1D(before: 1, after: 2), SpatialDropout1D(0.3),
                        PReLU(alphaInitializer: .constant(0.2), sharedAxes: [1]), UpSampling1D(size: 2), Cropping1D(before: 2, after: 1),
                        Conv1D(4, kernelSize: 2, padding: .causal, dilationRate: 2, groups: 2, useBias: false),
                        AveragePooling1D(poolSize: 2, padding: .same), GaussianDropout(0.1), Identity(), GRU(4, returnSequences: true),
                        Softmax(axes: [1]), Softmax(axes: [1, 2]), GlobalMaxPooling1D()], inputShape: [11, 4])
        }
        models.append(("sequence_built", built, [Tensor.randomUniform([3, 11, 4], low: -1, high: 1, generator: &g)]))
        let x = Tensor.randomUniform([8, 5, 2], generator: &g), y = Tensor.randomUniform([8, 1], generator: &g)
        let compilations: [(Optimizer, any Loss, [String])] = [
            (SGD(), Huber(delta: 0.3), ["mape", "root_mean_squared_error", "precision", "recall"]),
            (SGD(learningRate: 1, momentum: 0.5, nesterov: true), LogCosh(), ["cosine_similarity", "msle", "kl_divergence"]),
            (Adam(), Poisson(), ["poisson", "hinge", "squared_hinge"]), (AdamW(), CategoricalHinge(), ["binary_crossentropy", "mse"]),
            (RMSprop(), MeanAbsolutePercentageError(), ["mae"]), (RMSprop(momentum: 0.2), KLDivergence(), ["categorical_hinge"]),
            (Adam().scheduled(by: ExponentialDecay(initialLearningRate: 1, decaySteps: 2, decayRate: 0.5)), CosineSimilarity(), ["accuracy"]),
            (SGD(), Hinge(), ["auc"]), (SGD(), MeanSquaredLogarithmicError(), []),
        ]
        for (k, (optimizer, loss, metrics)) in compilations.enumerated() {
            let model = withRandomSeed(2) { Sequential([LSTM(3), Dense(1, activation: .sigmoid)], inputShape: [5, 2]) }
            try model.compile(optimizer: optimizer, loss: loss, metrics: metrics)
            // Every other one trained, so that the optimizer state has slots.
            if k % 2 == 1 { _ = try model.fit(x, y, batchSize: 4, epochs: 1, verbose: 0) }
            models.append(("compiled_\(loss.name)", model, [x]))
        }
        try writeForKerasCheck(models, to: dir)
    }
}
