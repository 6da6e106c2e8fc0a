import CBLAS
import Foundation
import CRecurKernels

/// A weight matrix multiplied at every timestep of a sequence, prepared once: packed for Recur's own
/// GEMM kernel when the CPU has AVX2 and FMA (BLAS would repack it at every step), else used through
/// `gemm` (which also takes products of at most 4 rows, where packing does not pay).
/// Computes C (m×n) = A (m×k) · W, or A · Wᵀ when `transposed` (W stored n×k).
struct StepMatrix {
    static let kernelAvailable = recur_gemm_available() != 0 && ProcessInfo.processInfo.environment["RECUR_STEP_KERNEL"] != "0"

    let k: Int
    let n: Int
    private let weight: Tensor
    private let transposed: Bool
    private let packed: Tensor?

    /// `rows`: the most rows of A per call (a block of batch rows, or the steps of a sequence).
    init(_ weight: Tensor, transposed: Bool, rows: Int) {
        self.weight = weight
        self.transposed = transposed
        (k, n) = transposed ? (weight.shape[1], weight.shape[0]) : (weight.shape[0], weight.shape[1])
        guard StepMatrix.kernelAvailable, rows > 4 else { packed = nil; return }
        let buffer = Tensor(uninitializedShape: [recur_gemm_packed_size(k, n)])
        if transposed {
            recur_gemm_pack_transposed(weight.base, k, k, n, buffer.base)
        } else {
            recur_gemm_pack(weight.base, n, k, n, buffer.base)
        }
        packed = buffer
    }

    /// The scalars it holds: W and its packed copy.
    var scalarCount: Int { weight.count + (packed?.count ?? 0) }

    /// C = A·W (or C += A·W with `accumulate`) for `rows` rows of A, `rowStride` apart (packed when
    /// nil), and packed rows of C, plus the row `bias` (n) when given. `step` is the timestep: unpacked
    /// products of odd steps read W's rows last to first, so that a W larger than L1 is partly still
    /// there from the step before.
    func multiply(_ a: UnsafePointer<Float>, rows: Int, rowStride: Int? = nil, into c: UnsafeMutablePointer<Float>, accumulate: Bool,
                  step: Int, bias: UnsafePointer<Float>? = nil) {
        if let packed {
            recur_gemm_packed(a, rowStride ?? k, packed.base, c, n, rows, n, k, accumulate ? 1 : 0, bias)
            return
        }
        if let bias {
            for r in 0..<rows {
                if accumulate { addInPlace(bias, into: c + r * n, n) } else { (c + r * n).update(from: bias, count: n) }
            }
        }
        gemm(a, transposeA: false, weight.base, transposeB: transposed, c, m: rows, n: n, k: k, beta: accumulate || bias != nil ? 1 : 0,
             lda: rowStride ?? k, descending: step % 2 == 1)
    }
}
