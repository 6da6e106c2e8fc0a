/// How `Conv1D` and the 1-D pooling layers pad the time axis (Keras's `padding`): `valid` none;
/// `same` so that the output has ⌈time / stride⌉ steps, the larger half of the padding on the right
/// (TensorFlow's and JAX's `SAME`); `causal` (`Conv1D` only) all of it on the left, so that output t
/// depends on inputs ≤ t only.
public enum TimePadding: String, Sendable, CaseIterable {
    case valid, same, causal
}

/// The windows a 1-D convolution or pooling slides over the time axis: `size` taps `dilation` steps
/// apart, starting every `stride` steps, over `time` input steps padded as `padding` says.
///
/// Window w covers input steps sₖ = w·stride − leftPadding + k·dilation (k < size); taps outside
/// 0..<time are padding. `gather(_:)` reads the windows of x (batch, time, channels) as one
/// (batch, windows, size, channels) tensor through a differentiable gather (gradients scatter-add
/// back); a padding tap reads the nearest real step and `validTaps` says which taps are real, so that
/// a convolution zeroes them and a pooling leaves them out.
struct TimeWindows {
    let time: Int, size: Int, stride: Int, dilation: Int
    /// Output steps, and the padding before step 0.
    let count: Int, leftPadding: Int

    /// Throws when no window fits (Keras: "computed output size would be negative").
    init(time: Int, size: Int, stride: Int, dilation: Int, padding: TimePadding, layer: Layer) throws {
        (self.time, self.size, self.stride, self.dilation) = (time, size, stride, dilation)
        let span = dilation * (size - 1) + 1
        switch padding {
        case .valid:
            count = time >= span ? (time - span) / stride + 1 : 0
            leftPadding = 0
        case .same:
            count = (time + stride - 1) / stride
            leftPadding = Swift.max((count - 1) * stride + span - time, 0) / 2
        case .causal:
            count = (time + stride - 1) / stride
            leftPadding = span - 1
        }
        guard count > 0 else {
            throw RecurError.shapeMismatch(layer.errorSubject, expected: "at least \(span) steps for a window of \(size) taps "
                                           + "\(dilation) apart with padding '\(padding.rawValue)'", actual: "\(time) steps")
        }
    }

    /// The output length for a symbolic input length (nil stays nil), as `init` computes it.
    static func outputLength(time: Int?, size: Int, stride: Int, dilation: Int, padding: TimePadding, layer: Layer) throws -> Int? {
        guard let time else { return nil }
        return try TimeWindows(time: time, size: size, stride: stride, dilation: dilation, padding: padding, layer: layer).count
    }

    /// Whether tap k of window w reads a real step (not padding).
    func isValid(window w: Int, tap k: Int) -> Bool {
        let s = w * stride - leftPadding + k * dilation
        return s >= 0 && s < time
    }

    /// The step tap k of window w reads, clamped into 0..<time (a padding tap reads the nearest step).
    func clampedStep(window w: Int, tap k: Int) -> Int {
        Swift.min(Swift.max(w * stride - leftPadding + k * dilation, 0), time - 1)
    }

    /// Whether any tap reads padding.
    var hasPadding: Bool { leftPadding > 0 || (count - 1) * stride - leftPadding + (size - 1) * dilation >= time }

    /// 1 for a real tap and 0 for padding, shaped (1, windows, size, 1) to scale `gather`'s result.
    var validTaps: Tensor {
        let scalars = (0..<count).flatMap { w in (0..<size).map { k in isValid(window: w, tap: k) ? Float(1) : 0 } }
        return try! Tensor(shape: [1, count, size, 1], scalars: scalars)
    }

    /// x (batch, time, channels) → (batch, windows, size, channels): tap k of window w is x at step
    /// w·stride − leftPadding + k·dilation, clamped into 0..<time (see `validTaps`). Throws, naming
    /// `layer`, when the result would hold more than `UntrustedLimits.maxElements` values or the input
    /// more than 2²⁴ steps (the gather's indices are Float32).
    func gather(_ x: Tensor, layer: Layer) throws -> Tensor {
        let (batch, channels) = (x.shape[0], x.shape[2])
        guard UntrustedLimits.elementCount([Swift.max(batch, 1), count, size, Swift.max(channels, 1)]) != nil else {
            throw RecurError.invalidArgument(layer.errorSubject, "its windows (\(batch), \(count), \(size), \(channels)) would hold more than "
                                             + "\(UntrustedLimits.maxElements) values")
        }
        // The gather takes its indices as Float32, exact up to 2²⁴.
        guard time <= 1 << 24 else { throw RecurError.unsupported(layer.errorSubject, "inputs of \(time) steps (at most 2^24)") }
        let steps = (0..<count).flatMap { w in (0..<size).map { k in Float(clampedStep(window: w, tap: k)) } }
        return try gatherTimeSteps(x, try Tensor(shape: [count, size], scalars: steps))
    }
}

extension TimeWindows {
    /// The convolution of x (batch, time, channels) with kernel (size, channels, filters), padding taps
    /// reading 0: (batch, windows, filters), y[b, w, f] = Σₖ Σ_c x[b, sₖ(w), c] · kernel[k, c, f].
    func convolve(_ x: Tensor, kernel: Tensor, layer: Layer) throws -> Tensor {
        var taps = try gather(x, layer: layer)
        if hasPadding { taps = try taps * validTaps }
        let (batch, channels, filters) = (x.shape[0], x.shape[2], kernel.shape[2])
        return try taps.reshaped(to: [batch, count, size * channels]).matmul(kernel.reshaped(to: [size * channels, filters]))
    }
}

/// x (batch, time, channels) at the time steps `steps` names (whole numbers in 0..<time, any shape S):
/// (batch, S..., channels), differentiable (gradients scatter-add back to the steps read).
func gatherTimeSteps(_ x: Tensor, _ steps: Tensor) throws -> Tensor {
    // The time axis first, so that the gather picks rows; then the batch axis back in front.
    let picked = try x.transposed([1, 0, 2]).gather(steps)
    let s = steps.rank
    return try picked.transposed([s] + Array(0..<s) + [s + 1])
}
