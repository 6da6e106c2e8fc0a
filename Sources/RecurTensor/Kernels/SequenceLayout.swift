/// Moves sequences between the batch-major layout of the API, (batch, time, features), and the
/// time-major layout the fused kernels work in, (time, batch, features), optionally reversing time
/// (for `goBackwards`, which processes and returns steps last to first).
enum SequenceLayout {
    /// (B, T, F) → (T, B, F); with `reversed`, processing step s reads time T − 1 − s. `steps` and
    /// `rows` limit the copy to some processing steps and batch rows.
    static func timeMajor(_ x: UnsafePointer<Float>, batch: Int, time: Int, features: Int, reversed: Bool,
                          into out: UnsafeMutablePointer<Float>, steps: Range<Int>? = nil, rows: Range<Int>? = nil) {
        for s in steps ?? 0..<time {
            let t = reversed ? time - 1 - s : s
            for b in rows ?? 0..<batch {
                (out + (s * batch + b) * features).update(from: x + (b * time + t) * features, count: features)
            }
        }
    }

    /// x (B, T, F) in time-major processing order, (T, B, F): one sample read forwards is time-major
    /// already, and its storage serves uncopied.
    static func timeMajor(_ x: Tensor, reversed: Bool) -> Tensor {
        let (batch, time, features) = (x.shape[0], x.shape[1], x.shape[2])
        if batch == 1 && !reversed { return x }
        let out = Tensor(uninitializedShape: [time, batch, features])
        timeMajor(x.base, batch: batch, time: time, features: features, reversed: reversed, into: out.base)
        return out
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

/// The input side of every fused kernel in training: x (B, T, D) in time-major processing order (the
/// storage of x itself for one sample read forwards), and its projection x·W + b for all steps,
/// (T, B, G) for a kernel W (D, G) and bias b (G): the steps split across threads, one GEMM each.
func projectSequence(_ x: Tensor, kernel: Tensor, bias: UnsafePointer<Float>, reverse: Bool) -> (xs: Tensor, projection: Tensor) {
    let (B, T, D) = (x.shape[0], x.shape[1], x.shape[2])
    let G = kernel.shape[1]
    // One sample read forwards is time-major already: its (1, T, D) storage serves as xs, uncopied.
    let laidOut = B == 1 && !reverse
    let xs = laidOut ? x : Tensor(uninitializedShape: [T, B, D])
    let projection = Tensor(uninitializedShape: [T, B, G])
    // W packed once, unless the batch has only a few rows (a single sample: packing W at every call would
    // cost more than it saves); the product starts from the bias row, so no pass copies b first.
    let weights = StepMatrix(kernel, transposed: false, rows: B)
    // Each thread lays out and projects the blocks of steps it claims, while they are in its cache; a
    // projection of fewer than two blocks of `minimum` steps (4,096 outputs of x·W a block) runs on the
    // calling thread.
    nonisolated(unsafe) let bias = bias
    let minimum = max(1, 4096 / max(B * G, 1))
    parallelBlocks(T, blockSize: T < 2 * minimum ? T : max(minimum, T / (4 * Parallelism.threads))) { steps in
        if !laidOut { SequenceLayout.timeMajor(x.base, batch: B, time: T, features: D, reversed: reverse, into: xs.base, steps: steps) }
        let first = steps.lowerBound * B
        weights.multiply(xs.base + first * D, rows: steps.count * B, into: projection.base + first * G, accumulate: false, step: 0, bias: bias)
    }
    return (xs, projection)
}
