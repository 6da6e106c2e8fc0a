import CRecurKernels

/// A (batch, time) mask read in the fused kernels' processing order: `maskedRows(step:in:)` lists the
/// rows for which a step does not count, so that they carry their previous state through it.
struct StepMask {
    private let masked: [Bool]
    private let batch: Int
    let isEmpty: Bool

    /// `mask` (batch, time) in the API's time order, 1 for steps that count; `reverse` for `goBackwards`.
    init(_ mask: Tensor?, batch: Int, time: Int, reverse: Bool) throws {
        self.batch = batch
        guard let mask else { masked = []; isEmpty = true; return }
        guard mask.shape == [batch, time] else {
            throw RecurError.shapeMismatch(op: "fused RNN mask", expected: describeShape([batch, time]), actual: describeShape(mask.shape))
        }
        var flags = [Bool](repeating: false, count: batch * time)
        for s in 0..<time {
            let t = reverse ? time - 1 - s : s
            for b in 0..<batch { flags[s * batch + b] = mask.base[b * time + t] == 0 }
        }
        masked = flags
        isEmpty = !flags.contains(true)
    }

    /// Whether `row` is masked at a processing step.
    func isMasked(step: Int, row: Int) -> Bool { !isEmpty && masked[step * batch + row] }

    /// Calls `body` with each row of `rows` masked at a processing step, in order. Without a mask it
    /// returns at once and builds nothing: the fused kernels' threads call it at every step, and an
    /// array returned to each (even an empty one) cost a shared reference count's cache line going back
    /// and forth between their cores (7% of a split single sample's time).
    @inline(__always)
    func forEachMaskedRow(step: Int, in rows: Range<Int>, _ body: (Int) -> Void) {
        guard !isEmpty else { return }
        for row in rows where masked[step * batch + row] { body(row) }
    }

    /// The rows of `rows` masked at a processing step. Inlined, so that without a mask the caller
    /// sees the empty array and calls nothing (as `forEachMaskedRow`).
    @inline(__always)
    func maskedRows(step: Int, in rows: Range<Int>) -> [Int] {
        isEmpty ? [] : rows.filter { masked[step * batch + $0] }
    }
}

/// d += x over `count` scalars (a vectorised kernel; Swift loops here compile to baseline SSE).
@inline(__always)
func addInPlace(_ x: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, _ count: Int) {
    recur_binary(Int32(RECUR_ADD), d, 1, x, 1, d, count)
}

/// Copies `count` floats of row `row` from one (rows, count) buffer to another.
@inline(__always)
func copyRow(_ row: Int, count: Int, from source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>) {
    (destination + row * count).update(from: source + row * count, count: count)
}

extension Tensor {
    /// Whether this (batch, time) mask has, in every row, its ones before its zeros (right padding).
    public func isRightPadded() throws -> Bool {
        guard rank == 2 else { throw RecurError.shapeMismatch(op: "isRightPadded", expected: "a (batch, time) mask", actual: describeShape(shape)) }
        let (rows, time) = (shape[0], shape[1])
        let values = try hostScalars()
        for r in 0..<rows {
            var ended = false
            for t in 0..<time {
                let on = values[r * time + t] != 0
                if on && ended { return false }
                if !on { ended = true }
            }
        }
        return true
    }
}
