"""Fits the rational tanh that Recur's recurrent gate kernels use (KernelSupport.h, `gate_tanh*`).

    tanh(x) ≈ x · P(x²) / Q(x²),   P of degree 4, Q of degree 4 with Q(0) = 1,   x clamped to [-9, 9]

(tanh(9) rounds to 1 in float32). The fit is linear least squares on x·P(x²) − tanh(x)·Q(x²) over
[0, 9], reweighted by each point's error (Lawson's iteration) to approach the minimax fit. It prints
the coefficients, and the largest absolute error of tanh and of sigmoid(x) = ½ + ½·tanh(x/2) when
evaluated in float32 with Horner's rule, as the kernels do (about 3.6e-7 and 1.9e-7).

    python3 scripts/fit_gate_tanh.py     # needs numpy only
"""
import numpy as np

P_DEGREE, Q_DEGREE, CLAMP = 4, 4, 9.0


def fit(iterations=100):
    x = np.linspace(1e-4, CLAMP, 20000)
    y, t = x * x, np.tanh(x)
    weights = np.ones_like(x)
    for _ in range(iterations):
        a = np.hstack([x[:, None] * y[:, None] ** np.arange(P_DEGREE + 1),
                       -t[:, None] * y[:, None] ** np.arange(1, Q_DEGREE + 1)])
        root = np.sqrt(weights)
        c, *_ = np.linalg.lstsq(a * root[:, None], t * root, rcond=None)
        p, q = c[:P_DEGREE + 1], np.concatenate([[1.0], c[P_DEGREE + 1:]])
        error = np.abs(x * np.polyval(p[::-1], y) / np.polyval(q[::-1], y) - t)
        weights = weights * (error / error.max() + 1e-3)
        weights /= weights.mean()
    return p, q


def tanh_float32(x, p, q):
    x = np.clip(x.astype(np.float32), np.float32(-CLAMP), np.float32(CLAMP))
    y = x * x
    num, den = np.float32(p[-1]), np.float32(q[-1])
    for c in p[-2::-1]:
        num = num * y + np.float32(c)
    for c in q[-2::-1]:
        den = den * y + np.float32(c)
    return (x * num) / den


p, q = (np.float32(v).astype(np.float64) for v in fit())
print("P:", ", ".join("%.9ef" % v for v in p))
print("Q:", ", ".join("%.9ef" % v for v in q))
x = np.linspace(-12, 12, 2_000_001)
print("tanh max abs error (float32):", np.abs(tanh_float32(x, p, q) - np.tanh(x)).max())
sigmoid = np.float32(0.5) + np.float32(0.5) * tanh_float32(x / 2, p, q)
print("sigmoid max abs error (float32):", np.abs(sigmoid - 1 / (1 + np.exp(-x))).max())
