import Foundation
import Testing
@testable import Recur

/// Records the batch sizes `fit` trains on.
final class BatchRecorder: Callback {
    var batches = 0
    var epochs: [Int] = []
    func onBatchEnd(model: Model, batch: Int, logs: Logs) throws { batches += 1 }
    func onEpochEnd(model: Model, epoch: Int, logs: Logs) throws { epochs.append(epoch) }
}

@Suite("fit, evaluate, predict")
struct FitTests {
    @Test func tinyLSTMOverfitsASmallBatch() throws {
        try withRandomSeed(3) { try withFreshLayerNames {
            var g = SeededGenerator(seed: 4)
            let x = Tensor.randomUniform([8, 5, 3], low: -1, high: 1, generator: &g)
            let y = Tensor([0, 1, 2, 0, 1, 2, 0, 1])
            let model = Sequential([LSTM(16, inputShape: [5, 3]), Dense(3)])
            try model.compile(optimizer: Adam(learningRate: 0.05), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
            let history = try model.fit(x, y, batchSize: 8, epochs: 150, verbose: 0)
            #expect(history.history["loss"]!.last! < 0.05)
            #expect(history.history["accuracy"]!.last! == 1)
            let logs = try model.evaluate(x, y, verbose: 0)
            #expect(logs["accuracy"] == 1)
        } }
    }

    @Test func lastPartialBatchAndProgressText() throws {
        try withFreshLayerNames {
            let x = Tensor.ones([10, 4]), y = Tensor.zeros([10, 2])
            let model = Sequential([Dense(2, inputShape: [4])])
            try model.compile(optimizer: "sgd", loss: "mse", metrics: ["mae"])
            let recorder = BatchRecorder()
            var text = ""
            let history = try model.fit(x, y, batchSize: 4, epochs: 2, shuffle: false, callbacks: [recorder], output: { text += $0 })
            #expect(recorder.batches == 6)
            #expect(recorder.epochs == [0, 1])
            #expect(history.history["loss"]?.count == 2)
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.count == 4)
            #expect(lines[0] == "Epoch 1/2")
            // Non-TTY: one finished line per epoch, Keras's format.
            let pattern = #"^3/3 \[==============================\] - \d+s \d+(ms|us|s)/step - loss: \d\.\d{4}(e-\d+)? - mae: \d\.\d{4}$"#
            #expect(lines[1].range(of: pattern, options: .regularExpression) != nil, "\(lines[1])")
            // The last partial batch counts: evaluate's mean over 10 samples equals a full-batch evaluation.
            let small = try model.evaluate(x, y, batchSize: 4, verbose: 0)["loss"]!
            let whole = try model.evaluate(x, y, batchSize: 10, verbose: 0)["loss"]!
            #expect(abs(small - whole) < 1e-6)
        }
    }

    @Test func progressLineWhileRunning() {
        var logs = Logs()
        logs["loss"] = 0.951
        logs["accuracy"] = 0.7029
        let line = ProgressBar.line(current: 12, target: 938, seconds: 1.2, done: false, values: logs)
        #expect(line == " 12/938 [..............................] - ETA: 1:33 - loss: 0.9510 - accuracy: 0.7029")
        let done = ProgressBar.line(current: 938, target: 938, seconds: 6.1, done: true, values: logs)
        #expect(done == "938/938 [==============================] - 6s 7ms/step - loss: 0.9510 - accuracy: 0.7029")
        let half = ProgressBar.line(current: 469, target: 938, seconds: 3, done: false, values: Logs())
        #expect(half == "469/938 [==============>...............] - ETA: 3s")
    }

    /// Not on a terminal (a pipe, CI, `tee`): a short line every 10 s while the epoch runs, then
    /// Keras's finished line.
    @Test func progressShowsLifeEveryTenSecondsWhenNotOnATerminal() {
        var lines: [String] = []
        let bar = ProgressBar(target: 938, verbose: 1, isTerminal: false) { lines.append($0) }
        var logs = Logs()
        logs["loss"] = 1.0412
        for (step, seconds) in [(1, 0.5), (100, 4.0), (250, 10.2), (300, 12.0), (600, 20.4), (900, 29.0)] {
            bar.update(step, values: logs, elapsed: seconds)
        }
        bar.update(938, values: logs, finalize: true, elapsed: 31)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.first == "250/938 - 10s - ETA: 28s - loss: 1.0412\n", "\(lines)")
        #expect(lines[1].hasPrefix("600/938 - 20s - ETA: "))
        #expect(lines.last == "938/938 [==============================] - 31s 33ms/step - loss: 1.0412\n")
    }

    /// A callback that evaluates in the middle of an epoch (Keras users do) leaves the epoch's
    /// running metrics alone.
    @Test func evaluatingInsideFitDoesNotResetTheEpochsMetrics() throws {
        final class EvaluateEveryBatch: Callback {
            let data: (Tensor, Tensor)
            init(_ data: (Tensor, Tensor)) { self.data = data }
            func onBatchEnd(model: Model, batch: Int, logs: Logs) throws { _ = try model.evaluate(data.0, data.1, verbose: 0) }
        }
        var g = SeededGenerator(seed: 17)
        let x = Tensor.randomUniform([96, 5, 3], generator: &g)
        let y = Tensor.randomUniform([96, 2], generator: &g)
        func train(_ callbacks: [any Callback]) throws -> History {
            try withRandomSeed(3) { try withFreshLayerNames {
                let model = Sequential { LSTM(4, inputShape: [5, 3]); Dense(2) }
                try model.compile(optimizer: "sgd", loss: "mse", metrics: ["mae"])
                return try model.fit(x, y, batchSize: 16, epochs: 2, shuffle: false, callbacks: callbacks, verbose: 0)
            } }
        }
        let plain = try train([])
        let interrupted = try train([EvaluateEveryBatch((x[0..<8], y[0..<8].scaled(by: 10)))])
        #expect(plain.history["mae"] == interrupted.history["mae"])
        #expect(plain.history["loss"] == interrupted.history["loss"])
    }

    @Test func multiInputMultiOutputFit() throws {
        try withRandomSeed(5) { try withFreshLayerNames {
            var g = SeededGenerator(seed: 6)
            let a = Input(shape: [6, 3]), b = Input(shape: [4])
            let encoded = try LSTM(8)(a)
            let merged = try Dense(8, activation: .relu)(Dense(8)(b))
            let joined = try Dense(8)(encoded)
            let out1 = try Dense(1, name: "score")(joined)
            let out2 = try Dense(3, name: "label")(merged)
            let model = try Model(inputs: [a, b], outputs: [out1, out2])
            try model.compile(optimizer: Adam(learningRate: 0.01), loss: [MeanSquaredError(), CategoricalCrossentropy(fromLogits: true)],
                              lossWeights: [1, 0.5], metrics: ["mae"])
            let xa = Tensor.randomUniform([20, 6, 3], generator: &g), xb = Tensor.randomUniform([20, 4], generator: &g)
            let y1 = Tensor.randomUniform([20, 1], generator: &g), y2 = try Tensor((0..<20).map { Float($0 % 3) }).oneHot(depth: 3)
            let history = try model.fit([xa, xb], [y1, y2], batchSize: 8, epochs: 3, verbose: 0)
            #expect(Set(history.history.keys) == ["loss", "score_loss", "label_loss", "score_mae", "label_mae"])
            let logs = try model.evaluate([xa, xb], [y1, y2], batchSize: 20, verbose: 0)
            #expect(abs(logs["loss"]! - (logs["score_loss"]! + 0.5 * logs["label_loss"]!)) < 1e-5)
            let predictions = try model.predict([xa, xb], batchSize: 7)
            #expect(predictions.map(\.shape) == [[20, 1], [20, 3]])
            #expect(throws: RecurError.self) { try model.fit([xa], [y1, y2], verbose: 0) }
        } }
    }

    @Test func trainOnBatchAndPredictOnBatch() throws {
        try withFreshLayerNames {
            let model = Sequential([Dense(2, inputShape: [3])])
            try model.compile(optimizer: SGD(learningRate: 0.1), loss: MeanSquaredError())
            let x = Tensor.ones([4, 3]), y = Tensor.zeros([4, 2])
            let first = try model.trainOnBatch([x], [y])["loss"]!
            for _ in 0..<20 { try model.trainOnBatch([x], [y]) }
            let last = try model.trainOnBatch([x], [y])["loss"]!
            #expect(last < first)
            #expect(try model.predictOnBatch(x).shape == [4, 2])
        }
    }

    @Test func callbacks() throws {
        try withFreshLayerNames {
            let model = Sequential([Dense(1, inputShape: [2])])
            try model.compile(optimizer: SGD(learningRate: 0), loss: MeanSquaredError())
            let x = Tensor.ones([4, 2]), y = Tensor.ones([4, 1])
            // The loss cannot improve with learning rate 0: patience 1 stops after the second epoch.
            let stopper = EarlyStopping(monitor: "loss", patience: 1)
            let history = try model.fit(x, y, epochs: 10, callbacks: [stopper], verbose: 0)
            #expect(history.epochs == [0, 1])
            var rates: [Float] = []
            let scheduler = LearningRateScheduler { epoch, _ in Float(epoch + 1) * 0.001 }
            final class RateProbe: Callback {
                var seen: (Float) -> Void
                init(_ seen: @escaping (Float) -> Void) { self.seen = seen }
                func onEpochEnd(model: Model, epoch: Int, logs: Logs) throws { seen(model.compiled!.optimizer.learningRate) }
            }
            try model.fit(x, y, epochs: 3, callbacks: [scheduler, RateProbe { rates.append($0) }], verbose: 0)
            #expect(rates == [0.001, 0.002, 0.003])

            let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let csv = dir.appendingPathComponent("log.csv").path
            let checkpoint = dir.appendingPathComponent("w{epoch}.npz").path
            try model.fit(x, y, epochs: 2, callbacks: [CSVLogger(csv), ModelCheckpoint(checkpoint, monitor: "loss")], verbose: 0)
            let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
            #expect(rows.first == "epoch,loss")
            #expect(rows.count == 3)
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("w2.npz").path))
            let reloaded = Sequential([Dense(1, inputShape: [2])])
            try reloaded.loadWeights(from: dir.appendingPathComponent("w2.npz").path)
            #expect(reloaded.getWeights().map(\.scalars) == model.getWeights().map(\.scalars))
            try model.fit(x, y, epochs: 1, callbacks: [CSVLogger(csv, append: true)], verbose: 0)
            let appended = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
            #expect(appended.count == 4 && appended[3].hasPrefix("0,"))

            final class NaNLoss: Loss {
                var name: String { "nan" }
                func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor { try (yPred - yTrue).log() }
            }
            let nanModel = Sequential([Dense(1, inputShape: [2])])
            try nanModel.compile(optimizer: SGD(), loss: NaNLoss())
            let recorder = BatchRecorder()
            try nanModel.fit(x, Tensor.ones([4, 1]) * 100, batchSize: 1, epochs: 3, callbacks: [TerminateOnNaN(), recorder], verbose: 0)
            #expect(recorder.batches == 1)
        }
    }

    @Test func accuracyFollowsKerasShapeRules() throws {
        let sparse = try Metric.named("accuracy")
        try sparse.update(Tensor([2, 0]), Tensor(shape: [2, 3], scalars: [0, 1, 5, 3, 1, 0]))
        #expect(sparse.result == 1)
        let binary = try Metric.named("accuracy")
        try binary.update(Tensor(shape: [2, 1], scalars: [1, 0]), Tensor(shape: [2, 1], scalars: [0.7, 0.8]))
        #expect(binary.result == 0.5)
        let categorical = try Metric.named("accuracy")
        try categorical.update(Tensor(shape: [2, 2], scalars: [0, 1, 1, 0]), Tensor(shape: [2, 2], scalars: [0.2, 0.8, 0.3, 0.7]))
        #expect(categorical.result == 0.5)
    }

    @Test func statefulModelsRefuseShuffling() throws {
        try withFreshLayerNames {
            let model = Sequential([LSTM(4, stateful: true, inputShape: [3, 2], batchSize: 2), Dense(1)])
            try model.compile(optimizer: "sgd", loss: "mse")
            let x = Tensor.ones([4, 3, 2]), y = Tensor.ones([4, 1])
            #expect(throws: RecurError.self) { try model.fit(x, y, batchSize: 2, verbose: 0) }
            try model.fit(x, y, batchSize: 2, shuffle: false, verbose: 0)
        }
    }
}

/// A metric written the Keras way: subclass, update, result, reset.
final class PositiveFraction: Metric {
    private var positives = 0.0, total = 0.0
    init() { super.init(name: "positive_fraction") }
    override func update(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor?, sampleWeight: Tensor?) throws {
        positives += Double(yPred.scalars.filter { $0 > 0 }.count)
        total += Double(yPred.count)
    }
    override var result: Float { total > 0 ? Float(positives / total) : 0 }
    override func reset() { positives = 0; total = 0 }
}

@Suite("compile with names and objects")
struct CompileArgumentTests {
    @Test func namesAndObjectsMixAsInKeras() throws {
        let model = withFreshLayerNames { Sequential([Dense(1)], inputShape: [2]) }
        let custom = PositiveFraction()
        try model.compile(optimizer: Adam(learningRate: 1e-4), loss: "mse", metrics: ["mae", custom])
        let x = try Tensor(shape: [4, 2], scalars: [1, 2, -1, 0, 3, 1, 0, -2])
        let logs = try model.evaluate(x, Tensor.zeros([4, 1]), verbose: 0)
        let predictions = try model.predict(x).scalars
        #expect(logs["positive_fraction"] == Float(predictions.filter { $0 > 0 }.count) / 4)
        #expect(logs["mae"].map { abs($0 - predictions.map(abs).reduce(0, +) / 4) < 1e-6 } == true)
        try model.compile(optimizer: "sgd", loss: MeanAbsoluteError(), metrics: [])
        #expect(model.compiled?.optimizer is SGD)
        #expect(throws: RecurError.self) { try model.compile(loss: "no_such_loss") }
    }

    @Test func lossesPerOutputByListAndByName() throws {
        let model = try withFreshLayerNames { () -> Model in
            let x = Input(shape: [3])
            return try Model(inputs: [x], outputs: [try Dense(2, name: "a")(x), try Dense(1, name: "b")(x)])
        }
        try model.compile(loss: ["mse", MeanAbsoluteError()])
        #expect(model.compiled?.losses.map(\.name) == ["mean_squared_error", "mean_absolute_error"])
        try model.compile(optimizer: "adam", loss: ["b": "mae"], lossWeights: ["b": 2])
        #expect(model.compiled?.lossWeights == [0, 2])
        #expect(throws: RecurError.self) { try model.compile(loss: ["c": "mae"]) }
    }
}

@Suite("fit over a data source")
struct FitDataSourceTests {
    static func model() throws -> Model {
        let m = withFreshLayerNames { withRandomSeed(3) { Sequential([Dense(2)], inputShape: [3]) } }
        try m.compile(optimizer: SGD(learningRate: 0.1), loss: "mse")
        return m
    }

    static let batches: [Batch] = (0..<3).map { k in
        Batch(try! Tensor(shape: [2, 3], scalars: (0..<6).map { Float($0 + k) / 5 }),
              try! Tensor(shape: [2, 2], scalars: (0..<4).map { Float($0 * k) / 7 }))
    }

    @Test func aSequenceOfBatchesTrainsAsTheSameBatchesOneByOne() throws {
        let streamed = try Self.model(), stepped = try Self.model()
        let history = try streamed.fit(Self.batches, epochs: 2, verbose: 0)
        for _ in 0..<2 { for b in Self.batches { try stepped.trainOnBatch(b.x, b.y) } }
        #expect(streamed.getWeights().map(\.scalars) == stepped.getWeights().map(\.scalars))
        #expect(history.history["loss"]?.count == 2)
    }

    @Test func stepsPerEpochContinuesAndRestartsTheSequence() throws {
        // A lazy generator: batches are made only when asked for.
        var made = 0
        let lazy = Self.batches.lazy.map { b -> Batch in made += 1; return b }
        let streamed = try Self.model(), stepped = try Self.model()
        try streamed.fit(lazy, epochs: 3, stepsPerEpoch: 2, verbose: 0)
        for k in [0, 1, 2, 0, 1, 2] { try stepped.trainOnBatch(Self.batches[k].x, Self.batches[k].y) }
        #expect(streamed.getWeights().map(\.scalars) == stepped.getWeights().map(\.scalars))
        #expect(made == 6)
    }

    @Test func anEmptySourceStopsTraining() throws {
        let history = try Self.model().fit([Batch](), epochs: 3, verbose: 0)
        #expect(history.history["loss"] == nil)
    }
}
