import Foundation

/// A learning rate that changes with the optimizer's step count (Keras's
/// `keras.optimizers.schedules`): the optimizer asks for the rate of step `iterations` before each
/// update (0 for the first). Attach one with `Optimizer.scheduled(by:)`.
public protocol LearningRateSchedule {
    func learningRate(atStep step: Int) -> Float
}

/// lr · rate^(step / decaySteps), with the exponent floored when `staircase`.
public struct ExponentialDecay: LearningRateSchedule, Sendable {
    public var initialLearningRate: Float, decaySteps: Int, decayRate: Float, staircase: Bool

    public init(initialLearningRate: Float, decaySteps: Int, decayRate: Float, staircase: Bool = false) {
        precondition(decaySteps > 0, "ExponentialDecay: decaySteps must be positive")
        (self.initialLearningRate, self.decaySteps, self.decayRate, self.staircase) = (initialLearningRate, decaySteps, decayRate, staircase)
    }

    public func learningRate(atStep step: Int) -> Float {
        var p = Double(step) / Double(decaySteps)
        if staircase { p = p.rounded(.down) }
        return Float(Double(initialLearningRate) * pow(Double(decayRate), p))
    }
}

/// Cosine decay from the initial rate (or, after a linear warmup of `warmupSteps` to `warmupTarget`,
/// from the target) to `alpha` times it over `decaySteps`, then constant:
/// lr(s) = peak · ((1 − α) · ½(1 + cos(π · min(s − warmup, decay) / decay)) + α).
public struct CosineDecay: LearningRateSchedule, Sendable {
    public var initialLearningRate: Float, decaySteps: Int, alpha: Float, warmupTarget: Float?, warmupSteps: Int

    public init(initialLearningRate: Float, decaySteps: Int, alpha: Float = 0, warmupTarget: Float? = nil, warmupSteps: Int = 0) {
        precondition(decaySteps > 0 && warmupSteps >= 0, "CosineDecay: decaySteps must be positive, warmupSteps at least 0")
        (self.initialLearningRate, self.decaySteps, self.alpha) = (initialLearningRate, decaySteps, alpha)
        (self.warmupTarget, self.warmupSteps) = (warmupTarget, warmupSteps)
    }

    public func learningRate(atStep step: Int) -> Float {
        let initial = Double(initialLearningRate), a = Double(alpha)
        func decayed(_ peak: Double, _ s: Double) -> Double {
            let fraction = min(s, Double(decaySteps)) / Double(decaySteps)
            return peak * ((1 - a) * 0.5 * (1 + cos(Double.pi * fraction)) + a)
        }
        guard let target = warmupTarget.map(Double.init) else { return Float(decayed(initial, Double(step))) }
        let s = Double(min(step, decaySteps + warmupSteps))
        if s < Double(warmupSteps) { return Float((target - initial) * s / Double(warmupSteps) + initial) }
        return Float(decayed(target, s - Double(warmupSteps)))
    }
}

/// `values[i]` while the step is within the i-th interval of `boundaries` (values has one more entry):
/// values[0] for step ≤ boundaries[0], values[1] for boundaries[0] < step ≤ boundaries[1], ...
public struct PiecewiseConstantDecay: LearningRateSchedule, Sendable {
    public var boundaries: [Int], values: [Float]

    public init(boundaries: [Int], values: [Float]) {
        precondition(values.count == boundaries.count + 1, "PiecewiseConstantDecay: values needs one more entry than boundaries")
        (self.boundaries, self.values) = (boundaries, values)
    }

    public func learningRate(atStep step: Int) -> Float {
        values[boundaries.firstIndex { step <= $0 } ?? boundaries.count]
    }
}
