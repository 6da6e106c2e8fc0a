#ifndef RECUR_KERNEL_SUPPORT_H
#define RECUR_KERNEL_SUPPORT_H
/* What Recur's C kernels share, private to CRecurKernels: the multiversioning and vectorising
   attributes, and the transcendental functions — inline and branch-free, so that the kernels' loops
   vectorise in each of their multiversioned builds. */
#include <math.h>

/* Gate kernels read and write several rows of one buffer; the rows never overlap, so the
   vectoriser may ignore possible aliasing. */
#if defined(__clang__)
#define VECTORIZE _Pragma("clang loop vectorize(assume_safety)")
#else
#define VECTORIZE
#endif

#if defined(__x86_64__) && defined(__clang__) && !defined(__APPLE__)
#define MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MULTIVERSION
#endif

/* Whether Recur's GEMM uses its AVX-512 tiles (RecurGemm.c): the CPU has AVX-512 and
   RECUR_GEMM_AVX512=0 does not ask for the AVX2 ones. */
int recur_gemm_avx512(void);

/* exp(x) for float32: Cody-Waite range reduction x = n*ln2 + r, |r| <= ln2/2, a degree-6
   polynomial for exp(r), and 2^n assembled in the exponent bits. Branch-free so loops vectorise.
   Relative error about 2e-7 over the clamped range. */
static inline float fast_expf(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.3f ? 88.3f : x);
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int i; float f; } scale;
    scale.i = ((int)n + 127) << 23;
    return p * scale.f;
}

static inline float fast_tanhf(float x) {
    /* tanh(x) = 2/(1 + exp(-2x)) - 1: one exp and one division, no branches; absolute error < 3e-7. */
    return 2.0f / (1.0f + fast_expf(-2.0f * x)) - 1.0f;
}

static inline float fast_sigmoidf(float x) {
    return 1.0f / (1.0f + fast_expf(-x));
}

/* The lanes of a 16-float AVX-512 vector that hold data when `left` floats are left from its first:
   all 16, the first `left`, or none (a mask for the last, partial vector of a row). */
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
static inline __mmask16 vector_lanes(long left) {
    return left >= 16 ? (__mmask16)0xFFFF : left > 0 ? (__mmask16)((1u << left) - 1u) : (__mmask16)0;
}
#endif

/* AVX-512 forms of exp and the gate activations, for kernels that dispatch on the CPU themselves
   (`recur_has_avx512`) where they pay: exp scales by 2^n with one vscalefps (which also saturates to
   0 and infinity, so no clamps), about a third fewer instructions than the portable fast_expf, with the
   same reduction and polynomial. */
#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#include <stdlib.h>
#define RECUR_AVX512 1
#define AVX512_TARGET __attribute__((target("avx512f")))

/* Whether the CPU has AVX-512 (the CPU model the compiler runtime fills in at load time, as
   target_clones' resolvers read it), unless RECUR_GATES_AVX512=0 asks for the portable kernels
   (scripts/kernel-check.sh checks both). Every thread computes the same answer, so the cache's race
   is benign. */
static inline int recur_has_avx512(void) {
    static int known = -1;
    if (known < 0) {
        const char *choice = getenv("RECUR_GATES_AVX512");
        known = __builtin_cpu_supports("avx512f") && !(choice && choice[0] == '0' && choice[1] == '\0') ? 1 : 0;
    }
    return known;
}

/* The vector forms' shared core, for W = 256 (AVX2) or 512 (AVX-512) bits: from x and n = round(x/ln2),
   p = e^r for r = x − n·ln2 (reduced with ln2 split in two, as fast_expf, and the same polynomial),
   so that e^x = p·2^n. */
#define VECTOR_OP(W, op) _mm##W##_##op
#define EXP_OF_REDUCED(W, x, n, p)                                                                \
    do {                                                                                          \
        __typeof__(x) r_ = VECTOR_OP(W, fnmadd_ps)(n, VECTOR_OP(W, set1_ps)(0.693359375f), x);    \
        r_ = VECTOR_OP(W, fnmadd_ps)(n, VECTOR_OP(W, set1_ps)(-2.12194440e-4f), r_);              \
        p = VECTOR_OP(W, set1_ps)(1.9875691500e-4f);                                              \
        p = VECTOR_OP(W, fmadd_ps)(p, r_, VECTOR_OP(W, set1_ps)(1.3981999507e-3f));               \
        p = VECTOR_OP(W, fmadd_ps)(p, r_, VECTOR_OP(W, set1_ps)(8.3334519073e-3f));               \
        p = VECTOR_OP(W, fmadd_ps)(p, r_, VECTOR_OP(W, set1_ps)(4.1665795894e-2f));               \
        p = VECTOR_OP(W, fmadd_ps)(p, r_, VECTOR_OP(W, set1_ps)(1.6666665459e-1f));               \
        p = VECTOR_OP(W, fmadd_ps)(p, r_, VECTOR_OP(W, set1_ps)(5.0000001201e-1f));               \
        p = VECTOR_OP(W, fmadd_ps)(p, VECTOR_OP(W, mul_ps)(r_, r_),                               \
                                   VECTOR_OP(W, add_ps)(r_, VECTOR_OP(W, set1_ps)(1.0f)));        \
    } while (0)

AVX512_TARGET static inline __m512 exp_avx512(__m512 x) {
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 p;
    EXP_OF_REDUCED(512, x, n, p);
    return _mm512_scalef_ps(p, n);
}

/* 1/(1 + e^-x) */
AVX512_TARGET static inline __m512 sigmoid_avx512(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

/* 2/(1 + e^-2x) - 1 */
AVX512_TARGET static inline __m512 tanh_avx512(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
    __m512 e = exp_avx512(_mm512_mul_ps(_mm512_set1_ps(-2.0f), x));
    return _mm512_fmsub_ps(two, _mm512_div_ps(one, _mm512_add_ps(one, e)), one);
}

/* AVX2 forms of the same, for the kernels' AVX2 paths (CPUs without AVX-512, such as AMD's Zen 3):
   2^n is assembled in the exponent bits, so x is clamped to [-87, 88.3] first, as in fast_expf. */
#define AVX2_TARGET __attribute__((target("avx2,fma")))

AVX2_TARGET static inline __m256 exp_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 p;
    EXP_OF_REDUCED(256, x, n, p);
    __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
}

/* 1/(1 + e^-x) */
AVX2_TARGET static inline __m256 sigmoid_avx2(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

/* 2/(1 + e^-2x) - 1 */
AVX2_TARGET static inline __m256 tanh_avx2(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
    __m256 e = exp_avx2(_mm256_mul_ps(_mm256_set1_ps(-2.0f), x));
    return _mm256_fmsub_ps(two, _mm256_div_ps(one, _mm256_add_ps(one, e)), one);
}

/* The lanes of an 8-float AVX2 vector that hold data when `left` floats are left from its first, as a
   mask for maskload/maskstore (all 8, the first `left`, or none). */
AVX2_TARGET static inline __m256i vector_lanes_avx2(long left) {
    const int count = left > 8 ? 8 : left < 0 ? 0 : (int)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif


/* y[k] = EXPR(u, v) for k < n with u = a[k·sa] and v = b[k·sb], each stride 0 (one broadcast value) or
   1: one loop per case, so that every case vectorises. */
#define BINARY_LOOPS(EXPR)                                                      \
    if (sa == 1 && sb == 1) { for (long k = 0; k < n; k++) { float u = a[k], v = b[k]; y[k] = (EXPR); } } \
    else if (sa == 1)       { float v = b[0]; for (long k = 0; k < n; k++) { float u = a[k]; y[k] = (EXPR); } } \
    else if (sb == 1)       { float u = a[0]; for (long k = 0; k < n; k++) { float v = b[k]; y[k] = (EXPR); } } \
    else                    { float u = a[0], v = b[0]; for (long k = 0; k < n; k++) { y[k] = (EXPR); } }

#endif
