import CBLAS
import CRecurKernels
import Foundation

/// Keras's weight initializers, by the names Keras uses in configs.
public enum Initializer: Sendable, Equatable {
    case zeros
    case ones
    /// U(−limit, limit) with limit = √(6 / (fanIn + fanOut)).
    case glorotUniform
    /// A (semi-)orthogonal matrix from the QR decomposition of a normal matrix, times `gain`.
    case orthogonal(gain: Float = 1)
    /// U(minval, maxval); Keras's "uniform" is U(−0.05, 0.05).
    case uniform(min: Float = -0.05, max: Float = 0.05)
    case constant(Float)

    /// Draws a tensor of `shape`. Fans follow Keras: for rank ≥ 2 the receptive field is the product
    /// of all but the last two dimensions, fanIn = shape[-2]·field, fanOut = shape[-1]·field.
    public func make(_ shape: [Int], generator: inout SeededGenerator) -> Tensor {
        switch self {
        case .zeros: return Tensor.zeros(shape)
        case .ones: return Tensor.ones(shape)
        case .constant(let v): return Tensor(repeating: v, shape: shape)
        case let .uniform(low, high): return Tensor.randomUniform(shape, low: low, high: high, generator: &generator)
        case .glorotUniform:
            let (fanIn, fanOut) = Initializer.fans(shape)
            let limit = Float((6.0 / Double(Swift.max(1, fanIn + fanOut))).squareRoot())
            return Tensor.randomUniform(shape, low: -limit, high: limit, generator: &generator)
        case .orthogonal(let gain):
            return Initializer.orthogonalMatrix(shape, gain: gain, generator: &generator)
        }
    }

    static func fans(_ shape: [Int]) -> (Int, Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        default:
            let field = shape.dropLast(2).reduce(1, *)
            return (shape[shape.count - 2] * field, shape[shape.count - 1] * field)
        }
    }

    /// Keras's orthogonal initializer: flatten to (rows = Π shape[:-1], cols = shape[-1]), take a normal
    /// matrix A of shape (max, min), factor A = QR (LAPACK `sgeqrf`/`sorgqr` from OpenBLAS, O(max·min²)),
    /// flip each column of Q by the sign of R's diagonal, transpose when rows < cols, times `gain`.
    static func orthogonalMatrix(_ shape: [Int], gain: Float, generator: inout SeededGenerator) -> Tensor {
        guard shape.count >= 2 else { return Tensor.randomNormal(shape, generator: &generator) }
        let cols = shape[shape.count - 1], rows = shape.dropLast().reduce(1, *)
        guard rows > 0, cols > 0 else { return Tensor.zeros(shape) }
        let (tall, short) = (Swift.max(rows, cols), Swift.min(rows, cols))
        // A is column-major (tall × short): column j at j·tall, the layout LAPACK expects.
        var a = [Float](repeating: 0, count: tall * short)
        for i in a.indices { a[i] = generator.nextNormal() }
        // The factorisation runs with OpenBLAS's thread count as it is (one unless `setBLASThreads`
        // says more): changing it here, while other threads may be inside OpenBLAS, deadlocks OpenBLAS
        // 0.3.21. The CLI gives model building every core and training one per batch thread.
        BLASSetup.ready
        let signs: [Float]
        if short >= 256, tall >= 3 * short, let viaCholesky = choleskyQ(&a, tall: tall, short: short) {
            signs = viaCholesky
        } else {
            signs = householderQ(&a, tall: tall, short: short)
        }
        let t = Tensor(uninitializedShape: shape)
        a.withUnsafeBufferPointer { q in
            let out = t.base
            if rows >= cols {
                for r in 0..<rows { for c in 0..<cols { out[r * cols + c] = gain * signs[c] * q[c * tall + r] } }
            } else {
                for r in 0..<rows { let s = gain * signs[r]; for c in 0..<cols { out[r * cols + c] = s * q[r * tall + c] } }
            }
        }
        return t
    }

    /// Q of A = QR in place by Householder reflections (LAPACK `sgeqrf` + `sorgqr`); returns the signs
    /// of R's diagonal.
    private static func householderQ(_ a: inout [Float], tall: Int, short: Int) -> [Float] {
        var m = Int32(tall), n = Int32(short), lda = Int32(tall), info: Int32 = 0
        var tau = [Float](repeating: 0, count: short)
        var query: Float = 0, lwork: Int32 = -1
        sgeqrf_(&m, &n, &a, &lda, &tau, &query, &lwork, &info)
        lwork = Int32(Swift.max(Int(query), short))
        var work = [Float](repeating: 0, count: Int(lwork))
        sgeqrf_(&m, &n, &a, &lda, &tau, &work, &lwork, &info)
        precondition(info == 0, "sgeqrf failed (info \(info))")
        let signs = (0..<short).map { a[$0 * tall + $0] < 0 ? Float(-1) : 1 }
        lwork = -1
        sorgqr_(&m, &n, &n, &a, &lda, &tau, &query, &lwork, &info)
        lwork = Int32(Swift.max(Int(query), short))
        if Int(lwork) > work.count { work = [Float](repeating: 0, count: Int(lwork)) }
        sorgqr_(&m, &n, &n, &a, &lda, &tau, &work, &lwork, &info)
        precondition(info == 0, "sorgqr failed (info \(info))")
        return signs
    }

    /// Q of A = QR in place by Cholesky QR: AᵀA = RᵀR (`ssyrk`, `spotrf`), Q = A·R⁻¹ (`strsm`), about
    /// three times faster than Householder. Its loss of orthogonality is about κ(A)²·ε; a Gaussian
    /// matrix three or more times taller than wide has κ below 4, so the callers use it only there.
    /// R's diagonal is positive, so the signs are all 1. Nil (and A untouched) when the Cholesky
    /// factorisation fails.
    private static func choleskyQ(_ a: inout [Float], tall: Int, short: Int) -> [Float]? {
        var gram = [Float](repeating: 0, count: short * short)
        a.withUnsafeBufferPointer { a in
            cblas_ssyrk(CblasColMajor, CblasUpper, CblasTrans, Int32(short), Int32(tall), 1, a.baseAddress, Int32(tall), 0, &gram, Int32(short))
        }
        var n = Int32(short), info: Int32 = 0
        var upper: CChar = 85  // "U"
        spotrf_(&upper, &n, &gram, &n, &info)
        guard info == 0 else { return nil }
        gram.withUnsafeBufferPointer { r in
            cblas_strsm(CblasColMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, Int32(tall), Int32(short), 1,
                        r.baseAddress, Int32(short), &a, Int32(tall))
        }
        return Array(repeating: 1, count: short)
    }
}
