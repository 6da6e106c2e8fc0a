import Foundation
import Synchronization
import Testing
@testable import RecurTensor

/// `parallelParts` on Recur's spinning worker threads (RecurWorkers.c): every part runs exactly once,
/// in sequence of regions, nested, from several threads at once and after the workers went to sleep.
@Suite("Worker threads")
struct WorkerTests {
    /// Runs a region of `parts` parts, each adding its index + 1 into its own slot `rounds` times, and
    /// returns the slots.
    static func region(parts: Int, rounds: Int = 1) -> [Int] {
        let ranges = (0..<parts).map { $0..<($0 + 1) }
        let slots = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts)
        defer { slots.deallocate() }
        slots.initialize(repeating: 0)
        nonisolated(unsafe) let shared = slots
        for _ in 0..<rounds {
            parallelParts(ranges) { part, range in
                #expect(range == part..<(part + 1))
                shared[part] += part + 1
            }
        }
        return Array(slots)
    }

    @Test func everyPartRunsOncePerRegion() {
        for parts in [2, 3, 5, 8, 2] {
            #expect(Self.region(parts: parts, rounds: 200) == (0..<parts).map { ($0 + 1) * 200 }, "\(parts) parts")
        }
    }

    @Test func aRegionInsideARegionRuns() {
        let inner = Mutex<[[Int]]>([])
        parallelParts([0..<1, 1..<2]) { _, _ in
            let result = Self.region(parts: 3)
            inner.withLock { $0.append(result) }
        }
        #expect(inner.withLock { $0 } == [[1, 2, 3], [1, 2, 3]])
    }

    @Test func regionsFromSeveralThreadsAtOnce() {
        let results = Mutex<[[Int]]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let result = Self.region(parts: 2, rounds: 100)
            results.withLock { $0.append(result) }
        }
        #expect(results.withLock { $0 } == Array(repeating: [100, 200], count: 4))
    }

    @Test func workersWakeAfterSleeping() {
        #expect(Self.region(parts: 2) == [1, 2])
        // Longer than the workers spin (2 ms): they sleep on their condition variable.
        Thread.sleep(forTimeInterval: 0.02)
        #expect(Self.region(parts: 2, rounds: 3) == [3, 6])
    }
}
