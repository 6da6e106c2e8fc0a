#!/usr/bin/env python3
"""Keras 3 "training" fixtures for Recur: learning-rate schedules, AdamW and per-step schedules in
train_on_batch, ReduceLROnPlateau and ModelCheckpoint decisions, and keras.utils.pad_sequences.

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py):
    KERAS_BACKEND=jax python3 scripts/make_keras_training_fixtures.py [out_dir]

Writes out_dir/training.json (default out_dir: Tests/RecurTests/Fixtures/parity), one object:
    versions                  keras / jax / numpy / python versions that produced the file.
    schedules                 per case: "class", the constructor "args", Keras's get_config(), and
                              "lr" = float(schedule(step)) for step 0..15 (ExponentialDecay smooth and
                              staircase, CosineDecay, CosineDecay with linear warmup,
                              PiecewiseConstantDecay).
    adamw                     Dense(3) on input dim 4, fixed kernel/bias, loss "mse"; for
                              AdamW(0.01, weight_decay=0.1) and for Adam(learning_rate=
                              ExponentialDecay(0.1, 1, 0.5)): optimizer get_config(), x, y, the
                              initial weights, and after each of 3 train_on_batch steps the loss it
                              returned, the weights, and the learning rate the step used.
    reduce_lr_on_plateau      per case: callback args, the synthetic per-epoch logs fed to
                              on_epoch_end, and after each call the optimizer learning rate and the
                              callback's wait / cooldown_counter / best.
    model_checkpoint_names    per template: ModelCheckpoint(...)._get_file_path(epoch=4, batch=None,
                              logs) (or the error), plus "save_best_only" cases: which 0-based epochs
                              the real callback wrote a file for, given a val_loss sequence.
    pad_sequences             per case: sequences, keyword args, and the output (nested lists, shape,
                              dtype) or the exception type and message.

Inputs are literal values in this script. Computed floats are written with 8 significant digits
(num() from make_keras_fixtures.py); arrays use the {"shape": [...], "values": [flat row-major]}
form (FixtureTensor in the Swift tests). Output is deterministic.
"""
import json
import os
import platform
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import jax
import keras

from make_keras_fixtures import num, tensor, dump, ROOT

assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"

SEED = 2468
sched = keras.optimizers.schedules


def fresh():
    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)


def jsonable(o):
    """Config dicts -> plain JSON (numpy scalars to Python, tuples to lists)."""
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return o


def lr_of(optimizer):
    return num(np.asarray(optimizer.learning_rate))


def tiny_model(optimizer):
    fresh()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


# ---------------------------------------------------------------- schedules
def make_schedules():
    cases = [
        ("exponential_smooth", "ExponentialDecay",
         dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5, staircase=False)),
        ("exponential_staircase", "ExponentialDecay",
         dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5, staircase=True)),
        ("cosine", "CosineDecay", dict(initial_learning_rate=0.1, decay_steps=10, alpha=0.1)),
        ("cosine_warmup", "CosineDecay",
         dict(initial_learning_rate=0.1, decay_steps=10, alpha=0.1, warmup_target=0.2,
              warmup_steps=4)),
        ("piecewise_constant", "PiecewiseConstantDecay",
         dict(boundaries=[2, 5], values=[0.1, 0.05, 0.01])),
    ]
    out = []
    for name, cls, args in cases:
        s = getattr(sched, cls)(**args)
        assert type(s).__name__ == cls
        out.append({"case": name, "class": type(s).__name__, "args": args,
                    "config": jsonable(s.get_config()),
                    "steps": list(range(16)),
                    "lr": [num(s(step)) for step in range(16)]})
    return out


# -------------------------------------------------------------------- adamw
KERNEL = np.array([[0.5, -0.25, 0.1],
                   [-0.3, 0.8, 0.05],
                   [0.2, 0.4, -0.6],
                   [-0.7, 0.15, 0.35]], dtype=np.float32)
BIAS = np.array([0.1, -0.2, 0.05], dtype=np.float32)
X = np.array([[0.1, -0.2, 0.3, 0.4],
              [-0.5, 0.6, -0.7, 0.8],
              [0.9, -1.0, 0.2, -0.3],
              [0.25, 0.5, -0.75, 1.0],
              [-0.6, -0.4, 0.2, 0.0]], dtype=np.float32)
Y = np.array([[1.0, 0.0, -0.5],
              [0.0, 1.0, 0.5],
              [-1.0, 0.5, 0.0],
              [0.5, -0.5, 1.0],
              [0.2, 0.3, -0.2]], dtype=np.float32)


def dense_run(name, make_opt, opt_desc, steps=3):
    fresh()
    opt = make_opt()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.set_weights([KERNEL, BIAS])
    model.compile(optimizer=opt, loss="mse")
    initial = [dict(name=v.name, path=v.path, **tensor(np.asarray(v))) for v in model.weights]
    after = []
    for _ in range(steps):
        lr_used = lr_of(opt)  # schedule(iterations) before the step == what the step applies
        loss = model.train_on_batch(X, Y)
        after.append({"lr_used": lr_used, "loss": num(loss),
                      "iterations_after": int(np.asarray(opt.iterations)),
                      "weights": [tensor(np.asarray(v)) for v in model.weights]})
    return {"case": name, "optimizer": type(opt).__name__, "args": opt_desc,
            "config": jsonable(opt.get_config()), "loss": "mse",
            "model": "Sequential([Input((4,)), Dense(3)])",
            "x": tensor(X), "y": tensor(Y), "initial_weights": initial,
            "steps": after}


def numpy_adam_reference(lrs, weight_decay):
    """float64 re-derivation of what Keras does per step: decoupled decay w -= w * wd * lr (kernel
    and bias, before the Adam update, same lr), then Adam with bias correction folded into alpha."""
    w = [KERNEL.astype(np.float64), BIAS.astype(np.float64)]
    m = [np.zeros_like(a) for a in w]
    v = [np.zeros_like(a) for a in w]
    b1, b2, eps = 0.9, 0.999, 1e-7
    out = []
    for t, lr in enumerate(lrs, start=1):
        err = X.astype(np.float64) @ w[0] + w[1] - Y
        g_out = 2.0 * err / err.size  # d mean((pred - y)^2) / d pred
        grads = [X.T.astype(np.float64) @ g_out, g_out.sum(axis=0)]
        if weight_decay:
            w = [a - a * weight_decay * lr for a in w]
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        for i, g in enumerate(grads):
            m[i] += (g - m[i]) * (1 - b1)
            v[i] += (g * g - v[i]) * (1 - b2)
            w[i] = w[i] - m[i] * alpha / (np.sqrt(v[i]) + eps)
        out.append([a.copy() for a in w])
    return out


def check_against_numpy(case, weight_decay):
    ref = numpy_adam_reference([s["lr_used"] for s in case["steps"]], weight_decay)
    for step, want in zip(case["steps"], ref):
        for got, w in zip(step["weights"], want):
            np.testing.assert_allclose(np.reshape(got["values"], got["shape"]), w,
                                       rtol=2e-5, atol=1e-6)


def make_adamw():
    cases = [
        dense_run("adamw", lambda: keras.optimizers.AdamW(learning_rate=0.01, weight_decay=0.1),
                  {"learning_rate": 0.01, "weight_decay": 0.1}),
        dense_run("adam_exponential_decay",
                  lambda: keras.optimizers.Adam(
                      learning_rate=sched.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)),
                  {"learning_rate": {"class": "ExponentialDecay",
                                     "args": {"initial_learning_rate": 0.1, "decay_steps": 1,
                                              "decay_rate": 0.5}}}),
    ]
    check_against_numpy(cases[0], 0.1)
    check_against_numpy(cases[1], None)
    return cases


# --------------------------------------------------------- ReduceLROnPlateau
def plateau_run(name, args, monitor, values, initial_lr=0.1):
    model = tiny_model(keras.optimizers.SGD(initial_lr))
    cb = keras.callbacks.ReduceLROnPlateau(**args)
    cb.set_model(model)
    cb.on_train_begin()
    epochs = []
    for epoch, v in enumerate(values):
        cb.on_epoch_end(epoch, {monitor: v})
        epochs.append({"epoch": epoch, "value": v, "lr": lr_of(model.optimizer),
                       "wait": int(cb.wait), "cooldown_counter": int(cb.cooldown_counter),
                       "best": None if cb.best is None else float(cb.best)})
    return {"case": name, "args": args, "optimizer": {"class": "SGD", "learning_rate": initial_lr},
            "initial_lr": initial_lr, "monitor": monitor, "values": values, "epochs": epochs}


def make_plateau():
    return [
        plateau_run("min_loss_cooldown",
                    dict(monitor="loss", factor=0.5, patience=1, min_delta=1e-4, cooldown=1,
                         min_lr=0.001),
                    "loss", [1.0, 0.9, 0.9, 0.95, 0.9, 0.89999, 0.5, 0.5, 0.5, 0.5]),
        plateau_run("max_val_accuracy",
                    dict(monitor="val_accuracy", mode="max", factor=0.1, patience=2, min_lr=0.0),
                    "val_accuracy", [0.5, 0.6, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7]),
    ]


# ----------------------------------------------------------- ModelCheckpoint
def make_checkpoint():
    logs = {"loss": 0.123456, "val_loss": 0.98765}
    names = []
    for tpl in ["ckpt-{epoch:02d}-{val_loss:.2f}.weights.h5", "model-{epoch}.keras",
                "w_{epoch:03d}_{loss:.4f}.weights.h5", "best.keras",
                "missing-{val_acc:.2f}.keras"]:
        cb = keras.callbacks.ModelCheckpoint(tpl, save_weights_only=tpl.endswith(".weights.h5"))
        entry = {"filepath": tpl, "epoch": 4, "batch": None, "logs": logs}
        try:
            entry["result"] = cb._get_file_path(epoch=4, batch=None, logs=dict(logs))
        except Exception as e:  # noqa: BLE001 - record what Keras raises
            entry["error"] = {"type": type(e).__name__, "message": str(e)}
        names.append(entry)

    best = []
    seq = [0.5, 0.6, 0.4, 0.4, 0.3]
    for case, extra in [("default", {}), ("initial_value_threshold_0.45",
                                          {"initial_value_threshold": 0.45})]:
        model = tiny_model(keras.optimizers.SGD(0.1))
        with tempfile.TemporaryDirectory() as d:
            cb = keras.callbacks.ModelCheckpoint(
                os.path.join(d, "e{epoch:02d}.weights.h5"), monitor="val_loss",
                save_best_only=True, save_weights_only=True, **extra)
            cb.set_model(model)
            cb.on_train_begin()
            bests = []
            for epoch, v in enumerate(seq):
                cb.on_epoch_begin(epoch)
                cb.on_epoch_end(epoch, {"loss": 1.0, "val_loss": v})
                bests.append(None if cb.best is None else float(cb.best))
            files = sorted(os.listdir(d))
        saved = [int(f[1:3]) - 1 for f in files]
        best.append({"case": case, "monitor": "val_loss", "mode": "auto",
                     "args": dict(save_best_only=True, **extra), "val_loss": seq,
                     "saved_epochs": saved, "files": files, "best_after_each": bests})
    return {"names": names, "save_best_only": best}


# ------------------------------------------------------------ pad_sequences
def make_pad():
    seqs = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], []]
    cases = [
        ("defaults", {}),
        ("maxlen_4", {"maxlen": 4}),
        ("padding_post", {"padding": "post"}),
        ("truncating_post_maxlen_3", {"truncating": "post", "maxlen": 3}),
        ("value_-1_float32_maxlen_4", {"value": -1.0, "dtype": "float32", "maxlen": 4}),
        ("maxlen_0", {"maxlen": 0}),
        ("maxlen_0_truncating_post", {"maxlen": 0, "truncating": "post"}),
    ]
    out = []
    for name, kw in cases:
        entry = {"case": name, "sequences": seqs, "kwargs": kw}
        try:
            r = keras.utils.pad_sequences([list(s) for s in seqs], **kw)
            entry.update(output=r.tolist(), shape=list(r.shape), dtype=str(r.dtype))
        except Exception as e:  # noqa: BLE001 - record what Keras raises
            entry["error"] = {"type": type(e).__name__, "message": str(e)}
        out.append(entry)
    return out


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, "Tests", "RecurTests", "Fixtures", "parity")
    fixture = {
        "versions": {"keras": keras.__version__, "jax": jax.__version__,
                     "numpy": np.__version__, "python": platform.python_version(),
                     "backend": keras.backend.backend()},
        "schedules": make_schedules(),
        "adamw": make_adamw(),
        "reduce_lr_on_plateau": make_plateau(),
        "model_checkpoint_names": make_checkpoint(),
        "pad_sequences": make_pad(),
    }
    dump(os.path.join(out_dir, "training.json"), fixture)


if __name__ == "__main__":
    main()
