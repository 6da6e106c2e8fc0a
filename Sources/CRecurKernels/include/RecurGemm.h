#ifndef RECUR_GEMM_H
#define RECUR_GEMM_H
/*
 * Recur's own single-precision GEMM for the per-timestep products of recurrent layers:
 *   C (m×n) = A (m×k) · B (k×n)   [or C += A·B]
 * B — a recurrent weight matrix used at every step — is packed once per sequence into panels of
 * 16 columns (zero-padded); A is read in place. BLAS would repack B at every step. The kernel needs
 * AVX2 and FMA (it uses AVX-512 where the CPU has it): callers check `recur_gemm_available()` and
 * otherwise use BLAS.
 */

/* 1 when this CPU runs the packed kernel (AVX2 + FMA), else 0. */
int recur_gemm_available(void);

/* Floats needed to pack a k×n matrix: k · 16 · ceil(n / 16). */
long recur_gemm_packed_size(long k, long n);

/* Packs B (k×n, row stride ldb) into `out`. */
void recur_gemm_pack(const float *b, long ldb, long k, long n, float *out);

/* Packs B = Sᵀ, where the stored matrix S is n×k (row stride lds). */
void recur_gemm_pack_transposed(const float *s, long lds, long k, long n, float *out);

/* C (row stride ldc) = A (row stride lda) · packed B, or C += A·B when `accumulate`; with `bias` (n
   floats, or NULL) added to every row, so that a projection x·W + b needs no pass that copies b first. */
void recur_gemm_packed(const float *a, long lda, const float *packed, float *c, long ldc,
                       long m, long n, long k, int accumulate, const float *bias);

/* C (m×n, row stride ldc) = Aᵀ·B, or C += Aᵀ·B when `accumulate`, for A (k×m, row stride lda) and
   B (k×n, row stride ldb) both read in place: a sum over k of the outer products of their rows, as
   the weight gradients of a whole sequence, Σ xᵀ·dz over time × batch rows (BLAS packs both operands
   first, and ran this shape at about 70 GFLOP/s a thread here). Needs `recur_gemm_available()`. */
void recur_gemm_transposed_a(const float *a, long lda, const float *b, long ldb, float *c, long ldc,
                             long m, long n, long k, int accumulate);

#endif
