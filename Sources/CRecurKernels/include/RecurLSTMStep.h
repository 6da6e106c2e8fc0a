#ifndef RECUR_LSTM_STEP_H
#define RECUR_LSTM_STEP_H
/*
 * The LSTM step as one kernel (AVX-512, or AVX2 and FMA): the products of a block of rows and the gates in registers,
 *   z = x·W + b + h_prev·U
 *   i, f, o = σ(z_i, z_f, z_o), g = tanh(z_g), c = f·c_prev + i·g, h = o·tanh(c)
 * with Keras's gate order [i, f, c, o]. Where a projection GEMM, a step product and a gate kernel write
 * x·W + b and z (4·units floats a row each) to memory and read them back, this one keeps a tile's z in
 * registers: its columns are the four gates of 16 units, so the gates follow the products directly.
 *
 * W and U are packed once per sequence (`recur_lstm_pack`) into blocks of 16 units: per row of the
 * matrix, the 16 columns of each gate, i f g o (64 floats, zero past the last unit).
 */

/* 1 when this CPU runs the kernel: AVX-512 (unless RECUR_GEMM_AVX512=0 or RECUR_GATES_AVX512=0 asks for
   the AVX2 form), or AVX2 and FMA. */
int recur_lstm_step_available(void);

/* Floats needed to pack a k × 4·units gate matrix: k · 64 · ceil(units / 16). */
long recur_lstm_packed_size(long k, long units);

/* Packs W (k × 4·units, rows contiguous) into `out`. */
void recur_lstm_pack(const float *w, long k, long units, float *out);

/*
 * One step for `rows` rows. Inputs: x (rows of `features` floats, `ldx` apart) with its packed kernel and
 * the bias (4·units); h_prev and c_prev (rows × units). Outputs: c and h (rows × units); when not NULL,
 * `gates` (rows × 4·units) receives the activations i, f, g, o and `tanh_c` (rows × units) tanh(c),
 * for the backward pass.
 */
void recur_lstm_step(const float *x, long ldx, const float *packed_w, long features, const float *bias,
                     const float *h_prev, const float *packed_u, const float *c_prev,
                     float *c, float *h, float *gates, float *tanh_c, long rows, long units);

#endif
