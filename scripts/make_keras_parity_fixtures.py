#!/usr/bin/env python3
"""Keras 3 "parity" fixtures for Recur: behaviour of compile()/evaluate()/fit() and of model files
that the layer-level fixtures do not cover (how `"accuracy"` is resolved, frozen layers while
fine-tuning, nested models, nested RNN state outputs, masks merged from two inputs, sample and
class weights).

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py):
    KERAS_BACKEND=jax python3 scripts/make_keras_parity_fixtures.py [out_dir]

Writes, under out_dir (default Tests/RecurTests/Fixtures/parity):
    binary_accuracy.json        per case: a one-Dense model with fixed weights, x, y, predictions,
                                loss and accuracy from model.compile(..., metrics=["accuracy"]) +
                                model.evaluate(return_dict=True), the metric class that compile
                                resolved "accuracy" to, and the same numbers from the keras.metrics /
                                keras.losses objects called directly on (y, predictions).
    frozen_finetune.keras/.json Embedding, LSTM and BatchNormalization frozen (trainable=False) under
                                a trainable Dense, saved before training; the JSON holds x, y, the
                                initial weights, model.summary() text, parameter counts, and for
                                SGD(0.1) and Adam(0.01) the per-epoch loss of fit(epochs=5, one batch
                                of 8, shuffle=False) and every weight afterwards.
    nested_sequential.keras/.npz, nested_functional.keras/.npz
                                a Sequential used as a layer of a functional model, and a functional
                                Model used as a layer of a Sequential (input_0, output_0 of
                                model(x, training=False)).
    nested_output_rnn.keras/.npz
                                RNN([LSTMCell, GRUCell], return_state=True) whose nested outputs are
                                all model outputs; output_i follow keras.tree.flatten order.
    merged_masks.keras/.npz, merged_masks_add.keras/.npz
                                two Embedding(mask_zero=True) -> LSTM branches (right- and
                                left-padded ids) merged by Concatenate / Add, then LSTM and Dense.
    sample_class_weights.json   evaluate(sample_weight=...) and one SGD(0.1) train_on_batch step with
                                class_weight / sample_weight, for binary and sparse categorical
                                cross-entropy (metrics=["accuracy"], weighted_metrics=["accuracy"]).

All random inputs and weights are rounded to 6 significant digits before Keras sees them (so the
JSON holds the exact float32 values used); results are written with 8 significant digits. JSON
arrays use the {"shape": [...], "values": [flat row-major]} form of the other fixtures
(FixtureTensor in the Swift tests); weights also carry "name", "path" and "trainable".
Output is deterministic (numpy seed and keras.utils.set_random_seed(SEED)).
"""
import glob
import json
import os
import sys
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import jax
import keras
from keras import layers as L

from make_keras_fixtures import r6, num, tensor, dump, summarize, ROOT

assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"

SEED = 8642
RNG = np.random.default_rng(SEED)


def unif(shape, lo=-1.0, hi=1.0):
    return r6(RNG.uniform(lo, hi, size=shape))


def ints(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "values": [int(v) for v in a.ravel()]}


def weights_json(model):
    return [dict(name=v.name, path=v.path, trainable=bool(v.trainable), **tensor(np.asarray(v)))
            for v in model.weights]


def fresh():
    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)


def randomize(model, lo=-0.8, hi=0.8):
    """Rounded random weights for every variable (moving variances positive)."""
    for v in model.weights:
        value = unif(v.shape, lo, hi)
        if "moving_variance" in v.path:
            value = r6(np.abs(value) + 0.5)
        v.assign(value)


def resolved_metrics(model):
    """Class names of the metrics that compile() built for the string "accuracy"."""
    out = []
    for m in model.metrics:
        for inner in getattr(m, "metrics", []) or []:
            out.append(type(inner).__name__)
    return out


# ------------------------------------------------------------------ 1. accuracy resolution
def dense_model(in_shape, units, activation, kernel, bias):
    model = keras.Sequential([keras.Input(in_shape), L.Dense(units, activation=activation)])
    model.set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])
    return model


def accuracy_case(name, note, x, y, kernel, bias, activation, loss, metric_cls, loss_cls):
    fresh()
    x = np.asarray(x, np.float32)
    units = np.asarray(kernel).shape[-1]
    model = dense_model(x.shape[1:], units, activation, kernel, bias)
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    preds = np.asarray(model.predict(x, batch_size=len(x), verbose=0))
    ev = model.evaluate(x, y, batch_size=len(x), return_dict=True, verbose=0)
    metric = getattr(keras.metrics, metric_cls)()
    metric.update_state(y, preds)
    direct_loss = getattr(keras.losses, loss_cls)()(y, preds)
    y_json = ints(y) if np.issubdtype(np.asarray(y).dtype, np.integer) else tensor(y)
    print(f"accuracy {name:28s} resolved {resolved_metrics(model)} evaluate {ev}")
    return {
        "case": name, "note": note,
        "model": {"layers": [{"class_name": "Dense", "units": int(units), "activation": activation,
                              "input_shape": list(x.shape[1:])}],
                  "weights": [dict(name="kernel", **tensor(kernel)), dict(name="bias", **tensor(bias))]},
        "compile": {"loss": loss, "metrics": ["accuracy"]},
        "x": tensor(x), "y": y_json, "predictions": tensor(preds),
        "evaluate": {k: num(v) for k, v in ev.items()},
        "evaluate_api": f"model.compile(loss={loss!r}, metrics=['accuracy']); "
                        "model.evaluate(x, y, batch_size=len(x), return_dict=True)",
        "resolved_accuracy_class": resolved_metrics(model),
        "direct": {"accuracy": num(metric.result()), "loss": num(direct_loss),
                   "api": f"keras.metrics.{metric_cls}().update_state(y, predictions); "
                          f"keras.losses.{loss_cls}()(y, predictions)"},
    }


def make_accuracy(out):
    cases = []
    # Binary, Dense(1, sigmoid) on 2 features; logits x0 + 0.5 x1 are chosen so that several
    # predictions are exactly sigmoid(0) = 0.5 (BinaryAccuracy predicts 1 only for p > 0.5).
    xb = [[0, 0], [0, 0], [2, 0], [-1, -2], [1, -2], [3, 1], [-0.5, 0.5], [0.25, 0.5]]
    yb = np.array([1, 0, 1, 0, 0, 0, 1, 1], np.float32)
    kb, bb = [[1.0], [0.5]], [0.0]
    note = "logits x0 + 0.5*x1 = [0,0,2,-2,0,3.5,-0.25,0.5]; rows 0, 1, 4 predict exactly 0.5"
    cases.append(accuracy_case("binary_y_n", note + "; y shape (n,)", xb, yb, kb, bb, "sigmoid",
                               "binary_crossentropy", "BinaryAccuracy", "BinaryCrossentropy"))
    cases.append(accuracy_case("binary_y_n1", note + "; y shape (n,1)", xb, yb[:, None], kb, bb, "sigmoid",
                               "binary_crossentropy", "BinaryAccuracy", "BinaryCrossentropy"))
    # Perfect predictions, some saturated (sigmoid(+-20) rounds to 1/0 in float32; the loss then
    # depends on Keras's clipping of probabilities to [1e-7, 1 - 1e-7]).
    xp = [[20, 0], [-20, 0], [3, 0], [-3, 0], [0.5, 0.25], [-0.5, -0.25]]
    yp = np.array([1, 0, 1, 0, 1, 0], np.float32)
    cases.append(accuracy_case("binary_perfect_saturated", "all correct; rows 0-1 saturate to p = 1 / 0",
                               xp, yp, kb, bb, "sigmoid", "binary_crossentropy", "BinaryAccuracy",
                               "BinaryCrossentropy"))
    # Sparse categorical: y (n,) ints vs softmax (n, 4); the last row has equal logits (argmax -> 0).
    n, k, f = 8, 4, 3
    xs = unif((n, f), -2, 2)
    xs[-1] = 0.0
    ks = unif((f, k))
    ys = RNG.integers(0, k, size=(n,)).astype(np.int32)
    ys[-1] = 0
    cases.append(accuracy_case("sparse_y_n", "y (n,) ints, softmax (n,4); last row is a 4-way tie",
                               xs, ys, ks, np.zeros(k, np.float32), "softmax",
                               "sparse_categorical_crossentropy", "SparseCategoricalAccuracy",
                               "SparseCategoricalCrossentropy"))
    cases.append(accuracy_case("sparse_y_n1", "same with y shape (n,1)", xs, ys[:, None], ks,
                               np.zeros(k, np.float32), "softmax", "sparse_categorical_crossentropy",
                               "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy"))
    onehot = np.eye(k, dtype=np.float32)[ys]
    cases.append(accuracy_case("categorical_onehot", "y one-hot (n,4) vs softmax (n,4)", xs, onehot, ks,
                               np.zeros(k, np.float32), "softmax", "categorical_crossentropy",
                               "CategoricalAccuracy", "CategoricalCrossentropy"))
    # Sequences: Dense applied per step of (n, T, F).
    n, t, f = 4, 3, 2
    xq = unif((n, t, f), -2, 2)
    xq[0, 1] = 0.0                       # exactly 0.5 at (0, 1)
    kq = unif((f, 1))
    yq = RNG.integers(0, 2, size=(n, t)).astype(np.float32)
    cases.append(accuracy_case("sequence_binary", "y (n,T) vs sigmoid (n,T,1); p(0,1) = 0.5 exactly",
                               xq, yq, kq, [0.0], "sigmoid", "binary_crossentropy", "BinaryAccuracy",
                               "BinaryCrossentropy"))
    kq3 = unif((f, 3))
    yq3 = RNG.integers(0, 3, size=(n, t)).astype(np.int32)
    cases.append(accuracy_case("sequence_sparse", "y (n,T) ints vs softmax (n,T,3); (0,1) is a tie",
                               xq, yq3, kq3, np.zeros(3, np.float32), "softmax",
                               "sparse_categorical_crossentropy", "SparseCategoricalAccuracy",
                               "SparseCategoricalCrossentropy"))
    dump(os.path.join(out, "binary_accuracy.json"), {
        "description": "model.evaluate numbers (one batch) for Dense models with fixed weights; "
                       "'accuracy' is resolved by keras/src/trainers/compile_utils.get_metric from "
                       "shapes only: y_pred last dim 1 -> BinaryAccuracy (threshold: p > 0.5), else "
                       "rank(y_true) < rank(y_pred) or (y_true last dim 1) -> SparseCategoricalAccuracy, "
                       "else CategoricalAccuracy. 'direct' repeats them with keras.metrics/keras.losses.",
        "cases": cases})


# ------------------------------------------------------------------ 2. frozen layers, fine-tuning
def frozen_model():
    return keras.Sequential([
        keras.Input((6,), dtype="int32"),
        L.Embedding(20, 4, mask_zero=False, trainable=False),
        L.LSTM(5, trainable=False),
        L.BatchNormalization(trainable=False),
        L.Dense(3)], name="frozen_finetune")


def make_frozen(out):
    fresh()
    model = frozen_model()
    randomize(model)
    initial = [np.asarray(v) for v in model.weights]
    summary = summarize("frozen_finetune", model)
    path = os.path.join(out, "frozen_finetune.keras")
    model.save(path)
    with zipfile.ZipFile(path) as z:
        cfg = json.loads(z.read("config.json"))
    assert all(l["config"]["trainable"] is False for l in cfg["config"]["layers"][1:4]), "trainable not saved"

    x = RNG.integers(0, 20, size=(8, 6)).astype(np.int32)
    y = RNG.integers(0, 3, size=(8,)).astype(np.int32)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    runs = {}
    for key, make_opt in [("sgd", lambda: keras.optimizers.SGD(learning_rate=0.1)),
                          ("adam", lambda: keras.optimizers.Adam(learning_rate=0.01))]:
        fresh()
        m = keras.saving.load_model(path)
        for v, w in zip(m.weights, initial):
            assert np.array_equal(np.asarray(v), w)
        m.compile(optimizer=make_opt(), loss=loss)
        hist = m.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0)
        after = [np.asarray(v) for v in m.weights]
        frozen_same = all(np.array_equal(a, b) for a, b, v in zip(after, initial, m.weights) if not v.trainable)
        after_summary = []
        m.summary(print_fn=lambda s, *a, **k: after_summary.append(s))
        runs[key] = {"optimizer": type(m.optimizer).__name__,
                     "optimizer_config": {"learning_rate": num(m.optimizer.get_config()["learning_rate"])},
                     "epoch_losses": [num(v) for v in hist.history["loss"]],
                     "weights_after": weights_json(m),
                     "frozen_weights_unchanged": bool(frozen_same),
                     "summary_text_after_fit": "\n".join(after_summary)}
        print(f"frozen_finetune {key}: losses {runs[key]['epoch_losses']} frozen unchanged {frozen_same}")

    dump(os.path.join(out, "frozen_finetune.json"), {
        "model": "Sequential[Input((6,), int32), Embedding(20, 4, trainable=False), "
                 "LSTM(5, trainable=False), BatchNormalization(trainable=False), Dense(3)]; "
                 "frozen_finetune.keras is this model before training (not compiled)",
        "fit": "model.compile(optimizer, loss=SparseCategoricalCrossentropy(from_logits=True)); "
               "model.fit(x, y, batch_size=8, epochs=5, shuffle=False) -> 5 steps; epoch_losses = "
               "history['loss'] (each the loss of that epoch's single batch, before its update)",
        "x": ints(x), "y": ints(y),
        "initial_weights": [dict(name=v.name, path=v.path, trainable=bool(v.trainable), **tensor(w))
                            for v, w in zip(model.weights, initial)],
        "summary_text": summary["summary_text"], "summary_layers": summary["layers"],
        "total_params": summary["total_params"], "trainable_params": summary["trainable_params"],
        "non_trainable_params": summary["non_trainable_params"],
        "runs": runs})


# ------------------------------------------------------------------ 3-5. model files
def run_outputs(model, inputs):
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    flat = keras.tree.flatten(outputs)
    arrays = {f"input_{i}": np.asarray(a) for i, a in enumerate(inputs)}
    arrays.update({f"output_{i}": np.asarray(o, dtype="float32") for i, o in enumerate(flat)})
    return arrays


def save_case(out, name, model, inputs):
    randomize(model)
    arrays = run_outputs(model, inputs)
    path = os.path.join(out, f"{name}.keras")
    model.save(path)
    np.savez(os.path.join(out, f"{name}.npz"), **arrays)
    again = run_outputs(keras.saving.load_model(path), inputs)
    worst = max(float(np.max(np.abs(again[k] - arrays[k]))) for k in arrays if k.startswith("output_"))
    assert worst <= 1e-6, (name, worst)
    shapes = [arrays[k].shape for k in sorted(arrays) if k.startswith("output_")]
    print(f"{name:22s} outputs {shapes} reload max|diff| {worst:.1e}")
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


def seq(b, t, f):
    return unif((b, t, f), -1.5, 1.5)


def make_files(out):
    fresh()
    inp = keras.Input((None, 3), name="x")
    inner = keras.Sequential([L.Dense(4, activation="relu"), L.Dense(3)], name="inner_sequential")
    model = keras.Model(inp, inner(L.LSTM(5)(inp)), name="nested_sequential")
    save_case(out, "nested_sequential", model, [seq(4, 5, 3)])

    fresh()
    i3 = keras.Input((3,), name="inner_in")
    inner = keras.Model(i3, L.Dense(4)(i3), name="inner_functional")
    model = keras.Sequential([keras.Input((4, 3)), L.GRU(3), inner], name="nested_functional")
    save_case(out, "nested_functional", model, [seq(4, 4, 3)])

    fresh()
    inp = keras.Input((5, 2), name="x")
    outs = L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_state=True, name="stacked")(inp)
    cfg = save_case(out, "nested_output_rnn", keras.Model(inp, outs, name="nested_output_rnn"), [seq(4, 5, 2)])
    print("nested_output_rnn output_layers:", json.dumps(cfg["config"]["output_layers"]))

    b, t = 4, 5
    right = RNG.integers(1, 10, size=(b, t)).astype(np.int32)
    left = RNG.integers(1, 10, size=(b, t)).astype(np.int32)
    for row, n in enumerate([5, 3, 1, 4]):
        right[row, n:] = 0
    for row, n in enumerate([2, 0, 4, 1]):
        left[row, :n] = 0
    for name, merge in [("merged_masks", L.Concatenate), ("merged_masks_add", L.Add)]:
        fresh()
        a_in = keras.Input((t,), dtype="int32", name="right_padded")
        b_in = keras.Input((t,), dtype="int32", name="left_padded")
        a = L.LSTM(4, return_sequences=True)(L.Embedding(10, 3, mask_zero=True)(a_in))
        c = L.LSTM(4, return_sequences=True)(L.Embedding(10, 3, mask_zero=True)(b_in))
        y = L.Dense(2)(L.LSTM(3)(merge()([a, c])))
        cfg = save_case(out, name, keras.Model([a_in, b_in], y, name=name), [right, left])
        known = {"InputLayer", "Embedding", "LSTM", "Dense", "Concatenate", "Add"}
        for layer in cfg["config"]["layers"]:
            if layer["class_name"] not in known:
                print(f"  {name} op layer {layer['class_name']} ({layer['name']}) inbound "
                      f"{json.dumps(layer['inbound_nodes'])}")


# ------------------------------------------------------------------ 6. sample and class weights
def make_weights(out):
    cases = []
    n, f = 6, 3
    x = unif((n, f), -2, 2)
    sw = r6(np.array([1.0, 0.5, 2.0, 0.0, 1.5, 0.25]))
    specs = [("binary", 1, "sigmoid", "binary_crossentropy",
              RNG.integers(0, 2, size=(n,)).astype(np.float32), {0: 1.0, 1: 3.0}),
             ("sparse", 3, "softmax", "sparse_categorical_crossentropy",
              np.array([0, 1, 2, 1, 0, 2], np.int32), {0: 1.0, 1: 3.0, 2: 0.5})]
    for name, units, act, loss, y, cw in specs:
        kernel, bias = unif((f, units)), unif((units,), -0.5, 0.5)
        entry = {"case": name, "model": {"layers": [{"class_name": "Dense", "units": units, "activation": act,
                                                     "input_shape": [f]}],
                                         "weights": [dict(name="kernel", **tensor(kernel)),
                                                     dict(name="bias", **tensor(bias))]},
                 "compile": {"optimizer": "SGD(learning_rate=0.1)", "loss": loss, "metrics": ["accuracy"],
                             "weighted_metrics": ["accuracy"]},
                 "x": tensor(x), "y": ints(y) if y.dtype.kind == "i" else tensor(y),
                 "sample_weight": tensor(sw), "class_weight": {str(k): v for k, v in cw.items()}}

        def compiled():
            fresh()
            m = dense_model((f,), units, act, kernel, bias)
            m.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=loss, metrics=["accuracy"],
                      weighted_metrics=["accuracy"])
            return m

        m = compiled()
        entry["predictions"] = tensor(m.predict(x, verbose=0))
        entry["evaluate"] = {k: num(v) for k, v in m.evaluate(x, y, batch_size=n, return_dict=True, verbose=0).items()}
        entry["evaluate_sample_weight"] = {k: num(v) for k, v in m.evaluate(
            x, y, sample_weight=sw, batch_size=n, return_dict=True, verbose=0).items()}
        for key, kw in [("train_on_batch_class_weight", {"class_weight": cw}),
                        ("train_on_batch_sample_weight", {"sample_weight": sw})]:
            m = compiled()
            res = m.train_on_batch(x, y, return_dict=True, **kw)
            entry[key] = {"result": {k: num(v) for k, v in res.items()}, "weights_after": weights_json(m)}
        m = compiled()
        hist = m.fit(x, y, class_weight=cw, batch_size=n, epochs=1, shuffle=False, verbose=0)
        entry["fit_class_weight_loss"] = num(hist.history["loss"][0])
        tob = entry["train_on_batch_class_weight"]["weights_after"]
        for v, w in zip(m.weights, tob):     # fit(epochs=1) takes the same single step
            assert np.allclose(np.asarray(v).ravel(), w["values"], atol=1e-6), (name, v.path)
        print(f"weights {name}: evaluate {entry['evaluate']} sw {entry['evaluate_sample_weight']} "
              f"cw {entry['train_on_batch_class_weight']['result']} sw-step {entry['train_on_batch_sample_weight']['result']}")
        cases.append(entry)
    dump(os.path.join(out, "sample_class_weights.json"), {
        "description": "evaluate(x, y, [sample_weight=sw], batch_size=n, return_dict=True) and one SGD(0.1) "
                       "step train_on_batch(x, y, class_weight=cw | sample_weight=sw, return_dict=True) "
                       "from the initial weights; 'result' = what train_on_batch returns (loss computed "
                       "before the update), weights_after = model.weights after the step. "
                       "fit_class_weight_loss = history['loss'] of fit(class_weight=cw, epochs=1). "
                       "Weighted loss = sum(w * loss_i) / n (reduction sum_over_batch_size, not / sum(w)); "
                       "'accuracy' (from metrics=) ignores sample/class weights, 'weighted_accuracy' (from "
                       "weighted_metrics=) is sum(w * match) / sum(w).",
        "cases": cases})


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "RecurTests", "Fixtures", "parity")
    os.makedirs(out, exist_ok=True)
    print("keras", keras.__version__, "jax", jax.__version__, "numpy", np.__version__)
    keras.utils.set_random_seed(SEED)
    make_accuracy(out)
    make_frozen(out)
    make_files(out)
    make_weights(out)
    dump(os.path.join(out, "versions.json"), {"keras": keras.__version__, "jax": jax.__version__,
                                              "numpy": np.__version__, "backend": keras.backend.backend(),
                                              "seed": SEED})
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(out, "*")))
    print(f"parity fixtures: {total / 1024:.0f} KiB in {out}")
