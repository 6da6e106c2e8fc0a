/*
 * Checks every C kernel of Recur against plain double-precision references on random data, on
 * whatever CPU runs it (the AVX-512, AVX2+FMA or baseline variant is chosen at load time), so the
 * variants this machine does not pick can be checked on another one:
 *   clang -O2 -static -I Sources/CRecurKernels/include scripts/kernel_check.c \
 *         Sources/CRecurKernels/RecurKernels.c Sources/CRecurKernels/RecurGemm.c \
 *         Sources/CRecurKernels/RecurElementwise.c Sources/CRecurKernels/RecurLSTMStep.c -lm -o kernel_check
 * Prints one line per kernel and exits non-zero on any mismatch.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "RecurKernels.h"
#include "RecurGemm.h"
#include "RecurElementwise.h"
#include "RecurLSTMStep.h"
#include "../KernelSupport.h"

static int failures = 0;
static unsigned long long state = 88172645463325252ULL;
static float uniform(float lo, float hi) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return lo + (hi - lo) * (float)((state >> 11) * (1.0 / 9007199254740992.0));
}
static void fill(float *x, long n, float lo, float hi) { for (long i = 0; i < n; i++) x[i] = uniform(lo, hi); }
static void check(const char *name, const float *got, const double *want, long n, double tol) {
    double worst = 0;
    for (long i = 0; i < n; i++) { double d = fabs(got[i] - want[i]); if (!(d <= worst)) worst = d; }
    int ok = worst <= tol;
    printf("%-28s max |diff| %.3g %s\n", name, worst, ok ? "ok" : "FAIL");
    if (!ok) failures++;
}
static double sig(double x) { return 1 / (1 + exp(-x)); }

/* The gate activations (KernelSupport.h) at every 1/1000 over [-20, 20], scalar and vector forms: their
   absolute error bounds, 3.6e-7 for tanh and 1.8e-7 for σ. */
enum { GATE_POINTS = 40001 };
#if RECUR_AVX512 /* x86-64 with clang, where KernelSupport.h has the vector forms */
AVX2_TARGET static void gate_activations_avx2(const float *x, float *t, float *s) {
    for (int i = 0; i + 8 <= GATE_POINTS; i += 8) {
        _mm256_storeu_ps(t + i, gate_tanh_avx2(_mm256_loadu_ps(x + i)));
        _mm256_storeu_ps(s + i, gate_sigmoid_avx2(_mm256_loadu_ps(x + i)));
    }
}
#endif
static void check_gate_activations(void) {
    static float x[GATE_POINTS], t[GATE_POINTS], s[GATE_POINTS];
    static double wt[GATE_POINTS], ws[GATE_POINTS];
    for (int i = 0; i < GATE_POINTS; i++) { x[i] = -20.0f + 0.001f * (float)i; wt[i] = tanh(x[i]); ws[i] = sig(x[i]); }
    for (int i = 0; i < GATE_POINTS; i++) { t[i] = gate_tanhf(x[i]); s[i] = gate_sigmoidf(x[i]); }
    check("gate tanh", t, wt, GATE_POINTS, 3.6e-7);
    check("gate sigmoid", s, ws, GATE_POINTS, 1.8e-7);
    int nan_kept = isnan(gate_tanhf(NAN)) && isnan(gate_sigmoidf(NAN));
#if RECUR_AVX512
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        const int whole = GATE_POINTS / 8 * 8;
        gate_activations_avx2(x, t, s);
        check("gate tanh, AVX2", t, wt, whole, 3.6e-7);
        check("gate sigmoid, AVX2", s, ws, whole, 1.8e-7);
        for (int i = 0; i < 8; i++) x[i] = NAN;
        gate_activations_avx2(x, t, s);
        for (int i = 0; i < 8; i++) nan_kept &= isnan(t[i]) && isnan(s[i]);
    }
#endif
    /* A NaN stays NaN (the clamp must not turn it into ±9), as Keras's tanh and sigmoid keep it. */
    printf("%-28s %s\n", "gate activations of NaN", nan_kept ? "ok" : "FAILED (not NaN)");
    failures += !nan_kept;
}

int main(void) {
    __builtin_cpu_init();
    printf("cpu: avx512f=%d avx2=%d fma=%d\n", __builtin_cpu_supports("avx512f"), __builtin_cpu_supports("avx2"),
           __builtin_cpu_supports("fma"));
    enum { N = 1000, B = 5, U = 101, K = 29 };
    float x[N], y[N], z[N], g[N]; double w[N];
    fill(x, N, -9, 9); fill(z, N, -3, 3); fill(g, N, -1, 1);
    recur_exp(x, y, N); for (int i = 0; i < N; i++) w[i] = exp(x[i]) / fmax(1, exp(x[i])); for (int i = 0; i < N; i++) y[i] /= fmax(1, exp(x[i]));
    check("exp (relative)", y, w, N, 1e-6);
    recur_tanh(x, y, N); for (int i = 0; i < N; i++) w[i] = tanh(x[i]); check("tanh", y, w, N, 1e-6);
    recur_sigmoid(x, y, N); for (int i = 0; i < N; i++) w[i] = sig(x[i]); check("sigmoid", y, w, N, 1e-6);
    check_gate_activations();
    recur_relu(x, y, N); for (int i = 0; i < N; i++) w[i] = x[i] > 0 ? x[i] : 0; check("relu", y, w, N, 0);
    const char *ops[] = {"add", "sub", "mul", "div", "max", "min"};
    for (int op = 0; op < 6; op++) {
        recur_binary(op, x, 1, z, 1, y, N);
        for (int i = 0; i < N; i++) {
            double a = x[i], b = z[i];
            w[i] = op == 0 ? a + b : op == 1 ? a - b : op == 2 ? a * b : op == 3 ? a / b : op == 4 ? fmax(a, b) : fmin(a, b);
        }
        char name[32]; snprintf(name, sizeof name, "binary %s", ops[op]);
        check(name, y, w, N, op == 3 ? 1e-3 : 1e-5);
        recur_binary(op, x, 1, z, 0, y, N);
        for (int i = 0; i < N; i++) {
            double a = x[i], b = z[0];
            w[i] = op == 0 ? a + b : op == 1 ? a - b : op == 2 ? a * b : op == 3 ? a / b : op == 4 ? fmax(a, b) : fmin(a, b);
        }
        snprintf(name, sizeof name, "binary %s (scalar)", ops[op]);
        check(name, y, w, N, 1e-3);
    }
    recur_tanh(z, y, N); recur_tanh_backward(y, g, x, N);
    for (int i = 0; i < N; i++) w[i] = g[i] * (1 - tanh(z[i]) * tanh(z[i])); check("tanh backward", x, w, N, 1e-5);

    /* LSTM gates: forward and backward against the formulas. */
    float gates[B * 4 * U], pre[B * 4 * U], cp[B * U], c[B * U], tc[B * U], h[B * U];
    fill(pre, B * 4 * U, -2, 2); fill(cp, B * U, -1, 1);
    /* Saturating pre-activations in every gate, in a full vector and in the masked tail (U = 101: two
       groups of four vectors, the second with a partial and an empty vector). */
    const float extremes[] = {-1e4f, -120, -90, 90, 120, 1e4f};
    for (int e = 0; e < 6; e++) for (int gate = 0; gate < 4; gate++) { pre[gate * U + e] = extremes[e]; pre[gate * U + 97 + e % 4] = extremes[5 - e]; }
    for (int i = 0; i < B * 4 * U; i++) gates[i] = pre[i];
    recur_lstm_gates_forward(gates, cp, c, tc, h, B, U);
    double wc[B * U], wh[B * U];
    for (int b = 0; b < B; b++) for (int k = 0; k < U; k++) {
        const float *p = pre + b * 4 * U;
        double i = sig(p[k]), f = sig(p[U + k]), gg = tanh(p[2 * U + k]), o = sig(p[3 * U + k]);
        wc[b * U + k] = f * cp[b * U + k] + i * gg; wh[b * U + k] = o * tanh(wc[b * U + k]);
    }
    check("lstm gates forward c", c, wc, B * U, 1e-6);
    check("lstm gates forward h", h, wh, B * U, 1e-6);
    float dh[B * U], dc[B * U], dg[B * 4 * U]; fill(dh, B * U, -1, 1); fill(dc, B * U, -1, 1);
    double wdc[B * U], wdg[B * 4 * U];
    for (int b = 0; b < B; b++) for (int k = 0; k < U; k++) {
        const float *p = pre + b * 4 * U;
        double i = sig(p[k]), f = sig(p[U + k]), gg = tanh(p[2 * U + k]), o = sig(p[3 * U + k]), t = tanh(wc[b * U + k]);
        double dct = dc[b * U + k] + dh[b * U + k] * o * (1 - t * t);
        wdg[b * 4 * U + k] = dct * gg * i * (1 - i); wdg[b * 4 * U + U + k] = dct * cp[b * U + k] * f * (1 - f);
        wdg[b * 4 * U + 2 * U + k] = dct * i * (1 - gg * gg); wdg[b * 4 * U + 3 * U + k] = dh[b * U + k] * t * o * (1 - o);
        wdc[b * U + k] = dct * f;
    }
    recur_lstm_gates_backward(gates, cp, tc, dh, dc, dg, B, U);
    check("lstm gates backward dz", dg, wdg, B * 4 * U, 1e-5);
    check("lstm gates backward dc", dc, wdc, B * U, 1e-5);

    /* GRU gates (reset_after). */
    float xp[B * 3 * U], hp[B * 3 * U], act[B * 3 * U], hprev[B * U], hg[B * U];
    fill(xp, B * 3 * U, -2, 2); fill(hp, B * 3 * U, -2, 2); fill(hprev, B * U, -1, 1);
    recur_gru_gates_forward(xp, hp, hprev, act, hg, B, U);
    double wg[B * U];
    for (int b = 0; b < B; b++) for (int k = 0; k < U; k++) {
        const float *a = xp + b * 3 * U, *r = hp + b * 3 * U;
        double zz = sig(a[k] + r[k]), rr = sig(a[U + k] + r[U + k]), cc = tanh(a[2 * U + k] + rr * r[2 * U + k]);
        wg[b * U + k] = zz * hprev[b * U + k] + (1 - zz) * cc;
    }
    check("gru gates forward", hg, wg, B * U, 1e-6);

    /* Few-row and packed GEMMs against a double-precision product. */
    /* 29 rows: three full 8-row AVX-512 tiles (or four 6-row AVX2 tiles) and a partial one; 45 columns:
       two full panels (one 32-column AVX-512 tile) and a partial one (a tile whose second panel is unused). */
    enum { M = 29, NN = 45 };
    float a[M * K], bm[K * NN], cm[M * NN], packed[K * 16 * 3]; double wm[M * NN];
    fill(a, M * K, -1, 1); fill(bm, K * NN, -1, 1);
    for (int i = 0; i < M; i++) for (int j = 0; j < NN; j++) { double s = 0; for (int p = 0; p < K; p++) s += (double)a[i * K + p] * bm[p * NN + j]; wm[i * NN + j] = s; }
    recur_gemm_few_rows(a, K, bm, cm, 3, NN, K, 0, 0); check("gemm few rows", cm, wm, 3 * NN, 1e-5);
    {
        /* Register-blocked few-row products: 400 columns (one 256-column block and two of 64 for one
           row, three of 128 for two, six of 64 for three or four, then a tail of 16), A's rows 40 floats
           apart (k = 29), and 1 to 5 rows (5 = a block of 4 and a block of 1); then accumulating. */
        enum { WN = 400, LDA = 40 };
        static float wa[5 * LDA], wb[K * WN], wc[5 * WN];
        static double want[5 * WN];
        fill(wa, 5 * LDA, -1, 1); fill(wb, K * WN, -1, 1);
        for (int i = 0; i < 5; i++) for (int j = 0; j < WN; j++) {
            double s = 0; for (int p = 0; p < K; p++) s += (double)wa[i * LDA + p] * wb[p * WN + j]; want[i * WN + j] = s;
        }
        for (int rows = 1; rows <= 5; rows++) {
            char name[64];
            snprintf(name, sizeof name, "gemm few rows, %d of %d cols", rows, WN);
            recur_gemm_few_rows(wa, LDA, wb, wc, rows, WN, K, 0, 0); check(name, wc, want, rows * WN, 1e-5);
            snprintf(name, sizeof name, "gemm few rows, %d of %d cols, descending", rows, WN);
            recur_gemm_few_rows(wa, LDA, wb, wc, rows, WN, K, 0, 1); check(name, wc, want, rows * WN, 1e-5);
        }
        for (int i = 0; i < 5 * WN; i++) want[i] *= 2;
        recur_gemm_few_rows(wa, LDA, wb, wc, 5, WN, K, 1, 0); check("gemm few rows, accumulating", wc, want, 5 * WN, 1e-5);
        for (int i = 0; i < 5 * WN; i++) want[i] = want[i] / 2 * 3;
        recur_gemm_few_rows(wa, LDA, wb, wc, 5, WN, K, 1, 1); check("gemm few rows, accumulating, descending", wc, want, 5 * WN, 1e-5);
    }
    {
        /* The pullbacks and scaling. */
        enum { AN = 133 };
        static float ay[AN], ag[AN], ad[AN];
        static double want[AN];
        fill(ay, AN, -1, 1); fill(ag, AN, -1, 1);
        const char *names[3] = {"sigmoid backward", "tanh backward", "scale"};
        for (int kernel = 0; kernel < 3; kernel++) {
            for (int i = 0; i < AN; i++) {
                double y = ay[i], g = ag[i];
                want[i] = kernel == 0 ? g * y * (1 - y) : kernel == 1 ? g * (1 - y * y) : -0.5 * y;
            }
            switch (kernel) {
            case 0: recur_sigmoid_backward(ay, ag, ad, AN); break;
            case 1: recur_tanh_backward(ay, ag, ad, AN); break;
            default: recur_scale(ay, -0.5f, ad, AN); break;
            }
            check(names[kernel], ad, want, AN, 1e-6);
        }
    }
    {
        /* Column sums: 150 columns of a 7 × 160 block (two 64-column blocks and a tail). */
        enum { SR = 7, SC = 150, SLD = 160 };
        static float sx[SR * SLD], sums[SC];
        static double want[SC];
        fill(sx, SR * SLD, -1, 1);
        for (int j = 0; j < SC; j++) { double s = 0; for (int r = 0; r < SR; r++) s += sx[r * SLD + j]; want[j] = s; }
        recur_sum_rows(sx, SR, SC, SLD, sums); check("sum of rows", sums, want, SC, 1e-5);
    }
    {
        /* An elementwise chain y2 = σ(a)·c / bias on 5 rows of 37 columns: a read from rows 50 apart,
           c one broadcast column (a scalar per row), bias one broadcast row; forward, then backward
           from g into da (stored), dc and dbias (summed). */
        enum { ER = 5, EC = 37, ELD = 50 };
        static float ea[ER * ELD], ec[ER], ebias[EC], ey0[ER * EC], ey1[ER * EC], ey2[ER * EC], eg[ER * EC];
        static float eda[ER * ELD], edc[ER], edbias[EC], edy0[ER * EC], edy1[ER * EC], scratch[3 * RECUR_ELEMENTWISE_BLOCK];
        static double want[ER * EC], wdc[ER], wdbias[EC];
        fill(ea, ER * ELD, -3, 3); fill(ec, ER, -2, 2); fill(ebias, EC, 0.5, 2); fill(eg, ER * EC, -1, 1);
        recur_operand rows_of_a = {ea, 0, ELD, 1L << 40, 1}, da = {eda, 0, ELD, 1L << 40, 1};
        recur_operand column = {ec, 0, 1, 1L << 40, 0}, dcolumn = {edc, 0, 1, 1L << 40, 0};
        recur_operand row = {ebias, 0, 0, 1, 1}, drow = {edbias, 0, 0, 1, 1};
        recur_operand y0 = {ey0, 0, EC, 1L << 40, 1}, y1 = {ey1, 0, EC, 1L << 40, 1}, y2 = {ey2, 0, EC, 1L << 40, 1};
        recur_operand dy0 = {edy0, 0, EC, 1L << 40, 1}, dy1 = {edy1, 0, EC, 1L << 40, 1}, g2 = {eg, 0, EC, 1L << 40, 1};
        recur_elementwise_op chain[3] = {
            {RECUR_EW_SIGMOID, RECUR_EW_HAS_DA | RECUR_EW_ASSIGN_A, 0, y0, rows_of_a, rows_of_a, dy0, da, da},
            {RECUR_EW_MUL, RECUR_EW_HAS_DA | RECUR_EW_HAS_DB, 0, y1, y0, column, dy1, dy0, dcolumn},
            {RECUR_EW_DIV, RECUR_EW_HAS_DA | RECUR_EW_HAS_DB, 0, y2, y1, row, g2, dy1, drow},
        };
        recur_elementwise_forward(chain, 3, 0, ER, EC, 0);
        for (int r = 0; r < ER; r++) for (int k = 0; k < EC; k++) want[r * EC + k] = sig(ea[r * ELD + k]) * ec[r] / ebias[k];
        check("elementwise chain", ey2, want, ER * EC, 1e-5);
        recur_elementwise_backward(chain, 3, 0, ER, EC, 0, scratch);
        for (int k = 0; k < EC; k++) wdbias[k] = 0;
        for (int r = 0; r < ER; r++) {
            wdc[r] = 0;
            for (int k = 0; k < EC; k++) {
                double s = sig(ea[r * ELD + k]), d1 = eg[r * EC + k] / ebias[k];
                wdbias[k] -= eg[r * EC + k] * s * ec[r] / ((double)ebias[k] * ebias[k]);
                wdc[r] += d1 * s;
                want[r * EC + k] = d1 * ec[r] * s * (1 - s);
            }
        }
        float got[ER * EC];
        for (int r = 0; r < ER; r++) for (int k = 0; k < EC; k++) got[r * EC + k] = eda[r * ELD + k];
        check("elementwise chain, d a", got, want, ER * EC, 1e-5);
        check("elementwise chain, d column", edc, wdc, ER, 1e-4);
        check("elementwise chain, d row", edbias, wdbias, EC, 1e-4);
    }
    if (recur_gemm_available()) {
        recur_gemm_pack(bm, NN, K, NN, packed);
        recur_gemm_packed(a, K, packed, cm, NN, M, NN, K, 0, NULL); check("gemm packed", cm, wm, M * NN, 1e-5);
        /* The first m rows alone, for every tile height a block's last rows take (AVX2: 6, 4, 2). */
        const int heights[] = {1, 2, 3, 4, 16};
        for (int q = 0; q < 5; q++) {
            char name[40];
            snprintf(name, sizeof name, "gemm packed, %d rows", heights[q]);
            recur_gemm_packed(a, K, packed, cm, NN, heights[q], NN, K, 0, NULL); check(name, cm, wm, heights[q] * NN, 1e-5);
        }
        /* Accumulating into C doubles the product. */
        for (int i = 0; i < M * NN; i++) wm[i] *= 2;
        recur_gemm_packed(a, K, packed, cm, NN, M, NN, K, 1, NULL); check("gemm packed, accumulating", cm, wm, M * NN, 1e-5);
        /* A bias row on top of the product, then on top of the accumulated sum. */
        float bias[NN];
        fill(bias, NN, -1, 1);
        for (int i = 0; i < M; i++) for (int j = 0; j < NN; j++) wm[i * NN + j] = wm[i * NN + j] / 2 + bias[j];
        recur_gemm_packed(a, K, packed, cm, NN, M, NN, K, 0, bias); check("gemm packed, bias", cm, wm, M * NN, 1e-5);
        for (int i = 0; i < M; i++) for (int j = 0; j < NN; j++) wm[i * NN + j] = 2 * wm[i * NN + j];
        recur_gemm_packed(a, K, packed, cm, NN, M, NN, K, 1, bias); check("gemm packed, bias, accumulating", cm, wm, M * NN, 1e-5);
        /* Aᵀ·B read in place: 13 or 11 columns of A (a partial row tile of either AVX-512 height: 8 + 5
           and 8 + 3), 37 of B (a partial column tile), 300 rows (two whole k chunks and a partial one),
           both with wider row strides. */
        enum { TMMOST = 13, TN = 37, TK = 300, TLDA = 15, TLDB = 40, TLDC = 41 };
        static float ta[TK * TLDA], tb[TK * TLDB], tc[TMMOST * TLDC];
        static double twant[TMMOST * TN];
        fill(ta, TK * TLDA, -1, 1);
        fill(tb, TK * TLDB, -1, 1);
        const int column_counts[] = {13, 11};
        for (int q = 0; q < 2; q++) {
            const int TM = column_counts[q];
            char name[64];
            for (int i = 0; i < TM; i++) for (int j = 0; j < TN; j++) {
                double sum = 0;
                for (int p = 0; p < TK; p++) sum += (double)ta[p * TLDA + i] * tb[p * TLDB + j];
                twant[i * TN + j] = sum;
            }
            float tgot[TMMOST * TN];
            for (int i = 0; i < TM * TLDC; i++) tc[i] = 7.0f;
            recur_gemm_transposed_a(ta, TLDA, tb, TLDB, tc, TLDC, TM, TN, TK, 0);
            for (int i = 0; i < TM; i++) for (int j = 0; j < TN; j++) tgot[i * TN + j] = tc[i * TLDC + j];
            snprintf(name, sizeof name, "gemm transposed A, m %d", TM);
            check(name, tgot, twant, TM * TN, 5e-5);
            /* Accumulating doubles it, and the padding between C's rows is left alone. */
            recur_gemm_transposed_a(ta, TLDA, tb, TLDB, tc, TLDC, TM, TN, TK, 1);
            int padding_kept = 1;
            for (int i = 0; i < TM; i++) for (int j = TN; j < TLDC; j++) padding_kept &= tc[i * TLDC + j] == 7.0f;
            for (int i = 0; i < TM; i++) for (int j = 0; j < TN; j++) { tgot[i * TN + j] = tc[i * TLDC + j]; twant[i * TN + j] *= 2; }
            snprintf(name, sizeof name, "gemm transposed A, m %d, acc", TM);
            check(name, tgot, twant, TM * TN, 1e-4);
            printf("gemm transposed A, m %d, padding %s\n", TM, padding_kept ? "ok" : "FAILED (wrote past n)");
            failures += !padding_kept;
        }
    } else {
        printf("gemm packed                  not available on this CPU (BLAS is used)\n");
    }

    /* The fused LSTM step: 13 rows (two full 6-row tiles and a partial one), 37 units (two full unit
       blocks and a masked one), x's rows 2·29 floats apart; once for inference (c and h only), once for
       a backward pass (the activations and tanh c too). */
    if (recur_lstm_step_available()) {
        enum { SR = 13, SU = 37, SD = 29, SG = 4 * SU };
        static float sx[SR * 2 * SD], sw[SD * SG], su[SU * SG], sb[SG], sh0[SR * SU], sc0[SR * SU];
        static float pw[SD * 64 * 3], pu[SU * 64 * 3], act[SR * SG], sc[SR * SU], sh[SR * SU], stc[SR * SU];
        static double wact[SR * SG], wsc[SR * SU], wsh[SR * SU], wtc[SR * SU];
        fill(sx, SR * 2 * SD, -1, 1); fill(sw, SD * SG, -0.4f, 0.4f); fill(su, SU * SG, -0.4f, 0.4f); fill(sb, SG, -1, 1);
        fill(sh0, SR * SU, -1, 1); fill(sc0, SR * SU, -2, 2);
        recur_lstm_pack(sw, SD, SU, pw); recur_lstm_pack(su, SU, SU, pu);
        for (int r = 0; r < SR; r++) {
            double z[SG];
            for (int j = 0; j < SG; j++) {
                z[j] = sb[j];
                for (int p = 0; p < SD; p++) z[j] += (double)sx[r * 2 * SD + p] * sw[p * SG + j];
                for (int p = 0; p < SU; p++) z[j] += (double)sh0[r * SU + p] * su[p * SG + j];
            }
            for (int k = 0; k < SU; k++) {
                double i = sig(z[k]), f = sig(z[SU + k]), gg = tanh(z[2 * SU + k]), o = sig(z[3 * SU + k]);
                wact[r * SG + k] = i; wact[r * SG + SU + k] = f; wact[r * SG + 2 * SU + k] = gg; wact[r * SG + 3 * SU + k] = o;
                wsc[r * SU + k] = f * sc0[r * SU + k] + i * gg; wtc[r * SU + k] = tanh(wsc[r * SU + k]);
                wsh[r * SU + k] = o * wtc[r * SU + k];
            }
        }
        recur_lstm_step(sx, 2 * SD, pw, SD, sb, sh0, pu, sc0, sc, sh, NULL, NULL, SR, SU);
        check("lstm step: c", sc, wsc, SR * SU, 2e-6);
        check("lstm step: h", sh, wsh, SR * SU, 2e-6);
        for (int i = 0; i < SR * SU; i++) sc[i] = sh[i] = 0;
        recur_lstm_step(sx, 2 * SD, pw, SD, sb, sh0, pu, sc0, sc, sh, act, stc, SR, SU);
        check("lstm step, saving: c", sc, wsc, SR * SU, 2e-6);
        check("lstm step, saving: h", sh, wsh, SR * SU, 2e-6);
        check("lstm step, saving: tanh c", stc, wtc, SR * SU, 2e-6);
        check("lstm step, saving: gates", act, wact, SR * SG, 2e-6);
        /* Fewer rows, for every way they split into tiles (AVX2: of 3, the last 2 or 4 rows in tiles of
           2; AVX-512: of 6, the last 1–4 in one of 2 or 4): the first n rows' references, and nothing
           written past them. */
        const int counts[] = {1, 2, 3, 4, 5, 7, 9, 10, 11};
        for (int q = 0; q < 9; q++) {
            const int n = counts[q];
            for (int i = 0; i < SR * SU; i++) sc[i] = sh[i] = 7.0f;
            recur_lstm_step(sx, 2 * SD, pw, SD, sb, sh0, pu, sc0, sc, sh, NULL, NULL, n, SU);
            char name[48];
            snprintf(name, sizeof name, "lstm step, %d rows: c", n);
            check(name, sc, wsc, n * SU, 2e-6);
            snprintf(name, sizeof name, "lstm step, %d rows: h", n);
            check(name, sh, wsh, n * SU, 2e-6);
            int kept = 1;
            for (int i = n * SU; i < SR * SU; i++) kept &= sc[i] == 7.0f && sh[i] == 7.0f;
            snprintf(name, sizeof name, "lstm step, %d rows: past", n);
            printf("%-28s %s\n", name, kept ? "ok" : "FAILED (wrote past its rows)");
            failures += !kept;
        }
    } else {
        printf("lstm step                    not available on this CPU (product and gate kernels are used)\n");
    }
    printf("%s\n", failures ? "FAILED" : "all kernels agree");
    return failures ? 1 : 0;
}
