#!/usr/bin/env python3
"""CPU speed of Keras 3 on the configurations of `recur bench rnn`, printed as one JSON object.

Usage:
    python3 -m venv /tmp/benchvenv && /tmp/benchvenv/bin/pip install keras jax jaxlib tensorflow-cpu
    KERAS_BACKEND=jax        /tmp/benchvenv/bin/python scripts/bench_keras.py [--steps 200] [--threads N]
    KERAS_BACKEND=tensorflow /tmp/benchvenv/bin/python scripts/bench_keras.py
    (or pass --backend jax|tensorflow instead of the env var)

Training keys: ms per step of a timed `model.fit` over `--steps` batches of random float32 data
(after a warm-up `fit` that compiles), SGD, SparseCategoricalCrossentropy(from_logits=True).
Inference keys: median ms of `predict_on_batch(x[:1])` and of `predict(10k, batch_size=32 and 1024)`.
`--threads 0` (default) leaves the backend's thread pools at their defaults (all cores).
"""
import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--backend", choices=["jax", "tensorflow"], default=None,
                    help="Keras backend (default: $KERAS_BACKEND, else jax)")
parser.add_argument("--steps", type=int, default=200, help="timed training steps (batches) per model")
parser.add_argument("--inference-repeats", type=int, default=300, help="timed predict_on_batch calls")
parser.add_argument("--predict-repeats", type=int, default=3, help="timed predict(10k) calls")
parser.add_argument("--threads", type=int, default=0, help="intra-op threads; 0 = backend default")
args = parser.parse_args()

backend = args.backend or os.environ.get("KERAS_BACKEND", "jax")
os.environ["KERAS_BACKEND"] = backend
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if backend == "jax":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if args.threads > 0:
        flags = [f"--xla_cpu_multi_thread_eigen={'false' if args.threads == 1 else 'true'}",
                 f"intra_op_parallelism_threads={args.threads}"]
        os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", "")] + flags).strip()
if backend == "tensorflow":
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import tensorflow as tf
    if args.threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)

import numpy as np
import keras
from keras import layers

assert keras.backend.backend() == backend, (keras.backend.backend(), backend)
keras.utils.set_random_seed(7)
rng = np.random.default_rng(2)


def guide_model(recurrent):
    return keras.Sequential([keras.Input((28, 28)), recurrent, layers.BatchNormalization(), layers.Dense(10)])


def compile_model(model):
    model.compile(optimizer=keras.optimizers.SGD(),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def fit_ms_per_step(model, x, y, batch, steps):
    """Warm-up fit (compiles), then a timed fit over `steps` full batches; ms per step."""
    compile_model(model)
    warm = min(steps, 10) * batch
    model.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0, shuffle=False)
    n = steps * batch
    start = time.perf_counter()
    model.fit(x[:n], y[:n], batch_size=batch, epochs=1, verbose=0, shuffle=False)
    return (time.perf_counter() - start) / steps * 1e3


def median_ms(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples)) * 1e3


def random_data(samples, timesteps, features):
    x = rng.random((samples, timesteps, features), dtype=np.float32)
    y = (np.arange(samples) % 10).astype(np.int32)
    return x, y


steps = args.steps
result = {"keras_version": keras.__version__, "backend": backend, "batch": 64, "steps": steps,
          "threads": args.threads if args.threads > 0 else os.cpu_count()}
if backend == "jax":
    import jax
    result["jax_version"] = jax.__version__
else:
    result["tensorflow_version"] = tf.__version__

x, y = random_data(steps * 64, 28, 28)
guide_lstm = guide_model(layers.LSTM(64))
configs = [
    ("guide_lstm_fused_train_ms_per_step", guide_lstm),
    ("guide_lstm_cell_loop_train_ms_per_step", guide_model(layers.RNN(layers.LSTMCell(64)))),
    ("guide_gru_fused_train_ms_per_step", guide_model(layers.GRU(64))),
    ("guide_gru_cell_loop_train_ms_per_step", guide_model(layers.RNN(layers.GRUCell(64)))),
]
for key, model in configs:
    result[key] = fit_ms_per_step(model, x, y, 64, steps)
    print(f"{key}: {result[key]:.3f}", file=sys.stderr, flush=True)

x_long, y_long = random_data(steps * 32, 100, 32)
long_model = keras.Sequential([keras.Input((100, 32)), layers.LSTM(256), layers.Dense(10)])
result["lstm256_t100_b32_train_ms_per_step"] = fit_ms_per_step(long_model, x_long, y_long, 32, steps)
print(f"lstm256_t100_b32_train_ms_per_step: {result['lstm256_t100_b32_train_ms_per_step']:.3f}",
      file=sys.stderr, flush=True)
del x_long, y_long

sample = x[:1]
result["guide_single_sample_inference_ms"] = median_ms(lambda: guide_lstm.predict_on_batch(sample),
                                                       args.inference_repeats, warmup=10)
x10k, _ = random_data(10_000, 28, 28)
result["guide_predict_10k_ms"] = median_ms(lambda: guide_lstm.predict(x10k, batch_size=32, verbose=0),
                                           args.predict_repeats, warmup=1)
result["guide_predict_10k_b1024_ms"] = median_ms(lambda: guide_lstm.predict(x10k, batch_size=1024, verbose=0),
                                                 args.predict_repeats, warmup=1)
print(json.dumps(result, indent=2, sort_keys=True))
