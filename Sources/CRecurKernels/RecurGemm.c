#include "RecurGemm.h"
#include <stdlib.h>
#include <string.h>

#include "KernelSupport.h"

#define NR 16
#define MR 6

long recur_gemm_packed_size(long k, long n) { return k * NR * ((n + NR - 1) / NR); }

void recur_gemm_pack(const float *b, long ldb, long k, long n, float *out) {
    for (long j0 = 0; j0 < n; j0 += NR) {
        long cols = n - j0 < NR ? n - j0 : NR;
        float *panel = out + (j0 / NR) * k * NR;
        for (long p = 0; p < k; p++) {
            /* A whole panel row is a fixed-size copy the compiler inlines. */
            if (cols == NR) { memcpy(panel + p * NR, b + p * ldb + j0, NR * sizeof(float)); continue; }
            memcpy(panel + p * NR, b + p * ldb + j0, (size_t)cols * sizeof(float));
            for (long j = cols; j < NR; j++) panel[p * NR + j] = 0.0f;
        }
    }
}

void recur_gemm_pack_transposed(const float *s, long lds, long k, long n, float *out) {
    for (long j0 = 0; j0 < n; j0 += NR) {
        long cols = n - j0 < NR ? n - j0 : NR;
        float *panel = out + (j0 / NR) * k * NR;
        for (long p = 0; p < k; p++) {
            for (long j = 0; j < cols; j++) panel[p * NR + j] = s[(j0 + j) * lds + p];
            for (long j = cols; j < NR; j++) panel[p * NR + j] = 0.0f;
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int recur_gemm_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* One tile of `height` rows (6, 4 or 2: a constant where it is inlined) × NR columns: `rows` ≤ height
   rows of A (row pointers) times one packed panel, into `cols` ≤ NR columns of C, plus C when
   `accumulate`, plus the `bias` columns when not NULL. Six rows' twelve accumulators hide the FMA
   latency; the shorter tiles take a block's last rows, which a 6-row tile would compute six of. */
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline))
void tile_of_height(const int height, const float *const *rows_of_a, const float *panel, long k, float *c, long ldc,
                    int rows, int cols, int accumulate, const float *bias) {
    const float *a[MR];
    __m256 acc[MR][2];
    for (int r = 0; r < height; r++) {
        a[r] = rows_of_a[r];
        acc[r][0] = _mm256_setzero_ps(); acc[r][1] = _mm256_setzero_ps();
    }
    for (long p = 0; p < k; p++) {
        __m256 b0 = _mm256_loadu_ps(panel + p * NR), b1 = _mm256_loadu_ps(panel + p * NR + 8);
        for (int r = 0; r < height; r++) {
            const __m256 x = _mm256_broadcast_ss(a[r] + p);
            acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
        }
    }
    float buffer[NR];
    for (int r = 0; r < rows; r++) {
        float *cr = c + r * ldc;
        if (cols == NR) {
            __m256 v0 = acc[r][0], v1 = acc[r][1];
            if (accumulate) { v0 = _mm256_add_ps(v0, _mm256_loadu_ps(cr)); v1 = _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8)); }
            if (bias) { v0 = _mm256_add_ps(v0, _mm256_loadu_ps(bias)); v1 = _mm256_add_ps(v1, _mm256_loadu_ps(bias + 8)); }
            _mm256_storeu_ps(cr, v0);
            _mm256_storeu_ps(cr + 8, v1);
        } else {
            _mm256_storeu_ps(buffer, acc[r][0]);
            _mm256_storeu_ps(buffer + 8, acc[r][1]);
            for (int j = 0; j < cols; j++) cr[j] = (accumulate ? cr[j] + buffer[j] : buffer[j]) + (bias ? bias[j] : 0.0f);
        }
    }
}

/* The tile for `rows` ≤ MR rows: of 6 rows, or of 4 or 2 for fewer. */
__attribute__((target("avx2,fma")))
static void tile(const float *const *a, const float *panel, long k, float *c, long ldc, int rows, int cols, int accumulate,
                 const float *bias) {
    if (rows > 4) tile_of_height(6, a, panel, k, c, ldc, rows, cols, accumulate, bias);
    else if (rows > 2) tile_of_height(4, a, panel, k, c, ldc, rows, cols, accumulate, bias);
    else tile_of_height(2, a, panel, k, c, ldc, rows, cols, accumulate, bias);
}

/* Stores an AVX-512 tile's accumulators, two registers a row (`lanes0`, `lanes1` of 32 columns), into
   `rows` rows of C, plus C when `accumulate`, plus the `bias` columns when not NULL. */
__attribute__((target("avx512f")))
static inline void store_tile512(const __m512 *left, const __m512 *right, float *c, long ldc, int rows,
                                 __mmask16 lanes0, __mmask16 lanes1, int accumulate, const float *bias) {
    for (int r = 0; r < rows; r++) {
        float *cr = c + r * ldc;
        __m512 v0 = left[r], v1 = right[r];
        if (accumulate) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(lanes0, cr));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(lanes1, cr + NR));
        }
        if (bias) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(lanes0, bias));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(lanes1, bias + NR));
        }
        _mm512_mask_storeu_ps(cr, lanes0, v0);
        _mm512_mask_storeu_ps(cr + NR, lanes1, v1);
    }
}

/* The AVX-512 tile: MR512 = 8 rows of A times two adjacent 16-column panels (32 columns, two registers
   a row), sixteen accumulators (enough to hide the FMA latency on two FMA ports). Each step of k loads
   two B registers and broadcasts 8 floats of A for 16 FMAs; a 16-row × 16-column tile loads 17 for 16,
   which keeps the load ports, not the FMAs, busy (measured: 114 → 133 GFLOP/s for a thread's
   32 × 64 · 64 × 256 step product). Eight rows divide the batch rows a thread usually takes (16 or 32).
   A is read in place, eight row streams: packing it k-major first cost up to a fifth of the product
   (measured: 119 → 145 GFLOP/s for the backward step's 32 × 256 · 256 × 64). `panel1` is `panel0`
   again when only 16 columns are left (its lanes are not stored). */
#define MR512 8
__attribute__((target("avx512f")))
static void tile512(const float *const *rows_of_a, const float *panel0, const float *panel1, long k, float *c, long ldc,
                    int rows, int cols, int accumulate, const float *bias) {
    const float *a[MR512];
    for (int r = 0; r < MR512; r++) a[r] = rows_of_a[r];
    __m512 left[MR512], right[MR512];
    for (int r = 0; r < MR512; r++) { left[r] = _mm512_setzero_ps(); right[r] = _mm512_setzero_ps(); }
    for (long p = 0; p < k; p++) {
        __m512 b0 = _mm512_loadu_ps(panel0 + p * NR), b1 = _mm512_loadu_ps(panel1 + p * NR);
        for (int r = 0; r < MR512; r++) {
            __m512 v = _mm512_set1_ps(a[r][p]);
            left[r] = _mm512_fmadd_ps(v, b0, left[r]);
            right[r] = _mm512_fmadd_ps(v, b1, right[r]);
        }
    }
    __mmask16 lanes0 = vector_lanes(cols), lanes1 = vector_lanes(cols - NR);
    store_tile512(left, right, c, ldc, rows, lanes0, lanes1, accumulate, bias);
}

/* C = A·B with the AVX-512 tile, 8 rows of A at a time, every pair of panels. */
static void gemm_packed512(const float *a, long lda, const float *packed, float *c, long ldc,
                           long m, long n, long k, int accumulate, const float *bias) {
    for (long i0 = 0; i0 < m; i0 += MR512) {
        int rows = (int)(m - i0 < MR512 ? m - i0 : MR512);
        /* Rows past the end read the block's last row again; their results are not stored. */
        const float *rowsA[MR512];
        for (int r = 0; r < MR512; r++) rowsA[r] = a + (i0 + (r < rows ? r : rows - 1)) * lda;
        for (long j0 = 0; j0 < n; j0 += 2 * NR) {
            int cols = (int)(n - j0 < 2 * NR ? n - j0 : 2 * NR);
            const float *panel0 = packed + (j0 / NR) * k * NR;
            tile512(rowsA, panel0, cols > NR ? panel0 + k * NR : panel0, k, c + i0 * ldc + j0, ldc, rows, cols, accumulate,
                    bias ? bias + j0 : NULL);
        }
    }
}

/* AVX-512 when the CPU has it, unless RECUR_GEMM_AVX512=0 (for comparisons). */
int recur_gemm_avx512(void) {
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        const char *choice = getenv("RECUR_GEMM_AVX512");
        known = __builtin_cpu_supports("avx512f") && !(choice && strcmp(choice, "0") == 0) ? 1 : 0;
    }
    return known;
}

void recur_gemm_packed(const float *a, long lda, const float *packed, float *c, long ldc,
                       long m, long n, long k, int accumulate, const float *bias) {
    if (recur_gemm_avx512()) {
        gemm_packed512(a, lda, packed, c, ldc, m, n, k, accumulate, bias);
        return;
    }
    for (long j0 = 0; j0 < n; j0 += NR) {
        const float *panel = packed + (j0 / NR) * k * NR;
        int cols = (int)(n - j0 < NR ? n - j0 : NR);
        for (long i0 = 0; i0 < m; i0 += MR) {
            int rows = (int)(m - i0 < MR ? m - i0 : MR);
            /* Rows past the end read row i0 again; their results are not stored. */
            const float *rowsA[MR];
            for (int r = 0; r < MR; r++) rowsA[r] = a + (i0 + (r < rows ? r : 0)) * lda;
            tile(rowsA, panel, k, c + i0 * ldc + j0, ldc, rows, cols, accumulate, bias ? bias + j0 : NULL);
        }
    }
}

/* Aᵀ·B, one tile of C: `rows` ≤ `height` (8 or 4, a constant where it is inlined) columns of A (each
   step of k reads `height` adjacent floats of an A row) times `cols` ≤ 32 columns of B (two registers
   of a B row), over k rows of both. Rows of the tile past `rows` read the last valid column again (not
   stored), so no read passes A's row. */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline))
void transposed_tile512_of_height(const int height, const float *a, long lda, const float *b, long ldb, long k, float *c,
                                  long ldc, int rows, int cols, int accumulate) {
    __m512 left[MR512], right[MR512];
    for (int r = 0; r < height; r++) { left[r] = _mm512_setzero_ps(); right[r] = _mm512_setzero_ps(); }
    __mmask16 lanes0 = vector_lanes(cols), lanes1 = vector_lanes(cols - NR);
    long column[MR512];
    for (int r = 0; r < height; r++) column[r] = r < rows ? r : rows - 1;
    for (long p = 0; p < k; p++) {
        __m512 b0 = _mm512_maskz_loadu_ps(lanes0, b + p * ldb), b1 = _mm512_maskz_loadu_ps(lanes1, b + p * ldb + NR);
        const float *ap = a + p * lda;
        for (int r = 0; r < height; r++) {
            __m512 v = _mm512_set1_ps(ap[column[r]]);
            left[r] = _mm512_fmadd_ps(v, b0, left[r]);
            right[r] = _mm512_fmadd_ps(v, b1, right[r]);
        }
    }
    store_tile512(left, right, c, ldc, rows, lanes0, lanes1, accumulate, NULL);
}

/* The tile for `rows` ≤ MR512 columns of A: of 8, or of 4 for the last 4 or fewer (a 28-feature dW's
   last tile computed 8 rows for 4). */
__attribute__((target("avx512f")))
static void transposed_tile512(const float *a, long lda, const float *b, long ldb, long k, float *c, long ldc,
                               int rows, int cols, int accumulate) {
    if (rows > 4) transposed_tile512_of_height(MR512, a, lda, b, ldb, k, c, ldc, rows, cols, accumulate);
    else transposed_tile512_of_height(4, a, lda, b, ldb, k, c, ldc, rows, cols, accumulate);
}

/* The AVX2 form: MR rows of the tile, 16 columns (two registers). Loads and stores are masked only for
   a partial panel (the branch is the same at every step, so it costs nothing): AMD's Zen cores run
   vmaskmovps stores as slow microcode, which cost about a third of this tile's time when every panel
   used them. */
__attribute__((target("avx2,fma"))) static inline __m256 load_columns(const float *p, __m256i mask, int full) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

__attribute__((target("avx2,fma")))
static void transposed_tile(const float *a, long lda, const float *b, long ldb, long k, float *c, long ldc,
                            int rows, int cols, int accumulate) {
    __m256 acc[MR][2];
    for (int r = 0; r < MR; r++) { acc[r][0] = _mm256_setzero_ps(); acc[r][1] = _mm256_setzero_ps(); }
    long column[MR];
    for (int r = 0; r < MR; r++) column[r] = r < rows ? r : rows - 1;
    const int full = cols == NR;
    __m256i lanes0 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), lanes1 = _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15);
    __m256i count = _mm256_set1_epi32(cols);
    __m256i mask0 = _mm256_cmpgt_epi32(count, lanes0), mask1 = _mm256_cmpgt_epi32(count, lanes1);
    for (long p = 0; p < k; p++) {
        __m256 b0 = load_columns(b + p * ldb, mask0, full), b1 = load_columns(b + p * ldb + 8, mask1, full);
        const float *ap = a + p * lda;
        for (int r = 0; r < MR; r++) {
            __m256 v = _mm256_broadcast_ss(ap + column[r]);
            acc[r][0] = _mm256_fmadd_ps(v, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(v, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; r++) {
        float *cr = c + r * ldc;
        __m256 v0 = acc[r][0], v1 = acc[r][1];
        if (accumulate) { v0 = _mm256_add_ps(v0, load_columns(cr, mask0, full)); v1 = _mm256_add_ps(v1, load_columns(cr + 8, mask1, full)); }
        if (full) {
            _mm256_storeu_ps(cr, v0);
            _mm256_storeu_ps(cr + 8, v1);
        } else {
            _mm256_maskstore_ps(cr, mask0, v0);
            _mm256_maskstore_ps(cr + 8, mask1, v1);
        }
    }
}

/* k runs in chunks of TRANSPOSED_KC rows, so that a column panel's chunk of B (128 rows of 128 bytes)
   stays in L1 while every row tile of C reads it: one pass over all of k per tile streamed B from L2
   (measured for a thread's dU, 64 × 128 over k = 1764 with B's rows 256 floats apart: 64 → 105
   GFLOP/s). C takes the chunks' partial sums. The chunks are the outer loop, so that A's chunk (128
   rows) stays in cache while every column panel reads it, instead of all of A streaming through once a
   panel (a thread's dW and dU of a 64-unit LSTM, k = 896: best 0.58–0.64 → 0.54–0.57 ms on a Zen 3). */
#define TRANSPOSED_KC 128

void recur_gemm_transposed_a(const float *a, long lda, const float *b, long ldb, float *c, long ldc,
                             long m, long n, long k, int accumulate) {
    const int wide = recur_gemm_avx512();
    const long tile_rows = wide ? MR512 : MR, tile_cols = wide ? 2 * NR : NR;
    if (k == 0) {
        if (!accumulate) for (long i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
    for (long p0 = 0; p0 < k; p0 += TRANSPOSED_KC) {
        long chunk = k - p0 < TRANSPOSED_KC ? k - p0 : TRANSPOSED_KC;
        for (long j0 = 0; j0 < n; j0 += tile_cols) {
            int cols = (int)(n - j0 < tile_cols ? n - j0 : tile_cols);
            int add = accumulate || p0 > 0;
            for (long i0 = 0; i0 < m; i0 += tile_rows) {
                int rows = (int)(m - i0 < tile_rows ? m - i0 : tile_rows);
                const float *ap = a + p0 * lda + i0, *bp = b + p0 * ldb + j0;
                float *cp = c + i0 * ldc + j0;
                if (wide) transposed_tile512(ap, lda, bp, ldb, chunk, cp, ldc, rows, cols, add);
                else transposed_tile(ap, lda, bp, ldb, chunk, cp, ldc, rows, cols, add);
            }
        }
    }
}

#else

int recur_gemm_available(void) { return 0; }

int recur_gemm_avx512(void) { return 0; }

void recur_gemm_transposed_a(const float *a, long lda, const float *b, long ldb, float *c, long ldc,
                             long m, long n, long k, int accumulate) {
    (void)a; (void)lda; (void)b; (void)ldb; (void)c; (void)ldc; (void)m; (void)n; (void)k; (void)accumulate;
}

void recur_gemm_packed(const float *a, long lda, const float *packed, float *c, long ldc,
                       long m, long n, long k, int accumulate, const float *bias) {
    (void)a; (void)lda; (void)packed; (void)c; (void)ldc; (void)m; (void)n; (void)k; (void)accumulate; (void)bias;
}

#endif
