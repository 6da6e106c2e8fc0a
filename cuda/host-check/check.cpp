// Runs every kernel of cuda/tensor.cu and cuda/nn.cu on the host (cuda_host_shim.h: every block, every
// thread) and compares what it writes with a plain C++ reference. The tensor.cu references are written
// from each kernel's doc comment, not from its code; the nn.cu kernels, which mirror CPU code operation
// for operation, are compared with that code: the C kernels of Sources/CRecurKernels themselves (linked
// in, names prefixed by cpu_renames.h) and copies of the Swift loops they mirror.
//
// Shapes are small and odd; each kernel runs under several launch configurations: the backend's
// (min(⌈total/256⌉, 4096) blocks of 256, or a block per output for recur_sum), one block of 256 and three
// blocks of 256 (grid-stride loops over totals above 256 and 768), and two blocks of 32 (or 64). Data
// are dyadic (k/64) where the order of a sum could otherwise matter, so comparisons are exact (bit for
// bit, any NaN equal to any NaN) except where a tolerance is named: relative 1e-6.
//
// Build and run: scripts/cuda-host-check.sh. The arguments are the .cu files: a kernel in them that this
// check never launches is a failure too. Prints mismatches and a one-line summary; exits 3 on any (a sanitizer's
// report or a crash gives another status).
#include "cuda_host_shim.h"

#include "../tensor.cu"
#include "../nn.cu"

#include "cpu_renames.h"
extern "C" {
#include "RecurKernels.h"
}
#define CPU_RENAMES_UNDO
#include "cpu_renames.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Floats = std::vector<float>;
using Ints = std::vector<int>;

int failures = 0;
long comparisons = 0;

// ---- Data ----

struct Random {
    uint64_t state = 0x9E3779B97F4A7C15ull;
    uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    int below(int n) { return (int)(next() % (uint64_t)n); }
    float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next() >> 40) * (1.0 / 16777216.0)); }
    /// k/64 for k in −256...256: sums of a few thousand are exact in float, in any order.
    float dyadic() { return (float)(below(513) - 256) / 64.0f; }
};
Random rng;

Floats uniforms(size_t n, float lo = -1, float hi = 1) {
    Floats v(n);
    for (auto &x : v) x = rng.uniform(lo, hi);
    return v;
}
Floats dyadics(size_t n) {
    Floats v(n);
    for (auto &x : v) x = rng.dyadic();
    return v;
}
/// A value no kernel computes, for outputs that must be left alone (or must all be written).
constexpr float sentinel = -12345.5f;

// ---- Comparison ----

bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }
bool close(float a, float b, double tolerance) {
    if (same(a, b)) return true;
    return std::fabs((double)a - b) <= tolerance * std::max(std::fabs((double)a), std::fabs((double)b));
}

void expect(const std::string &what, const float *got, const float *want, size_t n, double tolerance = 0) {
    comparisons++;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (tolerance == 0 ? same(got[i], want[i]) : close(got[i], want[i], tolerance)) continue;
        if (bad < 4) std::printf("MISMATCH %s: [%zu] expected %.9g, got %.9g\n", what.c_str(), i, want[i], got[i]);
        bad++;
    }
    if (bad) {
        std::printf("MISMATCH %s: %zu of %zu values differ\n", what.c_str(), bad, n);
        failures++;
    }
}
void expect(const std::string &what, const Floats &got, const Floats &want, double tolerance = 0) {
    if (got.size() != want.size()) {
        std::printf("MISMATCH %s: %zu values, expected %zu\n", what.c_str(), got.size(), want.size());
        failures++;
        return;
    }
    expect(what, got.data(), want.data(), got.size(), tolerance);
}
void expect_equal(const std::string &what, double got, double want) {
    comparisons++;
    if (got != want) {
        std::printf("MISMATCH %s: expected %.17g, got %.17g\n", what.c_str(), want, got);
        failures++;
    }
}

template <class... T> std::string describe(const char *format, T... values) {
    char text[256];
    std::snprintf(text, sizeof text, format, values...);
    return text;
}

// ---- Launch configurations ----

struct Config {
    unsigned grid, block;
};
std::string describe(Config c) { return describe(" <<<%u, %u>>>", c.grid, c.block); }

/// `configs` (the backend's) and those of 1 and 3 blocks of 256 threads and 2 of `small`, each once.
std::vector<Config> with_others(std::vector<Config> configs, unsigned small) {
    for (Config c : {Config{1, 256}, Config{3, 256}, Config{2, small}}) {
        if (std::none_of(configs.begin(), configs.end(), [&](Config d) { return d.grid == c.grid && d.block == c.block; })) configs.push_back(c);
    }
    return configs;
}

/// The backend's configuration for an element kernel over `total` (none when it is 0: the backend
/// launches nothing), then one and three blocks of 256, and two blocks of 32.
std::vector<Config> element_configs(long total) {
    std::vector<Config> configs;
    if (total > 0) configs.push_back({(unsigned)std::min<long>((total + 255) / 256, 4096), 256});
    return with_others(configs, 32);
}

/// The same for a reduce kernel, a block per output: the backend's, one and three blocks of 256, and
/// two blocks of 64 (the tree reduction needs a power of two).
std::vector<Config> reduce_configs(long outputs) {
    std::vector<Config> configs;
    if (outputs > 0) configs.push_back({(unsigned)std::min<long>(outputs, 4096), 256});
    return with_others(configs, 64);
}

long product(const Ints &shape) { return std::accumulate(shape.begin(), shape.end(), 1L, std::multiplies<long>()); }
std::string describe(const Ints &shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); i++) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + ")";
}

// =====================================================================================================
// tensor.cu
// =====================================================================================================

void check_fill() {
    for (int n : {0, 1, 255, 257, 1001}) {
        for (Config c : element_configs(n)) {
            Floats y(n, sentinel);
            LAUNCH(recur_fill, c.grid, c.block, y.data(), 2.75f, n);
            expect("recur_fill n=" + std::to_string(n) + describe(c), y, Floats(n, 2.75f));
        }
    }
}

float unary_reference(int op, float v) {
    switch (op) {
    case 0: return expf(v);
    case 1: return logf(v);
    case 2: return tanhf(v);
    case 3: return 1.0f / (1.0f + expf(-v));
    case 4: return v > 0 ? v : 0.0f;
    case 5: return sqrtf(v);
    case 6: return fabsf(v);
    default: return v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f;
    }
}

void check_unary_and_scale() {
    const int n = 1001;
    Floats x = uniforms(n, -5, 5);
    x[0] = 0.0f; x[1] = -0.0f; x[2] = 1e-30f; x[3] = -3.0f; x[4] = 40.0f; x[5] = -100.0f;
    for (int op = 0; op < 8; op++) {
        Floats want(n);
        for (int i = 0; i < n; i++) want[i] = unary_reference(op, x[i]);
        for (Config c : element_configs(n)) {
            Floats y(n, sentinel);
            LAUNCH(recur_unary, c.grid, c.block, op, x.data(), y.data(), n);
            expect(describe("recur_unary op=%d n=%d", op, n) + describe(c), y, want);
        }
    }
    for (int count : {0, 7, 1001}) {
        Floats want(count);
        for (int i = 0; i < count; i++) want[i] = -0.37f * x[i];
        for (Config c : element_configs(count)) {
            Floats y(count, sentinel);
            LAUNCH(recur_scale, c.grid, c.block, x.data(), -0.37f, y.data(), count);
            expect("recur_scale n=" + std::to_string(count) + describe(c), y, want);
        }
    }
}

// ---- recur_binary ----

float binary_reference(int op, float u, float v) {
    switch (op) {
    case 0: return u + v;
    case 1: return u - v;
    case 2: return u * v;
    case 3: return u / v;
    case 4: return fmaxf(u, v);
    case 5: return fminf(u, v);
    case 6: return u > v ? 1.0f : 0.0f;
    case 7: return u >= v ? 1.0f : 0.0f;
    case 8: return u < v ? 1.0f : 0.0f;
    case 9: return u == v ? 1.0f : 0.0f;
    default: return u != v ? 1.0f : 0.0f;
    }
}

/// The strides the backend passes for an operand of `shape` broadcast to `out`: the operand's own
/// row-major strides, right-aligned (missing leading axes count as extent 1), 0 along an axis where
/// the operand has extent 1 and the result more.
Ints launcher_strides(const Ints &shape, const Ints &out) {
    size_t r = out.size(), missing = r - shape.size();
    Ints strides(r, 0);
    int step = 1;
    for (size_t d = r; d-- > 0;) {
        int extent = d < missing ? 1 : shape[d - missing];
        strides[d] = extent == 1 && out[d] != 1 ? 0 : step;
        step *= extent;
    }
    return strides;
}

/// Where result index i reads an operand of `shape`: its coordinates along the operand's own
/// (right-aligned) axes, 0 where the operand has extent 1, in the operand's row-major order.
long operand_index(long i, const Ints &shape, const Ints &out) {
    Ints coordinates(out.size());
    for (size_t d = out.size(); d-- > 0;) {
        coordinates[d] = (int)(i % out[d]);
        i /= out[d];
    }
    long index = 0;
    size_t missing = out.size() - shape.size();
    for (size_t d = 0; d < shape.size(); d++) index = index * shape[d] + (shape[d] == 1 ? 0 : coordinates[missing + d]);
    return index;
}

void check_binary_case(const Ints &out, const Ints &shapeA, const Ints &shapeB) {
    long n = product(out);
    // Few distinct values, so that the comparisons see ties; 0 divisors give ±inf and NaN on both sides.
    Floats a(product(shapeA)), b(product(shapeB));
    for (auto &v : a) v = (float)(rng.below(9) - 4) / 2.0f;
    for (auto &v : b) v = (float)(rng.below(9) - 4) / 2.0f;
    Broadcast shape{};
    shape.rank = (int)out.size();
    Ints sa = launcher_strides(shapeA, out), sb = launcher_strides(shapeB, out);
    for (size_t d = 0; d < out.size(); d++) {
        shape.extents[d] = out[d];
        shape.stridesA[d] = sa[d];
        shape.stridesB[d] = sb[d];
    }
    for (int op = 0; op <= 10; op++) {
        Floats want(n);
        for (long i = 0; i < n; i++) want[i] = binary_reference(op, a[operand_index(i, shapeA, out)], b[operand_index(i, shapeB, out)]);
        for (Config c : element_configs(n)) {
            Floats y(n, sentinel);
            LAUNCH(recur_binary, c.grid, c.block, op, a.data(), b.data(), y.data(), (int)n, shape);
            expect(describe("recur_binary op=%d ", op) + describe(out) + " = " + describe(shapeA) + " op " + describe(shapeB) + describe(c), y,
                   want);
        }
    }
}

void check_binary() {
    check_binary_case({1001}, {1001}, {1001});
    check_binary_case({1001}, {1001}, {1});
    check_binary_case({1001}, {1}, {1001});
    check_binary_case({1}, {1}, {1});
    check_binary_case({7, 1}, {7, 1}, {1});
    check_binary_case({9, 11}, {9, 11}, {11});
    check_binary_case({9, 11}, {9, 1}, {1, 11});
    check_binary_case({9, 11}, {1}, {9, 11});
    check_binary_case({3, 5, 7}, {5, 1}, {3, 1, 7});
    check_binary_case({3, 5, 7}, {3, 5, 7}, {3, 1, 1});
    check_binary_case({5, 3, 7, 9}, {5, 1, 7, 1}, {3, 1, 9});
    check_binary_case({2, 1, 3, 4}, {2, 1, 3, 4}, {1, 4});
    check_binary_case({4, 6, 1, 10}, {6, 1, 1}, {4, 1, 1, 10});
    check_binary_case({3, 4, 5, 6}, {3, 4, 5, 6}, {3, 4, 5, 6});
    check_binary_case({1, 13, 1, 71}, {13, 1, 71}, {1, 1, 1, 71});
    // Random shapes: rank 1...4, extents 1...9, each operand of the result's trailing rank or fewer
    // with some axes 1.
    for (int trial = 0; trial < 24; trial++) {
        int rank = 1 + rng.below(4);
        Ints out(rank);
        for (auto &e : out) e = 1 + rng.below(9);
        auto operand = [&] {
            int r = 1 + rng.below(rank);
            Ints shape(out.end() - r, out.end());
            for (auto &e : shape) if (rng.below(3) == 0) e = 1;
            return shape;
        };
        check_binary_case(out, operand(), operand());
    }
}

// ---- Reductions ----

void check_sum() {
    struct Case {
        int outer, n, inner;
    };
    for (Case k : {Case{1, 1, 1}, {1, 7, 1}, {3, 256, 1}, {1, 257, 5}, {3, 300, 5}, {2, 777, 3}, {5, 1, 7}, {1, 1000, 1}, {7, 3, 11},
                   {1, 513, 2}}) {
        int outputs = k.outer * k.inner;
        for (bool exact : {true, false}) {
            Floats x = exact ? dyadics((size_t)k.outer * k.n * k.inner) : uniforms((size_t)k.outer * k.n * k.inner);
            Floats want(outputs);
            for (int o = 0; o < k.outer; o++) {
                for (int i = 0; i < k.inner; i++) {
                    double s = 0;
                    for (int j = 0; j < k.n; j++) s += x[((size_t)o * k.n + j) * k.inner + i];
                    want[o * k.inner + i] = (float)s;
                }
            }
            for (Config c : reduce_configs(outputs)) {
                Floats y(outputs, sentinel);
                LAUNCH(recur_sum, c.grid, c.block, x.data(), y.data(), k.outer, k.n, k.inner);
                // Random data: the tree's double sum may round to the next float.
                expect(describe("recur_sum (outer %d, n %d, inner %d) %s", k.outer, k.n, k.inner, exact ? "dyadic" : "random") + describe(c),
                       y, want, exact ? 0 : 1e-6);
            }
        }
    }
}

void check_argmax_pick_unpick() {
    struct Case {
        int outer, n, inner;
    };
    for (Case k : {Case{1, 1, 1}, {3, 7, 5}, {1, 300, 1}, {37, 5, 29}, {2, 9, 450}}) {
        size_t size = (size_t)k.outer * k.n * k.inner;
        int outputs = k.outer * k.inner;
        Floats x(size);
        for (auto &v : x) v = (float)rng.below(5); // ties: the first of the largest wins
        Floats best(outputs), index(outputs), picked(outputs), g = uniforms(outputs), dx(size, 0.0f);
        for (int o = 0; o < k.outer; o++) {
            for (int i = 0; i < k.inner; i++) {
                int arg = 0;
                for (int j = 0; j < k.n; j++) {
                    if (x[((size_t)o * k.n + j) * k.inner + i] > x[((size_t)o * k.n + arg) * k.inner + i]) arg = j;
                }
                best[o * k.inner + i] = (float)arg;
                int pick = rng.below(k.n);
                index[o * k.inner + i] = (float)pick;
                picked[o * k.inner + i] = x[((size_t)o * k.n + pick) * k.inner + i];
                dx[((size_t)o * k.n + pick) * k.inner + i] = g[o * k.inner + i];
            }
        }
        std::string shape = describe(" (outer %d, n %d, inner %d)", k.outer, k.n, k.inner);
        for (Config c : element_configs(outputs)) {
            Floats y(outputs, sentinel);
            LAUNCH(recur_argmax, c.grid, c.block, x.data(), y.data(), k.outer, k.n, k.inner);
            expect("recur_argmax" + shape + describe(c), y, best);
            Floats p(outputs, sentinel);
            LAUNCH(recur_pick, c.grid, c.block, x.data(), index.data(), p.data(), k.outer, k.n, k.inner);
            expect("recur_pick" + shape + describe(c), p, picked);
        }
        for (Config c : element_configs((long)size)) {
            Floats d(size, sentinel);
            LAUNCH(recur_unpick, c.grid, c.block, g.data(), index.data(), d.data(), k.outer, k.n, k.inner);
            expect("recur_unpick" + shape + describe(c), d, dx);
        }
    }
}

// ---- Indexing ----

void check_gather_scatter() {
    struct Case {
        int tableRows, width, count;
    };
    for (Case k : {Case{7, 13, 80}, {3, 1, 9}, {1, 5, 4}, {11, 29, 31}}) {
        Floats table = dyadics((size_t)k.tableRows * k.width), g = dyadics((size_t)k.count * k.width);
        Ints rows(k.count);
        for (auto &r : rows) r = rng.below(k.tableRows);
        rows[0] = k.tableRows - 1;
        if (k.count > 2) rows[2] = rows[1]; // a repeated row, at least
        Floats gathered((size_t)k.count * k.width), sums((size_t)k.tableRows * k.width, 0.0f);
        for (int r = 0; r < k.count; r++) {
            for (int w = 0; w < k.width; w++) {
                gathered[(size_t)r * k.width + w] = table[(size_t)rows[r] * k.width + w];
                sums[(size_t)rows[r] * k.width + w] += g[(size_t)r * k.width + w];
            }
        }
        std::string shape = describe(" (table %d×%d, %d rows)", k.tableRows, k.width, k.count);
        for (Config c : element_configs((long)k.count * k.width)) {
            Floats y(gathered.size(), sentinel);
            LAUNCH(recur_gather_rows, c.grid, c.block, table.data(), rows.data(), y.data(), k.count, k.width);
            expect("recur_gather_rows" + shape + describe(c), y, gathered);
            Floats t(sums.size(), 0.0f); // the backend zeroes the table first
            LAUNCH(recur_scatter_add_rows, c.grid, c.block, g.data(), rows.data(), t.data(), k.count, k.width);
            expect("recur_scatter_add_rows" + shape + describe(c), t, sums);
        }
    }
}

// ---- Layout ----

void check_transpose_case(const Ints &shape, const Ints &permutation) {
    int rank = (int)shape.size();
    long n = product(shape);
    Floats x = uniforms(n);
    Ints inStrides(rank, 1);
    for (int d = rank - 2; d >= 0; d--) inStrides[d] = inStrides[d + 1] * shape[d + 1];
    Permutation p{};
    p.rank = rank;
    Ints out(rank);
    for (int d = 0; d < rank; d++) {
        out[d] = shape[permutation[d]];
        p.extents[d] = out[d];
        p.strides[d] = inStrides[permutation[d]];
    }
    // y's axis d is x's axis permutation[d]: y[i_0, ..., i_r−1] = x[j] with j_permutation[d] = i_d.
    Floats want(n);
    Ints at(rank, 0);
    for (long i = 0; i < n; i++) {
        Ints source(rank);
        for (int d = 0; d < rank; d++) source[permutation[d]] = at[d];
        long j = 0;
        for (int d = 0; d < rank; d++) j = j * shape[d] + source[d];
        want[i] = x[j];
        for (int d = rank - 1; d >= 0 && ++at[d] == out[d]; d--) at[d] = 0;
    }
    for (Config c : element_configs(n)) {
        Floats y(n, sentinel);
        LAUNCH(recur_transpose, c.grid, c.block, x.data(), y.data(), (int)n, p);
        expect("recur_transpose " + describe(shape) + " by " + describe(permutation) + describe(c), y, want);
    }
}

void check_transpose() {
    for (const Ints &shape : {Ints{3, 5, 7}, Ints{5, 9, 23}}) {
        Ints permutation{0, 1, 2};
        do check_transpose_case(shape, permutation);
        while (std::next_permutation(permutation.begin(), permutation.end()));
    }
    check_transpose_case({3, 4, 5, 6}, {2, 0, 3, 1});
    check_transpose_case({3, 4, 5, 6}, {3, 2, 1, 0});
    check_transpose_case({31, 29}, {1, 0});
    check_transpose_case({1, 17, 1}, {2, 0, 1});
    check_transpose_case({777}, {0});
}

void check_slices() {
    struct Case {
        int outer, n, inner, start, count;
    };
    for (Case k : {Case{3, 10, 7, 2, 5}, {1, 9, 1, 0, 9}, {4, 6, 45, 5, 1}, {5, 13, 17, 3, 10}, {2, 8, 3, 0, 0}, {7, 1, 1, 0, 1}}) {
        std::string shape = describe(" (outer %d, n %d, inner %d) [%d..<%d]", k.outer, k.n, k.inner, k.start, k.start + k.count);
        size_t full = (size_t)k.outer * k.n * k.inner, part = (size_t)k.outer * k.count * k.inner;
        Floats x = uniforms(full), p = uniforms(part);
        Floats sliced(part), unsliced(full);
        for (int o = 0; o < k.outer; o++) {
            for (int j = 0; j < k.n; j++) {
                for (int i = 0; i < k.inner; i++) {
                    bool inside = j >= k.start && j < k.start + k.count;
                    size_t at = ((size_t)o * k.n + j) * k.inner + i, there = ((size_t)o * k.count + (j - k.start)) * k.inner + i;
                    if (inside) sliced[there] = x[at];
                    unsliced[at] = inside ? p[there] : 0.0f;
                }
            }
        }
        for (Config c : element_configs((long)part)) {
            Floats y(part, sentinel);
            LAUNCH(recur_slice, c.grid, c.block, x.data(), y.data(), k.outer, k.n, k.inner, k.start, k.count);
            expect("recur_slice" + shape + describe(c), y, sliced);
        }
        for (Config c : element_configs((long)full)) {
            Floats y(full, sentinel);
            LAUNCH(recur_unslice, c.grid, c.block, p.data(), y.data(), k.outer, k.n, k.inner, k.start, k.count);
            expect("recur_unslice" + shape + describe(c), y, unsliced);
        }
    }
}

void check_place() {
    struct Case {
        int outer, width, rowWidth, offset;
    };
    for (Case k : {Case{7, 3, 10, 4}, {40, 25, 60, 35}, {5, 10, 10, 0}, {1, 1, 1, 0}, {300, 1, 3, 2}}) {
        Floats part = uniforms((size_t)k.outer * k.width), before = uniforms((size_t)k.outer * k.rowWidth);
        Floats want = before;
        for (int o = 0; o < k.outer; o++)
            for (int j = 0; j < k.width; j++) want[(size_t)o * k.rowWidth + k.offset + j] = part[(size_t)o * k.width + j];
        for (Config c : element_configs((long)k.outer * k.width)) {
            Floats y = before;
            LAUNCH(recur_place, c.grid, c.block, part.data(), y.data(), k.outer, k.width, k.rowWidth, k.offset);
            expect(describe("recur_place (outer %d, width %d) into rows of %d at %d", k.outer, k.width, k.rowWidth, k.offset) + describe(c), y,
                   want);
        }
    }
}

void check_reverse() {
    struct Case {
        int outer, n, inner;
    };
    for (Case k : {Case{1, 1, 1}, {3, 7, 5}, {1, 1001, 1}, {4, 12, 21}, {9, 2, 1}}) {
        size_t size = (size_t)k.outer * k.n * k.inner;
        Floats x = uniforms(size), want(size);
        for (int o = 0; o < k.outer; o++)
            for (int j = 0; j < k.n; j++)
                for (int i = 0; i < k.inner; i++)
                    want[((size_t)o * k.n + j) * k.inner + i] = x[((size_t)o * k.n + (k.n - 1 - j)) * k.inner + i];
        for (Config c : element_configs((long)size)) {
            Floats y(size, sentinel);
            LAUNCH(recur_reverse, c.grid, c.block, x.data(), y.data(), k.outer, k.n, k.inner);
            expect(describe("recur_reverse (outer %d, n %d, inner %d)", k.outer, k.n, k.inner) + describe(c), y, want);
        }
    }
}

// ---- cuDNN weight packing ----

/// Sentinels on each side of every buffer these kernels write, to see any write outside it (ASan sees
/// none inside a vector that holds the guards too).
constexpr size_t guard = 7;

/// n scalars of `fill` between `guard` sentinels on each side; a kernel gets data() + guard.
Floats guarded(size_t n, float fill = sentinel) {
    Floats v(n + 2 * guard, sentinel);
    std::fill(v.begin() + guard, v.end() - guard, fill);
    return v;
}
Floats guarded(const Floats &inside) {
    Floats v(inside.size() + 2 * guard, sentinel);
    std::copy(inside.begin(), inside.end(), v.begin() + guard);
    return v;
}

/// recur_block_transpose and recur_block_untranspose on their own: a Keras matrix of `rows` rows and
/// `columns` columns, its block of `units` columns from `offset`.
struct BlockCase {
    int columns, offset, rows, units;
};

void check_block_transpose_case(const BlockCase &k) {
    const size_t matrix = (size_t)k.rows * k.columns, block = (size_t)k.units * k.rows;
    const std::string shape = describe(" (rows %d, columns %d) block of %d at %d", k.rows, k.columns, k.units, k.offset);
    // recur_block_transpose: the (units, rows) matrix dst[u·rows + r] = src[r·columns + offset + u],
    // every scalar of dst written, nothing around it.
    const Floats src = uniforms(matrix);
    Floats transposed = guarded(block);
    for (int r = 0; r < k.rows; r++)
        for (int u = 0; u < k.units; u++) transposed[guard + (size_t)u * k.rows + r] = src[(size_t)r * k.columns + k.offset + u];
    // recur_block_untranspose: dst[r·columns + offset + u] = src[u·rows + r], the rest of dst (the other
    // columns) left as it was.
    const Floats packed = uniforms(block), before = uniforms(matrix);
    Floats untransposed = guarded(before);
    for (int u = 0; u < k.units; u++)
        for (int r = 0; r < k.rows; r++) untransposed[guard + (size_t)r * k.columns + k.offset + u] = packed[(size_t)u * k.rows + r];
    for (Config c : element_configs((long)block)) {
        Floats y = guarded(block);
        LAUNCH(recur_block_transpose, c.grid, c.block, src.data(), k.columns, k.offset, k.rows, k.units, y.data() + guard);
        expect("recur_block_transpose" + shape + describe(c), y, transposed);
        Floats x = guarded(before);
        LAUNCH(recur_block_untranspose, c.grid, c.block, packed.data(), x.data() + guard, k.columns, k.offset, k.rows, k.units);
        expect("recur_block_untranspose" + shape + describe(c), x, untransposed);
    }
}

/// A recurrent layer's weights through cuDNN and back as the backend moves them (CuDNNRNN.packedWeights
/// and kerasGradients): Keras's kernel (inputs, G) and recurrent kernel (units, G), G = gates·units;
/// cuDNN's layer id < gates takes the input-side block of Keras gate kerasGates[id] (rows = inputs), id
/// ≥ gates the recurrent-side one of kerasGates[id − gates] (rows = units). The matrices lie in a weight
/// space in reverse order, 3 sentinels between (cuDNN's own placement is its business: the kernels
/// must keep to where they are pointed). Biases are copied with memcpy, no kernel.
void check_block_round_trip(const char *kind, const Ints &kerasGates, int inputs, int units) {
    const int n = (int)kerasGates.size(), G = n * units, layers = 2 * n;
    const Floats kernel = uniforms((size_t)inputs * G), recurrent = uniforms((size_t)units * G);
    auto rowsOf = [&](int id) { return id < n ? inputs : units; };
    Ints matrixOffset(layers);
    size_t next = guard;
    for (int id = layers; id-- > 0;) {
        matrixOffset[id] = (int)next;
        next += (size_t)units * rowsOf(id) + 3;
    }
    const size_t spaceSize = next - 3 + guard;
    // The packed space, from the doc comment: layer id's matrix holds the transpose of its block.
    Floats packed(spaceSize, sentinel);
    for (int id = 0; id < layers; id++) {
        const Floats &W = id < n ? kernel : recurrent;
        const int rows = rowsOf(id), offset = kerasGates[id % n] * units;
        for (int r = 0; r < rows; r++)
            for (int u = 0; u < units; u++) packed[matrixOffset[id] + (size_t)u * rows + r] = W[(size_t)r * G + offset + u];
    }
    const std::string shape = describe(" %s (inputs %d, units %d)", kind, inputs, units);
    // Each launch under the backend's configuration for its total, then all under each of the others.
    for (int policy = 0; policy < 4; policy++) {
        auto config = [&](long total) {
            const Config others[] = {{1, 256}, {3, 256}, {2, 32}};
            return policy == 0 ? element_configs(total)[0] : others[policy - 1];
        };
        const std::string how = policy == 0 ? std::string(" <<<backend's>>>") : describe(config(1));
        Floats space(spaceSize, sentinel);
        for (int id = 0; id < layers; id++) {
            const int rows = rowsOf(id);
            Config c = config((long)units * rows);
            LAUNCH(recur_block_transpose, c.grid, c.block, (id < n ? kernel : recurrent).data(), G, kerasGates[id % n] * units, rows, units,
                   space.data() + matrixOffset[id]);
        }
        expect("recur_block_transpose over every layer" + shape + how, space, packed);
        // Back into fresh matrices, all sentinels: after each launch exactly the blocks unpacked so far
        // hold Keras's values, the rest and the guards are still sentinels; at the end every scalar is
        // Keras's.
        const Floats read = space;
        Floats dKernel = guarded((size_t)inputs * G), dRecurrent = guarded((size_t)units * G);
        Floats wantKernel = dKernel, wantRecurrent = dRecurrent;
        for (int id = 0; id < layers; id++) {
            const bool input = id < n;
            const int rows = rowsOf(id), offset = kerasGates[id % n] * units;
            Floats &target = input ? dKernel : dRecurrent, &want = input ? wantKernel : wantRecurrent;
            const Floats &W = input ? kernel : recurrent;
            Config c = config((long)units * rows);
            LAUNCH(recur_block_untranspose, c.grid, c.block, space.data() + matrixOffset[id], target.data() + guard, G, offset, rows, units);
            for (int r = 0; r < rows; r++)
                for (int u = 0; u < units; u++) want[guard + (size_t)r * G + offset + u] = W[(size_t)r * G + offset + u];
            std::string step = describe(" after layer %d (Keras gate %d, %s)", id, kerasGates[id % n], input ? "kernel" : "recurrent");
            expect("recur_block_untranspose" + step + shape + how, dKernel, wantKernel);
            expect("recur_block_untranspose" + step + shape + how, dRecurrent, wantRecurrent);
        }
        expect("recur_block_untranspose ∘ recur_block_transpose restores the kernel" + shape + how, dKernel, guarded(kernel));
        expect("recur_block_untranspose ∘ recur_block_transpose restores the recurrent kernel" + shape + how, dRecurrent, guarded(recurrent));
        // And the space it read is as it was.
        expect("recur_block_untranspose leaves its source" + shape + how, space, read);
    }
}

void check_rnn_weights() {
    // Odd shapes, rows < = > units, blocks at the start, middle and end, one not at a multiple of units,
    // totals 1, below 256 and above 768 (the grid-stride loops).
    for (BlockCase k : {BlockCase{21, 7, 5, 7}, {15, 6, 9, 3}, {16, 12, 4, 4}, {44, 33, 13, 11}, {4, 3, 1, 1}, {9, 0, 1, 9}, {10, 2, 9, 5},
                        {3, 1, 300, 1}, {148, 74, 29, 37}, {87, 0, 37, 29}}) {
        check_block_transpose_case(k);
    }
    for (auto [inputs, units] : {std::pair{5, 3}, {2, 7}, {4, 4}, {13, 11}, {1, 1}, {37, 29}, {3, 40}}) {
        check_block_round_trip("SimpleRNN", {0}, inputs, units);
        // LSTM: cuDNN's gates [i, f, g, o] as Keras's.
        check_block_round_trip("LSTM", {0, 1, 2, 3}, inputs, units);
        // GRU: cuDNN's [r, z, h′] from Keras's [z, r, h].
        check_block_round_trip("GRU", {1, 0, 2}, inputs, units);
    }
}

// ---- RNN glue ----

struct Rows {
    int batch, time, units;
    Ints lengths;
};

/// Row 0 has every step, row 1 one; the others 1...time.
Rows rows(int batch, int time, int units) {
    Rows r{batch, time, units, Ints(batch)};
    for (int b = 0; b < batch; b++) r.lengths[b] = b == 0 ? time : b == 1 ? 1 : 1 + rng.below(time);
    return r;
}
std::string describe(const Rows &r) { return describe(" (batch %d, time %d, units %d) lengths ", r.batch, r.time, r.units) + describe(r.lengths); }

double dot(const Floats &a, const Floats &b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); i++) s += (double)a[i] * b[i];
    return s;
}

void check_rnn_glue(const Rows &r) {
    const int B = r.batch, T = r.time, U = r.units;
    const size_t sequence = (size_t)B * T * U, state = (size_t)B * U;
    auto at = [&](int b, int t, int u) { return ((size_t)b * T + t) * U + u; };
    const std::string shape = describe(r);

    // recur_rnn_carry_padding: y[b, t] = hy[b] at the masked steps t ≥ lengths[b]; the rest untouched.
    {
        Floats y = dyadics(sequence), hy = dyadics(state), want = y;
        for (int b = 0; b < B; b++)
            for (int t = r.lengths[b]; t < T; t++)
                for (int u = 0; u < U; u++) want[at(b, t, u)] = hy[(size_t)b * U + u];
        for (Config c : element_configs((long)sequence)) {
            Floats out = y;
            LAUNCH(recur_rnn_carry_padding, c.grid, c.block, out.data(), hy.data(), r.lengths.data(), B, T, U);
            expect("recur_rnn_carry_padding" + shape + describe(c), out, want);
        }
    }

    // recur_rnn_carry_padding_backward: the masked steps' dy summed into dhy when carry, then zeroed.
    for (int carry : {0, 1}) {
        Floats dy = dyadics(sequence), dhy = dyadics(state);
        Floats wantDy = dy, wantDhy = dhy;
        for (int b = 0; b < B; b++) {
            for (int u = 0; u < U; u++) {
                for (int t = r.lengths[b]; t < T; t++) {
                    if (carry) wantDhy[(size_t)b * U + u] += dy[at(b, t, u)];
                    wantDy[at(b, t, u)] = 0.0f;
                }
            }
        }
        for (Config c : element_configs((long)state)) {
            Floats gotDy = dy, gotDhy = dhy;
            LAUNCH(recur_rnn_carry_padding_backward, c.grid, c.block, gotDy.data(), gotDhy.data(), r.lengths.data(), B, T, U, carry);
            expect(describe("recur_rnn_carry_padding_backward carry=%d dy", carry) + shape + describe(c), gotDy, wantDy);
            expect(describe("recur_rnn_carry_padding_backward carry=%d dhy", carry) + shape + describe(c), gotDhy, wantDhy);
        }
    }
    // ... the adjoint of the forward as a map (cuDNN's y, hy) → outputs: <F(y, hy), g> = <y, dy> + <hy, dhy>.
    {
        Floats y = dyadics(sequence), hy = dyadics(state), g = dyadics(sequence);
        Floats forward = y, dy = g, dhy(state, 0.0f);
        Config c = element_configs((long)sequence)[0];
        LAUNCH(recur_rnn_carry_padding, c.grid, c.block, forward.data(), hy.data(), r.lengths.data(), B, T, U);
        c = element_configs((long)state)[0];
        LAUNCH(recur_rnn_carry_padding_backward, c.grid, c.block, dy.data(), dhy.data(), r.lengths.data(), B, T, U, 1);
        expect_equal("recur_rnn_carry_padding_backward is the adjoint of recur_rnn_carry_padding" + shape, dot(y, dy) + dot(hy, dhy),
                     dot(forward, g));
    }

    // recur_reverse_within_lengths: y[b, t] = x[b, lengths[b] − 1 − t] for t < lengths[b], else 0.
    {
        Floats x = uniforms(sequence), want(sequence), valid(sequence);
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                for (int u = 0; u < U; u++) {
                    bool inside = t < r.lengths[b];
                    want[at(b, t, u)] = inside ? x[at(b, r.lengths[b] - 1 - t, u)] : 0.0f;
                    valid[at(b, t, u)] = inside ? x[at(b, t, u)] : 0.0f;
                }
            }
        }
        for (Config c : element_configs((long)sequence)) {
            Floats y(sequence, sentinel), twice(sequence, sentinel);
            LAUNCH(recur_reverse_within_lengths, c.grid, c.block, x.data(), y.data(), r.lengths.data(), B, T, U);
            expect("recur_reverse_within_lengths" + shape + describe(c), y, want);
            LAUNCH(recur_reverse_within_lengths, c.grid, c.block, y.data(), twice.data(), r.lengths.data(), B, T, U);
            expect("recur_reverse_within_lengths is its own inverse on the valid steps" + shape + describe(c), twice, valid);
        }
    }

    // recur_rnn_reverse_outputs: out[b, s] = yr[b, s − skipped] for s ≥ skipped = time − lengths[b], else
    // h0[b] when carry, 0 otherwise.
    for (int carry : {0, 1}) {
        Floats yr = dyadics(sequence), h0 = dyadics(state), want(sequence);
        for (int b = 0; b < B; b++) {
            int skipped = T - r.lengths[b];
            for (int s = 0; s < T; s++)
                for (int u = 0; u < U; u++)
                    want[at(b, s, u)] = s >= skipped ? yr[at(b, s - skipped, u)] : carry ? h0[(size_t)b * U + u] : 0.0f;
        }
        for (Config c : element_configs((long)sequence)) {
            Floats out(sequence, sentinel);
            LAUNCH(recur_rnn_reverse_outputs, c.grid, c.block, yr.data(), h0.data(), out.data(), r.lengths.data(), B, T, U, carry);
            expect(describe("recur_rnn_reverse_outputs carry=%d", carry) + shape + describe(c), out, want);
        }
    }

    // recur_rnn_reverse_outputs_backward: dyr[b, t] = dOut[b, t + skipped] for t < lengths[b], else 0;
    // dh0[b] += the masked steps' dOut when carry.
    for (int carry : {0, 1}) {
        Floats dOut = dyadics(sequence), dh0 = dyadics(state);
        Floats wantDyr(sequence), wantDh0 = dh0;
        for (int b = 0; b < B; b++) {
            int skipped = T - r.lengths[b];
            for (int u = 0; u < U; u++) {
                for (int t = 0; t < T; t++) wantDyr[at(b, t, u)] = t < r.lengths[b] ? dOut[at(b, t + skipped, u)] : 0.0f;
                if (carry)
                    for (int s = 0; s < skipped; s++) wantDh0[(size_t)b * U + u] += dOut[at(b, s, u)];
            }
        }
        for (Config c : element_configs((long)state)) {
            Floats dyr(sequence, sentinel), gotDh0 = dh0;
            LAUNCH(recur_rnn_reverse_outputs_backward, c.grid, c.block, dOut.data(), dyr.data(), gotDh0.data(), r.lengths.data(), B, T, U,
                   carry);
            expect(describe("recur_rnn_reverse_outputs_backward carry=%d dyr", carry) + shape + describe(c), dyr, wantDyr);
            expect(describe("recur_rnn_reverse_outputs_backward carry=%d dh0", carry) + shape + describe(c), gotDh0, wantDh0);
        }
        // The exact adjoint of the forward (dyadic data: every sum is exact in double):
        // <forward(yr, h0), g> = <yr, dyr> + <h0, dh0>, dh0 from 0 (and no h0 term without carry).
        for (int trial = 0; trial < 3; trial++) {
            Floats yr = dyadics(sequence), h0 = dyadics(state), g = dyadics(sequence);
            Floats out(sequence, sentinel), dyr(sequence, sentinel), dh(state, 0.0f);
            Config c = element_configs((long)sequence)[0];
            LAUNCH(recur_rnn_reverse_outputs, c.grid, c.block, yr.data(), h0.data(), out.data(), r.lengths.data(), B, T, U, carry);
            c = element_configs((long)state)[0];
            LAUNCH(recur_rnn_reverse_outputs_backward, c.grid, c.block, g.data(), dyr.data(), dh.data(), r.lengths.data(), B, T, U, carry);
            expect_equal(describe("recur_rnn_reverse_outputs_backward carry=%d is the adjoint of recur_rnn_reverse_outputs", carry) + shape,
                         dot(yr, dyr) + (carry ? dot(h0, dh) : 0.0), dot(out, g));
            if (!carry) expect("recur_rnn_reverse_outputs_backward carry=0 leaves dh0" + shape, dh, Floats(state, 0.0f));
        }
    }
}

void check_rnn() {
    check_rnn_glue(rows(5, 7, 3));
    check_rnn_glue(rows(9, 13, 11));
    check_rnn_glue(rows(2, 1, 4));
    check_rnn_glue(rows(3, 40, 1));
}

// =====================================================================================================
// nn.cu: against the CPU code each kernel mirrors
// =====================================================================================================

void check_update_rules() {
    const int n = 1001;
    for (Config c : element_configs(n)) {
        const Floats w0 = uniforms(n), v0 = uniforms(n, -0.1f, 0.1f), g = uniforms(n), a0 = uniforms(n, 0, 0.1f);
        // .sgd (UpdateRules.swift applyOnHost)
        for (float mu : {0.0f, 0.9f}) {
            for (int nesterov : {0, 1}) {
                Floats w = w0, v = v0, wantW = w0, wantV = v0;
                const float lr = 0.03f;
                for (int i = 0; i < n; i++) {
                    if (mu == 0) {
                        wantW[i] -= lr * g[i];
                    } else {
                        wantV[i] = mu * wantV[i] - lr * g[i];
                        wantW[i] += nesterov ? mu * wantV[i] - lr * g[i] : wantV[i];
                    }
                }
                LAUNCH(recur_sgd, c.grid, c.block, w.data(), mu == 0 ? nullptr : v.data(), g.data(), lr, mu, nesterov, n);
                expect(describe("recur_sgd mu=%g nesterov=%d w", mu, nesterov) + describe(c), w, wantW);
                expect(describe("recur_sgd mu=%g nesterov=%d v", mu, nesterov) + describe(c), v, wantV);
            }
        }
        // .adam
        {
            const float lr = 0.001f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
            const double t = 3;
            const float alpha = (float)((double)lr * std::sqrt(1 - std::pow((double)b2, t)) / (1 - std::pow((double)b1, t)));
            Floats w = w0, m = v0, v = a0, wantW = w0, wantM = v0, wantV = a0;
            for (int i = 0; i < n; i++) {
                wantM[i] += (g[i] - wantM[i]) * (1 - b1);
                wantV[i] += (g[i] * g[i] - wantV[i]) * (1 - b2);
                wantW[i] -= alpha * wantM[i] / (std::sqrt(wantV[i]) + eps);
            }
            LAUNCH(recur_adam, c.grid, c.block, w.data(), m.data(), v.data(), g.data(), alpha, b1, b2, eps, n);
            expect("recur_adam w" + describe(c), w, wantW);
            expect("recur_adam m" + describe(c), m, wantM);
            expect("recur_adam v" + describe(c), v, wantV);
        }
        // .rmsprop
        for (float mu : {0.0f, 0.5f}) {
            const float lr = 0.01f, rho = 0.9f, eps = 1e-7f;
            Floats w = w0, a = a0, s = v0, wantW = w0, wantA = a0, wantS = v0;
            for (int i = 0; i < n; i++) {
                wantA[i] = rho * wantA[i] + (1 - rho) * g[i] * g[i];
                float delta = lr * g[i] / std::sqrt(wantA[i] + eps);
                if (mu > 0) {
                    wantS[i] = mu * wantS[i] + delta;
                    wantW[i] -= wantS[i];
                } else {
                    wantW[i] -= delta;
                }
            }
            LAUNCH(recur_rmsprop, c.grid, c.block, w.data(), a.data(), mu > 0 ? s.data() : nullptr, g.data(), lr, rho, mu, eps, n);
            expect(describe("recur_rmsprop mu=%g w", mu) + describe(c), w, wantW);
            expect(describe("recur_rmsprop mu=%g a", mu) + describe(c), a, wantA);
            expect(describe("recur_rmsprop mu=%g s", mu) + describe(c), s, wantS);
        }
        // .weightDecay
        {
            Floats w = w0, want = w0;
            for (int i = 0; i < n; i++) want[i] -= want[i] * 0.01f;
            LAUNCH(recur_weight_decay, c.grid, c.block, w.data(), 0.01f, n);
            expect("recur_weight_decay" + describe(c), w, want);
        }
    }
}

/// CPUBackend.logSoftmax, its exps by the CPU kernel recur_exp.
Floats log_softmax_reference(const Floats &x, int rows, int classes) {
    Floats y(x.size()), scratch(classes);
    for (int r = 0; r < rows; r++) {
        const float *src = x.data() + (size_t)r * classes;
        float *out = y.data() + (size_t)r * classes;
        float m = src[0];
        for (int k = 1; k < classes; k++)
            if (src[k] > m) m = src[k];
        for (int k = 0; k < classes; k++) scratch[k] = src[k] - m;
        recur_exp(scratch.data(), scratch.data(), classes);
        double s = 0;
        for (int k = 0; k < classes; k++) s += (double)scratch[k];
        float logSum = (float)std::log(s);
        for (int k = 0; k < classes; k++) out[k] = (src[k] - m) - logSum;
    }
    return y;
}

void check_log_softmax() {
    for (auto [rows, classes] : {std::pair{37, 10}, {300, 3}, {5, 1}, {3, 301}}) {
        Floats x = uniforms((size_t)rows * classes, -20, 20);
        Floats want = log_softmax_reference(x, rows, classes);
        for (Config c : element_configs(rows)) {
            Floats y(x.size(), sentinel);
            LAUNCH(recur_log_softmax, c.grid, c.block, x.data(), y.data(), rows, classes);
            expect(describe("recur_log_softmax (%d, %d)", rows, classes) + describe(c), y, want);
        }
    }
}

/// CPUBackend.batchNormalization, its column sums by the CPU kernel recur_sum_rows.
void bn_forward_reference(const Floats &x, int rows, int features, const float *gamma, const float *beta, float eps, Floats &y, Floats &mean,
                          Floats &variance) {
    float inverseCount = 1 / (float)std::max(rows, 1);
    y.assign(x.size(), 0);
    mean.assign(features, 0);
    variance.assign(features, 0);
    recur_sum_rows(x.data(), rows, features, features, mean.data());
    for (int f = 0; f < features; f++) mean[f] *= inverseCount;
    for (int r = 0; r < rows; r++)
        for (int f = 0; f < features; f++) {
            float d = x[(size_t)r * features + f] - mean[f];
            y[(size_t)r * features + f] = d * d;
        }
    recur_sum_rows(y.data(), rows, features, features, variance.data());
    Floats scale(features), shift(features);
    for (int f = 0; f < features; f++) {
        variance[f] *= inverseCount;
        scale[f] = 1 / std::sqrt(variance[f] + eps) * (gamma ? gamma[f] : 1);
        shift[f] = -(mean[f] * scale[f]) + (beta ? beta[f] : 0);
    }
    for (int r = 0; r < rows; r++)
        for (int f = 0; f < features; f++) y[(size_t)r * features + f] = x[(size_t)r * features + f] * scale[f] + shift[f];
}

/// CPUBackend.batchNormalizationGradients.
void bn_backward_reference(const Floats &x, const Floats &g, int rows, int features, const Floats &mean, const Floats &variance,
                           const float *gamma, float eps, Floats &dx, Floats &dGamma, Floats &dBeta) {
    float count = (float)rows;
    dx.assign(x.size(), 0);
    dGamma.assign(features, 0);
    dBeta.assign(features, 0);
    Floats inverseDeviation(features), factor(features);
    for (int f = 0; f < features; f++) {
        inverseDeviation[f] = 1 / std::sqrt(variance[f] + eps);
        factor[f] = (gamma ? gamma[f] : 1) * inverseDeviation[f] / count;
    }
    for (int r = 0; r < rows; r++)
        for (int f = 0; f < features; f++) {
            size_t i = (size_t)r * features + f;
            dBeta[f] += g[i];
            dGamma[f] += g[i] * (x[i] - mean[f]) * inverseDeviation[f];
        }
    for (int r = 0; r < rows; r++)
        for (int f = 0; f < features; f++) {
            size_t i = (size_t)r * features + f;
            float normalized = (x[i] - mean[f]) * inverseDeviation[f];
            dx[i] = factor[f] * (count * g[i] - dBeta[f] - normalized * dGamma[f]);
        }
}

void check_batch_normalization() {
    const float eps = 1e-3f;
    for (auto [rows, features] : {std::pair{19, 5}, {7, 70}, {1, 300}, {33, 130}}) {
        Floats x = uniforms((size_t)rows * features, -3, 3), g = uniforms(x.size());
        Floats gamma = uniforms(features, 0.5f, 2), beta = uniforms(features);
        for (bool affine : {false, true}) {
            const float *gm = affine ? gamma.data() : nullptr, *bt = affine ? beta.data() : nullptr;
            Floats y, mean, variance, dx, dGamma, dBeta;
            bn_forward_reference(x, rows, features, gm, bt, eps, y, mean, variance);
            bn_backward_reference(x, g, rows, features, mean, variance, gm, eps, dx, dGamma, dBeta);
            std::string shape = describe(" (%d, %d)%s", rows, features, affine ? " gamma, beta" : "");
            for (Config c : element_configs(features)) {
                Floats gy(x.size(), sentinel), gmean(features, sentinel), gvar(features, sentinel);
                LAUNCH(recur_bn_forward, c.grid, c.block, x.data(), gy.data(), gmean.data(), gvar.data(), gm, bt, rows, features, eps);
                expect("recur_bn_forward y" + shape + describe(c), gy, y);
                expect("recur_bn_forward mean" + shape + describe(c), gmean, mean);
                expect("recur_bn_forward var" + shape + describe(c), gvar, variance);
                Floats gdx(x.size(), sentinel), gdg(features, sentinel), gdb(features, sentinel);
                LAUNCH(recur_bn_backward, c.grid, c.block, x.data(), g.data(), mean.data(), variance.data(), gm, gdx.data(), gdg.data(), gdb.data(),
                       rows, features, eps);
                expect("recur_bn_backward dx" + shape + describe(c), gdx, dx);
                expect("recur_bn_backward dgamma" + shape + describe(c), gdg, dGamma);
                expect("recur_bn_backward dbeta" + shape + describe(c), gdb, dBeta);
            }
        }
    }
}

void check_gates() {
    for (auto [B, U] : {std::pair{5, 67}, {3, 300}, {1, 1}}) {
        const size_t state = (size_t)B * U;
        std::string shape = describe(" (batch %d, units %d)", B, U);
        // LSTM
        Floats gates = uniforms(4 * state, -4, 4), cPrev = uniforms(state, -2, 2), dh = uniforms(state), dc = uniforms(state);
        Floats wantGates = gates, wantC(state), wantTanh(state), wantH(state);
        cpu_recur_lstm_gates_forward(wantGates.data(), cPrev.data(), wantC.data(), wantTanh.data(), wantH.data(), B, U);
        Floats wantDc = dc, wantDgates(4 * state);
        cpu_recur_lstm_gates_backward(wantGates.data(), cPrev.data(), wantTanh.data(), dh.data(), wantDc.data(), wantDgates.data(), B, U);
        // GRU
        Floats xproj = uniforms(3 * state, -3, 3), hproj = uniforms(3 * state, -3, 3), hPrev = uniforms(state);
        Floats wantAct(3 * state), wantGruH(state), wantDx(3 * state), wantDhproj(3 * state), wantDhPrev(state);
        cpu_recur_gru_gates_forward(xproj.data(), hproj.data(), hPrev.data(), wantAct.data(), wantGruH.data(), B, U);
        cpu_recur_gru_gates_backward(wantAct.data(), hproj.data(), hPrev.data(), dh.data(), wantDx.data(), wantDhproj.data(), wantDhPrev.data(), B,
                                     U);
        for (Config c : element_configs((long)state)) {
            Floats gt = gates, cc(state, sentinel), tc(state, sentinel), h(state, sentinel);
            LAUNCH(recur_lstm_gates_forward, c.grid, c.block, gt.data(), cPrev.data(), cc.data(), tc.data(), h.data(), B, U);
            expect("recur_lstm_gates_forward gates" + shape + describe(c), gt, wantGates);
            expect("recur_lstm_gates_forward c" + shape + describe(c), cc, wantC);
            expect("recur_lstm_gates_forward tanh_c" + shape + describe(c), tc, wantTanh);
            expect("recur_lstm_gates_forward h" + shape + describe(c), h, wantH);
            Floats gdc = dc, dg(4 * state, sentinel);
            LAUNCH(recur_lstm_gates_backward, c.grid, c.block, wantGates.data(), cPrev.data(), wantTanh.data(), dh.data(), gdc.data(), dg.data(), B,
                   U);
            expect("recur_lstm_gates_backward dgates" + shape + describe(c), dg, wantDgates);
            expect("recur_lstm_gates_backward dc" + shape + describe(c), gdc, wantDc);

            Floats act(3 * state, sentinel), gh(state, sentinel);
            LAUNCH(recur_gru_gates_forward, c.grid, c.block, xproj.data(), hproj.data(), hPrev.data(), act.data(), gh.data(), B, U);
            expect("recur_gru_gates_forward act" + shape + describe(c), act, wantAct);
            expect("recur_gru_gates_forward h" + shape + describe(c), gh, wantGruH);
            Floats dx(3 * state, sentinel), dhp(3 * state, sentinel), dprev(state, sentinel);
            LAUNCH(recur_gru_gates_backward, c.grid, c.block, wantAct.data(), hproj.data(), hPrev.data(), dh.data(), dx.data(), dhp.data(),
                   dprev.data(), B, U);
            expect("recur_gru_gates_backward dxproj" + shape + describe(c), dx, wantDx);
            expect("recur_gru_gates_backward dhproj" + shape + describe(c), dhp, wantDhproj);
            expect("recur_gru_gates_backward dh_prev" + shape + describe(c), dprev, wantDhPrev);
        }
    }
}

void check_unary_backward() {
    const int n = 1001;
    Floats x = uniforms(n, -3, 3), g = uniforms(n);
    Floats t(n), s(n);
    recur_tanh(x.data(), t.data(), n);
    recur_sigmoid(x.data(), s.data(), n);
    Floats wantTanh(n), wantSigmoid(n), wantRelu(n);
    recur_tanh_backward(t.data(), g.data(), wantTanh.data(), n);
    recur_sigmoid_backward(s.data(), g.data(), wantSigmoid.data(), n);
    recur_relu_backward(x.data(), g.data(), wantRelu.data(), n);
    for (Config c : element_configs(n)) {
        Floats dx(n, sentinel);
        LAUNCH(recur_unary_backward, c.grid, c.block, 0, nullptr, t.data(), g.data(), dx.data(), n);
        expect("recur_unary_backward tanh" + describe(c), dx, wantTanh);
        dx = g; // in place: dx is g
        LAUNCH(recur_unary_backward, c.grid, c.block, 1, nullptr, s.data(), dx.data(), dx.data(), n);
        expect("recur_unary_backward sigmoid, in place" + describe(c), dx, wantSigmoid);
        dx.assign(n, sentinel);
        LAUNCH(recur_unary_backward, c.grid, c.block, 2, x.data(), nullptr, g.data(), dx.data(), n);
        expect("recur_unary_backward relu" + describe(c), dx, wantRelu);
    }
}

/// The __global__ functions a .cu file defines.
std::vector<std::string> kernels_in(const char *path) {
    std::ifstream file(path);
    if (!file) {
        std::printf("error: cannot read %s\n", path);
        std::exit(2);
    }
    std::stringstream text;
    text << file.rdbuf();
    std::string s = text.str();
    std::vector<std::string> names;
    const std::string marker = "__global__ void ";
    for (size_t at = s.find(marker); at != std::string::npos; at = s.find(marker, at + 1)) {
        size_t start = at + marker.size(), end = start;
        while (end < s.size() && (std::isalnum((unsigned char)s[end]) || s[end] == '_')) end++;
        names.push_back(s.substr(start, end - start));
    }
    return names;
}

} // namespace

int main(int argc, char **argv) {
    check_fill();
    check_unary_and_scale();
    check_binary();
    check_sum();
    check_argmax_pick_unpick();
    check_gather_scatter();
    check_transpose();
    check_slices();
    check_place();
    check_reverse();
    check_rnn_weights();
    check_rnn();
    check_update_rules();
    check_log_softmax();
    check_batch_normalization();
    check_gates();
    check_unary_backward();

    size_t kernels = 0;
    for (int i = 1; i < argc; i++) {
        for (const std::string &name : kernels_in(argv[i])) {
            kernels++;
            if (!cuda_host::launched.count(name)) {
                std::printf("UNCHECKED %s (%s): no check launches it\n", name.c_str(), argv[i]);
                failures++;
            }
        }
    }
    std::printf("cuda host check: %zu kernels of %d files, %zu launched, %ld launches, %ld comparisons: %s\n", kernels, argc - 1,
                cuda_host::launched.size(), cuda_host::launches, comparisons,
                failures ? (std::to_string(failures) + " FAILED").c_str() : "all match");
    return failures ? 3 : 0;
}
