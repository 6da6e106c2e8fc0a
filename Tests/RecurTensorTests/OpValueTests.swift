import Testing
@testable import RecurTensor

@Suite("Op values")
struct OpValueTests {
    @Test func broadcastingValues() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor([10, 20, 30])
        #expect(try (a + b).scalars == [11, 22, 33, 14, 25, 36])
        let col = try Tensor(shape: [2, 1], scalars: [1, 2])
        #expect(try (a * col).scalars == [1, 2, 3, 8, 10, 12])
    }

    @Test func matmulValues() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        #expect(try a.matmul(b).scalars == [58, 64, 139, 154])
        #expect(try a.matmul(a, transposingOther: true).scalars == [14, 32, 32, 77])
    }

    @Test func fewRowProductsMatchBLAS() throws {
        // Products with at most 4 rows take Recur's own kernel; wider ones go to OpenBLAS.
        let a = random([9, 37], seed: 50), b = random([37, 70], seed: 51)
        let wide = try a.matmul(b)
        for rows in 1...4 {
            let few = try a.slice(alongAxis: 0, 0..<rows).matmul(b)
            #expect(few.isAlmostEqual(to: try wide.slice(alongAxis: 0, 0..<rows), absoluteTolerance: 1e-5))
        }
    }

    /// Rows of the first axis share the tensor's storage (a data set's batches cost no copy), and stay
    /// values: writing to one copies it first, and leaves the tensor as it was.
    @Test func firstAxisSlicesShareStorageAsValues() throws {
        let data = try Tensor(shape: [4, 2, 3], scalars: (0..<24).map(Float.init))
        func address(_ t: Tensor) throws -> UnsafePointer<Float> { try t.withUnsafeBufferPointer { $0.baseAddress! } }
        let origin = try address(data)
        var rows = try data.slice(alongAxis: 0, 1..<3)
        #expect(rows.shape == [2, 2, 3] && rows.scalars == (6..<18).map(Float.init))
        let rowsAddress = try address(rows)
        #expect(rowsAddress == origin + 6)
        let inner = try rows.slice(alongAxis: 0, 1..<2)
        let innerAddress = try address(inner)
        #expect(inner.scalars == (12..<18).map(Float.init) && innerAddress == origin + 12)
        // Storage is shared only by the same rows: other rows of one tensor hold other scalars.
        let (sameRows, nextRows) = (try data.slice(alongAxis: 0, 2..<3), try data.slice(alongAxis: 0, 3..<4))
        #expect(inner.sharesStorage(with: sameRows))
        #expect(!rows.sharesStorage(with: data) && !inner.sharesStorage(with: nextRows))
        try rows.withUnsafeMutableBufferPointer { $0[0] = -1 }
        let writtenAddress = try address(rows)
        #expect(rows.scalars.first == -1 && writtenAddress != origin + 6)
        #expect(data.scalars == (0..<24).map(Float.init) && inner.scalars == (12..<18).map(Float.init))
        // Other axes, and values whose gradient is recorded, are copies.
        let column = try data.slice(alongAxis: 1, 0..<1)
        let columnAddress = try address(column)
        #expect(columnAddress != origin)
        let variable = data.requiringGradient()
        let recorded = try variable.slice(alongAxis: 0, 0..<2)
        let recordedAddress = try address(recorded), variableAddress = try address(variable)
        #expect(recordedAddress != variableAddress)
        #expect(try gradients(of: recorded.sum(), wrt: [variable])[0].scalars == (0..<24).map { $0 < 12 ? 1 : 0 })
    }

    @Test func transcendentalAccuracy() throws {
        let xs = (0..<2001).map { Float($0 - 1000) / 100 }
        let x = Tensor(xs)
        let e = x.exp().scalars, t = x.tanh().scalars, s = x.sigmoid().scalars
        for (i, v) in xs.enumerated() {
            #expect(abs(e[i] - Foundation.exp(v)) <= 3e-7 * Foundation.exp(v))
            #expect(abs(t[i] - Foundation.tanh(v)) <= 3e-7)
            #expect(abs(s[i] - 1 / (1 + Foundation.exp(-v))) <= 3e-7)
        }
        #expect(Tensor([0]).tanh().scalars == [0])
        let saturated = Tensor([-200, 200]).sigmoid().scalars
        #expect(saturated[0] >= 0 && saturated[0] < 1e-30 && saturated[1] == 1)
    }

    @Test func reductionsAndArgmax() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        #expect(try a.sum(alongAxis: 0).scalars == [5, 7, 9])
        #expect(try a.sum(alongAxis: 1).scalars == [9, 12])
        #expect(try a.max(alongAxis: 1).scalars == [5, 6])
        #expect(try a.argmax(alongAxis: 1).scalars == [1, 2])
        #expect(try a.softmax().sum(alongAxis: 1).isAlmostEqual(to: Tensor([1, 1])))
    }

    /// Softmax of values far from 0 (attention fills hidden steps with −1e9): equal values share the
    /// mass, and log-softmax keeps the small differences. Computed as x − (m + log Σ), a row of four
    /// −1e9 came out as 1 each.
    @Test func softmaxOfLargeMagnitudes() throws {
        let rows = try Tensor(shape: [3, 4], scalars: [-1e9, -1e9, -1e9, -1e9, 1e9, 1e9, 1e9, 1e9, 3e8, 3e8, -1e9, 3e8])
        #expect(try rows.softmax().isAlmostEqual(to: Tensor(shape: [3, 4], scalars: [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25,
                                                                                      1 / 3, 1 / 3, 0, 1 / 3])))
        let log2: Float = 0.6931472
        let pair = try Tensor(shape: [1, 2], scalars: [-1e9, -1e9]).logSoftmax()
        #expect(try pair.isAlmostEqual(to: Tensor(shape: [1, 2], scalars: [-log2, -log2])))
    }

    @Test func copyOnWrite() throws {
        let a = Tensor([1, 2, 3])
        var b = a
        try b.withUnsafeMutableBufferPointer { $0[0] = 9 }
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [9, 2, 3])
    }

    @Test func seededRandomIsReproducible() {
        var g1 = SeededGenerator(seed: 7), g2 = SeededGenerator(seed: 7)
        #expect(Tensor.randomNormal([10], generator: &g1).scalars == Tensor.randomNormal([10], generator: &g2).scalars)
        var g3 = SeededGenerator(seed: 1)
        let t = Tensor.randomTruncatedNormal([1000], generator: &g3)
        #expect(t.scalars.allSatisfy { abs($0) <= 2 })
    }

    @Test func initializers() throws {
        var g = SeededGenerator(seed: 3)
        let q = Initializer.orthogonal().make([6, 4], generator: &g)
        let qtq = try q.matmul(q, transposingSelf: true)
        var eye = Tensor.zeros([4, 4])
        try eye.withUnsafeMutableBufferPointer { for i in 0..<4 { $0[i * 5] = 1 } }
        #expect(qtq.isAlmostEqual(to: eye, absoluteTolerance: 1e-5))
        let wide = Initializer.orthogonal().make([4, 16], generator: &g)
        #expect(try wide.matmul(wide, transposingOther: true).isAlmostEqual(to: eye, absoluteTolerance: 1e-5))
        let glorot = Initializer.glorotUniform.make([30, 50], generator: &g)
        let limit = Float((6.0 / 80.0).squareRoot())
        #expect(glorot.scalars.allSatisfy { abs($0) <= limit })
        #expect(glorot.scalars.contains { abs($0) > limit * 0.9 })
    }
}

import Foundation

@Suite("Per-step weight products")
struct StepMatrixTests {
    @Test(arguments: [(1, 64, 256), (6, 64, 256), (7, 5, 20), (16, 37, 70), (13, 33, 15)])
    func packedProductsMatchMatmul(_ shape: (Int, Int, Int)) throws {
        let (m, k, n) = shape
        let a = random([m, k], seed: 60), w = random([k, n], seed: 61), start = random([m, n], seed: 62)
        // Even and odd timesteps (few-row products read W's rows in opposite orders).
        for t in 0..<2 {
            var c = start
            let step = StepMatrix(w, transposed: false, rows: m)
            try c.withUnsafeMutableBufferPointer { step.multiply(a.base, rows: m, into: $0.baseAddress!, accumulate: true, step: t) }
            #expect(c.isAlmostEqual(to: try start + a.matmul(w), absoluteTolerance: 1e-5))
            let wt = try w.transposed()
            var d = start
            let stepT = StepMatrix(wt, transposed: true, rows: m)
            try d.withUnsafeMutableBufferPointer { stepT.multiply(a.base, rows: m, into: $0.baseAddress!, accumulate: false, step: t) }
            #expect(d.isAlmostEqual(to: try a.matmul(w), absoluteTolerance: 1e-5))
        }
    }
}

@Suite("OpenBLAS kernels")
struct BLASKernelTests {
    /// On a CPU with AVX2 and FMA, GEMM must not run OpenBLAS's SSE3 fallback kernels (what OpenBLAS
    /// 0.3.21 picks for CPU models it does not know).
    @Test func avxCPUsGetAVXKernels() throws {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        guard flags.contains("avx2"), flags.contains("fma"), ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return }
        _ = try Tensor.ones([4, 4]).matmul(Tensor.ones([4, 4]))
        #expect(!["Prescott", "Core2", "Nehalem", "Sandybridge"].contains(blasKernelName), "OpenBLAS runs \(blasKernelName) kernels")
    }

    /// NaN stays NaN through relu, maximum, minimum and clipping, as Keras's ops keep it, on either side
    /// of a binary op and for a broadcast operand; other elements are as before.
    @Test func nanPropagatesThroughReluMaximumAndMinimum() throws {
        let x = try Tensor(shape: [5], scalars: [.nan, -1, 0, 2, .nan])
        let y = try Tensor(shape: [5], scalars: [1, .nan, -3, 1, .nan])
        func same(_ a: Tensor, _ expected: [Float]) throws -> Bool {
            zip(try a.hostScalars(), expected).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 }
        }
        #expect(try same(x.relu(), [.nan, 0, 0, 2, .nan]))
        #expect(try same(x.maximum(y), [.nan, .nan, 0, 2, .nan]))
        #expect(try same(x.minimum(y), [.nan, .nan, -3, 1, .nan]))
        #expect(try same(x.maximum(Tensor(0.5)), [.nan, 0.5, 0.5, 2, .nan]))
        #expect(try same(Tensor(0.5).maximum(x), [.nan, 0.5, 0.5, 2, .nan]))
        #expect(try same(x.clipped(min: -0.5, max: 1), [.nan, -0.5, 0, 1, .nan]))
    }
}
