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
    private let thresholds: [Float]
    private var truePositives: [Double] = [], falsePositives: [Double] = [], trueNegatives: [Double] = [], falseNegatives: [Double] = []

    /// `numThresholds` is at least 2 (a precondition, as Keras's "num_thresholds must be > 1").
    public init(numThresholds: Int = 200, curve: Curve = .roc, summation: Summation = .interpolation, fromLogits: Bool = false,
                name: String = "auc") {
        precondition(numThresholds > 1, "AUC needs more than one threshold")
        self.numThresholds = numThresholds
        self.curve = curve
        self.summation = summation
        self.fromLogits = fromLogits
        let inner: [Float] = (1..<(numThresholds - 1)).map { k in Float(Double(k) / Double(numThresholds - 1)) }
        thresholds = [-probabilityEpsilon] + inner + [1 + probabilityEpsilon]
        super.init(name: name)
        reset()
    }

    public override func update(_ yTrue: Tensor, _ yPred: Tensor, mask: Tensor? = nil, sampleWeight: Tensor? = nil) throws {
        let labels = try sameShapeTargets(yTrue, yPred, op: name).to(.cpu).scalars
        let predictions = try (fromLogits ? yPred.sigmoid() : yPred).to(.cpu).scalars
        let weights = try elementWeights(of: yPred, mask: mask, sampleWeight: sampleWeight, metric: name).to(.cpu).scalars
        for (i, p) in predictions.enumerated() {
            let positive = labels[i] != 0, w = Double(weights[i])
            for (k, t) in thresholds.enumerated() {
                switch (p > t, positive) {
                case (true, true): truePositives[k] += w
                case (true, false): falsePositives[k] += w
                case (false, true): falseNegatives[k] += w
                case (false, false): trueNegatives[k] += w
                }
            }
        }
    }

    /// a / b, 0 where b is 0 (Keras's `divide_no_nan`).
    private static func ratio(_ a: Double, _ b: Double) -> Double { b == 0 ? 0 : a / b }

    public override var result: Float {
        let k = thresholds.indices
        if curve == .pr && summation == .interpolation { return Float(interpolatedPrecisionRecallArea()) }
        let recall = k.map { Self.ratio(truePositives[$0], truePositives[$0] + falseNegatives[$0]) }
        let x: [Double], y: [Double]
        switch curve {
        case .roc:
            (x, y) = (k.map { Self.ratio(falsePositives[$0], falsePositives[$0] + trueNegatives[$0]) }, recall)
        case .pr:
            (x, y) = (recall, k.map { Self.ratio(truePositives[$0], truePositives[$0] + falsePositives[$0]) })
        case .prGain:
            let scale = k.map { Self.ratio(truePositives[$0] + falseNegatives[$0], trueNegatives[$0] + falsePositives[$0]) }
            x = k.map { truePositives[$0] == 0 ? 0 : max(1 - scale[$0] * Self.ratio(falseNegatives[$0], truePositives[$0]), 0) }
            y = k.map { truePositives[$0] == 0 ? 1 : 1 - scale[$0] * Self.ratio(falsePositives[$0], truePositives[$0]) }
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
        return Float(area)
    }

    /// Keras's `interpolate_pr_auc`.
    private func interpolatedPrecisionRecallArea() -> Double {
        var area = 0.0
        for i in 0..<(numThresholds - 1) {
            let (pA, pB) = (truePositives[i] + falsePositives[i], truePositives[i + 1] + falsePositives[i + 1])
            let dTP = truePositives[i] - truePositives[i + 1]
            let slope = Self.ratio(dTP, max(pA - pB, 0))
            let intercept = truePositives[i + 1] - slope * pB
            let pRatio = pA > 0 && pB > 0 ? Self.ratio(pA, max(pB, 0)) : 1
            area += Self.ratio(slope * (dTP + intercept * log(pRatio)), max(truePositives[i + 1] + falseNegatives[i + 1], 0))
        }
        return area
    }

    public override func reset() {
        let zeros = [Double](repeating: 0, count: numThresholds)
        (truePositives, falsePositives, trueNegatives, falseNegatives) = (zeros, zeros, zeros, zeros)
    }

    override func independentCopy() -> Metric { renamed(name) }
    override func renamed(_ name: String) -> Metric {
        AUC(numThresholds: numThresholds, curve: curve, summation: summation, fromLogits: fromLogits, name: name)
    }
}
