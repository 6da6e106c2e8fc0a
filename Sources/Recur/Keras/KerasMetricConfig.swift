/// The metrics of a `compile_config`: names, or Keras metric objects (`class_name` and `config`), which
/// build Recur's metric of that class with the options it implements, logged under the config's
/// `name`. Every option is checked: one Recur lacks (a `top_k`, several labels, one score per class) is
/// refused by name, and sizes are bounded before anything is allocated.
enum KerasMetricConfig {
    /// Keras's confusion-count metrics: their classes and default names.
    static let confusionCounts: [String: (type: ConfusionMetric.Type, name: String)] = [
        "TruePositives": (TruePositives.self, "true_positives"), "FalsePositives": (FalsePositives.self, "false_positives"),
        "TrueNegatives": (TrueNegatives.self, "true_negatives"), "FalseNegatives": (FalseNegatives.self, "false_negatives"),
    ]

    /// Keras's classes whose metric Recur builds from its name, and that name.
    static let namesByClass: [String: String] = [
        "SparseCategoricalAccuracy": "sparse_categorical_accuracy", "CategoricalAccuracy": "categorical_accuracy",
        "BinaryAccuracy": "binary_accuracy", "MeanAbsoluteError": "mean_absolute_error", "MeanSquaredError": "mean_squared_error",
        "RootMeanSquaredError": "root_mean_squared_error", "PearsonCorrelation": "pearson_correlation",
        "ConcordanceCorrelation": "concordance_correlation", "MeanAbsolutePercentageError": "mean_absolute_percentage_error",
        "MeanSquaredLogarithmicError": "mean_squared_logarithmic_error", "CosineSimilarity": "cosine_similarity",
        "KLDivergence": "kl_divergence", "Poisson": "poisson", "Hinge": "hinge", "SquaredHinge": "squared_hinge",
        "CategoricalHinge": "categorical_hinge", "BinaryCrossentropy": "binary_crossentropy",
        "CategoricalCrossentropy": "categorical_crossentropy", "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
        "TopKCategoricalAccuracy": "top_k_categorical_accuracy", "SparseTopKCategoricalAccuracy": "sparse_top_k_categorical_accuracy",
    ]

    /// The most thresholds an AUC read from a file may have (each costs four running sums).
    static let mostThresholds = 100_000

    /// A metric a config describes: a fresh one for every output it measures.
    struct Entry: MetricConvertible {
        let make: () throws -> Metric

        func metric(output: Int, weighted: Bool, alongside names: [String]) throws -> Metric {
            try make().logged(weighted: weighted, alongside: names)
        }
    }

    /// One entry of a `metrics` list: a name as it is, an object as the metric it configures.
    static func read(_ entry: JSONValue, key: String, label: String) throws -> any MetricConvertible {
        if let name = entry.string { return name }
        func unsupported(_ what: String) -> RecurError { .unsupported(op: label, message: "\(key) entry \(what)") }
        guard let className = entry["class_name"]?.string else { throw unsupported(KerasConfig.compactJSON(entry)) }
        let config = entry["config"]?.object ?? [:]
        func invalid(_ option: String, _ expected: String) -> RecurError {
            .invalidArgument(op: label, message: "\(className) '\(option)' must be \(expected), got \(config[option].map(KerasConfig.compactJSON) ?? "nothing")")
        }
        func number(_ option: String) throws -> Float? {
            guard let value = config[option], !value.isNull else { return nil }
            guard let number = value.double, number.isFinite else { throw invalid(option, "a finite number") }
            return Float(number)
        }
        /// Options Recur's metric lacks, unless at the values it implements.
        func requireDefaults(_ defaults: [(String, (JSONValue) -> Bool)]) throws {
            for (option, isDefault) in defaults {
                if let value = config[option], !isDefault(value) { throw unsupported("\(className) \(option) \(KerasConfig.compactJSON(value))") }
            }
        }
        let name = config["name"]?.string
        switch className {
        case "F1Score", "FBetaScore":
            guard let text = config["average"]?.string else {
                throw unsupported("\(className) average \(config["average"].map(KerasConfig.compactJSON) ?? "null") (one score per class; Recur logs one number: use micro, macro or weighted)")
            }
            guard let average = FBetaScore.Average(rawValue: text) else { throw invalid("average", "micro, macro or weighted") }
            let beta = className == "F1Score" ? 1 : try number("beta") ?? 1
            guard beta > 0 else { throw invalid("beta", "positive") }
            let threshold = try number("threshold")
            let metricName = name ?? (className == "F1Score" ? "f1_score" : "fbeta_score")
            return Entry { FBetaScore(average: average, beta: beta, threshold: threshold, name: metricName) }
        case "R2Score":
            guard let aggregation = config["class_aggregation"].map({ $0.string.flatMap(R2Score.Aggregation.init) }) ?? .uniformAverage else {
                throw unsupported("R2Score class_aggregation \(KerasConfig.compactJSON(config["class_aggregation"]!)) (one score per output; Recur logs one number)")
            }
            let regressors = try number("num_regressors") ?? 0
            guard regressors >= 0, regressors < 1e9, regressors.rounded() == regressors else { throw invalid("num_regressors", "a count") }
            let metricName = name ?? "r2_score"
            return Entry { R2Score(aggregation: aggregation, numRegressors: Int(regressors), name: metricName) }
        case "Precision", "Recall":
            try requireDefaults([("top_k", \.isNull), ("class_id", \.isNull)])
            var threshold: Float = 0.5
            if let thresholds = config["thresholds"], !thresholds.isNull {
                guard let value = thresholds.double ?? thresholds.array?.first?.double, thresholds.array.map({ $0.count == 1 }) ?? true,
                      value.isFinite else { throw invalid("thresholds", "one threshold") }
                threshold = Float(value)
            }
            let metricName = name ?? className.lowercased()
            return Entry {
                className == "Precision" ? Precision(name: metricName, threshold: threshold) : Recall(name: metricName, threshold: threshold)
            }
        case "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives":
            var threshold: Float = 0.5
            if let thresholds = config["thresholds"], !thresholds.isNull {
                guard let value = thresholds.double ?? thresholds.array?.first?.double, thresholds.array.map({ $0.count == 1 }) ?? true,
                      value.isFinite else { throw invalid("thresholds", "one threshold") }
                threshold = Float(value)
            }
            let (type, defaultName) = confusionCounts[className]!
            let metricName = name ?? defaultName
            return Entry { type.init(name: metricName, threshold: threshold) }
        case "AUC":
            try requireDefaults([("thresholds", \.isNull)])
            let multiLabelValue = config["multi_label"] ?? .null
            guard let multiLabel = multiLabelValue.isNull ? false : multiLabelValue.bool else { throw invalid("multi_label", "true or false") }
            let labels = try number("num_labels")
            if let labels, !(labels >= 1 && labels <= Float(mostThresholds) && labels.rounded() == labels) || !multiLabel {
                throw invalid("num_labels", multiLabel ? "a count in 1...\(mostThresholds)" : "null unless multi_label is true")
            }
            var labelWeights: [Float]?
            if let value = config["label_weights"], !value.isNull {
                // A list, or the `__tensor__` object Keras writes for the array it keeps.
                let list = value.array ?? (value["class_name"]?.string == "__tensor__" ? value["config"]?["value"]?.array : nil)
                let weights = list?.compactMap { $0.double.map(Float.init) } ?? []
                guard !weights.isEmpty, weights.count == list?.count, weights.count <= mostThresholds,
                      weights.allSatisfy({ $0.isFinite && $0 >= 0 }), labels.map({ Int($0) == weights.count }) ?? true else {
                    throw invalid("label_weights", "a list of non-negative numbers, one per label")
                }
                labelWeights = weights
            }
            guard let curve = AUC.Curve(rawValue: config["curve"]?.string ?? "ROC") else { throw invalid("curve", "ROC, PR or PRGAIN") }
            guard let summation = AUC.Summation(rawValue: config["summation_method"]?.string ?? "interpolation") else {
                throw invalid("summation_method", "interpolation, minoring or majoring")
            }
            let count = try number("num_thresholds") ?? 200
            guard count > 1, count <= Float(mostThresholds), count.rounded() == count else { throw invalid("num_thresholds", "a count in 2...\(mostThresholds)") }
            let fromLogits = config["from_logits"]?.bool ?? false
            let metricName = name ?? "auc"
            return Entry {
                AUC(numThresholds: Int(count), curve: curve, summation: summation, fromLogits: fromLogits, multiLabel: multiLabel,
                    numLabels: labels.map { Int($0) }, labelWeights: labelWeights, name: metricName)
            }
        default:
            guard let defaultName = namesByClass[className] else { throw unsupported(KerasConfig.compactJSON(entry)) }
            try requireDefaults([
                ("threshold", { $0.double == 0.5 }), ("from_logits", { $0.bool == false }), ("axis", { $0.double == -1 }),
                ("label_smoothing", { $0.double == 0 }), ("ignore_class", \.isNull), ("k", { $0.int == 5 }), ("from_sorted_ids", { $0.bool == false }),
            ])
            guard let name, name != defaultName else { return defaultName }
            return Entry { try Metric.named(defaultName).renamed(name) }
        }
    }

    /// The config entry of `metric` (logged as `loggedName`): a Keras object for the metrics with
    /// options, the name for the others; nil for a metric Keras has no equivalent of.
    static func write(_ metric: Metric, loggedName: String) -> JSONValue? {
        func object(_ className: String, _ config: [String: JSONValue]) -> JSONValue {
            .object(["module": .string("keras.metrics"), "class_name": .string(className),
                     "config": .object(config.merging(["name": .string(loggedName), "dtype": .string("float32")]) { $1 }),
                     "registered_name": .null])
        }
        switch metric {
        case let f as FBetaScore:
            return object("FBetaScore", ["average": .string(f.average.rawValue), "beta": .float(Double(f.beta)),
                                         "threshold": f.threshold.map { .float(Double($0)) } ?? .null])
        case let r as R2Score:
            return object("R2Score", ["class_aggregation": .string(r.aggregation.rawValue), "num_regressors": .number(Double(r.numRegressors))])
        case let c as ConfusionMetric where c is Precision || c is Recall:
            return object(c is Precision ? "Precision" : "Recall", ["thresholds": .float(Double(c.threshold)), "top_k": .null, "class_id": .null])
        case let c as ConfusionMetric:
            guard let className = confusionCounts.first(where: { $0.value.type == type(of: c) })?.key else { return nil }
            return object(className, ["thresholds": .float(Double(c.threshold))])
        case is RootMeanSquaredError:
            return object("RootMeanSquaredError", [:])
        case let auc as AUC:
            return object("AUC", ["num_thresholds": .number(Double(auc.numThresholds)), "curve": .string(auc.curve.rawValue),
                                  "summation_method": .string(auc.summation.rawValue), "multi_label": .bool(auc.multiLabel),
                                  "num_labels": auc.multiLabel ? auc.numLabels.map { .number(Double($0)) } ?? .null : .null,
                                  "label_weights": auc.labelWeights.map { .array($0.map { .float(Double($0)) }) } ?? .null,
                                  "from_logits": .bool(auc.fromLogits)])
        default:
            if (try? Metric.named(loggedName)) != nil { return .string(loggedName) }
            // A built-in metric under a name of its own: its Keras class with that name.
            guard let base = metric.kerasBaseName, let className = namesByClass.first(where: { $0.value == base })?.key else { return nil }
            return object(className, [:])
        }
    }
}
