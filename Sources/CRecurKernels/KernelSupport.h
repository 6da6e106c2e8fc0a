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

/* y[k] = EXPR(u, v) for k < n with u = a[k·sa] and v = b[k·sb], each stride 0 (one broadcast value) or
   1: one loop per case, so that every case vectorises. */
#define BINARY_LOOPS(EXPR)                                                      \
    if (sa == 1 && sb == 1) { for (long k = 0; k < n; k++) { float u = a[k], v = b[k]; y[k] = (EXPR); } } \
    else if (sa == 1)       { float v = b[0]; for (long k = 0; k < n; k++) { float u = a[k]; y[k] = (EXPR); } } \
    else if (sb == 1)       { float u = a[0]; for (long k = 0; k < n; k++) { float v = b[k]; y[k] = (EXPR); } } \
    else                    { float u = a[0], v = b[0]; for (long k = 0; k < n; k++) { y[k] = (EXPR); } }

#endif
