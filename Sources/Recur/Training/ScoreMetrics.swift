import Foundation

/// Keras's `FBetaScore`: the F-beta score of (batch, classes) predictions over everything seen since
/// the last reset. A prediction counts as positive above `threshold`, or, without one, where it is its
/// row's largest (and not zero); targets count by their value y (1 positive, 0 negative: a predicted
/// positive adds y to TP and 1 − y to FP, a predicted negative y to FN). Per class, with ε = 10⁻⁷,
/// P = TP/(TP + FP + ε), R = TP/(TP + FN + ε) and F = (1 + β²)·P·R/(β²P + R + ε), each count weighted
/// by its sample's weight; the result averages the classes' F (`macro`), weights them by their
/// positives (`weighted`), or first sums the counts over the classes (`micro`). Keras's default,
/// one score per class, is not a scalar to log: Recur refuses it (`average` has no such case).
public final class FBetaScore: Metric {
    /// How the classes' scores make one number.
    public enum Average: String, Sendable {
        case micro, macro, weighted
    }

    public let average: Average
    public let beta: Float
    public let threshold: Float?
    private var truePositives: [Double] = [], falsePositives: [Double] = [], falseNegatives: [Double] = [], positives: [Double] = []

    public init(average: Average, beta: Float = 1, threshold: Float? = nil, name: String = "fbeta_score") {
        self.average = average
        self.beta = beta
        self.threshold = threshold
        super.init(name: name)
    }

    public override func update(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor? = nil, sampleWeight: Tensor? = nil) throws {
        guard yPred.rank == 2, yTrue.shape == yPred.shape else {
            throw RecurError.shapeMismatch(op: name, expected: "targets and predictions of one shape (batch, classes)",
                                           actual: "\(describeShape(yTrue.shape)) and \(describeShape(yPred.shape))")
        }
        let (rows, classes) = (yPred.shape[0], yPred.shape[1])
        if truePositives.isEmpty { reset(classes: classes) }
        guard truePositives.count == classes else {
            throw RecurError.shapeMismatch(op: name, expected: "\(truePositives.count) classes", actual: "\(classes)")
        }
        let weights = try sampleWeight.map { try $0.broadcastable(to: [rows], what: "\(name) sample weights").to(.cpu).scalars }
        let (labels, scores) = (try yTrue.to(.cpu).scalars, try yPred.to(.cpu).scalars)
        for r in 0..<rows {
            let row = scores[(r * classes)..<((r + 1) * classes)]
            let largest = row.max() ?? 0
            let w = Double(weights?[r] ?? 1)
            for c in 0..<classes {
                let p = row[r * classes + c]
                let predicted = threshold.map { p > $0 } ?? (p >= largest && abs(p) > 1e-9)
                let y = Double(labels[r * classes + c])
                if predicted { truePositives[c] += y * w; falsePositives[c] += (1 - y) * w } else { falseNegatives[c] += y * w }
                positives[c] += y * w
            }
        }
    }

    public override var result: Float {
        let epsilon = Double(probabilityEpsilon), beta2 = Double(beta * beta)
        func score(_ tp: Double, _ fp: Double, _ fn: Double) -> Double {
            let precision = tp / (tp + fp + epsilon), recall = tp / (tp + fn + epsilon)
            return precision * recall / (beta2 * precision + recall + epsilon) * (1 + beta2)
        }
        guard !truePositives.isEmpty else { return 0 }
        switch average {
        case .micro:
            return Float(score(truePositives.reduce(0, +), falsePositives.reduce(0, +), falseNegatives.reduce(0, +)))
        case .macro:
            return Float(truePositives.indices.map { score(truePositives[$0], falsePositives[$0], falseNegatives[$0]) }.reduce(0, +)
                         / Double(truePositives.count))
        case .weighted:
            let total = positives.reduce(0, +) + epsilon
            return Float(truePositives.indices.map { score(truePositives[$0], falsePositives[$0], falseNegatives[$0]) * positives[$0] / total }
                .reduce(0, +))
        }
    }

    public override func reset() { reset(classes: 0) }

    private func reset(classes: Int) {
        let zeros = [Double](repeating: 0, count: classes)
        (truePositives, falsePositives, falseNegatives, positives) = (zeros, zeros, zeros, zeros)
    }

    override func independentCopy() -> Metric { renamed(name) }
    override func renamed(_ name: String) -> Metric { FBetaScore(average: average, beta: beta, threshold: threshold, name: name) }
}

/// Keras's `R2Score`, the coefficient of determination of (batch, outputs) predictions over
/// everything seen since the last reset: per output 1 − Σw(y − ŷ)² / (Σwy² − (Σwy)²/Σw), 0 where that is
/// infinite, then the outputs' mean (`uniformAverage`) or their mean weighted by the targets'
/// variation (`varianceWeightedAverage`). With `numRegressors` p > 0 and n targets seen (every element),
/// the adjusted score 1 − (1 − R²)(n − 1)/(n − p − 1), unless p ≥ n − 1 (then R² itself, as Keras).
public final class R2Score: Metric {
    /// How the outputs' scores make one number (Keras's `class_aggregation`).
    public enum Aggregation: String, Sendable {
        case uniformAverage = "uniform_average"
        case varianceWeightedAverage = "variance_weighted_average"
    }

    public let aggregation: Aggregation
    public let numRegressors: Int
    private var sum: [Double] = [], squaredSum: [Double] = [], squaredError: [Double] = [], count: [Double] = []
    private var samples = 0

    public init(aggregation: Aggregation = .uniformAverage, numRegressors: Int = 0, name: String = "r2_score") {
        self.aggregation = aggregation
        self.numRegressors = numRegressors
        super.init(name: name)
    }

    public override func update(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor? = nil, sampleWeight: Tensor? = nil) throws {
        let targets = try matchingRank(yTrue, yPred)
        guard yPred.rank == 2, targets.shape == yPred.shape else {
            throw RecurError.shapeMismatch(op: name, expected: "targets and predictions of one shape (batch, outputs)",
                                           actual: "\(describeShape(yTrue.shape)) and \(describeShape(yPred.shape))")
        }
        let (rows, outputs) = (yPred.shape[0], yPred.shape[1])
        if sum.isEmpty { reset(outputs: outputs) }
        guard sum.count == outputs else { throw RecurError.shapeMismatch(op: name, expected: "\(sum.count) outputs", actual: "\(outputs)") }
        let weights = try sampleWeight.map { try $0.broadcastable(to: [rows], what: "\(name) sample weights").to(.cpu).scalars }
        let (labels, predictions) = (try targets.to(.cpu).scalars, try yPred.to(.cpu).scalars)
        for r in 0..<rows {
            let w = Double(weights?[r] ?? 1)
            for o in 0..<outputs {
                let (y, p) = (Double(labels[r * outputs + o]), Double(predictions[r * outputs + o]))
                sum[o] += w * y
                squaredSum[o] += w * y * y
                squaredError[o] += w * (y - p) * (y - p)
                count[o] += w
            }
        }
        samples += rows * outputs
    }

    public override var result: Float {
        guard !sum.isEmpty else { return 0 }
        let totals = sum.indices.map { squaredSum[$0] - sum[$0] * (sum[$0] / count[$0]) }
        let raw = sum.indices.map { o -> Double in
            let score = 1 - squaredError[o] / totals[o]
            return score.isInfinite ? 0 : score
        }
        var score: Double
        switch aggregation {
        case .uniformAverage: score = raw.reduce(0, +) / Double(raw.count)
        case .varianceWeightedAverage: score = zip(totals, raw).map { $0 * $1 }.reduce(0, +) / totals.reduce(0, +)
        }
        if numRegressors > 0, numRegressors < samples - 1 {
            score = 1 - (1 - score) * Double(samples - 1) / Double(samples - numRegressors - 1)
        }
        return Float(score)
    }

    public override func reset() { reset(outputs: 0) }

    private func reset(outputs: Int) {
        let zeros = [Double](repeating: 0, count: outputs)
        (sum, squaredSum, squaredError, count, samples) = (zeros, zeros, zeros, zeros, 0)
    }

    override func independentCopy() -> Metric { renamed(name) }
    override func renamed(_ name: String) -> Metric { R2Score(aggregation: aggregation, numRegressors: numRegressors, name: name) }
}
