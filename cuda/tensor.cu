// Recur's CUDA backend: the tensor kernels (elementwise, broadcasting, reductions, indexing, layout)
// and the glue around cuDNN's RNN (weight packing, right-padded masks). Compiled to PTX at development
// time by scripts/build-ptx.sh; the backend (Sources/RecurTensor/Backend/CUDA) launches them.
//
// Launch convention: element kernels take a `total` and loop over it with a grid stride, launched as
// min(⌈total/256⌉, 4096) blocks of 256 threads; `reduce` kernels give each output a block of 256
// threads (grid stride over outputs). Sizes are int: a tensor holds at most 2^30 scalars.

#define EACH(i, total) for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (total); i += blockDim.x * gridDim.x)

/// Broadcast operands: the result's extents and each operand's strides (0 along a broadcast axis).
struct Broadcast {
    int rank;
    int extents[8];
    int stridesA[8];
    int stridesB[8];
};

/// A permutation of axes: the result's extents and, for each result axis, the source's stride.
struct Permutation {
    int rank;
    int extents[8];
    int strides[8];
};

extern "C" {

/// y[i] = value; total = n.
__global__ void recur_fill(float *y, float value, int n) {
    EACH(i, n) y[i] = value;
}

/// y = op(x); op: 0 exp, 1 log, 2 tanh, 3 sigmoid, 4 relu, 5 sqrt, 6 abs, 7 sign. total = n.
__global__ void recur_unary(int op, const float *x, float *y, int n) {
    EACH(i, n) {
        float v = x[i], r;
        switch (op) {
        case 0: r = expf(v); break;
        case 1: r = logf(v); break;
        case 2: r = tanhf(v); break;
        case 3: r = 1.0f / (1.0f + expf(-v)); break;
        case 4: r = v > 0.0f || v != v ? v : 0.0f; break;
        case 5: r = sqrtf(v); break;
        case 6: r = fabsf(v); break;
        default: r = v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f); break;
        }
        y[i] = r;
    }
}

/// y = alpha·x; total = n.
__global__ void recur_scale(const float *x, float alpha, float *y, int n) {
    EACH(i, n) y[i] = alpha * x[i];
}

/// y = a op b broadcast to `shape`; op: 0 add, 1 subtract, 2 multiply, 3 divide, 4 maximum, 5 minimum,
/// 6 greater, 7 greaterEqual, 8 less, 9 equal, 10 notEqual (comparisons give 1 or 0). total = n.
__global__ void recur_binary(int op, const float *a, const float *b, float *y, int n, Broadcast shape) {
    EACH(i, n) {
        int rest = i, ia = 0, ib = 0;
        for (int d = shape.rank - 1; d >= 0; d--) {
            int k = rest % shape.extents[d];
            rest /= shape.extents[d];
            ia += k * shape.stridesA[d];
            ib += k * shape.stridesB[d];
        }
        float u = a[ia], v = b[ib], r;
        switch (op) {
        case 0: r = u + v; break;
        case 1: r = u - v; break;
        case 2: r = u * v; break;
        case 3: r = u / v; break;
        case 4: r = u > v || u != u ? u : v; break;  // NaN wins, as RecurKernels.c
        case 5: r = u < v || u != u ? u : v; break;
        case 6: r = u > v; break;
        case 7: r = u >= v; break;
        case 8: r = u < v; break;
        case 9: r = u == v; break;
        default: r = u != v; break;
        }
        y[i] = r;
    }
}

/// y[o, i] = Σ_k x[o, k, i] over (outer, n, inner), in double; reduce over outer·inner outputs.
__global__ void recur_sum(const float *x, float *y, int outer, int n, int inner) {
    __shared__ double partial[256];
    for (int out = blockIdx.x; out < outer * inner; out += gridDim.x) {
        int o = out / inner, i = out % inner;
        double s = 0;
        for (int k = threadIdx.x; k < n; k += blockDim.x) s += x[((long long)o * n + k) * inner + i];
        partial[threadIdx.x] = s;
        __syncthreads();
        for (int width = blockDim.x / 2; width > 0; width /= 2) {
            if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
            __syncthreads();
        }
        if (threadIdx.x == 0) y[out] = (float)partial[0];
        __syncthreads();
    }
}

/// y[o, i] = the first k with the largest x[o, k, i]; total = outer·inner.
__global__ void recur_argmax(const float *x, float *y, int outer, int n, int inner) {
    EACH(out, outer * inner) {
        int o = out / inner, i = out % inner;
        const float *column = x + (long long)o * n * inner + i;
        int best = 0;
        float bestValue = column[0];
        for (int k = 1; k < n; k++) if (column[k * inner] > bestValue) { best = k; bestValue = column[k * inner]; }
        y[out] = (float)best;
    }
}

/// y[o, i] = x[o, index[o, i], i]; total = outer·inner.
__global__ void recur_pick(const float *x, const float *index, float *y, int outer, int n, int inner) {
    EACH(out, outer * inner) {
        int o = out / inner, i = out % inner;
        y[out] = x[((long long)o * n + (int)index[out]) * inner + i];
    }
}

/// dx[o, k, i] = g[o, i] where k = index[o, i], else 0; total = outer·n·inner.
__global__ void recur_unpick(const float *g, const float *index, float *dx, int outer, int n, int inner) {
    EACH(j, outer * n * inner) {
        int i = j % inner, k = j / inner % n, o = j / (inner * n);
        dx[j] = (int)index[o * inner + i] == k ? g[o * inner + i] : 0.0f;
    }
}

/// y[r] = table[rows[r]], rows of `width`; total = count·width.
__global__ void recur_gather_rows(const float *table, const int *rows, float *y, int count, int width) {
    EACH(j, count * width) y[j] = table[(long long)rows[j / width] * width + j % width];
}

/// table[rows[r]] += g[r] (table zeroed first); total = count·width.
__global__ void recur_scatter_add_rows(const float *g, const int *rows, float *table, int count, int width) {
    EACH(j, count * width) atomicAdd(table + (long long)rows[j / width] * width + j % width, g[j]);
}

/// y = x with its axes permuted; total = n.
__global__ void recur_transpose(const float *x, float *y, int n, Permutation p) {
    EACH(i, n) {
        int rest = i, offset = 0;
        for (int d = p.rank - 1; d >= 0; d--) {
            offset += rest % p.extents[d] * p.strides[d];
            rest /= p.extents[d];
        }
        y[i] = x[offset];
    }
}

/// y = x[:, start..<start+count, :] of (outer, n, inner); total = outer·count·inner.
__global__ void recur_slice(const float *x, float *y, int outer, int n, int inner, int start, int count) {
    EACH(j, outer * count * inner) {
        int block = count * inner, o = j / block, r = j % block;
        y[j] = x[((long long)o * n + start) * inner + r];
    }
}

/// y (outer, n, inner) = x (outer, count, inner) at start..<start+count, zeros elsewhere; total = outer·n·inner.
__global__ void recur_unslice(const float *x, float *y, int outer, int n, int inner, int start, int count) {
    EACH(j, outer * n * inner) {
        int k = j / inner % n, o = j / (inner * n), i = j % inner;
        y[j] = k >= start && k < start + count ? x[((long long)o * count + k - start) * inner + i] : 0.0f;
    }
}

/// y[o, offset + j] = part[o, j] for rows of `width` in rows of `rowWidth`; total = outer·width.
__global__ void recur_place(const float *part, float *y, int outer, int width, int rowWidth, int offset) {
    EACH(j, outer * width) y[(long long)(j / width) * rowWidth + offset + j % width] = part[j];
}

/// y[o, k] = x[o, n − 1 − k] of (outer, n, inner); total = outer·n·inner.
__global__ void recur_reverse(const float *x, float *y, int outer, int n, int inner) {
    EACH(j, outer * n * inner) {
        int k = j / inner % n, o = j / (inner * n), i = j % inner;
        y[j] = x[((long long)o * n + n - 1 - k) * inner + i];
    }
}

/// cuDNN's row-major (units, rows) matrix from a Keras column block: dst[u·rows + r] =
/// src[r·columns + offset + u]; total = units·rows.
__global__ void recur_block_transpose(const float *src, int columns, int offset, int rows, int units, float *dst) {
    EACH(j, units * rows) {
        int u = j / rows, r = j % rows;
        dst[j] = src[(long long)r * columns + offset + u];
    }
}

/// The inverse: dst[r·columns + offset + u] = src[u·rows + r]; total = units·rows.
__global__ void recur_block_untranspose(const float *src, float *dst, int columns, int offset, int rows, int units) {
    EACH(j, units * rows) {
        int u = j / rows, r = j % rows;
        dst[(long long)r * columns + offset + u] = src[j];
    }
}

/// Masked steps of a right-padded forward recurrence output the carried state: y[b, t] = hy[b] for
/// t ≥ lengths[b], over (batch, time, units); total = batch·time·units.
__global__ void recur_rnn_carry_padding(float *y, const float *hy, const int *lengths, int batch, int time, int units) {
    EACH(j, batch * time * units) {
        int u = j % units, t = j / units % time, b = j / (units * time);
        if (t >= lengths[b]) y[j] = hy[b * units + u];
    }
}

/// Its gradient: for t ≥ lengths[b], dhy[b] += dy[b, t] when `carry` (the outputs were the carried
/// state, not zeros) and dy[b, t] = 0 (cuDNN reads no gradient there); total = batch·units.
__global__ void recur_rnn_carry_padding_backward(float *dy, float *dhy, const int *lengths, int batch, int time, int units, int carry) {
    EACH(j, batch * units) {
        int b = j / units, u = j % units;
        float s = 0.0f;
        for (int t = lengths[b]; t < time; t++) {
            long long at = ((long long)b * time + t) * units + u;
            s += dy[at];
            dy[at] = 0.0f;
        }
        if (carry) dhy[j] += s;
    }
}

/// Each row's valid steps reversed: y[b, t] = x[b, lengths[b] − 1 − t] for t < lengths[b], else 0,
/// over (batch, time, features); its own inverse. total = batch·time·features.
__global__ void recur_reverse_within_lengths(const float *x, float *y, const int *lengths, int batch, int time, int features) {
    EACH(j, batch * time * features) {
        int f = j % features, t = j / features % time, b = j / (features * time), length = lengths[b];
        y[j] = t < length ? x[((long long)b * time + length - 1 - t) * features + f] : 0.0f;
    }
}

/// A reversed right-padded recurrence in Recur's processing order (last step first): the first
/// time − lengths[b] steps are masked and output the initial state h0 (zeros unless `carry`), then
/// cuDNN's outputs yr of the row reversed within its length: out[b, s] = yr[b, s − (time − lengths[b])].
/// total = batch·time·units.
__global__ void recur_rnn_reverse_outputs(const float *yr, const float *h0, float *out, const int *lengths, int batch, int time,
                                          int units, int carry) {
    EACH(j, batch * time * units) {
        int u = j % units, s = j / units % time, b = j / (units * time), skipped = time - lengths[b];
        out[j] = s >= skipped ? yr[((long long)b * time + s - skipped) * units + u] : (carry ? h0[b * units + u] : 0.0f);
    }
}

/// Its gradient: dyr[b, t] = dOut[b, t + time − lengths[b]] for t < lengths[b] else 0; and, when
/// `carry`, dh0[b] += Σ over the masked steps of dOut. total = batch·units.
__global__ void recur_rnn_reverse_outputs_backward(const float *dOut, float *dyr, float *dh0, const int *lengths, int batch, int time,
                                                   int units, int carry) {
    EACH(j, batch * units) {
        int b = j / units, u = j % units, skipped = time - lengths[b];
        float s = 0.0f;
        for (int t = 0; t < time; t++) {
            long long at = ((long long)b * time + t) * units + u;
            dyr[at] = t < lengths[b] ? dOut[((long long)b * time + t + skipped) * units + u] : 0.0f;
            if (t < skipped) s += dOut[at];
        }
        if (carry) dh0[j] += s;
    }
}

}
