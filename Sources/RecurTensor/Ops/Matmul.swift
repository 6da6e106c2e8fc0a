import CBLAS
import CRecurKernels

/// C = op(A)·op(B) for row-major matrices through OpenBLAS `cblas_sgemm`, accumulating into C when `beta` is 1.
/// Leading dimensions default to packed storage; pass them to work on sub-blocks (column ranges).
/// Products of at most 4 rows run on `recur_gemm_few_rows`, which reads B's rows last to first when
/// `descending` (a time loop alternates it, see there); Aᵀ·B of at least 8 × 16 on
/// `recur_gemm_transposed_a` where the CPU has it (weight gradients: BLAS packs both operands first).
func gemm(_ a: UnsafePointer<Float>, transposeA: Bool, _ b: UnsafePointer<Float>, transposeB: Bool,
          _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, beta: Float = 0,
          lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil, descending: Bool = false) {
    if m == 0 || n == 0 { return }
    BLASSetup.ready
    if m <= 4, !transposeA, !transposeB, (ldb ?? n) == n, (ldc ?? n) == n, beta == 0 || beta == 1 {
        recur_gemm_few_rows(a, lda ?? k, b, c, m, n, k, beta == 1 ? 1 : 0, descending ? 1 : 0)
        return
    }
    if transposeA, !transposeB, m >= 8, n >= 16, beta == 0 || beta == 1, transposedKernelAvailable {
        recur_gemm_transposed_a(a, lda ?? m, b, ldb ?? n, c, ldc ?? n, m, n, k, beta == 1 ? 1 : 0)
        return
    }
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(lda ?? (transposeA ? m : k)), b, Int32(ldb ?? (transposeB ? k : n)),
                beta, c, Int32(ldc ?? n))
}

private let transposedKernelAvailable = recur_gemm_available() != 0

/// C (m, n) = Σₖ of `product`'s terms, or C += it with `accumulate`, for a product that is a sum over
/// rows k of its operands (Aᵀ·B): the rows are split into one contiguous range a thread, each thread
/// writes its range's product (`product(rows, into:, accumulate:)`, which adds to what it is given when
/// told to) into a C of its own, and those are added up in a fixed order, so the sums do not depend on
/// thread timing. Every thread reads whole rows of the operands, contiguous in memory, where a split by
/// columns of C would read every row in pieces (measured for an LSTM's dU, 64 × 256 over 1,792 rows:
/// about a fifth faster). Products under about two million multiply-adds stay on the calling thread.
func parallelSumOverRows(m: Int, n: Int, k: Int, into c: UnsafeMutablePointer<Float>, accumulate: Bool,
                         _ product: (_ rows: Range<Int>, _ into: UnsafeMutablePointer<Float>, _ accumulate: Bool) -> Void) {
    parallelSumsOverRows(sizes: [m * n], work: m * n * k, k: k, into: [c], accumulate: accumulate) { rows, targets, accumulate in
        product(rows, targets[0], accumulate)
    }
}

/// `parallelSumOverRows` for several sums over the same rows at once (`sizes` scalars each, `work` the
/// multiply-adds of all), so that each thread reads its rows once for all of them.
func parallelSumsOverRows(sizes: [Int], work: Int, k: Int, into results: [UnsafeMutablePointer<Float>], accumulate: Bool,
                          _ product: (_ rows: Range<Int>, _ into: [UnsafeMutablePointer<Float>], _ accumulate: Bool) -> Void) {
    guard k > 0 else {
        if !accumulate { for (result, size) in zip(results, sizes) { result.update(repeating: 0, count: size) } }
        return
    }
    let parts = work < 1 << 21 ? [0..<k] : splitRanges(k, minimum: 256)
    let total = sizes.reduce(0, +)
    let offsets = sizes.indices.map { sizes[..<$0].reduce(0, +) }
    let partial = parts.count > 1 ? Tensor(uninitializedShape: [parts.count - 1, total]) : nil
    func targets(_ part: Int) -> [UnsafeMutablePointer<Float>] {
        part == 0 ? results : offsets.map { partial!.base + (part - 1) * total + $0 }
    }
    parallelParts(parts) { part, rows in product(rows, targets(part), part == 0 && accumulate) }
    for p in 1..<parts.count {
        for (target, (source, size)) in zip(results, zip(targets(p), sizes)) { addInPlace(source, into: target, size) }
    }
}

/// `gemm` split across threads: by rows of C when it has many, else by columns. Products under about
/// two million multiply-adds run on the calling thread, where a thread hand-off would cost more.
/// Aᵀ·B (weight gradients, a sum over the rows k) is split by ranges of k (`parallelSumOverRows`).
func parallelGemm(_ a: UnsafePointer<Float>, transposeA: Bool, _ b: UnsafePointer<Float>, transposeB: Bool,
                  _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, beta: Float = 0) {
    let lda = transposeA ? m : k, ldb = transposeB ? k : n
    if m * n * k < 1 << 21 || Parallelism.threads == 1 {
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, c, m: m, n: n, k: k, beta: beta)
    } else if transposeA, !transposeB, beta == 0 || beta == 1 {
        parallelSumOverRows(m: m, n: n, k: k, into: c, accumulate: beta == 1) { rows, target, accumulate in
            gemm(a + rows.lowerBound * lda, transposeA: true, b + rows.lowerBound * ldb, transposeB: false, target, m: m, n: n, k: rows.count,
                 beta: accumulate ? 1 : 0, lda: lda, ldb: ldb, ldc: n)
        }
    } else if m >= n {
        parallelRanges(m, minimum: 32) { rows in
            let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
            gemm(aStart, transposeA: transposeA, b, transposeB: transposeB, c + rows.lowerBound * n,
                 m: rows.count, n: n, k: k, beta: beta, lda: lda, ldb: ldb, ldc: n)
        }
    } else {
        parallelRanges(n, minimum: 32) { cols in
            let bStart = transposeB ? b + cols.lowerBound * ldb : b + cols.lowerBound
            gemm(a, transposeA: transposeA, bStart, transposeB: transposeB, c + cols.lowerBound,
                 m: m, n: cols.count, k: k, beta: beta, lda: lda, ldb: ldb, ldc: n)
        }
    }
}

extension Tensor {
    /// Matrix product.
    /// - (m, k) · (k, n) → (m, n)
    /// - (..., m, k) · (k, n) → (..., m, n): the leading dimensions are flattened into one GEMM.
    /// - (b, m, k) · (b, k, n) → (b, m, n): one GEMM per batch entry.
    /// `transposingA`/`transposingB` use the transpose of the last two axes of that operand.
    public func matmul(_ other: Tensor, transposingSelf: Bool = false, transposingOther: Bool = false) throws -> Tensor {
        let a = self, b = other
        guard a.rank >= 2, b.rank >= 2 else {
            throw RecurError.shapeMismatch(op: "matmul", expected: "operands of rank ≥ 2", actual: "\(describeShape(a.shape)) and \(describeShape(b.shape))")
        }
        let (am, ak) = transposingSelf ? (a.shape[a.rank - 1], a.shape[a.rank - 2]) : (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (bk, bn) = transposingOther ? (b.shape[b.rank - 1], b.shape[b.rank - 2]) : (b.shape[b.rank - 2], b.shape[b.rank - 1])
        guard ak == bk else {
            throw RecurError.shapeMismatch(op: "matmul", expected: "inner dimensions to agree: \(describeShape(a.shape))\(transposingSelf ? "ᵀ" : "") · \(describeShape(b.shape))\(transposingOther ? "ᵀ" : "")",
                                           actual: "\(ak) vs \(bk)")
        }
        let (backend, operands) = try Tensor.onCommonDevice([a, b], op: "matmul")
        let (a0, b0) = (operands[0].detached, operands[1].detached)
        var out: Tensor
        if b.rank == 2 && !(a.rank > 2 && transposingSelf) {
            let lead = Array(a.shape.dropLast(2))
            out = backend.matmul(a0, transposeA: transposingSelf, b0, transposeB: transposingOther, batch: lead.reduce(1, *), sharedB: true,
                                 m: am, n: bn, k: ak, shape: lead + [am, bn])
        } else {
            guard a.rank == 3, b.rank == 3, a.shape[0] == b.shape[0] else {
                throw RecurError.shapeMismatch(op: "matmul", expected: "batched operands (b, m, k) · (b, k, n)",
                                               actual: "\(describeShape(a.shape)) · \(describeShape(b.shape))")
            }
            out = backend.matmul(a0, transposeA: transposingSelf, b0, transposeB: transposingOther, batch: a.shape[0], sharedB: false,
                                 m: am, n: bn, k: ak, shape: [a.shape[0], am, bn])
        }
        if b.rank == 2 && (a.rank == 2 || !transposingSelf) {
            Tensor.traced(.matmul(transposeA: transposingSelf, transposeB: transposingOther), [a, b], [out])
        } else {
            Tensor.untraceable([a, b], "a batched matmul (\(describeShape(a.shape)) · \(describeShape(b.shape)))")
        }
        guard Tensor.isRecorded(a, b) else { return out }
        let (ad, bd) = (a.detached, b.detached)
        Tensor.record(&out, inputs: [a, b]) { g, need in
            // C = A·B ⇒ dA = dC·Bᵀ, dB = Aᵀ·dC (with the transposes folded in).
            var ga: Tensor? = nil, gb: Tensor? = nil
            if need[0] {
                ga = transposingSelf ? try bd.matmul(g, transposingSelf: transposingOther, transposingOther: true)
                                     : try g.matmul(bd, transposingOther: !transposingOther)
                if bd.rank == 2 && ad.rank > 2 && !transposingSelf { ga = try ga!.reshaped(to: ad.shape) }
            }
            if need[1] {
                if bd.rank == 2 && ad.rank > 2 {
                    let a2 = try ad.reshaped(to: [-1, ad.shape[ad.rank - 1]])
                    let g2 = try g.reshaped(to: [-1, bn])
                    gb = transposingOther ? try g2.matmul(a2, transposingSelf: true) : try a2.matmul(g2, transposingSelf: true)
                } else {
                    gb = transposingOther ? try g.matmul(ad, transposingSelf: true, transposingOther: transposingSelf)
                                          : try ad.matmul(g, transposingSelf: !transposingSelf)
                }
            }
            return [ga, gb]
        }
        return out
    }
}
