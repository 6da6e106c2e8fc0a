#!/usr/bin/env python3
"""Fixtures for Keras's optimizers beyond SGD, Adam, AdamW and RMSprop (Adafactor among them), and for the
options every Keras optimizer has (weight_decay, global_clipnorm, use_ema with ema_momentum and
ema_overwrite_frequency, gradient_accumulation_steps, loss_scale_factor) or some have (Adam's amsgrad,
RMSprop's centered).

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py):
    KERAS_BACKEND=jax python3 scripts/make_keras_optimizer_fixtures.py [out_dir]
    KERAS_BACKEND=jax python3 scripts/make_keras_optimizer_fixtures.py --check-recur DIR

Writes, under out_dir (default Tests/RecurTests/Fixtures/parity), for each case NAME:
    optimizer_NAME.keras  a small model (Bidirectional LSTM, BatchNormalization, a frozen Dense, Dense)
                          compiled with the case's optimizer and fitted for 2 epochs of 2 steps, so the
                          file holds the optimizer's state;
    optimizer_NAME.json   x, y, and two runs of fit(x, y, batch_size=8, epochs=1, shuffle=False), each
                          with its loss history and the predictions afterwards: "resumed", after
                          keras.saving.load_model (the saved state goes on), and "fresh", after loading
                          the file uncompiled and compiling it with a new optimizer of the same config.
Inputs are rounded to 6 significant digits (exact in JSON); results are written with 8.

--check-recur DIR: DIR holds optimizer_NAME.keras files that Recur trained and saved, with
optimizer_NAME.npz (x, y, and `after`: Recur's predictions after one more such epoch). Keras loads
each, fits the epoch and must predict what Recur did: Keras reads Recur's optimizer state as its own.
"""
import glob
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_keras_fixtures as base  # noqa: E402  (sets KERAS_BACKEND before importing keras; r6, tensor)

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers, optimizers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(91)
CASES = {
    "adagrad": lambda: optimizers.Adagrad(0.05, initial_accumulator_value=0.3),
    "adadelta": lambda: optimizers.Adadelta(1.0, rho=0.9),
    "adamax": lambda: optimizers.Adamax(0.02),
    "nadam": lambda: optimizers.Nadam(0.02),
    "nadam_schedule": lambda: optimizers.Nadam(optimizers.schedules.ExponentialDecay(0.03, 2, 0.5)),
    "lamb": lambda: optimizers.Lamb(0.02),
    "lion": lambda: optimizers.Lion(0.005, beta_2=0.95),
    "ftrl": lambda: optimizers.Ftrl(0.05, l1_regularization_strength=0.01, l2_regularization_strength=0.02,
                                    l2_shrinkage_regularization_strength=0.01, beta=0.1),
    "ftrl_power": lambda: optimizers.Ftrl(0.05, learning_rate_power=-0.7, initial_accumulator_value=0.2),
    "adam_amsgrad": lambda: optimizers.Adam(0.02, amsgrad=True),
    "adamw_amsgrad_clipvalue": lambda: optimizers.AdamW(0.02, weight_decay=0.05, amsgrad=True, clipvalue=0.1),
    "rmsprop_centered": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "rmsprop_centered_plain": lambda: optimizers.RMSprop(0.01, centered=True),
    "sgd_weight_decay_global_clipnorm": lambda: optimizers.SGD(0.1, momentum=0.9, weight_decay=0.05, global_clipnorm=0.5),
    "adam_accumulate": lambda: optimizers.Adam(0.02, gradient_accumulation_steps=2),
    "sgd_ema": lambda: optimizers.SGD(0.1, momentum=0.5, use_ema=True, ema_momentum=0.9),
    "rmsprop_ema_overwrite": lambda: optimizers.RMSprop(0.01, use_ema=True, ema_momentum=0.8, ema_overwrite_frequency=3),
    "nadam_accumulate_ema": lambda: optimizers.Nadam(optimizers.schedules.ExponentialDecay(0.03, 1, 0.7), gradient_accumulation_steps=3,
                                                     use_ema=True),
    "adam_loss_scale": lambda: optimizers.Adam(0.02, loss_scale_factor=4.0),
    "adafactor": lambda: optimizers.Adafactor(0.02),
    "adafactor_options": lambda: optimizers.Adafactor(0.05, beta_2_decay=-0.6, epsilon_2=0.01, clip_threshold=0.5, relative_step=False),
}


def model_for(optimizer):
    keras.utils.set_random_seed(8)
    inp = keras.Input((4, 3))
    h = layers.Bidirectional(layers.LSTM(2))(inp)
    h = layers.BatchNormalization()(h)
    frozen = layers.Dense(3, name="frozen")
    model = keras.Model(inp, layers.Dense(3)(frozen(h)))
    for w in model.weights:
        v = RNG.uniform(-0.5, 0.5, w.shape)
        w.assign(base.r6(np.abs(v) + 0.5 if "variance" in w.path else v))
    frozen.trainable = False
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def epoch(model, x, y):
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0).history
    return {"loss": [base.num(v) for v in history["loss"]], "predictions": base.tensor(model.predict(x, verbose=0))}


def make(out):
    os.makedirs(out, exist_ok=True)
    x = base.r6(RNG.uniform(-1, 1, (16, 4, 3)))
    y = RNG.integers(0, 3, (16,)).astype(np.float32)
    for name, make_optimizer in CASES.items():
        model = model_for(make_optimizer())
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        path = os.path.join(out, f"optimizer_{name}.keras")
        model.save(path)
        resumed = keras.saving.load_model(path)
        fresh = keras.saving.load_model(path, compile=False)
        fresh.compile(optimizer=make_optimizer(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        fixture = {"x": base.tensor(x), "y": base.tensor(y), "resumed": epoch(resumed, x, y), "fresh": epoch(fresh, x, y)}
        with open(os.path.join(out, f"optimizer_{name}.json"), "w") as f:
            json.dump(fixture, f, separators=(",", ":"))
            f.write("\n")
        print("wrote", name, [v.path.split("/")[-1] for v in resumed.optimizer.variables][:4])


def check_recur(directory):
    results = []
    for npz in sorted(glob.glob(os.path.join(directory, "optimizer_*.npz"))):
        name = os.path.basename(npz)[:-4]
        arrays = dict(np.load(npz))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = keras.saving.load_model(os.path.join(directory, f"{name}.keras"))
            complaints = [str(w.message) for w in caught if "optimizer" in str(w.message) or "load" in str(w.message)]
            model.fit(arrays["x"], arrays["y"], batch_size=8, epochs=1, shuffle=False, verbose=0)
            diff = float(np.max(np.abs(model.predict(arrays["x"], verbose=0) - arrays["after"])))
            ok = diff <= 2e-5 and not complaints
            print(f"{name}: {type(model.optimizer).__name__} max diff {diff:.2e}" + (f", warned: {complaints[0][:200]}" if complaints else ""))
            results.append(ok)
        except Exception as error:  # one file's failure must not hide the others'
            print(f"{name}: {type(error).__name__}: {str(error)[:300]}")
            results.append(False)
    print(f"{sum(results)}/{len(results)} checks passed")
    return all(results) and results


if __name__ == "__main__":
    assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"
    print("keras", keras.__version__)
    if len(sys.argv) > 2 and sys.argv[1] == "--check-recur":
        sys.exit(0 if check_recur(sys.argv[2]) else 1)
    make(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "RecurTests", "Fixtures", "parity"))
