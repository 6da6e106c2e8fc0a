/* The LSTM step kernel (RecurLSTMStep.h). Written here rather than taken from a library: BLAS computes
 * products only, and the point of this kernel is that the gates run on a product tile while it is
 * still in registers. */
#include "RecurLSTMStep.h"
#include <string.h>

#include "RecurGemm.h"

#include "KernelSupport.h"

#define UNIT_BLOCK 16
#define GATES 4
#define BLOCK_WIDTH (GATES * UNIT_BLOCK)

long recur_lstm_packed_size(long k, long units) { return k * BLOCK_WIDTH * ((units + UNIT_BLOCK - 1) / UNIT_BLOCK); }

void recur_lstm_pack(const float *w, long k, long units, float *out) {
    for (long u0 = 0; u0 < units; u0 += UNIT_BLOCK) {
        const long lanes = units - u0 < UNIT_BLOCK ? units - u0 : UNIT_BLOCK;
        float *block = out + (u0 / UNIT_BLOCK) * k * BLOCK_WIDTH;
        for (long p = 0; p < k; p++) {
            for (long g = 0; g < GATES; g++) {
                float *lane = block + p * BLOCK_WIDTH + g * UNIT_BLOCK;
                memcpy(lane, w + p * GATES * units + g * units + u0, (size_t)lanes * sizeof(float));
                for (long j = lanes; j < UNIT_BLOCK; j++) lane[j] = 0.0f;
            }
        }
    }
}

#if RECUR_AVX512

/* The AVX-512 kernel where the CPU has it (and neither RECUR_GEMM_AVX512=0 nor RECUR_GATES_AVX512=0
   asks otherwise), else the AVX2 one where the CPU has AVX2 and FMA. */
static int use_avx512(void) { return recur_has_avx512() && recur_gemm_avx512(); }

int recur_lstm_step_available(void) { return use_avx512() || recur_gemm_available(); }

/* Rows of a tile: 6 rows × 4 gates = 24 accumulators, with 4 registers of the packed matrix and one
   broadcast of the row's value (29 of the 32 registers); each step of k loads 10 registers for 24 FMAs. */
#define STEP_ROWS 6

/* The operands of one call, shared by its tiles. */
typedef struct {
    const float *x; long ldx; const float *packed_w; long features; const float *bias;
    const float *h_prev; const float *packed_u; const float *c_prev;
    float *c; float *h; float *gates; float *tanh_c; long units; long rows;
} StepOperands;

/* The rows of a tile `height` rows high from row r0, of which the first `rows` exist: their indices and
   their rows of x and hₜ₋₁; rows past `rows` repeat the last one (computed, never stored). */
static inline void tile_rows(const StepOperands *s, long r0, int rows, int height, long *row, const float **x_rows,
                             const float **h_rows) {
    for (int r = 0; r < height; r++) {
        row[r] = r0 + (r < rows ? r : rows - 1);
        x_rows[r] = s->x + row[r] * s->ldx;
        h_rows[r] = s->h_prev + row[r] * s->units;
    }
}

/* acc[r][g] += Σₚ a_r[p] · panel[p][g] over k, for the tile's `height` rows `a` (row pointers). */
#define ACCUMULATE_PRODUCTS(a, panel, k, height)                                                  \
    for (long p = 0; p < (k); p++) {                                                              \
        const float *bp = (panel) + p * BLOCK_WIDTH;                                              \
        __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);                           \
        __m512 b2 = _mm512_loadu_ps(bp + 32), b3 = _mm512_loadu_ps(bp + 48);                      \
        for (int r = 0; r < (height); r++) {                                                      \
            __m512 v = _mm512_set1_ps((a)[r][p]);                                                 \
            acc[r][0] = _mm512_fmadd_ps(v, b0, acc[r][0]);                                        \
            acc[r][1] = _mm512_fmadd_ps(v, b1, acc[r][1]);                                        \
            acc[r][2] = _mm512_fmadd_ps(v, b2, acc[r][2]);                                        \
            acc[r][3] = _mm512_fmadd_ps(v, b3, acc[r][3]);                                        \
        }                                                                                         \
    }

/* The gates and cell update of a tile's `rows` rows from their products z, stored. Called with the
   constant STEP_ROWS for a full tile, its loops are unrolled: the 30 activations' long dependency
   chains (two polynomials, then a division) then sit side by side and overlap, where a loop to a run-time count
   ran about one row's chains at a time (the step about 4% slower, measured at 64 rows). */
AVX512_TARGET static inline __attribute__((always_inline)) void tile_gates(const StepOperands *s, __m512 z[STEP_ROWS][GATES],
                                                                           const long *row, const int rows, long u0, __mmask16 lanes) {
    const long U = s->units, G = GATES * U;
    __m512 act[STEP_ROWS][GATES], c[STEP_ROWS], tanh_c[STEP_ROWS];
    for (int r = 0; r < rows; r++) {
        act[r][0] = gate_sigmoid_avx512(z[r][0]); act[r][1] = gate_sigmoid_avx512(z[r][1]);
        act[r][2] = gate_tanh_avx512(z[r][2]); act[r][3] = gate_sigmoid_avx512(z[r][3]);
    }
    for (int r = 0; r < rows; r++) {
        c[r] = _mm512_fmadd_ps(act[r][1], _mm512_maskz_loadu_ps(lanes, s->c_prev + row[r] * U + u0), _mm512_mul_ps(act[r][0], act[r][2]));
        tanh_c[r] = gate_tanh_avx512(c[r]);
    }
    for (int r = 0; r < rows; r++) {
        const long unit = row[r] * U + u0;
        _mm512_mask_storeu_ps(s->c + unit, lanes, c[r]);
        _mm512_mask_storeu_ps(s->h + unit, lanes, _mm512_mul_ps(act[r][3], tanh_c[r]));
        if (s->tanh_c) _mm512_mask_storeu_ps(s->tanh_c + unit, lanes, tanh_c[r]);
        if (s->gates) {
            float *out = s->gates + row[r] * G + u0;
            for (int g = 0; g < GATES; g++) _mm512_mask_storeu_ps(out + g * U, lanes, act[r][g]);
        }
    }
}

/* Rows r0 ..< r0 + rows (at most `height`: 6, 4 or 2, a constant where it is inlined) of units
   u0 ..< u0 + 16 (the lanes in `lanes`). Rows of the tile past `rows` read the last row again; their
   results are not stored. */
AVX512_TARGET static inline __attribute__((always_inline)) void lstm_step_tile(const StepOperands *s, long r0, int rows, const int height,
                                                                               long u0, __mmask16 lanes, const float *w_block,
                                                                               const float *u_block) {
    const long U = s->units;
    const float *x_rows[STEP_ROWS], *h_rows[STEP_ROWS];
    long row[STEP_ROWS];
    tile_rows(s, r0, rows, height, row, x_rows, h_rows);
    __m512 acc[STEP_ROWS][GATES];
    for (int g = 0; g < GATES; g++) {
        const __m512 bias = _mm512_maskz_loadu_ps(lanes, s->bias + g * U + u0);
        for (int r = 0; r < height; r++) acc[r][g] = bias;
    }
    ACCUMULATE_PRODUCTS(x_rows, w_block, s->features, height)
    ACCUMULATE_PRODUCTS(h_rows, u_block, U, height)
    /* The gates read z from the stack: indexing the accumulators by a row count known only at run time
       would keep them in memory through the products. */
    __m512 z[STEP_ROWS][GATES];
    for (int r = 0; r < height; r++) for (int g = 0; g < GATES; g++) z[r][g] = acc[r][g];
    if (rows == height) tile_gates(s, z, row, height, u0, lanes);
    else tile_gates(s, z, row, rows, u0, lanes);
}

AVX512_TARGET static void lstm_step_tile6(const StepOperands *s, long r0, int rows, long u0, __mmask16 lanes,
                                          const float *w_block, const float *u_block) {
    lstm_step_tile(s, r0, rows, 6, u0, lanes, w_block, u_block);
}

AVX512_TARGET static void lstm_step_tile4(const StepOperands *s, long r0, int rows, long u0, __mmask16 lanes,
                                          const float *w_block, const float *u_block) {
    lstm_step_tile(s, r0, rows, 4, u0, lanes, w_block, u_block);
}

AVX512_TARGET static void lstm_step_tile2(const StepOperands *s, long r0, int rows, long u0, __mmask16 lanes,
                                          const float *w_block, const float *u_block) {
    lstm_step_tile(s, r0, rows, 2, u0, lanes, w_block, u_block);
}

/* Unit blocks outermost: a block's packed U (k × 64 floats, 16 KiB for 64 units) and W stay in L1
   while every row tile reads them. Rows go in tiles of 6; the last 1–4 in one of 2 or 4 rows, which
   a 6-row tile would compute six of (a thread's 32 rows of a batch of 64: 36 rows' products as 6
   tiles of 6, 32 as 5 and one of 2). */
static void lstm_step_avx512(const StepOperands *s) {
    const long sixes = s->rows / STEP_ROWS, left = s->rows % STEP_ROWS;
    for (long u0 = 0; u0 < s->units; u0 += UNIT_BLOCK) {
        const __mmask16 lanes = vector_lanes(s->units - u0);
        const long block = u0 / UNIT_BLOCK;
        const float *w_block = s->packed_w + block * s->features * BLOCK_WIDTH;
        const float *u_block = s->packed_u + block * s->units * BLOCK_WIDTH;
        long r0 = 0;
        for (long tile = 0; tile < sixes; tile++, r0 += STEP_ROWS) lstm_step_tile6(s, r0, STEP_ROWS, u0, lanes, w_block, u_block);
        if (left == 5) lstm_step_tile6(s, r0, 5, u0, lanes, w_block, u_block);
        else if (left >= 3) lstm_step_tile4(s, r0, (int)left, u0, lanes, w_block, u_block);
        else if (left > 0) lstm_step_tile2(s, r0, (int)left, u0, lanes, w_block, u_block);
    }
}

/* The AVX2 kernel: a tile is 3 rows × the 4 gates of 8 units (one half of a packed 16-unit block), 12
   accumulators; with the 3 broadcasts of the rows' values that leaves one of the 16 registers to load
   the packed matrix, a gate at a time. Each step of k then loads 7 values for 12 FMAs. */
#define STEP_ROWS_AVX2 3
#define HALF_BLOCK 8

/* acc[r][g] += Σₚ a_r[p] · panel[p][g] over k, for the tile's `height` rows and 8 units of each gate
   starting at `half`. */
#define ACCUMULATE_PRODUCTS_AVX2(a, panel, k, half, height)                                       \
    for (long p = 0; p < (k); p++) {                                                              \
        const float *bp = (panel) + p * BLOCK_WIDTH + (half);                                     \
        __m256 v[STEP_ROWS_AVX2];                                                                 \
        for (int r = 0; r < (height); r++) v[r] = _mm256_broadcast_ss((a)[r] + p);               \
        for (int g = 0; g < GATES; g++) {                                                         \
            const __m256 b = _mm256_loadu_ps(bp + g * UNIT_BLOCK);                                \
            for (int r = 0; r < (height); r++) acc[r][g] = _mm256_fmadd_ps(v[r], b, acc[r][g]);  \
        }                                                                                         \
    }

/* Loads and stores of a tile's 8 units: plain when all 8 lanes hold data, masked only for a row's last,
   partial vector (AMD's Zen cores run vmaskmovps stores as slow microcode). */
AVX2_TARGET static inline __attribute__((always_inline)) __m256 load_lanes(const float *p, __m256i lanes, int full) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lanes);
}

AVX2_TARGET static inline __attribute__((always_inline)) void store_lanes(float *p, __m256i lanes, int full, __m256 v) {
    if (full) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, lanes, v);
}

/* The gates and cell update of a tile's `rows` rows, as tile_gates (unrolled for full tiles). */
AVX2_TARGET static inline __attribute__((always_inline)) void tile_gates_avx2(const StepOperands *s, __m256 z[STEP_ROWS_AVX2][GATES],
                                                                              const long *row, const int rows, long u0,
                                                                              __m256i lanes, int full) {
    const long U = s->units, G = GATES * U;
    __m256 act[STEP_ROWS_AVX2][GATES], c[STEP_ROWS_AVX2], tanh_c[STEP_ROWS_AVX2];
    for (int r = 0; r < rows; r++) {
        act[r][0] = gate_sigmoid_avx2(z[r][0]); act[r][1] = gate_sigmoid_avx2(z[r][1]);
        act[r][2] = gate_tanh_avx2(z[r][2]); act[r][3] = gate_sigmoid_avx2(z[r][3]);
    }
    for (int r = 0; r < rows; r++) {
        c[r] = _mm256_fmadd_ps(act[r][1], load_lanes(s->c_prev + row[r] * U + u0, lanes, full), _mm256_mul_ps(act[r][0], act[r][2]));
        tanh_c[r] = gate_tanh_avx2(c[r]);
    }
    for (int r = 0; r < rows; r++) {
        const long unit = row[r] * U + u0;
        store_lanes(s->c + unit, lanes, full, c[r]);
        store_lanes(s->h + unit, lanes, full, _mm256_mul_ps(act[r][3], tanh_c[r]));
        if (s->tanh_c) store_lanes(s->tanh_c + unit, lanes, full, tanh_c[r]);
        if (s->gates) {
            float *out = s->gates + row[r] * G + u0;
            for (int g = 0; g < GATES; g++) store_lanes(out + g * U, lanes, full, act[r][g]);
        }
    }
}

/* Rows r0 ..< r0 + rows (at most `height`, a constant where it is inlined: 3, or 2 for the last rows)
   of units u0 + half ..< u0 + half + 8 (the lanes in `lanes`); rows past `rows` read the last row
   again and are not stored. */
AVX2_TARGET static inline __attribute__((always_inline)) void lstm_step_tile_avx2(const StepOperands *s, long r0, int rows, const int height,
                                                                                  long u0, long half, __m256i lanes,
                                                                                  const float *w_block, const float *u_block) {
    const long U = s->units, unit0 = u0 + half;
    const int full = U - unit0 >= HALF_BLOCK;
    const float *x_rows[STEP_ROWS_AVX2], *h_rows[STEP_ROWS_AVX2];
    long row[STEP_ROWS_AVX2];
    tile_rows(s, r0, rows, height, row, x_rows, h_rows);
    __m256 acc[STEP_ROWS_AVX2][GATES];
    for (int g = 0; g < GATES; g++) {
        const __m256 bias = load_lanes(s->bias + g * U + unit0, lanes, full);
        for (int r = 0; r < height; r++) acc[r][g] = bias;
    }
    ACCUMULATE_PRODUCTS_AVX2(x_rows, w_block, s->features, half, height)
    ACCUMULATE_PRODUCTS_AVX2(h_rows, u_block, U, half, height)
    __m256 z[STEP_ROWS_AVX2][GATES];
    for (int r = 0; r < height; r++) for (int g = 0; g < GATES; g++) z[r][g] = acc[r][g];
    if (rows == height) tile_gates_avx2(s, z, row, height, unit0, lanes, full);
    else tile_gates_avx2(s, z, row, rows, unit0, lanes, full);
}

AVX2_TARGET static void lstm_step_tile3_avx2(const StepOperands *s, long r0, long u0, long half, __m256i lanes,
                                             const float *w_block, const float *u_block) {
    lstm_step_tile_avx2(s, r0, 3, 3, u0, half, lanes, w_block, u_block);
}

AVX2_TARGET static void lstm_step_tile2_avx2(const StepOperands *s, long r0, int rows, long u0, long half, __m256i lanes,
                                             const float *w_block, const float *u_block) {
    lstm_step_tile_avx2(s, r0, rows, 2, u0, half, lanes, w_block, u_block);
}

/* The same order as the AVX-512 kernel: a packed block's two halves, then its row tiles: of 3 rows, but
   for the last 2 (a third of a tile left) or 4 (a third left over: two of 2 rows, where a 3-row tile for
   the last row would compute three). The 2-row tile's 8 accumulators still hide the FMA latency
   (measured, a 64-unit LSTM over 28 steps of 16 rows: best 0.34–0.39 ms as 6 tiles of 3, 0.32–0.33 as
   4 of 3 and 2 of 2). */
AVX2_TARGET static void lstm_step_avx2(const StepOperands *s) {
    const long rows = s->rows, threes = rows % 3 == 1 && rows >= 4 ? (rows - 4) / 3 : rows / 3;
    for (long u0 = 0; u0 < s->units; u0 += UNIT_BLOCK) {
        const long block = u0 / UNIT_BLOCK;
        const float *w_block = s->packed_w + block * s->features * BLOCK_WIDTH;
        const float *u_block = s->packed_u + block * s->units * BLOCK_WIDTH;
        for (long half = 0; half < UNIT_BLOCK && u0 + half < s->units; half += HALF_BLOCK) {
            const __m256i lanes = vector_lanes_avx2(s->units - u0 - half);
            long r0 = 0;
            for (long tile = 0; tile < threes; tile++, r0 += 3) lstm_step_tile3_avx2(s, r0, u0, half, lanes, w_block, u_block);
            for (; r0 < rows; r0 += 2) lstm_step_tile2_avx2(s, r0, rows - r0 < 2 ? 1 : 2, u0, half, lanes, w_block, u_block);
        }
    }
}

void recur_lstm_step(const float *x, long ldx, const float *packed_w, long features, const float *bias,
                     const float *h_prev, const float *packed_u, const float *c_prev,
                     float *c, float *h, float *gates, float *tanh_c, long rows, long units) {
    const StepOperands s = {x, ldx, packed_w, features, bias, h_prev, packed_u, c_prev, c, h, gates, tanh_c, units, rows};
    if (use_avx512()) lstm_step_avx512(&s);
    else lstm_step_avx2(&s);
}

#else

int recur_lstm_step_available(void) { return 0; }

void recur_lstm_step(const float *x, long ldx, const float *packed_w, long features, const float *bias,
                     const float *h_prev, const float *packed_u, const float *c_prev,
                     float *c, float *h, float *gates, float *tanh_c, long rows, long units) {
    (void)x; (void)ldx; (void)packed_w; (void)features; (void)bias; (void)h_prev; (void)packed_u;
    (void)c_prev; (void)c; (void)h; (void)gates; (void)tanh_c; (void)rows; (void)units;
}

#endif
