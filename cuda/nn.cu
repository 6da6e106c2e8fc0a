/*
 * Recur's neural-network kernels for the CUDA backend: the optimizers' update rules, log-softmax, batch
 * normalisation, the LSTM and GRU gate steps and the activations' gradients. Each mirrors one CPU
 * implementation (named in its comment) operation for operation, in the same order, with the same
 * exp/tanh/sigmoid formulas (the gate steps with the gate kernels' rational tanh), so that the two backends agree to rounding. scripts/build-ptx.sh compiles
 * this file to PTX without FMA contraction (-fmad=false): a·b + c rounds twice, as in the CPU code.
 *
 * Launch: every kernel is a grid-stride loop over `total` items, the count its comment names; the host
 * launches min(ceil(total / 256), 4096) blocks of 256 threads, no shared memory. All tensors are
 * contiguous, row-major float32.
 */

/* i = this thread's items of 0..<total. */
#define FOR_EACH(i, total) \
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (total); i += blockDim.x * gridDim.x)

/* fast_expf of Sources/CRecurKernels/KernelSupport.h: Cody-Waite
   reduction x = n·ln2 + r and a degree-6 polynomial, 2^n built in the exponent bits. */
static __device__ float fast_expf(float x) {
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
    return p * __int_as_float(((int)n + 127) << 23);
}

/* gate_tanhf and gate_sigmoidf of KernelSupport.h, the gate kernels' activations: tanh(x) ≈ x·P(x²)/Q(x²)
   for x clamped to [−9, 9] (coefficients from scripts/fit_gate_tanh.py), σ(x) = ½·tanh(x/2) + ½. */
static __device__ float gate_tanhf(float x) {
    x = x < -9.0f ? -9.0f : (x > 9.0f ? 9.0f : x);
    const float y = x * x;
    const float p = (((1.318430254e-08f * y + 2.047188173e-05f) * y + 3.486584639e-03f) * y + 1.337320060e-01f) * y + 9.999998808e-01f;
    const float q = (((7.702694234e-07f * y + 3.271390160e-04f) * y + 2.584199049e-02f) * y + 4.670649767e-01f) * y + 1.0f;
    return x * p / q;
}

static __device__ float gate_sigmoidf(float x) { return 0.5f * gate_tanhf(0.5f * x) + 0.5f; }

/* ---- Update rules (UpdateRule, Tensor.applyOnHost in Sources/RecurTensor/Ops/UpdateRules.swift) ---- */

/* .sgd: w, v, g of n floats (v unused, may be NULL, when mu == 0); nesterov 0 or 1. total = n. */
extern "C" __global__ void recur_sgd(float *w, float *v, const float *g, float lr, float mu, int nesterov, int n) {
    FOR_EACH(i, n) {
        if (mu == 0.0f) {
            w[i] -= lr * g[i];
        } else {
            v[i] = mu * v[i] - lr * g[i];
            w[i] += nesterov ? mu * v[i] - lr * g[i] : v[i];
        }
    }
}

/* .adam: w, m, v, g of n floats; alpha = Float(lr·√(1−β₂ᵗ)/(1−β₁ᵗ)) computed in double on the host as
   applyOnHost does. total = n. */
extern "C" __global__ void recur_adam(float *w, float *m, float *v, const float *g, float alpha, float b1, float b2,
                                      float eps, int n) {
    FOR_EACH(i, n) {
        m[i] += (g[i] - m[i]) * (1.0f - b1);
        v[i] += (g[i] * g[i] - v[i]) * (1.0f - b2);
        w[i] -= alpha * m[i] / (sqrtf(v[i]) + eps);
    }
}

/* .rmsprop: w, a, s, g of n floats (s unused, may be NULL, unless mu > 0). total = n. */
extern "C" __global__ void recur_rmsprop(float *w, float *a, float *s, const float *g, float lr, float rho, float mu,
                                         float eps, int n) {
    FOR_EACH(i, n) {
        a[i] = rho * a[i] + (1.0f - rho) * g[i] * g[i];
        float delta = lr * g[i] / sqrtf(a[i] + eps);
        if (mu > 0.0f) {
            s[i] = mu * s[i] + delta;
            w[i] -= s[i];
        } else {
            w[i] -= delta;
        }
    }
}

/* .weightDecay: w of n floats, w ← w − w·decay. total = n. */
extern "C" __global__ void recur_weight_decay(float *w, float decay, int n) {
    FOR_EACH(i, n) { w[i] -= w[i] * decay; }
}

/* ---- Sources/RecurTensor/Backend/CPUBackend.swift ---- */

/* logSoftmax: x, y (rows, classes), classes ≥ 1; one thread a row, the sum of exps in double. total = rows. */
extern "C" __global__ void recur_log_softmax(const float *x, float *y, int rows, int classes) {
    FOR_EACH(r, rows) {
        const float *src = x + r * classes;
        float *out = y + r * classes;
        float m = src[0];
        for (int k = 1; k < classes; k++) {
            if (src[k] > m) m = src[k];
        }
        double s = 0;
        for (int k = 0; k < classes; k++) s += (double)fast_expf(src[k] - m);
        float logSum = (float)log(s);
        for (int k = 0; k < classes; k++) out[k] = (src[k] - m) - logSum;
    }
}

/* batchNormalization: x, y (rows, features); writes mean, var (features); gamma, beta (features) or NULL
   (1 and 0). One thread a feature, sums over the rows in order as recur_sum_rows. total = features. */
extern "C" __global__ void recur_bn_forward(const float *x, float *y, float *mean, float *var, const float *gamma,
                                            const float *beta, int rows, int features, float eps) {
    FOR_EACH(f, features) {
        float inverseCount = 1.0f / (float)max(rows, 1);
        float sum = 0.0f;
        for (int r = 0; r < rows; r++) sum += x[r * features + f];
        float m = sum * inverseCount;
        float squares = 0.0f;
        for (int r = 0; r < rows; r++) {
            float d = x[r * features + f] - m;
            squares += d * d;
        }
        float v = squares * inverseCount;
        mean[f] = m;
        var[f] = v;
        float scale = 1.0f / sqrtf(v + eps) * (gamma ? gamma[f] : 1.0f);
        float shift = -(m * scale) + (beta ? beta[f] : 0.0f);
        for (int r = 0; r < rows; r++) y[r * features + f] = x[r * features + f] * scale + shift;
    }
}

/* batchNormalizationGradients: x, g (upstream), dx (rows, features); mean, var as recur_bn_forward wrote
   them; gamma (features) or NULL (1); writes dgamma, dbeta (features). One thread a feature. total = features. */
extern "C" __global__ void recur_bn_backward(const float *x, const float *g, const float *mean, const float *var,
                                             const float *gamma, float *dx, float *dgamma, float *dbeta, int rows,
                                             int features, float eps) {
    FOR_EACH(f, features) {
        float count = (float)rows;
        float inverseDeviation = 1.0f / sqrtf(var[f] + eps);
        float factor = (gamma ? gamma[f] : 1.0f) * inverseDeviation / count;
        float db = 0.0f, dg = 0.0f;
        for (int r = 0; r < rows; r++) {
            int i = r * features + f;
            db += g[i];
            dg += g[i] * (x[i] - mean[f]) * inverseDeviation;
        }
        for (int r = 0; r < rows; r++) {
            int i = r * features + f;
            float normalized = (x[i] - mean[f]) * inverseDeviation;
            dx[i] = factor * (count * g[i] - db - normalized * dg);
        }
        dgamma[f] = dg;
        dbeta[f] = db;
    }
}

/* ---- Gate kernels: the C functions of the same names in Sources/CRecurKernels/RecurKernels.c, with the
   same parameters (see RecurKernels.h); one thread per (row b, unit k). ---- */

/* gates (batch, 4·units): pre-activations [i, f, c, o] in, activations [i, f, g, o] out (the backward
   reads them); c_prev, c, tanh_c, h (batch, units). total = batch·units. */
extern "C" __global__ void recur_lstm_gates_forward(float *gates, const float *c_prev, float *c, float *tanh_c,
                                                    float *h, int batch, int units) {
    FOR_EACH(j, batch * units) {
        int b = j / units, k = j % units;
        float *gi = gates + b * 4 * units + k, *gf = gi + units, *gg = gf + units, *go = gg + units;
        float i = gate_sigmoidf(*gi), f = gate_sigmoidf(*gf);
        float g = gate_tanhf(*gg), o = gate_sigmoidf(*go);
        float cn = f * c_prev[j] + i * g;
        float tc = gate_tanhf(cn);
        *gi = i; *gf = f; *gg = g; *go = o;
        c[j] = cn; tanh_c[j] = tc; h[j] = o * tc;
    }
}

/* gates (batch, 4·units) activations from the forward; c_prev, tanh_c, dh (batch, units); dc (batch,
   units) the gradient into c, overwritten with d c_prev; writes dgates (batch, 4·units), the gradient of
   the pre-activations. total = batch·units. */
extern "C" __global__ void recur_lstm_gates_backward(const float *gates, const float *c_prev, const float *tanh_c,
                                                     const float *dh, float *dc, float *dgates, int batch, int units) {
    FOR_EACH(j, batch * units) {
        int b = j / units, k = j % units, row = b * 4 * units + k;
        float i = gates[row], f = gates[row + units], g = gates[row + 2 * units], o = gates[row + 3 * units];
        float t = tanh_c[j];
        float dct = dc[j] + dh[j] * o * (1.0f - t * t);
        dgates[row + 3 * units] = dh[j] * t * o * (1.0f - o);
        dgates[row] = dct * g * i * (1.0f - i);
        dgates[row + units] = dct * c_prev[j] * f * (1.0f - f);
        dgates[row + 2 * units] = dct * i * (1.0f - g * g);
        dc[j] = dct * f;
    }
}

/* GRU, reset_after: xproj = x·W + b_in, hproj = h_prev·U + b_rec (batch, 3·units, [z, r, h]); h_prev, h
   (batch, units); writes the activations z, r, ĥ to act (batch, 3·units). total = batch·units. */
extern "C" __global__ void recur_gru_gates_forward(const float *xproj, const float *hproj, const float *h_prev,
                                                   float *act, float *h, int batch, int units) {
    FOR_EACH(j, batch * units) {
        int b = j / units, k = j % units, row = b * 3 * units + k;
        float z = gate_sigmoidf(xproj[row] + hproj[row]);
        float r = gate_sigmoidf(xproj[row + units] + hproj[row + units]);
        float c = gate_tanhf(xproj[row + 2 * units] + r * hproj[row + 2 * units]);
        act[row] = z; act[row + units] = r; act[row + 2 * units] = c;
        h[j] = z * h_prev[j] + (1.0f - z) * c;
    }
}

/* act, hproj (batch, 3·units) of the forward; h_prev, dh (batch, units); writes dxproj, dhproj (batch,
   3·units) and dh_prev = dh·z (batch, units; the caller adds dhproj·Uᵀ). total = batch·units. */
extern "C" __global__ void recur_gru_gates_backward(const float *act, const float *hproj, const float *h_prev,
                                                    const float *dh, float *dxproj, float *dhproj, float *dh_prev,
                                                    int batch, int units) {
    FOR_EACH(j, batch * units) {
        int b = j / units, k = j % units, row = b * 3 * units + k;
        float z = act[row], r = act[row + units], c = act[row + 2 * units];
        float dc = dh[j] * (1.0f - z) * (1.0f - c * c);
        float dz = dh[j] * (h_prev[j] - c) * z * (1.0f - z);
        float dr = dc * hproj[row + 2 * units] * r * (1.0f - r);
        dxproj[row] = dz; dxproj[row + units] = dr; dxproj[row + 2 * units] = dc;
        dhproj[row] = dz; dhproj[row + units] = dr; dhproj[row + 2 * units] = dc * r;
        dh_prev[j] = dh[j] * z;
    }
}

/* ---- Activation gradients (recur_tanh/sigmoid/relu_backward, RecurKernels.c) ---- */

/* x (input), y (output), g (upstream), dx of n floats; op 0 tanh: g·(1 − y²), 1 sigmoid: g·y·(1 − y)
   (x unused, may be NULL), 2 relu: x > 0 ? g : 0 (y unused, may be NULL). dx may be g. total = n. */
extern "C" __global__ void recur_unary_backward(int op, const float *x, const float *y, const float *g, float *dx,
                                                int n) {
    FOR_EACH(i, n) {
        switch (op) {
        case 0: dx[i] = g[i] * (1.0f - y[i] * y[i]); break;
        case 1: dx[i] = g[i] * y[i] * (1.0f - y[i]); break;
        case 2: dx[i] = x[i] > 0.0f ? g[i] : 0.0f; break;
        }
    }
}
