/// Where `padSequences` adds padding or cuts sequences: at the start (`pre`, Keras's default) or the end.
public enum SequenceEnd: String, Sendable {
    case pre, post
}

/// Keras's `pad_sequences`: a (count, length) tensor from sequences of varying length. `length`
/// defaults to the longest sequence; shorter ones are padded with `value`, longer ones cut.
///
///     padSequences([[1, 2, 3], [4, 5]])                  // [[1, 2, 3], [0, 4, 5]]
///     padSequences([[1, 2, 3], [4, 5]], padding: .post)  // [[1, 2, 3], [4, 5, 0]]
public func padSequences<S: Sequence>(_ sequences: [S], maxLength: Int? = nil, padding: SequenceEnd = .pre,
                                      truncating: SequenceEnd = .pre, value: Float = 0) throws -> Tensor
where S.Element: BinaryInteger {
    try padSequences(sequences.map { $0.map { Float($0) } }, maxLength: maxLength, padding: padding, truncating: truncating, value: value)
}

/// `padSequences` for sequences of floating-point values.
public func padSequences(_ sequences: [[Float]], maxLength: Int? = nil, padding: SequenceEnd = .pre,
                         truncating: SequenceEnd = .pre, value: Float = 0) throws -> Tensor {
    if let maxLength, maxLength < 0 {
        throw RecurError.invalidArgument(op: "padSequences", message: "maxLength must be at least 0, got \(maxLength)")
    }
    let length = maxLength ?? sequences.map(\.count).max() ?? 0
    var scalars = [Float](repeating: value, count: sequences.count * length)
    for (row, sequence) in sequences.enumerated() {
        let kept = sequence.count <= length ? sequence[...] : (truncating == .pre ? sequence.suffix(length) : sequence.prefix(length))
        let start = row * length + (padding == .pre ? length - kept.count : 0)
        for (k, v) in kept.enumerated() { scalars[start + k] = v }
    }
    return try Tensor(shape: [sequences.count, length], scalars: scalars)
}
