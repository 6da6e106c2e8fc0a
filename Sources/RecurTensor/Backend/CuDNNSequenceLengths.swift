/// How a fused recurrence's mask maps onto cuDNN's only form of masking, per-row sequence lengths
/// (../shared/GPU.md §6): what a CUDA backend decides on the host before it calls cuDNN.
public enum CuDNNSequenceLengths: Sendable, Equatable {
    /// cuDNN runs it: each row's number of leading steps that count (the whole time axis without a mask).
    case lengths([Int32])
    /// cuDNN cannot: the recurrence runs on the CPU's fused kernel, and says why.
    case declined(FusedDeclineReason)

    /// The lengths for `mask` (batch, time), 1 where a step counts; nil means no mask. A mask with a gap
    /// or left padding is `.maskNotRightPadded`; a row with no step that counts is `.emptySequence`.
    public static func plan(for mask: Tensor?, batch: Int, time: Int) throws -> CuDNNSequenceLengths {
        guard let mask else { return .lengths(Array(repeating: Int32(time), count: batch)) }
        guard mask.shape == [batch, time] else {
            throw RecurError.shapeMismatch(op: "CuDNNSequenceLengths", expected: "a mask (\(batch), \(time))", actual: describeShape(mask.shape))
        }
        guard try mask.isRightPadded() else { return .declined(.maskNotRightPadded) }
        let values = try mask.hostScalars()
        let lengths = (0..<batch).map { row in Int32(values[row * time..<(row + 1) * time].prefix { $0 != 0 }.count) }
        return lengths.contains(0) ? .declined(.emptySequence) : .lengths(lengths)
    }
}
