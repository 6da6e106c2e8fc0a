/* The optimizers' update rules (RecurUpdateRules.h): the loops the CPU backend runs on every variable
   after each training step, vectorised in each multiversioned build. */
#include "RecurUpdateRules.h"
#include "KernelSupport.h"

/* The scalar order of operations, kept: the Swift loops these replace rounded each operation alone. */
#pragma STDC FP_CONTRACT OFF

/* √x without errno (a negative x gives NaN, as Swift's squareRoot): sqrtf may set errno, so its loops
   stay scalar. */
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
#define ROOT(x) __builtin_elementwise_sqrt(x)
#else
#define ROOT(x) sqrtf(x)
#endif

MULTIVERSION
void recur_update_sgd(float *restrict w, const float *restrict g, float *restrict s0, long n, float learning_rate,
                      float momentum, int nesterov) {
    if (momentum == 0.0f) {
        for (long i = 0; i < n; i++) w[i] -= learning_rate * g[i];
    } else if (nesterov) {
        for (long i = 0; i < n; i++) {
            s0[i] = momentum * s0[i] - learning_rate * g[i];
            w[i] += momentum * s0[i] - learning_rate * g[i];
        }
    } else {
        for (long i = 0; i < n; i++) {
            s0[i] = momentum * s0[i] - learning_rate * g[i];
            w[i] += s0[i];
        }
    }
}

MULTIVERSION
void recur_update_adam(float *restrict w, const float *restrict g, float *restrict s0, float *restrict s1, long n,
                       float alpha, float beta1, float beta2, float epsilon) {
    const float keep1 = 1.0f - beta1, keep2 = 1.0f - beta2;
    for (long i = 0; i < n; i++) {
        s0[i] += (g[i] - s0[i]) * keep1;
        s1[i] += (g[i] * g[i] - s1[i]) * keep2;
        w[i] -= alpha * s0[i] / (ROOT(s1[i]) + epsilon);
    }
}

MULTIVERSION
void recur_update_rmsprop(float *restrict w, const float *restrict g, float *restrict s0, float *restrict s1, long n,
                          float learning_rate, float rho, float momentum, float epsilon) {
    const float keep = 1.0f - rho;
    for (long i = 0; i < n; i++) {
        s0[i] = rho * s0[i] + keep * g[i] * g[i];
        const float delta = learning_rate * g[i] / ROOT(s0[i] + epsilon);
        if (momentum > 0.0f) {
            s1[i] = momentum * s1[i] + delta;
            w[i] -= s1[i];
        } else {
            w[i] -= delta;
        }
    }
}
