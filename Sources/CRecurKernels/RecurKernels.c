#include "RecurKernels.h"
#include <math.h>
#include <string.h>

#include "KernelSupport.h"

MULTIVERSION
void recur_binary(int op, const float *a, long sa, const float *b, long sb, float *y, long n) {
    switch (op) {
    case RECUR_ADD: BINARY_LOOPS(u + v); break;
    case RECUR_SUB: BINARY_LOOPS(u - v); break;
    case RECUR_MUL: BINARY_LOOPS(u * v); break;
    case RECUR_DIV: BINARY_LOOPS(u / v); break;
    case RECUR_MAX: BINARY_LOOPS(NAN_KEEPING_MAX(u, v)); break;
    case RECUR_MIN: BINARY_LOOPS(NAN_KEEPING_MIN(u, v)); break;
    default: break;
    }
}

MULTIVERSION
void recur_exp(const float *x, float *y, long n) {
    for (long k = 0; k < n; k++) y[k] = fast_expf(x[k]);
}

void recur_log(const float *x, float *y, long n) {
    for (long k = 0; k < n; k++) y[k] = logf(x[k]);
}

MULTIVERSION
void recur_tanh(const float *x, float *y, long n) {
    for (long k = 0; k < n; k++) y[k] = fast_tanhf(x[k]);
}

MULTIVERSION
void recur_sigmoid(const float *x, float *y, long n) {
    for (long k = 0; k < n; k++) y[k] = fast_sigmoidf(x[k]);
}

MULTIVERSION
void recur_relu(const float *x, float *y, long n) {
    for (long k = 0; k < n; k++) y[k] = NAN_KEEPING_MAX(x[k], 0.0f);
}

MULTIVERSION
void recur_scale(const float *x, float alpha, float *y, long n) {
    for (long k = 0; k < n; k++) y[k] = alpha * x[k];
}

/* Pullbacks: d = g·∂; d may be g itself (the same elements), never a shifted overlap. */
MULTIVERSION
void recur_sigmoid_backward(const float *y, const float *g, float *d, long n) {
    VECTORIZE
    for (long k = 0; k < n; k++) d[k] = g[k] * y[k] * (1.0f - y[k]);
}

MULTIVERSION
void recur_tanh_backward(const float *y, const float *g, float *d, long n) {
    VECTORIZE
    for (long k = 0; k < n; k++) d[k] = g[k] * (1.0f - y[k] * y[k]);
}

MULTIVERSION
void recur_relu_backward(const float *x, const float *dy, float *dx, long n) {
    for (long k = 0; k < n; k++) dx[k] = x[k] > 0.0f ? dy[k] : 0.0f;
}

/* ROWS rows of C (at most 4) times a WIDTH-column block of B: the ROWS·WIDTH accumulators stay in
   registers over the whole k loop, so each B element is loaded once per call and C is read and written
   once, instead of once per k. `descending` reads B's rows last to first. */
#define FEW_ROWS_KERNEL(ROWS, WIDTH)                                                              \
static inline __attribute__((always_inline))                                                     \
void few_rows_##ROWS##x##WIDTH(const float *a, long lda, const float *b, float *c, long n, long k, int accumulate, \
                               int descending) {                                                 \
    float acc[ROWS][WIDTH];                                                                      \
    for (long i = 0; i < ROWS; i++) {                                                            \
        VECTORIZE                                                                                \
        for (long j = 0; j < WIDTH; j++) acc[i][j] = accumulate ? c[i * n + j] : 0.0f;           \
    }                                                                                            \
    for (long q = 0; q < k; q++) {                                                               \
        const long p = descending ? k - 1 - q : q;                                               \
        const float *bp = b + p * n;                                                             \
        for (long i = 0; i < ROWS; i++) {                                                        \
            const float aip = a[i * lda + p];                                                    \
            VECTORIZE                                                                            \
            for (long j = 0; j < WIDTH; j++) acc[i][j] += aip * bp[j];                           \
        }                                                                                        \
    }                                                                                            \
    for (long i = 0; i < ROWS; i++) {                                                            \
        VECTORIZE                                                                                \
        for (long j = 0; j < WIDTH; j++) c[i * n + j] = acc[i][j];                               \
    }                                                                                            \
}
FEW_ROWS_KERNEL(1, 256)
FEW_ROWS_KERNEL(2, 128)
FEW_ROWS_KERNEL(1, 64)
FEW_ROWS_KERNEL(2, 64)
FEW_ROWS_KERNEL(3, 64)
FEW_ROWS_KERNEL(4, 64)
FEW_ROWS_KERNEL(2, 32)
FEW_ROWS_KERNEL(3, 16)
FEW_ROWS_KERNEL(4, 16)
FEW_ROWS_KERNEL(1, 8)
FEW_ROWS_KERNEL(2, 8)
FEW_ROWS_KERNEL(3, 8)
FEW_ROWS_KERNEL(4, 8)

/* Columns j0..<j1 of `rows` rows, row by row, with C in memory (the columns past the last block). */
static inline __attribute__((always_inline))
void few_rows_columns(long rows, const float *a, long lda, const float *b, float *c, long n, long k, long j0, long j1,
                      int accumulate, int descending) {
    for (long i = 0; i < rows; i++) {
        float *ci = c + i * n;
        if (!accumulate) {
            for (long j = j0; j < j1; j++) ci[j] = 0.0f;
        }
        for (long q = 0; q < k; q++) {
            const long p = descending ? k - 1 - q : q;
            const float aip = a[i * lda + p];
            const float *bp = b + p * n;
            VECTORIZE
            for (long j = j0; j < j1; j++) ci[j] += aip * bp[j];
        }
    }
}

/* One block: `rows` rows times the `width` columns of B from bj, with the kernel of that shape (every
   width few_rows_widths gives has one; any other shape would take the columns one by one). */
static inline __attribute__((always_inline))
void few_rows_block(long rows, long width, const float *a, long lda, const float *bj, float *cj, long n, long k,
                    int accumulate, int descending) {
#define FEW_ROWS_CASE(ROWS, WIDTH) \
    if (rows == ROWS && width == WIDTH) { few_rows_##ROWS##x##WIDTH(a, lda, bj, cj, n, k, accumulate, descending); return; }
    FEW_ROWS_CASE(1, 256) FEW_ROWS_CASE(2, 128) FEW_ROWS_CASE(1, 64) FEW_ROWS_CASE(2, 64)
    FEW_ROWS_CASE(3, 64) FEW_ROWS_CASE(4, 64) FEW_ROWS_CASE(2, 32) FEW_ROWS_CASE(3, 16) FEW_ROWS_CASE(4, 16)
    FEW_ROWS_CASE(1, 8) FEW_ROWS_CASE(2, 8) FEW_ROWS_CASE(3, 8) FEW_ROWS_CASE(4, 8)
#undef FEW_ROWS_CASE
    few_rows_columns(rows, a, lda, bj, cj, n, k, 0, width, accumulate, descending);
}

/* The column block widths for `rows` rows, widest first, so that the accumulators stay in registers
   with room left for a's broadcasts and B's loads: 16 of AVX-512's 32 zmm; 6 to 8 of AVX2's 16 ymm
   (the same widths take 12 to 16 of NEON's 32 q registers). On a Zen 3 (AVX2) a 1 × 256 block spilled
   its accumulators to the stack and took 1.7 µs for k = 64 against 0.8 µs as four 1 × 64 blocks;
   3 × 32 blocks took 2.5 µs for n = 256, 3 × 16 ones 1.6 µs. */
static void few_rows_widths(long rows, long widths[3]) {
    static const long zmm[5] = {0, 256, 128, 64, 64}, ymm[5] = {0, 64, 32, 16, 16};
#if RECUR_AVX512
    const int wide = recur_has_avx512();
#else
    const int wide = 0;
#endif
    widths[0] = wide ? zmm[rows] : ymm[rows];
    widths[1] = widths[0] < 64 ? widths[0] : 64;
    widths[2] = 8;
}

MULTIVERSION
void recur_gemm_few_rows(const float *a, long lda, const float *b, float *c, long m, long n, long k, int accumulate,
                         int descending) {
    for (long i0 = 0; i0 < m; i0 += 4) {
        const long rows = m - i0 < 4 ? m - i0 : 4;
        const float *ai = a + i0 * lda;
        float *ci = c + i0 * n;
        /* n in blocks of the widest width, what is left in blocks of the next (a slice of a gate
           matrix's columns), then of 8; descending takes the blocks last to first as well. */
        long widths[3], counts[3], j0 = 0;
        few_rows_widths(rows, widths);
        for (int tier = 0; tier < 3; tier++) {
            counts[tier] = (n - j0) / widths[tier];
            j0 += counts[tier] * widths[tier];
        }
        const long blocks = counts[0] + counts[1] + counts[2];
        for (long q = 0; q < blocks; q++) {
            long block = descending ? blocks - 1 - q : q, start = 0, tier = 0;
            while (block >= counts[tier]) {
                start += counts[tier] * widths[tier];
                block -= counts[tier];
                tier++;
            }
            start += block * widths[tier];
            few_rows_block(rows, widths[tier], ai, lda, b + start, ci + start, n, k, accumulate, descending);
        }
        /* The last columns (n not a multiple of 8). */
        few_rows_columns(rows, ai, lda, b, ci, n, k, j0, n, accumulate, descending);
    }
}

MULTIVERSION
void recur_sum_rows(const float *x, long rows, long cols, long ld, float *out) {
    /* 64 columns at a time, their running sums in registers over all rows (a row-by-row
       `out += row` through recur_binary aliases its output with an input, which defeats the
       vectoriser). */
    long j0 = 0;
    for (; j0 + 64 <= cols; j0 += 64) {
        float acc[64];
        VECTORIZE
        for (long j = 0; j < 64; j++) acc[j] = 0.0f;
        for (long r = 0; r < rows; r++) {
            const float *row = x + r * ld + j0;
            VECTORIZE
            for (long j = 0; j < 64; j++) acc[j] += row[j];
        }
        VECTORIZE
        for (long j = 0; j < 64; j++) out[j0 + j] = acc[j];
    }
    if (j0 < cols) {
        for (long j = j0; j < cols; j++) out[j] = 0.0f;
        for (long r = 0; r < rows; r++) {
            const float *row = x + r * ld;
            for (long j = j0; j < cols; j++) out[j] += row[j];
        }
    }
}

double recur_sum(const float *x, long n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    long k = 0;
    for (; k + 4 <= n; k += 4) { s0 += x[k]; s1 += x[k + 1]; s2 += x[k + 2]; s3 += x[k + 3]; }
    for (; k < n; k++) s0 += x[k];
    return (s0 + s1) + (s2 + s3);
}

#if RECUR_AVX512
/* The same with AVX-512 activations, 16 units a vector, the last ones under a mask: four vectors at
   a time (a fixed count, unrolled), so that their activations' dependency chains overlap. A single
   sample's step has only four vectors of 64 units, and one at a time ran its chains one after another
   (158–174 → 141–148 ns a step for 64 units, alternated runs). */
#define GATE_VECTORS 4
AVX512_TARGET static void lstm_gates_forward_avx512(float *gates, const float *c_prev, float *c, float *tanh_c, float *h,
                                                    long batch, long units) {
    for (long b = 0; b < batch; b++) {
        float *gi = gates + b * 4 * units, *gf = gi + units, *gg = gf + units, *go = gg + units;
        const float *cp = c_prev + b * units;
        float *cb = c + b * units, *tb = tanh_c + b * units, *hb = h + b * units;
        for (long k0 = 0; k0 < units; k0 += GATE_VECTORS * 16) {
            /* A vector wholly past the row's end (no lanes) addresses the row's first: a pointer past the
               buffer must not even be formed, and its masked loads and stores touch nothing. */
            __mmask16 m[GATE_VECTORS];
            long at[GATE_VECTORS];
            __m512 i[GATE_VECTORS], f[GATE_VECTORS], g[GATE_VECTORS], o[GATE_VECTORS], cn[GATE_VECTORS], tc[GATE_VECTORS];
            for (int v = 0; v < GATE_VECTORS; v++) {
                m[v] = vector_lanes(units - (k0 + 16 * v));
                at[v] = m[v] ? k0 + 16 * v : 0;
                const long k = at[v];
                i[v] = gate_sigmoid_avx512(_mm512_maskz_loadu_ps(m[v], gi + k)); f[v] = gate_sigmoid_avx512(_mm512_maskz_loadu_ps(m[v], gf + k));
                g[v] = gate_tanh_avx512(_mm512_maskz_loadu_ps(m[v], gg + k)); o[v] = gate_sigmoid_avx512(_mm512_maskz_loadu_ps(m[v], go + k));
            }
            for (int v = 0; v < GATE_VECTORS; v++) {
                cn[v] = _mm512_fmadd_ps(f[v], _mm512_maskz_loadu_ps(m[v], cp + at[v]), _mm512_mul_ps(i[v], g[v]));
                tc[v] = gate_tanh_avx512(cn[v]);
            }
            for (int v = 0; v < GATE_VECTORS; v++) {
                const long k = at[v];
                _mm512_mask_storeu_ps(gi + k, m[v], i[v]); _mm512_mask_storeu_ps(gf + k, m[v], f[v]);
                _mm512_mask_storeu_ps(gg + k, m[v], g[v]); _mm512_mask_storeu_ps(go + k, m[v], o[v]);
                _mm512_mask_storeu_ps(cb + k, m[v], cn[v]); _mm512_mask_storeu_ps(tb + k, m[v], tc[v]);
                _mm512_mask_storeu_ps(hb + k, m[v], _mm512_mul_ps(o[v], tc[v]));
            }
        }
    }
}
#endif

MULTIVERSION
static void lstm_gates_forward_portable(float *gates, const float *c_prev, float *c, float *tanh_c, float *h,
                                        long batch, long units) {
    for (long b = 0; b < batch; b++) {
        float *gi = gates + b * 4 * units, *gf = gi + units, *gg = gf + units, *go = gg + units;
        const float *cp = c_prev + b * units;
        float *cb = c + b * units, *tb = tanh_c + b * units, *hb = h + b * units;
        VECTORIZE
        for (long k = 0; k < units; k++) {
            float i = gate_sigmoidf(gi[k]), f = gate_sigmoidf(gf[k]);
            float g = gate_tanhf(gg[k]), o = gate_sigmoidf(go[k]);
            float cn = f * cp[k] + i * g;
            float tc = gate_tanhf(cn);
            gi[k] = i; gf[k] = f; gg[k] = g; go[k] = o;
            cb[k] = cn; tb[k] = tc; hb[k] = o * tc;
        }
    }
}

void recur_lstm_gates_forward(float *gates, const float *c_prev, float *c, float *tanh_c, float *h,
                              long batch, long units) {
#if RECUR_AVX512
    if (recur_has_avx512()) { lstm_gates_forward_avx512(gates, c_prev, c, tanh_c, h, batch, units); return; }
#endif
    lstm_gates_forward_portable(gates, c_prev, c, tanh_c, h, batch, units);
}

MULTIVERSION
void recur_lstm_gates_backward(const float *gates, const float *c_prev, const float *tanh_c,
                               const float *dh, float *dc, float *dgates, long batch, long units) {
    for (long b = 0; b < batch; b++) {
        const float *gi = gates + b * 4 * units, *gf = gi + units, *gg = gf + units, *go = gg + units;
        const float *cp = c_prev + b * units, *tc = tanh_c + b * units, *dhb = dh + b * units;
        float *dcb = dc + b * units;
        float *di = dgates + b * 4 * units, *df = di + units, *dg = df + units, *dout = dg + units;
        VECTORIZE
        for (long k = 0; k < units; k++) {
            float i = gi[k], f = gf[k], g = gg[k], o = go[k], t = tc[k];
            float dct = dcb[k] + dhb[k] * o * (1.0f - t * t);
            dout[k] = dhb[k] * t * o * (1.0f - o);
            di[k] = dct * g * i * (1.0f - i);
            df[k] = dct * cp[k] * f * (1.0f - f);
            dg[k] = dct * i * (1.0f - g * g);
            dcb[k] = dct * f;
        }
    }
}

MULTIVERSION
void recur_gru_gates_forward(const float *xproj, const float *hproj, const float *h_prev, float *act, float *h,
                             long batch, long units) {
    for (long b = 0; b < batch; b++) {
        const float *xz = xproj + b * 3 * units, *xr = xz + units, *xh = xr + units;
        const float *hz = hproj + b * 3 * units, *hr = hz + units, *hn = hr + units;
        float *az = act + b * 3 * units, *ar = az + units, *ah = ar + units;
        const float *hp = h_prev + b * units;
        float *hb = h + b * units;
        VECTORIZE
        for (long k = 0; k < units; k++) {
            float z = gate_sigmoidf(xz[k] + hz[k]);
            float r = gate_sigmoidf(xr[k] + hr[k]);
            float c = gate_tanhf(xh[k] + r * hn[k]);
            az[k] = z; ar[k] = r; ah[k] = c;
            hb[k] = z * hp[k] + (1.0f - z) * c;
        }
    }
}

MULTIVERSION
void recur_gru_gates_backward(const float *act, const float *hproj, const float *h_prev, const float *dh,
                              float *dxproj, float *dhproj, float *dh_prev, long batch, long units) {
    for (long b = 0; b < batch; b++) {
        const float *az = act + b * 3 * units, *ar = az + units, *ah = ar + units;
        const float *hn = hproj + b * 3 * units + 2 * units;
        const float *hp = h_prev + b * units, *d = dh + b * units;
        float *dxz = dxproj + b * 3 * units, *dxr = dxz + units, *dxh = dxr + units;
        float *dhz = dhproj + b * 3 * units, *dhr = dhz + units, *dhn = dhr + units;
        float *dp = dh_prev + b * units;
        VECTORIZE
        for (long k = 0; k < units; k++) {
            float z = az[k], r = ar[k], c = ah[k];
            float dc = d[k] * (1.0f - z) * (1.0f - c * c);
            float dz = d[k] * (hp[k] - c) * z * (1.0f - z);
            float dr = dc * hn[k] * r * (1.0f - r);
            dxz[k] = dz; dxr[k] = dr; dxh[k] = dc;
            dhz[k] = dz; dhr[k] = dr; dhn[k] = dc * r;
            dp[k] = d[k] * z;
        }
    }
}

MULTIVERSION
void recur_gru_rb_gates(const float *xproj, const float *hzr, const float *h_prev, float *act, float *rh,
                        long batch, long units) {
    for (long b = 0; b < batch; b++) {
        const float *xz = xproj + b * 3 * units, *xr = xz + units;
        const float *hz = hzr + b * 2 * units, *hr = hz + units;
        const float *hp = h_prev + b * units;
        float *az = act + b * 3 * units, *ar = az + units, *rhb = rh + b * units;
        VECTORIZE
        for (long k = 0; k < units; k++) {
            float z = gate_sigmoidf(xz[k] + hz[k]), r = gate_sigmoidf(xr[k] + hr[k]);
            az[k] = z; ar[k] = r;
            rhb[k] = r * hp[k];
        }
    }
}

MULTIVERSION
void recur_gru_rb_output(const float *xproj, const float *cand, const float *h_prev, float *act, float *h,
                         long batch, long units) {
    for (long b = 0; b < batch; b++) {
        const float *xh = xproj + b * 3 * units + 2 * units, *cb = cand + b * units, *hp = h_prev + b * units;
        float *az = act + b * 3 * units, *ah = az + 2 * units, *hb = h + b * units;
        VECTORIZE
        for (long k = 0; k < units; k++) {
            float c = gate_tanhf(xh[k] + cb[k]), z = az[k];
            ah[k] = c;
            hb[k] = z * hp[k] + (1.0f - z) * c;
        }
    }
}

MULTIVERSION
void recur_gru_rb_output_backward(const float *act, const float *h_prev, const float *dh, float *dxproj,
                                  float *dcand, float *dh_prev, long batch, long units) {
    for (long b = 0; b < batch; b++) {
        const float *az = act + b * 3 * units, *ah = az + 2 * units, *hp = h_prev + b * units, *d = dh + b * units;
        float *dxz = dxproj + b * 3 * units, *dxh = dxz + 2 * units, *dc = dcand + b * units, *dp = dh_prev + b * units;
        VECTORIZE
        for (long k = 0; k < units; k++) {
            float z = az[k], c = ah[k];
            float dpre = d[k] * (1.0f - z) * (1.0f - c * c);
            dxh[k] = dpre; dc[k] = dpre;
            dxz[k] = d[k] * (hp[k] - c) * z * (1.0f - z);
            dp[k] = d[k] * z;
        }
    }
}

MULTIVERSION
void recur_gru_rb_gates_backward(const float *act, const float *h_prev, const float *drh, float *dxproj,
                                 float *dhzr, float *dh_prev, long batch, long units) {
    for (long b = 0; b < batch; b++) {
        const float *ar = act + b * 3 * units + units, *hp = h_prev + b * units, *d = drh + b * units;
        float *dxz = dxproj + b * 3 * units, *dxr = dxz + units;
        float *dz = dhzr + b * 2 * units, *dr = dz + units, *dp = dh_prev + b * units;
        VECTORIZE
        for (long k = 0; k < units; k++) {
            float r = ar[k];
            float da = d[k] * hp[k] * r * (1.0f - r);
            dxr[k] = da;
            dz[k] = dxz[k];
            dr[k] = da;
            dp[k] += d[k] * r;
        }
    }
}
