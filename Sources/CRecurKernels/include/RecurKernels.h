#ifndef RECUR_KERNELS_H
#define RECUR_KERNELS_H
/*
 * Vectorised float32 kernels for Recur's CPU backend.
 * Every function is compiled several times (AVX-512, AVX2+FMA, baseline) and the best
 * variant for the running CPU is picked once at load time (ifunc), so the package needs
 * no CPU-specific compiler flags and still runs on any x86-64 (or other) CPU.
 * All pointers are to contiguous arrays of `n` floats; outputs may alias inputs.
 */
#include <stddef.h>

/* Elementwise binary operation codes for recur_binary. */
enum {
    RECUR_ADD = 0,
    RECUR_SUB = 1,
    RECUR_MUL = 2,
    RECUR_DIV = 3,
    RECUR_MAX = 4,
    RECUR_MIN = 5
};

/* y[k] = a[k*sa] (op) b[k*sb] for k < n; sa and sb are 0 (broadcast one value) or 1. */
void recur_binary(int op, const float *a, long sa, const float *b, long sb, float *y, long n);

/* The CPUs this process may run on (its affinity mask), at least 1. */
int recur_usable_cpu_count(void);

/* y = f(x) */
void recur_exp(const float *x, float *y, long n);
void recur_log(const float *x, float *y, long n);
void recur_tanh(const float *x, float *y, long n);
void recur_sigmoid(const float *x, float *y, long n);
void recur_relu(const float *x, float *y, long n);
void recur_scale(const float *x, float alpha, float *y, long n);      /* y = alpha*x */

/* Vector-Jacobian products written in terms of the forward output y (or input x). */
/* dx = dy*(1-y^2) and dx = dy*y*(1-y) (dx may be dy itself). */
void recur_tanh_backward(const float *y, const float *dy, float *dx, long n);
void recur_sigmoid_backward(const float *y, const float *dy, float *dx, long n);
void recur_relu_backward(const float *x, const float *dy, float *dx, long n);    /* dx = x>0 ? dy : 0 */

/* C (m×n) = A (m×k)·B (k×n), or C += A·B when `accumulate`; row-major, A's rows `lda` apart, B and C
   packed. For the few-row products of single-sample inference, where a BLAS call costs more than the
   arithmetic. `descending` reads B's rows (and sums the products) last to first: a time loop that
   alternates it finds the B rows it read last still in L1 when B is larger than L1 (a 64-unit LSTM's
   64 KiB recurrent kernel), where always reading in one order evicts every row before its next use. */
void recur_gemm_few_rows(const float *a, long lda, const float *b, float *c, long m, long n, long k, int accumulate,
                         int descending);

/* Sum of n floats (accumulated in double). */
double recur_sum(const float *x, long n);

/* out (cols) = the sum of the rows of x (rows × cols, rows `ld` apart). */
void recur_sum_rows(const float *x, long rows, long cols, long ld, float *out);

/*
 * Fused LSTM step, gate order [i, f, c, o] as Keras. `gates` (batch, 4u) holds the
 * pre-activations x·W + h·U + b on entry and the activations i, f, g, o on return.
 * c = f*c_prev + i*g ; h = o*tanh(c). `tanh_c` (batch, u) receives tanh(c) for the backward pass.
 */
void recur_lstm_gates_forward(float *gates, const float *c_prev, float *c, float *tanh_c, float *h,
                              long batch, long units);
/*
 * Backward of recur_lstm_gates_forward. Inputs: activations `gates`, c_prev, tanh_c, upstream dh and
 * dc (dc is the gradient flowing into c from the next step; it is overwritten with dc_prev).
 * Output: dgates (batch, 4u), the gradient of the pre-activations.
 */
void recur_lstm_gates_backward(const float *gates, const float *c_prev, const float *tanh_c,
                               const float *dh, float *dc, float *dgates, long batch, long units);

/*
 * Fused GRU step (reset_after form, gate order [z, r, h] as Keras). `xproj` (batch, 3u) = x·W + b_in,
 * `hproj` (batch, 3u) = h_prev·U + b_rec. Writes the activations z, r, ĥ to `act` (batch, 3u) and
 * h = z*h_prev + (1-z)*ĥ with ĥ = tanh(x_h + r*hproj_h).
 */
void recur_gru_gates_forward(const float *xproj, const float *hproj, const float *h_prev, float *act, float *h,
                             long batch, long units);
/*
 * Backward of recur_gru_gates_forward for upstream dh (batch, u). Writes d xproj (batch, 3u),
 * d hproj (batch, 3u) and the direct part of d h_prev, dh*z (batch, u); the caller adds d hproj·Uᵀ.
 */
void recur_gru_gates_backward(const float *act, const float *hproj, const float *h_prev, const float *dh,
                              float *dxproj, float *dhproj, float *dh_prev, long batch, long units);

/*
 * Fused GRU step without reset_after (Keras reset_after=False), in two halves around the candidate GEMM:
 *   recur_gru_rb_gates:  z = σ(x_z + h₋₁·U_z), r = σ(x_r + h₋₁·U_r) into act[z, r]; rh = r*h₋₁
 *   (caller) cand = rh·U_h
 *   recur_gru_rb_output: ĥ = tanh(x_h + cand) into act[h]; h = z*h₋₁ + (1-z)*ĥ
 * `xproj` rows are (batch, 3u) = x·W + b; `hzr` rows are (batch, 2u) = h₋₁·U[:, :2u].
 */
void recur_gru_rb_gates(const float *xproj, const float *hzr, const float *h_prev, float *act, float *rh,
                        long batch, long units);
void recur_gru_rb_output(const float *xproj, const float *cand, const float *h_prev, float *act, float *h,
                         long batch, long units);
/*
 * Backward of the two halves. recur_gru_rb_output_backward: from dh writes d x_h (= d cand) into
 * dxproj[h] and dcand, d x_z into dxproj[z], and dh₋₁ = dh*z into dh_prev.
 * (caller) drh = dcand·U_hᵀ
 * recur_gru_rb_gates_backward: d x_r into dxproj[r], dhzr = [d x_z, d x_r], dh_prev += drh*r.
 */
void recur_gru_rb_output_backward(const float *act, const float *h_prev, const float *dh, float *dxproj,
                                  float *dcand, float *dh_prev, long batch, long units);
void recur_gru_rb_gates_backward(const float *act, const float *h_prev, const float *drh, float *dxproj,
                                 float *dhzr, float *dh_prev, long batch, long units);

/* Selects OpenBLAS's SkylakeX or Haswell kernels when OpenBLAS does not know the CPU and fell back to
   its SSE3 ones (see BLASCore.c); returns the new core's name, or NULL when nothing changed. Call
   before any BLAS call. */
const char *recur_blas_select_core(void);

#endif
