import Foundation
import Testing
@testable import Recur

/// Keras's optimizers beyond SGD, Adam, AdamW and RMSprop, and the options of every Keras optimizer
/// (`weight_decay`, `global_clipnorm`) or of some (`amsgrad`, `centered`), against Keras itself
/// (fixtures from scripts/make_keras_optimizer_fixtures.py: a model Keras trained for 4 steps and saved
/// with its optimizer state, then one more epoch of 2 steps in Keras).
@Suite("Keras's optimizers train as in Keras")
struct OptimizerParityTests {
    /// The fixtures' optimizers built in Swift, as the script builds them in Keras.
    static let optimizers: [String: @Sendable () -> Optimizer] = [
        "adagrad": { Adagrad(learningRate: 0.05, initialAccumulatorValue: 0.3) },
        "adadelta": { Adadelta(learningRate: 1, rho: 0.9) },
        "adamax": { Adamax(learningRate: 0.02) },
        "nadam": { Nadam(learningRate: 0.02) },
        "nadam_schedule": { Nadam().scheduled(by: ExponentialDecay(initialLearningRate: 0.03, decaySteps: 2, decayRate: 0.5)) },
        "lamb": { Lamb(learningRate: 0.02) },
        "lion": { Lion(learningRate: 0.005, beta2: 0.95) },
        "ftrl": { Ftrl(learningRate: 0.05, l1RegularizationStrength: 0.01, l2RegularizationStrength: 0.02,
                       l2ShrinkageRegularizationStrength: 0.01, beta: 0.1) },
        "ftrl_power": { Ftrl(learningRate: 0.05, learningRatePower: -0.7, initialAccumulatorValue: 0.2) },
        "adam_amsgrad": { Adam(learningRate: 0.02, amsgrad: true) },
        "adamw_amsgrad_clipvalue": { AdamW(learningRate: 0.02, weightDecay: 0.05, amsgrad: true, clipValue: 0.1) },
        "rmsprop_centered": { RMSprop(learningRate: 0.01, momentum: 0.5, centered: true) },
        "rmsprop_centered_plain": { RMSprop(learningRate: 0.01, centered: true) },
        "sgd_weight_decay_global_clipnorm": { SGD(learningRate: 0.1, momentum: 0.9, globalClipNorm: 0.5, weightDecay: 0.05) },
        "adam_accumulate": { with(Adam(learningRate: 0.02)) { $0.gradientAccumulationSteps = 2 } },
        "sgd_ema": { with(SGD(learningRate: 0.1, momentum: 0.5)) { $0.movingAverage = .init(momentum: 0.9) } },
        "rmsprop_ema_overwrite": { with(RMSprop(learningRate: 0.01)) { $0.movingAverage = .init(momentum: 0.8, overwriteFrequency: 3) } },
        "nadam_accumulate_ema": {
            with(Nadam().scheduled(by: ExponentialDecay(initialLearningRate: 0.03, decaySteps: 1, decayRate: 0.7))) {
                $0.gradientAccumulationSteps = 3
                $0.movingAverage = .init()
            }
        },
        "adam_loss_scale": { with(Adam(learningRate: 0.02)) { $0.lossScaleFactor = 4 } },
        "adafactor": { Adafactor(learningRate: 0.02) },
        "adafactor_options": { Adafactor(learningRate: 0.05, betaTwoDecay: -0.6, epsilon2: 0.01, clipThreshold: 0.5, relativeStep: false) },
    ]

    /// `optimizer` after `configure` (options that are properties).
    static func with<O: Optimizer>(_ optimizer: O, _ configure: (O) -> Void) -> O {
        configure(optimizer)
        return optimizer
    }

    static let names = optimizers.keys.sorted()

    private func expectEpochMatches(_ model: Model, _ expected: JSONValue, x: Tensor, y: Tensor, _ what: String,
                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        let history = try model.fit(x, y, batchSize: 8, epochs: 1, shuffle: false, verbose: 0)
        let want = expected["loss"]!.array!.compactMap(\.double).map(Float.init)
        let got = history.history["loss"] ?? []
        #expect(got.count == 1 && abs(got[0] - want[0]) <= 2e-5 * max(1, abs(want[0])), "\(what) loss \(got) vs Keras \(want)",
                sourceLocation: sourceLocation)
        expectClose(try model.predict(x), try expected["predictions"]!.fixtureTensor, tolerance: 2e-5, "\(what) predictions",
                    sourceLocation: sourceLocation)
    }

    /// Loaded compiled, the model goes on from Keras's saved optimizer state (its step count, slots
    /// and, for Nadam, its momentum product) as Keras's own loaded copy does.
    @Test(arguments: names)
    func trainingResumesFromKerasState(_ name: String) throws {
        let fixture = try ParityFixtures.json("optimizer_\(name).json")
        let model = try loadModel(path: ParityFixtures.path("optimizer_\(name).keras"))
        let optimizer = try #require(model.compiled?.optimizer, "\(name) loads compiled")
        #expect(type(of: optimizer) == type(of: Self.optimizers[name]!()), "\(name): \(optimizer.name)")
        #expect(optimizer.appliedBatches == 4, "\(name): 2 epochs of 2 steps")
        try expectEpochMatches(model, fixture["resumed"]!, x: try fixture["x"]!.fixtureTensor, y: try fixture["y"]!.fixtureTensor, "\(name) resumed")
    }

    /// The optimizer built in Swift, fresh (its first updates: bias corrections, initial accumulators),
    /// trains the saved weights as a fresh Keras optimizer of the same config does.
    @Test(arguments: names)
    func freshOptimizerMatchesKeras(_ name: String) throws {
        let fixture = try ParityFixtures.json("optimizer_\(name).json")
        let model = try loadModel(path: ParityFixtures.path("optimizer_\(name).keras"), compile: false)
        try model.compile(optimizer: Self.optimizers[name]!(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        try expectEpochMatches(model, fixture["fresh"]!, x: try fixture["x"]!.fixtureTensor, y: try fixture["y"]!.fixtureTensor, "\(name) fresh")
    }

    /// Recur saves each optimizer in Keras's form and layout: reloaded, the model trains on exactly as
    /// the original. With RECUR_KERAS_EXPORT_DIR set, also writes the trained files and Recur's
    /// predictions after one more epoch, for `make_keras_optimizer_fixtures.py --check-recur DIR`
    /// (Keras loads each and must train on to the same predictions).
    @Test(arguments: names)
    func savedStateResumesExactly(_ name: String) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixture = try ParityFixtures.json("optimizer_\(name).json")
        let (x, y) = (try fixture["x"]!.fixtureTensor, try fixture["y"]!.fixtureTensor)
        let model = try loadModel(path: ParityFixtures.path("optimizer_\(name).keras"), compile: false)
        try model.compile(optimizer: Self.optimizers[name]!(), loss: SparseCategoricalCrossentropy(fromLogits: true))
        _ = try model.fit(x, y, batchSize: 8, epochs: 1, shuffle: false, verbose: 0)
        let path = dir.appendingPathComponent("optimizer_\(name).keras").path
        try model.save(to: path)
        let reloaded = try loadModel(path: path)
        #expect(reloaded.compiled.map { type(of: $0.optimizer) == type(of: model.compiled!.optimizer) } == true)
        #expect(reloaded.compiled?.optimizer.appliedBatches == 2)
        #expect(reloaded.compiled?.optimizer.movingAverage == model.compiled?.optimizer.movingAverage)
        #expect(reloaded.compiled?.optimizer.gradientAccumulationSteps == model.compiled?.optimizer.gradientAccumulationSteps)
        _ = try model.fit(x, y, batchSize: 8, epochs: 1, shuffle: false, verbose: 0)
        _ = try reloaded.fit(x, y, batchSize: 8, epochs: 1, shuffle: false, verbose: 0)
        let after = try model.predict(x)
        expectBitExact([try reloaded.predict(x)], [after], "\(name) after resuming")
        if let export = kerasExportDirectory {
            try FileManager.default.createDirectory(atPath: export, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: path, toPath: "\(export)/optimizer_\(name).keras")
            try NumpyFile.saveNpz([("x", x), ("y", y), ("after", after)], path: "\(export)/optimizer_\(name).npz")
        }
    }

    /// Each optimizer's Keras name builds it with Keras's defaults, and the options Keras refuses are
    /// refused when a compile config sets them, naming the file and the option.
    @Test func namesDefaultsAndRefusedOptions() throws {
        #expect(try optimizerNamed("Nadam") is Nadam && optimizerNamed("lion") is Lion && optimizerNamed("ftrl") is Ftrl)
        #expect((try optimizerNamed("adagrad") as? Adagrad)?.initialAccumulatorValue == 0.1)
        #expect((try optimizerNamed("adadelta") as? Adadelta)?.rho == 0.95)
        #expect((try optimizerNamed("lion") as? Lion)?.beta2 == 0.99)
        #expect(thrownMessage { _ = try optimizerNamed("muon") }.contains("muon"))
        let model = Sequential([Dense(2)], inputShape: [3])
        func message(_ optimizer: String) -> String {
            let json = #"{"optimizer": \#(optimizer), "loss": "mse"}"#
            return thrownMessage { try KerasCompileConfig.compile(model, from: try JSONValue.parse(Data(json.utf8), label: "t"), label: "m.keras") }
        }
        let power = message(#"{"class_name": "Ftrl", "config": {"learning_rate_power": 0.5}}"#)
        #expect(power.contains("m.keras") && power.contains("learning_rate_power") && power.contains("0.5"))
        #expect(message(#"{"class_name": "Adagrad", "config": {"initial_accumulator_value": -1}}"#).contains("initial_accumulator_value"))
        #expect(message(#"{"class_name": "Lion", "config": {"beta_1": 0}}"#).contains("beta_1"))
        #expect(message(#"{"class_name": "SGD", "config": {"gradient_accumulation_steps": 1}}"#).contains("gradient_accumulation_steps"))
        #expect(message(#"{"class_name": "SGD", "config": {"use_ema": true, "ema_momentum": 1.5}}"#).contains("ema_momentum"))
        #expect(message(#"{"class_name": "SGD", "config": {"use_ema": true, "ema_overwrite_frequency": 0}}"#).contains("ema_overwrite_frequency"))
        #expect(message(#"{"class_name": "SGD", "config": {"loss_scale_factor": 0}}"#).contains("loss_scale_factor"))
        #expect(message(#"{"class_name": "Lamb", "config": {"weight_decay": 0.01, "global_clipnorm": 1.0}}"#) == "")
        #expect((model.compiled?.optimizer as? Lamb)?.weightDecay == 0.01 && model.compiled?.optimizer.globalClipNorm == 1)
    }
}
