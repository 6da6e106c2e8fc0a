import Foundation
import Testing
@testable import Recur

/// Models Keras saved compiled load compiled (`KerasCompileConfig`) and train on as in Keras
/// (fixtures from scripts/make_keras_compile_fixtures.py: Keras's `load_model` then `fit`).
@Suite("Compiled Keras files train on as in Keras")
struct CompiledKerasFileTests {
    @Test(arguments: ["adam_sparse", "sgd_nesterov_mse", "rmsprop_decay_binary", "adamw_clipnorm", "adam_amsgrad"])
    func fitAfterLoadingMatchesKeras(_ name: String) throws {
        let fixture = try ParityFixtures.json("compiled_\(name).json")
        let model = try loadModel(path: ParityFixtures.path("compiled_\(name).keras"))
        #expect(model.compiled != nil, "\(name) loads compiled")
        let (x, y) = (try fixture["x"]!.fixtureTensor, try fixture["y"]!.fixtureTensor)
        let history = try model.fit(x, y, batchSize: 8, epochs: 3, shuffle: false, verbose: 0)
        let expected = fixture["history"]!.object!
        #expect(Set(history.history.keys) == Set(expected.keys), "\(name): logged \(history.history.keys.sorted())")
        for (key, values) in expected {
            let want = values.array!.compactMap(\.double).map(Float.init)
            let got = history.history[key] ?? []
            #expect(got.count == want.count && zip(got, want).allSatisfy { abs($0 - $1) <= 2e-5 * max(1, abs($1)) },
                    "\(name) \(key): \(got) vs Keras \(want)")
        }
        expectClose(try model.predict(x), try fixture["predictions"]!.fixtureTensor, tolerance: 2e-5, "\(name) predictions after fit")
    }

    /// A compile option Recur lacks (a loss's `ignore_class`) leaves the model uncompiled, as Keras
    /// leaves a model it cannot compile; it still predicts, and `compile(loadModel(..., compile: false))`
    /// is uncompiled by request.
    @Test func anOptionRecurLacksLoadsTheModelUncompiled() throws {
        let path = ParityFixtures.path("compiled_ignore_class_unsupported.keras")
        let model = try loadModel(path: path)
        #expect(model.compiled == nil)
        let x = try ParityFixtures.json("compiled_ignore_class_unsupported.json")["x"]!.fixtureTensor
        #expect(try model.predict(x).shape == [16, 3])
        #expect(thrownMessage { _ = try model.fit(x, Tensor.zeros([16]), verbose: 0) }.contains("compile"))
        #expect(try loadModel(path: ParityFixtures.path("compiled_adam_sparse.keras"), compile: false).compiled == nil)
    }

    /// Every part of a compile config that Recur reads is checked: an optimizer or schedule option out
    /// of range throws naming the file and the option, never traps.
    @Test func malformedCompileConfigsThrowNamingTheOption() throws {
        let model = Sequential([Dense(2)], inputShape: [3])
        func message(_ json: String) -> String {
            thrownMessage { try KerasCompileConfig.compile(model, from: try JSONValue.parse(Data(json.utf8), label: "t"), label: "m.keras") }
        }
        let schedule = #"{"optimizer": {"class_name": "SGD", "config": {"learning_rate": {"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [1, 2], "values": [0.1]}}}}, "loss": "mse"}"#
        #expect(message(schedule).contains("m.keras") && message(schedule).contains("3 values"))
        let decay = #"{"optimizer": {"class_name": "Adam", "config": {"learning_rate": {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.5}}}}, "loss": "mse"}"#
        #expect(message(decay).contains("decay_steps"))
        let warmup = #"{"optimizer": {"class_name": "Adam", "config": {"learning_rate": {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "warmup_target": 0.2, "warmup_steps": -3}}}}, "loss": "mse"}"#
        #expect(message(warmup).contains("warmup_steps"))
        let rate = #"{"optimizer": {"class_name": "Adam", "config": {"learning_rate": "fast"}}, "loss": "mse"}"#
        #expect(message(rate).contains("learning_rate"))
        let ema = #"{"optimizer": {"class_name": "Adam", "config": {"use_ema": true, "ema_momentum": -1}}, "loss": "mse"}"#
        #expect(message(ema).contains("ema_momentum"))
        let smoothing = #"{"optimizer": "adam", "loss": {"class_name": "CategoricalCrossentropy", "config": {"label_smoothing": 0.1}}}"#
        #expect(message(smoothing).contains("label_smoothing"))
        let perOutput = #"{"optimizer": "adam", "loss": "mse", "metrics": {"dense": ["mae"]}}"#
        #expect(message(perOutput).contains("metrics"))
        #expect(message(#"{"optimizer": "adam", "loss": null}"#).contains("without a loss"))
        #expect(message(#"{"optimizer": "adam", "loss": "mse", "metrics": ["mae"]}"#) == "")
        #expect(model.compiled != nil)
    }

    /// A model Recur compiled is saved with its compile config and loads compiled the same way: the
    /// reloaded copy trains exactly as the original (both from the saved weights, neither trained yet).
    @Test(arguments: 0..<5)
    func compileConfigRoundTrips(_ variant: Int) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("compiled.keras").path
        var g = SeededGenerator(seed: UInt64(variant + 1))
        let x = Tensor.randomUniform([12, 4, 3], low: -1, high: 1, generator: &g)
        let classes = Tensor((0..<12).map { Float($0 % 3) })
        let model = withRandomSeed(UInt64(variant)) { Sequential([GRU(5), Dense(3)], inputShape: [4, 3]) }
        let optimizers: [Optimizer] = [
            Adam(learningRate: 0.02, beta1: 0.8, clipNorm: 0.7),
            SGD(learningRate: 0.1, momentum: 0.5, nesterov: true).scheduled(by: ExponentialDecay(initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.7)),
            RMSprop(learningRate: 0.01, rho: 0.8, momentum: 0.1, clipValue: 0.2),
            AdamW(learningRate: 0.01, weightDecay: 0.02).scheduled(by: CosineDecay(initialLearningRate: 0.01, decaySteps: 4, alpha: 0.1)),
            Adam().scheduled(by: PiecewiseConstantDecay(boundaries: [1, 3], values: [0.05, 0.02, 0.01])),
        ]
        let losses: [any Loss] = [SparseCategoricalCrossentropy(fromLogits: true), SparseCategoricalCrossentropy(), MeanSquaredError(),
                                  SparseCategoricalCrossentropy(fromLogits: true), MeanAbsoluteError()]
        let y = losses[variant] is SparseCategoricalCrossentropy ? classes : Tensor.randomUniform([12, 3], generator: &g)
        try model.compile(optimizer: optimizers[variant], loss: losses[variant], metrics: variant == 2 ? ["mae"] : ["accuracy"])
        try model.save(to: path)
        let reloaded = try loadModel(path: path)
        #expect(reloaded.compiled != nil)
        #expect(reloaded.compiled.map { type(of: $0.optimizer) == type(of: optimizers[variant]) } == true)
        let original = try model.fit(x, y, batchSize: 4, epochs: 2, shuffle: false, verbose: 0)
        let again = try reloaded.fit(x, y, batchSize: 4, epochs: 2, shuffle: false, verbose: 0)
        #expect(original.history == again.history, "variant \(variant): \(original.history) vs \(again.history)")
    }

    /// Keras refuses an optimizer whose `learning_rate` or SGD `momentum` reads as a Python int (Keras
    /// 3.15 raised "`momentum` must be a float" loading a Recur file with plain `SGD()`): they are
    /// written with a decimal point. An untrained optimizer is saved whole (zero slots), as the
    /// optimizer Keras's `load_model` builds (Keras warned about a missing state before).
    @Test func optimizerHyperparametersAreFloatsAndUntrainedStateIsSaved() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("sgd.keras").path
        let model = Sequential([Dense(2)], inputShape: [3])
        try model.compile(optimizer: SGD(learningRate: 1), loss: "mse")
        try model.save(to: path)
        let archive = try ZipArchive(path: path)
        let text = String(decoding: try archive.contents(named: "config.json"), as: UTF8.self)
        #expect(text.contains(#""learning_rate":1.0"#) && text.contains(#""momentum":0.0"#), "\(text)")
        #expect(text.contains(#""units":2,"#), "whole numbers elsewhere stay integers: \(text)")
        let image = try archive.contents(named: "model.weights.h5")
        // The HDF5 library is not thread-safe: the file is opened, read and closed under Recur's lock.
        let stateNames = try HDF5File.withLock { try HDF5File.open(image: image, label: path).memberNames(KerasOptimizerState.group) }
        // Step count, learning rate, and SGD without momentum has no slots; Adam has two a weight.
        #expect(Set(stateNames) == ["0", "1"])
        let adam = Sequential([Dense(2)], inputShape: [3])
        try adam.compile(optimizer: Adam(), loss: "mse")
        let adamPath = dir.appendingPathComponent("adam.keras").path
        try adam.save(to: adamPath)
        let adamImage = try ZipArchive(path: adamPath).contents(named: "model.weights.h5")
        let adamNames = try HDF5File.withLock { try HDF5File.open(image: adamImage, label: adamPath).memberNames(KerasOptimizerState.group) }
        #expect(Set(adamNames) == Set((0..<6).map(String.init)))
        #expect(try loadModel(path: adamPath).compiled?.optimizer.iterations == 0)
        let reloaded = try loadModel(path: path)
        #expect(reloaded.compiled?.optimizer.iterations == 0 && reloaded.compiled?.optimizer.learningRate == 1)
    }

    /// A compiled model with a part Keras has no name for (a metric of the user's) is saved without a
    /// compile config, and loads uncompiled.
    @Test func aCustomMetricLeavesTheCompileConfigOut() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("custom.keras").path
        let model = Sequential([Dense(2)], inputShape: [3])
        try model.compile(optimizer: "adam", loss: "mse", metrics: [Metric(name: "mine") { y, p in try (y - p).abs().mean(alongAxis: -1) }])
        try model.save(to: path)
        #expect(try loadModel(path: path).compiled == nil)
    }

    /// A model Keras trained and saved holds its optimizer's state; loaded, it trains on as Keras's
    /// loaded copy does (Adam's moments, SGD's and RMSprop's momenta, a Bidirectional layer and a frozen
    /// one in the variable order).
    @Test(arguments: ["adam", "sgd_momentum", "rmsprop_momentum"])
    func trainingResumesWithKerasOptimizerState(_ name: String) throws {
        let fixture = try ParityFixtures.json("resumed_\(name).json")
        let model = try loadModel(path: ParityFixtures.path("resumed_\(name).keras"))
        #expect(model.compiled?.optimizer.iterations == 4, "\(name): 2 epochs of 2 steps")
        let (x, y) = (try fixture["x"]!.fixtureTensor, try fixture["y"]!.fixtureTensor)
        let history = try model.fit(x, y, batchSize: 8, epochs: 1, shuffle: false, verbose: 0)
        let want = fixture["history"]!["loss"]!.array!.compactMap(\.double).map(Float.init)
        let got = history.history["loss"] ?? []
        #expect(got.count == 1 && abs(got[0] - want[0]) <= 2e-5 * max(1, abs(want[0])), "\(name) loss \(got) vs Keras \(want)")
        expectClose(try model.predict(x), try fixture["predictions"]!.fixtureTensor, tolerance: 2e-5, "\(name) predictions after resuming")
    }

    /// Recur's own saved state: a model trained, saved and reloaded goes on exactly as the original.
    @Test func recurSavedOptimizerStateResumesExactly() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trained.keras").path
        var g = SeededGenerator(seed: 4)
        let x = Tensor.randomUniform([12, 4, 3], low: -1, high: 1, generator: &g)
        let y = Tensor((0..<12).map { Float($0 % 3) })
        for optimizer in [Adam(learningRate: 0.02), SGD(learningRate: 0.1, momentum: 0.7), RMSprop(learningRate: 0.01, momentum: 0.3),
                          AdamW(learningRate: 0.01).scheduled(by: ExponentialDecay(initialLearningRate: 0.02, decaySteps: 2, decayRate: 0.5))] as [Optimizer] {
            let model = withRandomSeed(2) { Sequential([Bidirectional(LSTM(3)), Dense(3)], inputShape: [4, 3]) }
            try model.compile(optimizer: optimizer, loss: SparseCategoricalCrossentropy(fromLogits: true))
            _ = try model.fit(x, y, batchSize: 4, epochs: 1, shuffle: false, verbose: 0)
            try model.save(to: path)
            let reloaded = try loadModel(path: path)
            #expect(reloaded.compiled?.optimizer.iterations == 3)
            let original = try model.fit(x, y, batchSize: 4, epochs: 2, shuffle: false, verbose: 0)
            let again = try reloaded.fit(x, y, batchSize: 4, epochs: 2, shuffle: false, verbose: 0)
            #expect(original.history == again.history, "\(optimizer.name): \(original.history) vs \(again.history)")
        }
    }
}
