import Foundation

/// The area under a curve of the confusion counts at `numThresholds` thresholds (Keras's `AUC`):
/// predictions above each threshold — 0 − ε, then (1 … numThresholds − 2)/(numThresholds − 1), then
/// 1 + ε, ε = 10⁻⁷ — count as positive, targets that are not 0 as positive, every element of every batch
/// since the last reset (weighted by its sample's weight and mask); with `fromLogits` the predictions go
/// through a sigmoid first.
///
/// The curve (`Curve`) is the true-positive rate over the false-positive rate (ROC), precision over
/// recall (PR), or precision gain over recall gain (PR gain); the area sums, between neighbouring
/// thresholds, the width times the mean of the two heights (`interpolation`), the smaller
/// (`minoring`) or the larger (`majoring`). The PR curve with interpolation uses Keras's closed form
/// instead (Davis & Goadrich): TP and TP + FP vary linearly between thresholds, and each interval adds
/// slope·(ΔTP + intercept·log(P_A/P_B)) / (TP + FN).
///
/// With `multiLabel` each label (the last axis of (batch, labels) predictions) has its own counts and
/// area, and the result is their mean, or their `labelWeights`-weighted mean. Without it,
/// `labelWeights` weighs each label's elements in the one set of counts.
public final class AUC: Metric {
    /// Which curve's area (Keras's `curve`).
    public enum Curve: String, Sendable {
        case roc = "ROC", pr = "PR", prGain = "PRGAIN"
    }

    /// How an interval between thresholds is summed (Keras's `summation_method`).
    public enum Summation: String, Sendable {
        case interpolation, minoring, majoring
    }

    public let numThresholds: Int
    public let curve: Curve
    public let summation: Summation
    public let fromLogits: Bool
    /// Whether each label has its own area (Keras's `multi_label`).
    public let multiLabel: Bool
    /// The number of labels, fixed up front or by the first update (Keras's `num_labels`).
    public private(set) var numLabels: Int?
    /// Each label's weight (Keras's `label_weights`), or nil for equal weights.
    public let labelWeights: [Float]?
    private let thresholds: [Float]
    /// Counts at each threshold, threshold-major: [k * labels + label] (one label without `multiLabel`).
    private var truePositives: [Double] = [], falsePositives: [Double] = [], trueNegatives: [Double] = [], falseNegatives: [Double] = []

    /// `numThresholds` is at least 2 (a precondition, as Keras's "num_thresholds must be > 1"), and
    /// `numLabels`, where given, positive and as many as `labelWeights`.
    public init(numThresholds: Int = 200, curve: Curve = .roc, summation: Summation = .interpolation, fromLogits: Bool = false,
                multiLabel: Bool = false, numLabels: Int? = nil, labelWeights: [Float]? = nil, name: String = "auc") {
        precondition(numThresholds > 1, "AUC needs more than one threshold")
        precondition((numLabels ?? 1) > 0 && (labelWeights == nil || numLabels == nil || labelWeights!.count == numLabels!),
                     "AUC's numLabels must be positive and match its labelWeights")
        self.numThresholds = numThresholds
        self.curve = curve
        self.summation = summation
        self.fromLogits = fromLogits
        self.multiLabel = multiLabel
        self.numLabels = numLabels ?? labelWeights?.count
        self.labelWeights = labelWeights
        let inner: [Float] = (1..<(numThresholds - 1)).map { k in Float(Double(k) / Double(numThresholds - 1)) }
        thresholds = [-probabilityEpsilon] + inner + [1 + probabilityEpsilon]
        super.init(name: name)
        reset()
    }

    public override func update(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor? = nil, sampleWeight: Tensor? = nil) throws {
        // The labels are the last axis; weights per label need it to hold one value per label.
        let width = yPred.shape.last ?? 1
        if multiLabel && (yPred.rank != 2 || width == 0) {
            throw RecurError.shapeMismatch(op: "\(name) (multi-label AUC)", expected: "predictions of shape (batch, labels ≥ 1)",
                                           actual: describeShape(yPred.shape))
        }
        if multiLabel || labelWeights != nil {
            if let known = numLabels, known != width {
                throw RecurError.shapeMismatch(op: "\(name) (AUC over \(known) labels)", expected: "predictions with \(known) labels on the last axis",
                                               actual: describeShape(yPred.shape))
            }
            if numLabels == nil {
                numLabels = width
                reset()
            }
        }
        let labels = try sameShapeTargets(yTrue, yPred, op: name).to(.cpu).scalars
        let predictions = try (fromLogits ? yPred.sigmoid() : yPred).to(.cpu).scalars
        let weights = try elementWeights(of: yPred, mask: mask, sampleWeight: sampleWeight, metric: name).to(.cpu).scalars
        let columns = countedLabels
        for (i, p) in predictions.enumerated() {
            let label = width > 0 ? i % width : 0
            let positive = labels[i] != 0
            // Without multiLabel, labelWeights scale each label's elements (Keras multiplies them into the sample weights).
            let w = Double(weights[i]) * Double(!multiLabel ? labelWeights?[label] ?? 1 : 1)
            let column = multiLabel ? label : 0
            for (k, t) in thresholds.enumerated() {
                let at = k * columns + column
                switch (p > t, positive) {
                case (true, true): truePositives[at] += w
                case (true, false): falsePositives[at] += w
                case (false, true): falseNegatives[at] += w
                case (false, false): trueNegatives[at] += w
                }
            }
        }
    }

    /// How many sets of counts there are: one per label with `multiLabel`, else one.
    private var countedLabels: Int { multiLabel ? numLabels ?? 1 : 1 }

    /// a / b, 0 where b is 0 (Keras's `divide_no_nan`).
    private static func ratio(_ a: Double, _ b: Double) -> Double { b == 0 ? 0 : a / b }

    public override var result: Float {
        let columns = countedLabels
        let areas = (0..<columns).map { area(column: $0, columns: columns) }
        guard multiLabel else { return Float(areas[0]) }
        guard let weights = labelWeights else { return Float(areas.reduce(0, +) / Double(areas.count)) }
        let total = weights.reduce(0) { $0 + Double($1) }
        return Float(Self.ratio(zip(areas, weights).reduce(0) { $0 + $1.0 * Double($1.1) }, total))
    }

    /// The area of one set of counts (`column` of `columns`).
    private func area(column: Int, columns: Int) -> Double {
        let k = thresholds.indices
        func at(_ i: Int) -> Int { i * columns + column }
        if curve == .pr && summation == .interpolation { return interpolatedPrecisionRecallArea(at: at) }
        let recall = k.map { Self.ratio(truePositives[at($0)], truePositives[at($0)] + falseNegatives[at($0)]) }
        let x: [Double], y: [Double]
        switch curve {
        case .roc:
            (x, y) = (k.map { Self.ratio(falsePositives[at($0)], falsePositives[at($0)] + trueNegatives[at($0)]) }, recall)
        case .pr:
            (x, y) = (recall, k.map { Self.ratio(truePositives[at($0)], truePositives[at($0)] + falsePositives[at($0)]) })
        case .prGain:
            let scale = k.map { Self.ratio(truePositives[at($0)] + falseNegatives[at($0)], trueNegatives[at($0)] + falsePositives[at($0)]) }
            x = k.map { truePositives[at($0)] == 0 ? 0 : max(1 - scale[$0] * Self.ratio(falseNegatives[at($0)], truePositives[at($0)]), 0) }
            y = k.map { truePositives[at($0)] == 0 ? 1 : 1 - scale[$0] * Self.ratio(falsePositives[at($0)], truePositives[at($0)]) }
        }
        var area = 0.0
        for i in 0..<(numThresholds - 1) {
            let height: Double
            switch summation {
            case .interpolation: height = (y[i] + y[i + 1]) / 2
            case .minoring: height = min(y[i], y[i + 1])
            case .majoring: height = max(y[i], y[i + 1])
            }
            area += (x[i] - x[i + 1]) * height
        }
        return area
    }

    /// Keras's `interpolate_pr_auc`, over the counts at `at(threshold)`.
    private func interpolatedPrecisionRecallArea(at: (Int) -> Int) -> Double {
        var area = 0.0
        for i in 0..<(numThresholds - 1) {
            let (a, b) = (at(i), at(i + 1))
            let (pA, pB) = (truePositives[a] + falsePositives[a], truePositives[b] + falsePositives[b])
            let dTP = truePositives[a] - truePositives[b]
            let slope = Self.ratio(dTP, max(pA - pB, 0))
            let intercept = truePositives[b] - slope * pB
            let pRatio = pA > 0 && pB > 0 ? Self.ratio(pA, max(pB, 0)) : 1
            area += Self.ratio(slope * (dTP + intercept * log(pRatio)), max(truePositives[b] + falseNegatives[b], 0))
        }
        return area
    }

    public override func reset() {
        let zeros = [Double](repeating: 0, count: numThresholds * countedLabels)
        (truePositives, falsePositives, trueNegatives, falseNegatives) = (zeros, zeros, zeros, zeros)
    }

    override func independentCopy() -> Metric { renamed(name) }
    override func renamed(_ name: String) -> Metric {
        AUC(numThresholds: numThresholds, curve: curve, summation: summation, fromLogits: fromLogits, multiLabel: multiLabel,
            numLabels: numLabels, labelWeights: labelWeights, name: name)
    }
}
