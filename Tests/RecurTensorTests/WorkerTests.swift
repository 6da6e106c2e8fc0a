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

    /// `parallelBlocks` hands every block out exactly once, whichever thread claims it, the last one
    /// short, and one block for a count below the block size.
    @Test func everyBlockIsClaimedOnce() {
        for (count, size) in [(150, 16), (1024, 64), (7, 16), (0, 8)] {
            let seen = Mutex<[Range<Int>]>([])
            parallelBlocks(count, blockSize: size) { block in seen.withLock { $0.append(block) } }
            let blocks = seen.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
            let expected = stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
            #expect(blocks == expected, "\(count) in blocks of \(size)")
        }
    }

    @Test func shrinkingBlocksCoverTheRangeOnceAndEndSmall() {
        for (count, size, smallest) in [(1024, 64, 16), (784, 64, 16), (150, 16, 16), (100, 64, 16), (40, 64, 16)] {
            let seen = Mutex<[Range<Int>]>([])
            parallelBlocks(count, blockSize: size, smallestBlock: smallest) { block in seen.withLock { $0.append(block) } }
            let blocks = seen.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
            #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == count, "\(count): \(blocks)")
            #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(count): \(blocks)")
            #expect(blocks.allSatisfy { $0.count <= size } && blocks.dropLast().allSatisfy { $0.count >= smallest }, "\(count): \(blocks)")
            if count >= 4 * size { #expect(blocks.last!.count <= smallest, "\(count) ends in a block of \(blocks.last!.count)") }
        }
    }
}

/// The weight-gradient products Aᵀ·B (`recur_gemm_transposed_a` through `gemm`, and
/// `parallelGemm`'s split over rows) against sums in double precision.
@Suite("Transposed products")
struct TransposedProductTests {
    /// (k, m) and (k, n) matrices of values in [-1, 1], and Aᵀ·B in double precision.
    static func operands(k: Int, m: Int, n: Int) -> (a: [Float], b: [Float], product: [Double]) {
        var g = SeededGenerator(seed: UInt64(k * 31 + m * 7 + n))
        let a = (0..<(k * m)).map { _ in Float.random(in: -1...1, using: &g) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &g) }
        var product = [Double](repeating: 0, count: m * n)
        for p in 0..<k { for i in 0..<m { for j in 0..<n { product[i * n + j] += Double(a[p * m + i]) * Double(b[p * n + j]) } } }
        return (a, b, product)
    }

    /// Shapes with partial tiles (m not a multiple of 8, n of 32), a partial k chunk, one (1,500 × 40 ×
    /// 50 = 3 million multiply-adds) large enough for `parallelGemm` to split k, and no rows at all
    /// (a rank's empty share of a batch): C is zero, or left as it was when accumulating.
    @Test(arguments: [(300, 13, 37), (1500, 40, 50), (64, 8, 16), (5, 64, 256), (0, 13, 37)])
    func matchesDoublePrecision(shape: (k: Int, m: Int, n: Int)) {
        let (k, m, n) = shape
        let (a, b, want) = Self.operands(k: k, m: m, n: n)
        var c = [Float](repeating: 9, count: m * n)
        for accumulate in [false, true] {
            a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
                parallelGemm(a.baseAddress!, transposeA: true, b.baseAddress!, transposeB: false, c.baseAddress!, m: m, n: n, k: k,
                             beta: accumulate ? 1 : 0)
            } } }
            let scale: Double = accumulate ? 2 : 1
            let worst = zip(c, want).map { abs(Double($0) - scale * $1) }.max() ?? 0
            #expect(worst <= 1e-5 * Double(k).squareRoot() * scale, "k \(k) m \(m) n \(n) accumulate \(accumulate): \(worst)")
        }
    }

    /// Σₜ hₜ₋₁ᵀ·dₜ of a batch with no rows is zero (its rows never reach a product).
    @Test func previousStateProductsOfAnEmptyBatchAreZero() {
        let d = [Float](repeating: 1, count: 1)
        let result = d.withUnsafeBufferPointer { d in
            Tensor.previousStateProducts(h0: Tensor.zeros([0, 8]), hs: Tensor.zeros([3, 0, 8]), d.baseAddress!, width: 32)
        }
        #expect(result.shape == [8, 32])
        #expect(result.scalars.allSatisfy { $0 == 0 })
    }
}
