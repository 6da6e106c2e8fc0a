/// Moves sequences between the batch-major layout of the API, (batch, time, features), and the
/// time-major layout the fused kernels work in, (time, batch, features), optionally reversing time
/// (for `goBackwards`, which processes and returns steps last to first).
enum SequenceLayout {
    /// (B, T, F) → (T, B, F); with `reversed`, processing step s reads time T − 1 − s.
    static func timeMajor(_ x: UnsafePointer<Float>, batch: Int, time: Int, features: Int, reversed: Bool,
                          into out: UnsafeMutablePointer<Float>) {
        for s in 0..<time {
            let t = reversed ? time - 1 - s : s
            for b in 0..<batch {
                (out + (s * batch + b) * features).update(from: x + (b * time + t) * features, count: features)
            }
        }
    }

    /// (T, B, F) → (B, T, F) keeping processing order; with `reversed`, processing step s goes back to time T − 1 − s.
    static func batchMajor(_ x: UnsafePointer<Float>, batch: Int, time: Int, features: Int, reversed: Bool,
                           into out: UnsafeMutablePointer<Float>) {
        for s in 0..<time {
            let t = reversed ? time - 1 - s : s
            for b in 0..<batch {
                (out + (b * time + t) * features).update(from: x + (s * batch + b) * features, count: features)
            }
        }
    }
}
