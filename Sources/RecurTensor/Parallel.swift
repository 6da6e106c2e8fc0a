import CRecurKernels
import Foundation

/// How many threads Recur's own kernels split work across (the fused RNN kernels split the batch).
/// Defaults to the CPUs this process may run on (its affinity mask: `mpirun` binds each rank to its
/// cores), at most 8, or to the `RECUR_THREADS` environment variable. OpenBLAS itself is kept single-threaded by
/// the callers that split work, so the two never oversubscribe the cores.
public enum Parallelism {
    public static var threads: Int {
        get { lock.lock(); defer { lock.unlock() }; return storedThreads }
        set { lock.lock(); storedThreads = max(1, newValue); lock.unlock() }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var storedThreads: Int = {
        if let text = ProcessInfo.processInfo.environment["RECUR_THREADS"], let n = Int(text), n > 0 { return n }
        return min(8, Int(recur_usable_cpu_count()))
    }()
}

/// Splits `0..<count` into at most `Parallelism.threads` contiguous ranges of at least `minimum`
/// elements and runs `body` on each range concurrently (inline when there is one range). `body` must
/// touch only its range's part of shared buffers: the ranges are disjoint, which is what makes the
/// concurrent calls race-free (the compiler cannot see that, hence `nonisolated(unsafe)`).
func parallelRanges(_ count: Int, minimum: Int, _ body: (Range<Int>) -> Void) {
    parallelParts(splitRanges(count, minimum: minimum)) { _, range in body(range) }
}

/// `0..<count` split into at most `Parallelism.threads` contiguous ranges of at least `minimum`
/// elements (one range when it cannot be split).
func splitRanges(_ count: Int, minimum: Int) -> [Range<Int>] {
    let parts = max(1, min(Parallelism.threads, count / max(minimum, 1)))
    let base = count / parts, extra = count % parts
    return (0..<parts).map { p in
        let start = p * base + min(p, extra)
        return start..<(start + base + (p < extra ? 1 : 0))
    }
}

/// Runs `body` on consecutive blocks of `0..<count`, `blockSize` elements each (the last may be
/// shorter), which up to `Parallelism.threads` threads claim one at a time: a thread on a slower core
/// takes fewer blocks instead of holding the others up (on shared machines one vCPU often runs at
/// two thirds of the other's speed for seconds at a time). The blocks must be independent.
///
/// With `smallestBlock` below `blockSize`, blocks shrink toward the end — about half of what is left
/// per thread, in multiples of `smallestBlock` — so that the threads finish closer together: the last
/// block claimed is what the others may wait for. The blocks depend only on the arguments and the
/// thread count.
func parallelBlocks(_ count: Int, blockSize: Int, smallestBlock: Int? = nil, _ body: (Range<Int>) -> Void) {
    let size = max(1, blockSize), smallest = min(size, max(1, smallestBlock ?? size))
    if count <= size {
        if count > 0 { body(0..<count) }
        return
    }
    var starts = [0]
    while let start = starts.last, start < count {
        let share = (count - start) / (2 * Parallelism.threads) / smallest * smallest
        starts.append(min(count, start + min(size, max(smallest, share))))
    }
    let blocks = starts.count - 1
    // The next unclaimed block, taken with an atomic add (`recur_claim_next`, C: Synchronization's
    // Atomic needs macOS 15).
    let next = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    defer { next.deallocate() }
    next.initialize(to: 0)
    nonisolated(unsafe) let counter = next
    let claimers = (0..<max(1, min(Parallelism.threads, blocks))).map { $0..<($0 + 1) }
    parallelParts(claimers) { _, _ in
        while true {
            let block = recur_claim_next(counter)
            guard block < blocks else { return }
            body(starts[block]..<starts[block + 1])
        }
    }
}

/// Runs `body(part, range)` for each of `ranges` concurrently (inline when there is one): on Recur's
/// spinning worker threads (`recur_parallel_run`, RecurWorkers.c: they stay awake between the
/// regions of a training step instead of paying a thread wake-up each time), or through
/// libdispatch when those are busy (a region inside a region, or calls from several threads).
/// `body` must touch only its part of shared buffers (see `parallelRanges`).
func parallelParts(_ ranges: [Range<Int>], _ body: (Int, Range<Int>) -> Void) {
    if ranges.count == 1 {
        body(0, ranges[0])
        return
    }
    withoutActuallyEscaping(body) { body in
        var job = ParallelJob(ranges: ranges, body: body)
        let started = withUnsafeMutablePointer(to: &job) { pointer in
            recur_parallel_run(ranges.count, { context, part in
                let job = context!.assumingMemoryBound(to: ParallelJob.self)
                job.pointee.body(Int(part), job.pointee.ranges[Int(part)])
            }, pointer)
        }
        if started != 0 {
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: ranges.count) { p in work(p, ranges[p]) }
        }
    }
}

/// Runs `body(part)` for every part in `0..<parts` at the same time, on Recur's worker threads (part 0
/// on the calling thread), so that parts may wait for each other (`StepBarrier`); returns false, having
/// run nothing, when those threads are busy (a region inside a region, or another thread's region) or
/// there is one part: the caller then does the work another way.
func parallelPartsTogether(_ parts: Int, _ body: (Int) -> Void) -> Bool {
    guard parts > 1 else { return false }
    let ranges = (0..<parts).map { $0..<($0 + 1) }
    return withoutActuallyEscaping(body) { body in
        var job = ParallelJob(ranges: ranges, body: { part, _ in body(part) })
        return withUnsafeMutablePointer(to: &job) { pointer in
            recur_parallel_run(parts, { context, part in
                let job = context!.assumingMemoryBound(to: ParallelJob.self)
                job.pointee.body(Int(part), job.pointee.ranges[Int(part)])
            }, pointer)
        } == 0
    }
}

/// Where the parts of one `parallelPartsTogether` region meet: `wait()` returns in each part once every
/// part has called it (`recur_barrier_wait`), as often as the parts need.
final class StepBarrier: @unchecked Sendable {
    private let state = UnsafeMutablePointer<Int>.allocate(capacity: 3)
    private let parties: Int

    init(parties: Int) {
        self.parties = parties
        state.initialize(repeating: 0, count: 3)
    }

    deinit { state.deallocate() }

    func wait() { recur_barrier_wait(state, parties) }

    /// How many waits at the meetings lasted so long that the waiting part began to yield its CPU: some
    /// part was off its CPU (more runnable threads than CPUs, or a pause of the machine). Read after the
    /// region.
    var starvedWaits: Int { state[2] }
}

/// A parallel region's parts and body, handed to the worker threads by pointer for the duration of
/// `recur_parallel_run` (which returns only when every part has run).
private struct ParallelJob {
    let ranges: [Range<Int>]
    let body: (Int, Range<Int>) -> Void
}
