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

/// The input side of every fused kernel: x (B, T, D) in time-major processing order, and its projection
/// x·W + b for all steps as one GEMM, (T, B, G) for a kernel W (D, G) and bias b (G).
func projectSequence(_ x: Tensor, kernel: Tensor, bias: UnsafePointer<Float>, reverse: Bool) -> (xs: Tensor, projection: Tensor) {
    let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
    let G = kernel.shape[1], rows = T * B
    let xs = Tensor(uninitializedShape: [T, B, D])
    SequenceLayout.timeMajor(x.base, batch: B, time: T, features: D, reversed: reverse, into: xs.base)
    let projection = Tensor(uninitializedShape: [T, B, G])
    for r in 0..<rows { (projection.base + r * G).update(from: bias, count: G) }
    parallelGemm(xs.base, transposeA: false, kernel.base, transposeB: false, projection.base, m: rows, n: G, k: D, beta: 1)
    return (xs, projection)
}
