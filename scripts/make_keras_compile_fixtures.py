#!/usr/bin/env python3
"""Fixtures for models that Keras saved compiled: `load_model` compiles them again from the file's
`compile_config`, so `fit` trains them on with the saved optimizer, losses and metrics.

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py):
    KERAS_BACKEND=jax python3 scripts/make_keras_compile_fixtures.py [out_dir]

Writes, under out_dir (default Tests/RecurTests/Fixtures/parity), for each case NAME:
    compiled_NAME.keras   a small recurrent model after model.compile(...) (never fitted: no optimizer state);
    compiled_NAME.json    x, y, and from keras.saving.load_model(compiled_NAME.keras) followed by
                          fit(x, y, batch_size=8, epochs=3, shuffle=False): the per-epoch history
                          (loss and metrics) and the predictions afterwards; "compiles": false for a
                          case whose options Recur lacks (it must load uncompiled).
    resumed_NAME.keras    a model with a Bidirectional LSTM, BatchNormalization, a frozen Dense and a
                          GRU, fitted for 2 epochs before saving, so the file holds the optimizer state
                          (Adam, SGD with momentum, RMSprop with momentum);
    resumed_NAME.json     x, y, and from load_model then fit(batch_size=8, epochs=1, shuffle=False):
                          the history and the predictions afterwards.
Inputs are rounded to 6 significant digits (exact in JSON); results are written with 8.
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "RecurTests", "Fixtures", "parity")
RNG = np.random.default_rng(77)


def r6(a):
    a = np.asarray(a, dtype=np.float64)
    return np.array([float(f"{v:.6g}") for v in a.ravel()]).reshape(a.shape).astype(np.float32)


def tensor(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "values": [float(f"{v:.8g}") for v in a.ravel()]}


def case(name, outputs, optimizer, loss, metrics, y, compiles=True, **compile_kw):
    keras.utils.set_random_seed(5)
    x = r6(RNG.uniform(-1, 1, (16, 5, 3)))
    inp = keras.Input((5, 3))
    h = layers.LSTM(6, return_sequences=True)(inp)
    h = layers.GRU(4)(h)
    model = keras.Model(inp, layers.Dense(outputs)(h))
    for w in model.weights:
        w.assign(r6(RNG.uniform(-0.5, 0.5, w.shape)))
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, **compile_kw)
    path = os.path.join(OUT, f"compiled_{name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    history = loaded.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
    fixture = {"x": tensor(x), "y": tensor(y), "compiles": compiles,
               "history": {k: [float(f"{v:.8g}") for v in vs] for k, vs in history.items()},
               "predictions": tensor(loaded.predict(x, verbose=0))}
    with open(os.path.join(OUT, f"compiled_{name}.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", name, sorted(history))


def resumed(name, optimizer, y):
    keras.utils.set_random_seed(6)
    x = r6(RNG.uniform(-1, 1, (16, 5, 3)))
    inp = keras.Input((5, 3))
    h = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(inp)
    h = layers.BatchNormalization()(h)
    frozen = layers.Dense(4, name="frozen")
    h = layers.GRU(4)(frozen(h))
    model = keras.Model(inp, layers.Dense(y.shape[-1] if y.ndim > 1 else 3)(h))
    for w in model.weights:
        v = RNG.uniform(-0.5, 0.5, w.shape)
        w.assign(r6(np.abs(v) + 0.5 if "variance" in w.path else v))
    frozen.trainable = False
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy" if y.ndim == 1 else "mse")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    path = os.path.join(OUT, f"resumed_{name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    history = loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0).history
    fixture = {"x": tensor(x), "y": tensor(y), "history": {k: [float(f"{v:.8g}") for v in vs] for k, vs in history.items()},
               "predictions": tensor(loaded.predict(x, verbose=0))}
    with open(os.path.join(OUT, f"resumed_{name}.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print("wrote resumed", name)


def main():
    os.makedirs(OUT, exist_ok=True)
    classes = r6(RNG.integers(0, 3, (16,)).astype(np.float32))
    targets = r6(RNG.uniform(-1, 1, (16, 2)))
    binary = r6(RNG.integers(0, 2, (16, 1)).astype(np.float32))
    case("adam_sparse", 3, keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
         ["accuracy"], classes)
    case("sgd_nesterov_mse", 2, keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True), "mse", ["mae"], targets)
    case("rmsprop_decay_binary", 1,
         keras.optimizers.RMSprop(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.05, 2, 0.5)),
         keras.losses.BinaryCrossentropy(from_logits=True), [keras.metrics.BinaryAccuracy()], binary)
    case("adamw_clipnorm", 2, keras.optimizers.AdamW(0.02, weight_decay=0.01, clipnorm=0.5), "mean_absolute_error",
         None, targets)
    case("adam_amsgrad", 3, keras.optimizers.Adam(0.01, amsgrad=True), "sparse_categorical_crossentropy",
         ["accuracy"], classes)
    case("ignore_class_unsupported", 3, keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(ignore_class=0),
         ["accuracy"], classes, compiles=False)
    resumed("adam", keras.optimizers.Adam(0.02), classes)
    resumed("sgd_momentum", keras.optimizers.SGD(0.1, momentum=0.8), targets)
    resumed("rmsprop_momentum", keras.optimizers.RMSprop(0.01, momentum=0.5), targets)


if __name__ == "__main__":
    print("keras", keras.__version__)
    main()
