import Foundation
import Testing
@testable import Recur

struct WeightedMetricFixture: Decodable {
    let metric: String
    let y_true: FixtureTensor
    let y_pred: FixtureTensor
    let sample_weight: FixtureTensor?
    let value: Float
}

/// Keras's losses beyond the cross-entropies, MSE and MAE, and its metrics beyond accuracy, MAE and
/// MSE, against Keras's numbers (`scripts/make_keras_loss_metric_fixtures.py`), by their Keras
/// names too, and through a compiled `.keras` file's compile config.
@Suite("More Keras losses and metrics match real Keras")
struct MoreLossesAndMetricsTests {
    static let losses = try! JSONDecoder().decode([LossFixture].self, from: Fixtures.data("losses_more.json"))
    static let metrics = try! ["metrics_more.json", "metrics_correlation.json"].flatMap {
        try JSONDecoder().decode([WeightedMetricFixture].self, from: Fixtures.data($0))
    }

    /// Each loss by its Keras class name (as `lossNamed` reads it), with the fixture's options.
    static func loss(_ f: LossFixture) throws -> any Loss {
        if f.loss == "Huber", let delta = f.config["delta"]?.double { return Huber(delta: Float(delta)) }
        return try lossNamed(f.loss)
    }

    @Test(arguments: 0..<losses.count)
    func lossValueAndGradientMatchKeras(_ index: Int) throws {
        let f = Self.losses[index]
        try expectLossMatchesKeras(Self.loss(f), f)
    }

    static let ctcLosses = try! JSONDecoder().decode([LossFixture].self, from: Fixtures.data("losses_ctc.json"))
    static let focalLosses = try! JSONDecoder().decode([LossFixture].self, from: Fixtures.data("losses_focal.json"))

    /// The focal cross-entropies with the fixture's options, read as a compile config reads them.
    @Test(arguments: 0..<focalLosses.count)
    func focalLossMatchesKeras(_ index: Int) throws {
        let f = Self.focalLosses[index]
        let model = Sequential([Dense(1)], inputShape: [1])
        let config = JSONValue.object(["loss": .object(["class_name": .string(f.loss), "config": .object(f.config)])])
        try KerasCompileConfig.compile(model, from: config, label: "focal")
        let loss = try #require(model.compiled?.losses.first)
        #expect(loss.name == (f.loss == "BinaryFocalCrossentropy" ? "binary_focal_crossentropy" : "categorical_focal_crossentropy"))
        try expectLossMatchesKeras(loss, f)
        // Written back into a file, the loss and its options come back.
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("focal.keras").path
        try model.save(to: path)
        if let export = kerasExportDirectory {
            try FileManager.default.createDirectory(atPath: export, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: path, toPath: "\(export)/focal_\(index).keras")
        }
        let reloaded = try #require(try loadModel(path: path).compiled?.losses.first)
        try expectLossMatchesKeras(reloaded, f)
    }

    /// CTC's value and gradient: blank-padded labels with repeats, a label too long for its steps (its
    /// loss is Keras's stand-in for log 0), an empty label.
    @Test(arguments: 0..<ctcLosses.count)
    func ctcMatchesKeras(_ index: Int) throws {
        try expectLossMatchesKeras(lossNamed("ctc"), Self.ctcLosses[index])
    }

    /// A bidirectional LSTM learns a CTC task by `fit` (its loss falls), and CTC refuses ids outside
    /// the classes and targets of the wrong rank, naming itself.
    @Test func ctcTrainsAndRefusesBadLabels() throws {
        let model = withRandomSeed(11) { Sequential([Bidirectional(LSTM(8, returnSequences: true)), Dense(4)], inputShape: [10, 3]) }
        try model.compile(optimizer: Adam(learningRate: 0.03), loss: "ctc")
        var g = SeededGenerator(seed: 3)
        let x = Tensor.randomUniform([16, 10, 3], generator: &g)
        // The label is the classes of the first three steps' loudest feature (ids 1...3).
        let loudest = try x.slice(alongAxis: 1, 0..<3).argmax(alongAxis: -1) + 1
        // Seeded: the shuffles must not depend on what concurrent tests draw.
        let history = try withRandomSeed(12) { try model.fit(x, loudest, batchSize: 8, epochs: 80, verbose: 0) }
        let losses = try #require(history.history["loss"])
        #expect(losses.last! < losses.first! * 0.6, "losses \(losses)")
        let logits = Tensor.zeros([2, 5, 4])
        #expect(thrownMessage { _ = try CTC()(try Tensor([[1, 7], [2, 0]]), logits) }.contains("0..<4"))
        #expect(thrownMessage { _ = try CTC()(try Tensor([[1.5, 2], [2, 0]]), logits) }.contains("whole numbers"))
        #expect(thrownMessage { _ = try CTC()(Tensor.zeros([2, 5, 4]), logits) }.contains("CTC"))
    }

    /// Each metric by the snake-case name Keras resolves its class from, logged under that name.
    @Test(arguments: 0..<metrics.count)
    func metricMatchesKeras(_ index: Int) throws {
        let f = Self.metrics[index]
        let snake = f.metric.replacingOccurrences(of: "([a-z])([A-Z])", with: "$1_$2", options: .regularExpression).lowercased()
        let name = ["kldivergence": "kl_divergence", "sparse_top_kcategorical_accuracy": "sparse_top_k_categorical_accuracy",
                    "top_kcategorical_accuracy": "top_k_categorical_accuracy"][snake] ?? snake
        let metric = try Metric.named(name)
        #expect(metric.name == name)
        try metric.update(f.y_true.tensor, f.y_pred.tensor, sampleWeight: f.sample_weight?.tensor)
        #expect(abs(metric.result - f.value) <= 2e-6 * max(1, abs(f.value)), "\(f.metric): \(metric.result) vs \(f.value)")
        metric.reset()
        #expect(metric.result == 0, "\(f.metric) after reset")
    }

    static let configured = try! JSONValue.parse(Fixtures.data("metrics_configured.json"), label: "metrics_configured.json").array!

    /// Keras metric objects as a compile config holds them (F1/F-beta averages and thresholds, R2
    /// aggregations and adjusted scores, Precision/Recall thresholds, AUC from logits, custom names)
    /// build Recur's metric with those options, logged under the config's name, and give Keras's
    /// result after two batches.
    @Test(arguments: 0..<configured.count)
    func configuredMetricMatchesKeras(_ index: Int) throws {
        let case_ = Self.configured[index]
        let object = case_["object"]!
        let metric = try KerasMetricConfig.read(object, key: "metrics", label: "t").metric(output: 0, weighted: false, alongside: [])
        let className = object["class_name"]!.string!
        #expect(metric.name == object["config"]!["name"]!.string!, "\(className) logged as \(metric.name)")
        for batch in case_["batches"]!.array! {
            try metric.update(try batch["y_true"]!.fixtureTensor, try batch["y_pred"]!.fixtureTensor,
                              sampleWeight: try batch["sample_weight"].map { try $0.fixtureTensor })
        }
        let want = Float(case_["value"]!.double!)
        #expect(abs(metric.result - want) <= 2e-6 * max(1, abs(want)), "\(className) \(object["config"]!): \(metric.result) vs Keras \(want)")
        // Written back as Keras's object with the same options, it reads as the same metric.
        let written = try #require(KerasMetricConfig.write(metric, loggedName: metric.name), "\(className) is written")
        let again = try KerasMetricConfig.read(written, key: "metrics", label: "t").metric(output: 0, weighted: false, alongside: [])
        #expect(again.name == metric.name && type(of: again) == type(of: metric))
    }

    /// A model compiled with configured metrics saves them as Keras objects and loads back with the
    /// same names and results; with RECUR_KERAS_EXPORT_DIR set, also writes it for `--check-recur`
    /// (Keras loads the compile config without a warning).
    @Test func configuredMetricsRoundTripThroughFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var g = SeededGenerator(seed: 5)
        let x = Tensor.randomUniform([12, 4, 2], generator: &g)
        let oneHot = try Tensor.stack((0..<12).map { i in Tensor((0..<3).map { Float($0 == i % 3 ? 1 : 0) }) })
        let model = withRandomSeed(3) { Sequential([LSTM(4), Dense(3, activation: .softmax)], inputShape: [4, 2]) }
        let metrics: [any MetricConvertible] = [FBetaScore(average: .macro, beta: 0.5, name: "f_half"), "r2_score",
                                                Precision(name: "strict_precision", threshold: 0.7), AUC(numThresholds: 40, fromLogits: true),
                                                try Metric.named("categorical_accuracy").renamed("cat_acc"), RootMeanSquaredError(name: "rmse")]
        try model.compile(optimizer: Nadam(), loss: CategoricalCrossentropy(), metrics: metrics)
        _ = try model.fit(x, oneHot, batchSize: 4, epochs: 1, verbose: 0)
        let path = dir.appendingPathComponent("metrics.keras").path
        try model.save(to: path)
        let reloaded = try loadModel(path: path)
        let names = try #require(reloaded.compiled?.metrics.first).map(\.name)
        #expect(names == ["f_half", "r2_score", "strict_precision", "auc", "cat_acc", "rmse"])
        let a = try model.evaluate(x, oneHot, verbose: 0), b = try reloaded.evaluate(x, oneHot, verbose: 0)
        #expect(a.description == b.description, "\(a) vs \(b)")
        if let export = kerasExportDirectory { try writeForKerasCheck([("compiled_configured_metrics", model, [x])], to: export) }
    }

    /// A multi-label AUC takes (batch, labels) predictions, and its labels stay as many as it first saw.
    @Test func multiLabelAUCKeepsItsLabels() throws {
        let auc = AUC(numThresholds: 10, multiLabel: true)
        #expect(throws: RecurError.self) { try auc.update(Tensor.zeros([2, 3, 1]), Tensor.zeros([2, 3, 1])) }
        try auc.update(Tensor([[1, 0, 1], [0, 1, 0]]), Tensor([[0.9, 0.2, 0.4], [0.1, 0.8, 0.3]]))
        #expect(auc.numLabels == 3 && auc.result == 1, "\(auc.result)")
        #expect(throws: RecurError.self) { try auc.update(Tensor.zeros([2, 4]), Tensor.zeros([2, 4])) }
    }

    /// Options Recur's metrics lack are refused by name, and an AUC's thresholds are bounded.
    @Test func configuredMetricOptionsRecurLacksAreRefused() {
        func message(_ json: String) -> String {
            thrownMessage { _ = try KerasMetricConfig.read(try JSONValue.parse(Data(json.utf8), label: "t"), key: "metrics", label: "m.keras") }
        }
        #expect(message(#"{"class_name": "F1Score", "config": {"average": null}}"#).contains("one score per class"))
        #expect(message(#"{"class_name": "R2Score", "config": {"class_aggregation": null}}"#).contains("class_aggregation"))
        #expect(message(#"{"class_name": "AUC", "config": {"curve": "DET"}}"#).contains("curve"))
        #expect(message(#"{"class_name": "AUC", "config": {"multi_label": "yes"}}"#).contains("multi_label"))
        #expect(message(#"{"class_name": "AUC", "config": {"num_labels": 3}}"#).contains("num_labels"))
        #expect(message(#"{"class_name": "AUC", "config": {"multi_label": true, "num_labels": 2, "label_weights": [1, 2, 3]}}"#).contains("label_weights"))
        #expect(message(#"{"class_name": "AUC", "config": {"label_weights": [1, -2]}}"#).contains("label_weights"))
        #expect(message(#"{"class_name": "AUC", "config": {"num_thresholds": 1e12}}"#).contains("num_thresholds"))
        #expect(message(#"{"class_name": "Precision", "config": {"top_k": 2}}"#).contains("top_k"))
        #expect(message(#"{"class_name": "Precision", "config": {"thresholds": [0.2, 0.4]}}"#).contains("one threshold"))
        #expect(message(#"{"class_name": "BinaryAccuracy", "config": {"threshold": 0.7}}"#).contains("threshold"))
        #expect(message(#"{"class_name": "MeanIoU", "config": {}}"#).contains("MeanIoU"))
    }

    /// Keras's short names read as Keras reads them and log under the short name; Hinge maps
    /// {0, 1} labels to {−1, 1} only when every label is 0 or 1.
    @Test func aliasesAndHingeLabels() throws {
        #expect(try lossNamed("mape") is MeanAbsolutePercentageError && lossNamed("msle") is MeanSquaredLogarithmicError)
        #expect(try lossNamed("kld") is KLDivergence && lossNamed("huber") is Huber && lossNamed("log_cosh") is LogCosh)
        #expect(try Metric.named("mape").name == "mape" && Metric.named("root_mean_squared_error").name == "root_mean_squared_error")
        #expect(thrownMessage { _ = try Metric.named("f1_score") }.contains("f1_score"))
        // Labels 0/1 → −1/1: margins 1 − (−1)(0.5) = 1.5 and 1 − (1)(0.5) = 0.5, mean 1.
        #expect(try Hinge()(Tensor([[0, 1]]), Tensor([[0.5, 0.5]])).scalar == 1)
        // A label of 2 keeps all as they are: 1 − 0 = 1 and max(1 − 2·0.5, 0) = 0, mean 0.5.
        #expect(try Hinge()(Tensor([[0, 2]]), Tensor([[0.5, 0.5]])).scalar == 0.5)
    }

    /// A model compiled with these losses and metrics saves a compile config that loads back to the
    /// same losses, metrics and logs (Keras reads the same config: class names and metric strings).
    @Test func compiledFilesKeepTheLossesAndMetrics() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var g = SeededGenerator(seed: 3)
        let x = Tensor.randomUniform([16, 5, 2], generator: &g), y = Tensor.randomUniform([16, 1], generator: &g)
        for (loss, metrics) in [(Huber(delta: 0.3) as any Loss, ["mape", "root_mean_squared_error"]),
                                (LogCosh(), ["cosine_similarity", "msle"]), (Poisson(), ["poisson", "kl_divergence"]),
                                (SquaredHinge(), ["precision", "recall", "hinge", "auc"])] {
            let model = withRandomSeed(2) { Sequential([LSTM(3), Dense(1, activation: .sigmoid)], inputShape: [5, 2]) }
            try model.compile(optimizer: SGD(learningRate: 0.1), loss: loss, metrics: metrics)
            let path = dir.appendingPathComponent("\(loss.name).keras").path
            try model.save(to: path)
            let reloaded = try loadModel(path: path)
            let compiled = try #require(reloaded.compiled, "\(loss.name) loads compiled")
            #expect(compiled.losses.map(\.name) == [loss.name])
            #expect(compiled.metrics.first?.map(\.name) == metrics)
            let a = try model.evaluate(x, y, verbose: 0), b = try reloaded.evaluate(x, y, verbose: 0)
            #expect(a.description == b.description, "\(loss.name): \(a) vs \(b)")
        }
        let huber = try #require(try loadModel(path: dir.appendingPathComponent("huber_loss.keras").path).compiled?.losses.first as? Huber)
        #expect(huber.delta == 0.3)
    }
}
