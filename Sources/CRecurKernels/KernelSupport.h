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

/* The gate activations of the recurrent kernels (LSTM and GRU gates, the cell's tanh):
 *   tanh(x) ≈ x·P(x²)/Q(x²) for x clamped to [−9, 9] (tanh(9) rounds to 1 in float32),
 *   σ(x) = ½ + ½·tanh(x/2),
 * P and Q of degree 4, fitted by scripts/fit_gate_tanh.py. Absolute error at most 3.6e-7 (tanh) and
 * 1.8e-7 (σ), as fast_tanhf's; nine FMAs in two short chains and one division, where the exp forms take
 * about eighteen dependent operations. In the LSTM step kernel, whose gates follow the products while they
 * wait on these chains, the gates took about a third less time (a 7–10% shorter step). σ's error is
 * absolute only: e^-17 comes out as 0 or 1e-7, so an activation whose own value is read (a sigmoid output
 * under a log loss) keeps fast_sigmoidf; a gate's value only scales another. */
#define GATE_P0 9.999998808e-01f
#define GATE_P1 1.337320060e-01f
#define GATE_P2 3.486584639e-03f
#define GATE_P3 2.047188173e-05f
#define GATE_P4 1.318430254e-08f
#define GATE_Q1 4.670649767e-01f
#define GATE_Q2 2.584199049e-02f
#define GATE_Q3 3.271390160e-04f
#define GATE_Q4 7.702694234e-07f
#define GATE_CLAMP 9.0f

static inline float gate_tanhf(float x) {
    x = x < -GATE_CLAMP ? -GATE_CLAMP : (x > GATE_CLAMP ? GATE_CLAMP : x);
    const float y = x * x;
    const float p = (((GATE_P4 * y + GATE_P3) * y + GATE_P2) * y + GATE_P1) * y + GATE_P0;
    const float q = (((GATE_Q4 * y + GATE_Q3) * y + GATE_Q2) * y + GATE_Q1) * y + 1.0f;
    return x * p / q;
}

static inline float gate_sigmoidf(float x) {
    return 0.5f * gate_tanhf(0.5f * x) + 0.5f;
}

/* The lanes of a 16-float AVX-512 vector that hold data when `left` floats are left from its first:
   all 16, the first `left`, or none (a mask for the last, partial vector of a row). */
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
static inline __mmask16 vector_lanes(long left) {
    return left >= 16 ? (__mmask16)0xFFFF : left > 0 ? (__mmask16)((1u << left) - 1u) : (__mmask16)0;
}
#endif

/* AVX-512 and AVX2 forms of the gate activations, for kernels that dispatch on the CPU themselves
   (`recur_has_avx512`), with gate_tanhf's clamp, coefficients and order of operations. */
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

/* tanh(x) ≈ x·P(x²)/Q(x²) for W = 256 (AVX2) or 512 (AVX-512) bits, as gate_tanhf. The clamp's
   bounds come first: min and max return their second operand when either is NaN, so a NaN stays NaN. */
#define VECTOR_OP(W, op) _mm##W##_##op
#define GATE_TANH(W, x)                                                                           \
    __typeof__(x) c_ = VECTOR_OP(W, min_ps)(VECTOR_OP(W, set1_ps)(GATE_CLAMP),                    \
                                            VECTOR_OP(W, max_ps)(VECTOR_OP(W, set1_ps)(-GATE_CLAMP), x)); \
    const __typeof__(x) y_ = VECTOR_OP(W, mul_ps)(c_, c_);                                        \
    __typeof__(x) p_ = VECTOR_OP(W, fmadd_ps)(VECTOR_OP(W, set1_ps)(GATE_P4), y_, VECTOR_OP(W, set1_ps)(GATE_P3)); \
    __typeof__(x) q_ = VECTOR_OP(W, fmadd_ps)(VECTOR_OP(W, set1_ps)(GATE_Q4), y_, VECTOR_OP(W, set1_ps)(GATE_Q3)); \
    p_ = VECTOR_OP(W, fmadd_ps)(p_, y_, VECTOR_OP(W, set1_ps)(GATE_P2));                          \
    q_ = VECTOR_OP(W, fmadd_ps)(q_, y_, VECTOR_OP(W, set1_ps)(GATE_Q2));                          \
    p_ = VECTOR_OP(W, fmadd_ps)(p_, y_, VECTOR_OP(W, set1_ps)(GATE_P1));                          \
    q_ = VECTOR_OP(W, fmadd_ps)(q_, y_, VECTOR_OP(W, set1_ps)(GATE_Q1));                          \
    p_ = VECTOR_OP(W, fmadd_ps)(p_, y_, VECTOR_OP(W, set1_ps)(GATE_P0));                          \
    q_ = VECTOR_OP(W, fmadd_ps)(q_, y_, VECTOR_OP(W, set1_ps)(1.0f));                             \
    return VECTOR_OP(W, div_ps)(VECTOR_OP(W, mul_ps)(c_, p_), q_)

/* ½·tanh(x/2) + ½ */
#define GATE_SIGMOID(W, tanh, x)                                                                  \
    const __typeof__(x) half_ = VECTOR_OP(W, set1_ps)(0.5f);                                      \
    return VECTOR_OP(W, fmadd_ps)(half_, tanh(VECTOR_OP(W, mul_ps)(half_, x)), half_)

AVX512_TARGET static inline __m512 gate_tanh_avx512(__m512 x) { GATE_TANH(512, x); }
AVX512_TARGET static inline __m512 gate_sigmoid_avx512(__m512 x) { GATE_SIGMOID(512, gate_tanh_avx512, x); }

#define AVX2_TARGET __attribute__((target("avx2,fma")))

AVX2_TARGET static inline __m256 gate_tanh_avx2(__m256 x) { GATE_TANH(256, x); }
AVX2_TARGET static inline __m256 gate_sigmoid_avx2(__m256 x) { GATE_SIGMOID(256, gate_tanh_avx2, x); }

/* The lanes of an 8-float AVX2 vector that hold data when `left` floats are left from its first, as a
   mask for maskload/maskstore (all 8, the first `left`, or none). */
AVX2_TARGET static inline __m256i vector_lanes_avx2(long left) {
    const int count = left > 8 ? 8 : left < 0 ? 0 : (int)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif


/* The larger and the smaller of u and v, NaN when either is NaN, as Keras's maximum, minimum and relu. */
#define NAN_KEEPING_MAX(u, v) ((u) > (v) || (u) != (u) ? (u) : (v))
#define NAN_KEEPING_MIN(u, v) ((u) < (v) || (u) != (u) ? (u) : (v))

/* y[k] = EXPR(u, v) for k < n with u = a[k·sa] and v = b[k·sb], each stride 0 (one broadcast value) or
   1: one loop per case, so that every case vectorises. */
#define BINARY_LOOPS(EXPR)                                                      \
    if (sa == 1 && sb == 1) { for (long k = 0; k < n; k++) { float u = a[k], v = b[k]; y[k] = (EXPR); } } \
    else if (sa == 1)       { float v = b[0]; for (long k = 0; k < n; k++) { float u = a[k]; y[k] = (EXPR); } } \
    else if (sb == 1)       { float u = a[0]; for (long k = 0; k < n; k++) { float v = b[k]; y[k] = (EXPR); } } \
    else                    { float u = a[0], v = b[0]; for (long k = 0; k < n; k++) { y[k] = (EXPR); } }

#endif
