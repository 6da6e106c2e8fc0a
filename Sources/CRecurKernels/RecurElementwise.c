#include "RecurElementwise.h"
#include "KernelSupport.h"

/* Where operand `o` starts at row r of step t. */
static inline __attribute__((always_inline)) float *operand_row(const recur_operand *o, long r, long t) {
    return o->base + t * o->step_stride + (r < o->period ? r : r % o->period) * o->row_stride;
}

/* One operation forward on n scalars starting at row r. */
static inline __attribute__((always_inline)) void forward_scalars(const recur_elementwise_op *o, long r, long n, long t) {
    float *y = operand_row(&o->y, r, t);
    const float *a = operand_row(&o->a, r, t);
    const float alpha = o->alpha;
    switch (o->op) {
    case RECUR_EW_TANH: for (long k = 0; k < n; k++) y[k] = fast_tanhf(a[k]); return;
    case RECUR_EW_SIGMOID: for (long k = 0; k < n; k++) y[k] = fast_sigmoidf(a[k]); return;
    case RECUR_EW_RELU: for (long k = 0; k < n; k++) y[k] = NAN_KEEPING_MAX(a[k], 0.0f); return;
    case RECUR_EW_EXP: for (long k = 0; k < n; k++) y[k] = fast_expf(a[k]); return;
    case RECUR_EW_LOG: for (long k = 0; k < n; k++) y[k] = logf(a[k]); return;
    case RECUR_EW_SQRT: for (long k = 0; k < n; k++) y[k] = sqrtf(a[k]); return;
    case RECUR_EW_ABS: for (long k = 0; k < n; k++) y[k] = fabsf(a[k]); return;
    case RECUR_EW_SIGN: for (long k = 0; k < n; k++) y[k] = a[k] > 0.0f ? 1.0f : (a[k] < 0.0f ? -1.0f : 0.0f); return;
    case RECUR_EW_SCALE: for (long k = 0; k < n; k++) y[k] = alpha * a[k]; return;
    default: break;
    }
    const float *b = operand_row(&o->b, r, t);
    const long sa = o->a.column_stride, sb = o->b.column_stride;
    switch (o->op) {
    case RECUR_EW_ADD: BINARY_LOOPS(u + v); break;
    case RECUR_EW_SUB: BINARY_LOOPS(u - v); break;
    case RECUR_EW_MUL: BINARY_LOOPS(u * v); break;
    case RECUR_EW_DIV: BINARY_LOOPS(u / v); break;
    case RECUR_EW_MAX: BINARY_LOOPS(NAN_KEEPING_MAX(u, v)); break;
    case RECUR_EW_MIN: BINARY_LOOPS(NAN_KEEPING_MIN(u, v)); break;
    case RECUR_EW_GREATER: BINARY_LOOPS(u > v ? 1.0f : 0.0f); break;
    case RECUR_EW_GREATER_EQUAL: BINARY_LOOPS(u >= v ? 1.0f : 0.0f); break;
    case RECUR_EW_LESS: BINARY_LOOPS(u < v ? 1.0f : 0.0f); break;
    case RECUR_EW_EQUAL: BINARY_LOOPS(u == v ? 1.0f : 0.0f); break;
    case RECUR_EW_NOT_EQUAL: BINARY_LOOPS(u != v ? 1.0f : 0.0f); break;
    default: break;
    }
}

/* Calls BODY(row, scalars) for the rows r0..<r1 of a block: once for a dense operation, else per row. */
#define FOR_EACH_CALL(o, r0, r1, columns, BODY)                                                         \
    if ((o)->flags & RECUR_EW_DENSE) { BODY((r0), ((r1) - (r0)) * (columns)); }                         \
    else { for (long r = (r0); r < (r1); r++) { BODY(r, (columns)); } }

static inline long block_rows(long columns) {
    return columns > 0 && columns < RECUR_ELEMENTWISE_BLOCK ? RECUR_ELEMENTWISE_BLOCK / columns : 1;
}

MULTIVERSION
void recur_elementwise_forward(const recur_elementwise_op *ops, long count, long first, long end, long columns, long t) {
    const long rows = block_rows(columns);
    for (long r0 = first; r0 < end; r0 += rows) {
        const long r1 = r0 + rows < end ? r0 + rows : end;
        for (long i = 0; i < count; i++) {
            const recur_elementwise_op *o = &ops[i];
            if (o->flags & RECUR_EW_SKIP_FORWARD) continue;
#define FORWARD(row, n) forward_scalars(o, row, n, t)
            FOR_EACH_CALL(o, r0, r1, columns, FORWARD)
#undef FORWARD
        }
    }
}

/* d = s·x or d += s·x (stride 1), or d[0] += s·Σx (stride 0: a broadcast column's one scalar). */
static inline __attribute__((always_inline)) void write_gradient(float *d, long stride, int assign, const float *x, float s, long n) {
    if (stride == 1) {
        if (assign) { for (long k = 0; k < n; k++) d[k] = s * x[k]; }
        else { for (long k = 0; k < n; k++) d[k] += s * x[k]; }
    } else {
        float total = 0.0f;
        for (long k = 0; k < n; k++) total += x[k];
        d[0] += s * total;
    }
}

/* d = g·w or d += g·w (stride 1, straight into the gradient), or d[0] += Σ g·w through `x` (stride 0). */
static inline __attribute__((always_inline)) void write_product_gradient(float *d, long stride, int assign, const float *g,
                                                                         const float *w, float *x, long n) {
    if (stride == 1 && assign) { for (long k = 0; k < n; k++) d[k] = g[k] * w[k]; }
    else if (stride == 1) { for (long k = 0; k < n; k++) d[k] += g[k] * w[k]; }
    else { for (long k = 0; k < n; k++) x[k] = g[k] * w[k]; write_gradient(d, stride, 0, x, 1.0f, n); }
}

/* The operand's n scalars with stride 1: itself, or its one broadcast scalar repeated into `spread`. */
static inline __attribute__((always_inline)) const float *spread_row(const float *x, long stride, float *spread, long n) {
    if (stride == 1) return x;
    for (long k = 0; k < n; k++) spread[k] = x[0];
    return spread;
}

/* One operation's vector-Jacobian product on n scalars starting at row r. `scratch` holds three
   rows of `capacity` floats. */
static inline __attribute__((always_inline)) void backward_scalars(const recur_elementwise_op *o, long r, long n, long t,
                                                                   float *scratch, long capacity) {
    const float *g = operand_row(&o->dy, r, t), *y = operand_row(&o->y, r, t);
    const float *a = operand_row(&o->a, r, t);
    const int has_a = o->flags & RECUR_EW_HAS_DA, has_b = o->flags & RECUR_EW_HAS_DB;
    float *da = has_a ? operand_row(&o->da, r, t) : 0;
    const long sda = o->da.column_stride;
    const int assign_a = (o->flags & RECUR_EW_ASSIGN_A) != 0, assign_b = (o->flags & RECUR_EW_ASSIGN_B) != 0;
    float *x = scratch + 2 * capacity;
    /* Unary operations and scaling: their operand and gradient have the result's columns. */
    switch (o->op) {
    case RECUR_EW_TANH:
        if (assign_a) { for (long k = 0; k < n; k++) da[k] = g[k] * (1.0f - y[k] * y[k]); }
        else { for (long k = 0; k < n; k++) da[k] += g[k] * (1.0f - y[k] * y[k]); }
        return;
    case RECUR_EW_SIGMOID:
        if (assign_a) { for (long k = 0; k < n; k++) da[k] = g[k] * y[k] * (1.0f - y[k]); }
        else { for (long k = 0; k < n; k++) da[k] += g[k] * y[k] * (1.0f - y[k]); }
        return;
    case RECUR_EW_SCALE: write_gradient(da, sda, assign_a, g, o->alpha, n); return;
    case RECUR_EW_RELU: for (long k = 0; k < n; k++) x[k] = a[k] > 0.0f ? g[k] : 0.0f; break;
    case RECUR_EW_EXP: for (long k = 0; k < n; k++) x[k] = g[k] * y[k]; break;
    case RECUR_EW_LOG: for (long k = 0; k < n; k++) x[k] = g[k] / a[k]; break;
    case RECUR_EW_SQRT: for (long k = 0; k < n; k++) x[k] = g[k] / (2.0f * y[k]); break;
    case RECUR_EW_ABS: for (long k = 0; k < n; k++) x[k] = a[k] > 0.0f ? g[k] : (a[k] < 0.0f ? -g[k] : 0.0f); break;
    case RECUR_EW_SIGN: case RECUR_EW_GREATER: case RECUR_EW_GREATER_EQUAL: case RECUR_EW_LESS: case RECUR_EW_EQUAL:
    case RECUR_EW_NOT_EQUAL:
        return;
    default: goto binary;
    }
    write_gradient(da, sda, assign_a, x, 1.0f, n);
    return;

binary:;
    float *db = has_b ? operand_row(&o->db, r, t) : 0;
    const long sdb = o->db.column_stride;
    if (o->op == RECUR_EW_ADD || o->op == RECUR_EW_SUB) {
        if (has_a) write_gradient(da, sda, assign_a, g, 1.0f, n);
        if (has_b) write_gradient(db, sdb, assign_b, g, o->op == RECUR_EW_SUB ? -1.0f : 1.0f, n);
        return;
    }
    /* The other ops read their operands: a broadcast one is spread into a row first. */
    const float *u = spread_row(a, o->a.column_stride, scratch, n);
    const float *v = spread_row(operand_row(&o->b, r, t), o->b.column_stride, scratch + capacity, n);
    switch (o->op) {
    case RECUR_EW_MUL:
        /* d(a·b) = g·b da + g·a db. */
        if (has_a) write_product_gradient(da, sda, assign_a, g, v, x, n);
        if (has_b) write_product_gradient(db, sdb, assign_b, g, u, x, n);
        return;
    case RECUR_EW_DIV:
        /* d(a/b) = g/b da − g·y/b db. */
        if (has_a) { for (long k = 0; k < n; k++) x[k] = g[k] / v[k]; write_gradient(da, sda, assign_a, x, 1.0f, n); }
        if (has_b) { for (long k = 0; k < n; k++) x[k] = g[k] * y[k] / v[k]; write_gradient(db, sdb, assign_b, x, -1.0f, n); }
        return;
    case RECUR_EW_MAX: case RECUR_EW_MIN: {
        /* The gradient goes to a where it won, ties to a (as the eager ops). */
        const int maximum = o->op == RECUR_EW_MAX;
        if (has_a) {
            for (long k = 0; k < n; k++) x[k] = (maximum ? u[k] >= v[k] : u[k] <= v[k]) ? g[k] : 0.0f;
            write_gradient(da, sda, assign_a, x, 1.0f, n);
        }
        if (has_b) {
            for (long k = 0; k < n; k++) x[k] = (maximum ? u[k] >= v[k] : u[k] <= v[k]) ? 0.0f : g[k];
            write_gradient(db, sdb, assign_b, x, 1.0f, n);
        }
        return;
    }
    default: return;
    }
}

MULTIVERSION
void recur_elementwise_backward(const recur_elementwise_op *ops, long count, long first, long end, long columns, long t,
                                float *scratch) {
    const long rows = block_rows(columns);
    const long capacity = columns > RECUR_ELEMENTWISE_BLOCK ? columns : RECUR_ELEMENTWISE_BLOCK;
    if (end <= first) return;
    /* The last block first, so that a broadcast operand's row r mod p has all of its contributions
       (from this block or later-run ones) before its own operation reads its gradient. */
    for (long r0 = first + (end - 1 - first) / rows * rows; r0 >= first; r0 -= rows) {
        const long r1 = r0 + rows < end ? r0 + rows : end;
        for (long i = count - 1; i >= 0; i--) {
            const recur_elementwise_op *o = &ops[i];
            if (!(o->flags & (RECUR_EW_HAS_DA | RECUR_EW_HAS_DB))) continue;
#define BACKWARD(row, n) backward_scalars(o, row, n, t, scratch, capacity)
            FOR_EACH_CALL(o, r0, r1, columns, BACKWARD)
#undef BACKWARD
        }
    }
}
