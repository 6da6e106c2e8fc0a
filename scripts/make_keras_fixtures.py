#!/usr/bin/env python3
"""Generate JSON reference fixtures for the Recur Swift tests from Keras 3 (JAX backend).

Usage:
    pip install keras jax jaxlib
    KERAS_BACKEND=jax python3 scripts/make_keras_fixtures.py [output_dir]

Default output dir: Tests/RecurTests/Fixtures (relative to the repo root).
All random inputs/weights/cotangents/grads-for-optimizers are rounded to 6
significant digits *before* being fed to Keras, so the JSON values are exactly
the float32 values Keras used. Computed results are written with 8 significant
digits. Everything is float32 (Keras default).
"""
import io
import json
import os
import sys
import contextlib

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import jax
import jax.numpy as jnp
import keras
from keras import layers

assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "RecurTests", "Fixtures")

RNG = np.random.default_rng(1234)

B, T, F, U = 2, 5, 3, 4


# ----------------------------------------------------------------- helpers
def r6(a):
    """Round to 6 significant digits and cast to float32 (exactly representable in JSON)."""
    a = np.asarray(a, dtype=np.float64)
    out = np.array([float(f"{x:.6g}") for x in a.ravel()], dtype=np.float64).reshape(a.shape)
    return out.astype(np.float32)


def unif(shape, lo=-1.0, hi=1.0):
    return r6(RNG.uniform(lo, hi, size=shape))


def num(x):
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("non-finite value")
    return float(f"{x:.8g}")


def tensor(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "values": [num(v) for v in a.ravel()]}


def as_list(o):
    if isinstance(o, (list, tuple)):
        return list(o)
    return [o]


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.relpath(path, ROOT), os.path.getsize(path), "bytes")


# ----------------------------------------------------------- layer fixtures
def randomize_weights(layer):
    new = []
    for v in layer.weights:
        if "moving_variance" in v.path:
            new.append(unif(v.shape, 0.5, 1.5))
        else:
            new.append(unif(v.shape, -0.5, 0.5))
    layer.set_weights(new)


def layer_case(name, cls_name, config, layer, inputs, training=False, int_inputs=False,
               call_fn=None, extra=None):
    """inputs: list of numpy arrays. call_fn(layer, tv, ntv, inputs) -> (outputs, new_ntv)."""
    if call_fn is None:
        def call_fn(layer, tv, ntv, ins):
            kw = {"training": training} if layer._call_has_training_arg else {}
            return layer.stateless_call(tv, ntv, *ins, **kw)

    # build by calling once (eager)
    if not layer.built:
        layer(*[jnp.asarray(x) for x in inputs[:1]])
    randomize_weights(layer)

    weights = layer.weights  # == get_weights() order
    tvars = layer.trainable_variables
    ntvars = layer.non_trainable_variables
    tv0 = [jnp.asarray(v.value) for v in tvars]
    ntv0 = [jnp.asarray(v.value) for v in ntvars]
    ins = [jnp.asarray(x) for x in inputs]

    outs, new_ntv = call_fn(layer, tv0, ntv0, ins)
    outs = [np.asarray(o) for o in as_list(outs)]
    cots = [unif(o.shape) for o in outs]
    cots_j = [jnp.asarray(c) for c in cots]

    def loss_fn(tv, float_ins):
        all_ins = ins if int_inputs else float_ins
        o, _ = call_fn(layer, tv, ntv0, all_ins)
        o = as_list(o)
        return sum(jnp.sum(a * c) for a, c in zip(o, cots_j))

    if int_inputs:
        loss, g_tv = jax.value_and_grad(lambda tv: loss_fn(tv, ins))(tv0)
        g_in = None
    else:
        loss, (g_tv, g_in) = jax.value_and_grad(loss_fn, argnums=(0, 1))(tv0, ins)

    # map trainable grads to get_weights() order
    tv_ids = [id(v) for v in tvars]
    grad_weights = []
    for v in weights:
        if v.trainable:
            grad_weights.append(tensor(g_tv[tv_ids.index(id(v))]))

    fixture = {
        "case": name,
        "class": cls_name,
        "config": config,
        "inputs": [tensor(x) for x in inputs],
        "training": bool(training),
        "weights": [
            {"name": v.name, "path": v.path, "trainable": bool(v.trainable), **tensor(v.numpy())}
            for v in weights
        ],
        "outputs": [tensor(o) for o in outs],
        "cotangents": [tensor(c) for c in cots],
        "loss": num(loss),
    }
    if not int_inputs:
        fixture["grad_inputs"] = [tensor(g) for g in g_in]
    fixture["grad_weights"] = grad_weights
    if extra:
        fixture.update(extra(layer, tv0, ntv0, new_ntv))
    dump(os.path.join(OUT, "layers", f"{name}.json"), fixture)


def make_layers():
    x3 = lambda: unif((B, T, F))

    rnn_cases = [
        ("simple_rnn_last", "SimpleRNN", {"units": U}),
        ("simple_rnn_seq", "SimpleRNN", {"units": U, "return_sequences": True}),
        ("simple_rnn_backwards_state", "SimpleRNN",
         {"units": U, "go_backwards": True, "return_sequences": True, "return_state": True}),
        ("gru_reset_after", "GRU", {"units": U, "return_sequences": True, "return_state": True}),
        ("gru_reset_before", "GRU", {"units": U, "reset_after": False, "return_sequences": True}),
        ("gru_backwards", "GRU", {"units": U, "go_backwards": True}),
        ("lstm_last", "LSTM", {"units": U}),
        ("lstm_seq_state", "LSTM", {"units": U, "return_sequences": True, "return_state": True}),
        ("lstm_backwards", "LSTM", {"units": U, "go_backwards": True, "return_sequences": True}),
    ]
    for name, cls, cfg in rnn_cases:
        keras.backend.clear_session()
        layer = getattr(layers, cls)(**cfg)
        layer_case(name, cls, cfg, layer, [x3()])

    # LSTM with initial_state
    keras.backend.clear_session()
    cfg = {"units": U, "return_sequences": True}
    layer = layers.LSTM(**cfg)
    x, h0, c0 = x3(), unif((B, U)), unif((B, U))
    layer(jnp.asarray(x))

    def call_init(layer, tv, ntv, ins):
        return layer.stateless_call(tv, ntv, ins[0], initial_state=[ins[1], ins[2]], training=False)

    layer_case("lstm_initial_state", "LSTM", cfg, layer, [x, h0, c0], call_fn=call_init)

    # Bidirectional
    for mode in ["concat", "sum", "mul", "ave", "none"]:
        keras.backend.clear_session()
        mm = None if mode == "none" else mode
        layer = layers.Bidirectional(layers.LSTM(U, return_sequences=True), merge_mode=mm)
        cfg = {"layer": {"class": "LSTM", "config": {"units": U, "return_sequences": True}},
               "merge_mode": mm}
        layer_case(f"bidirectional_{mode}", "Bidirectional", cfg, layer, [x3()])
    keras.backend.clear_session()
    layer = layers.Bidirectional(layers.GRU(U, return_state=True))
    cfg = {"layer": {"class": "GRU", "config": {"units": U, "return_state": True}},
           "merge_mode": "concat"}
    layer_case("bidirectional_gru_state", "Bidirectional", cfg, layer, [x3()])

    # Dense
    keras.backend.clear_session()
    cfg = {"units": U, "activation": "relu"}
    layer_case("dense_relu", "Dense", cfg, layers.Dense(**cfg), [unif((B, F))])
    keras.backend.clear_session()
    cfg = {"units": U}
    layer_case("dense_3d", "Dense", cfg, layers.Dense(**cfg), [x3()])

    # Embedding
    keras.backend.clear_session()
    cfg = {"input_dim": 7, "output_dim": 3}
    ids = RNG.integers(0, 7, size=(B, T)).astype(np.int32)
    layer_case("embedding", "Embedding", cfg, layers.Embedding(**cfg), [ids], int_inputs=True)

    # BatchNormalization
    for training in (False, True):
        keras.backend.clear_session()
        layer = layers.BatchNormalization()
        name = "batchnorm_training" if training else "batchnorm_inference"
        extra = None
        if training:
            def extra(layer, tv0, ntv0, new_ntv):
                # rebuild all 4 weights in get_weights() order
                tv_ids = [id(v) for v in layer.trainable_variables]
                nt_ids = [id(v) for v in layer.non_trainable_variables]
                upd = []
                for v in layer.weights:
                    if id(v) in tv_ids:
                        val = tv0[tv_ids.index(id(v))]
                    else:
                        val = new_ntv[nt_ids.index(id(v))]
                    upd.append({"name": v.name, "path": v.path, **tensor(np.asarray(val))})
                return {"updated_weights": upd}
        layer_case(name, "BatchNormalization", {"momentum": 0.99, "epsilon": 0.001},
                   layer, [unif((6, F))], training=training, extra=extra)

    # RNN with cells
    keras.backend.clear_session()
    layer = layers.RNN(layers.LSTMCell(U), return_sequences=True)
    x = x3()
    layer_case("rnn_lstmcell", "RNN", {"cell": "LSTMCell(4)", "return_sequences": True}, layer, [x])
    # sanity: RNN(LSTMCell) must match LSTM with the same weights
    lstm = layers.LSTM(U, return_sequences=True)
    lstm(jnp.asarray(x))
    lstm.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(lstm(jnp.asarray(x))), np.asarray(layer(jnp.asarray(x))),
                               rtol=1e-5, atol=1e-6)
    keras.backend.clear_session()
    layer = layers.RNN([layers.LSTMCell(U), layers.GRUCell(5)])
    layer_case("rnn_stacked", "RNN", {"cells": ["LSTMCell(4)", "GRUCell(5)"]}, layer, [x3()])


# ----------------------------------------------------------------- losses
def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def make_losses():
    N, C = 4, 3
    out = []

    def add(cls, cfg, y_true, y_pred):
        loss_obj = getattr(keras.losses, cls)(**cfg)
        yt = jnp.asarray(y_true)
        f = lambda p: loss_obj(yt, p)
        val, g = jax.value_and_grad(f)(jnp.asarray(y_pred))
        out.append({"loss": cls, "config": cfg, "y_true": tensor(y_true),
                    "y_pred": tensor(y_pred), "value": num(val), "grad_y_pred": tensor(g)})

    sparse = RNG.integers(0, C, size=(N,)).astype(np.float32)
    onehot = np.eye(C, dtype=np.float32)[sparse.astype(int)]
    logits = unif((N, C), -2, 2)
    probs = r6(softmax(logits.astype(np.float64)))
    add("SparseCategoricalCrossentropy", {"from_logits": True}, sparse, logits)
    add("SparseCategoricalCrossentropy", {"from_logits": False}, sparse, probs)
    add("CategoricalCrossentropy", {"from_logits": True}, onehot, logits)
    add("CategoricalCrossentropy", {"from_logits": False}, onehot, probs)
    btrue = RNG.integers(0, 2, size=(N, C)).astype(np.float32)
    blogits = unif((N, C), -2, 2)
    bprobs = r6(1 / (1 + np.exp(-blogits.astype(np.float64))))
    add("BinaryCrossentropy", {"from_logits": True}, btrue, blogits)
    add("BinaryCrossentropy", {"from_logits": False}, btrue, bprobs)
    rt, rp = unif((N, C)), unif((N, C))
    add("MeanSquaredError", {}, rt, rp)
    add("MeanAbsoluteError", {}, rt, rp)
    dump(os.path.join(OUT, "losses.json"), out)

    # metrics
    mets = []

    def addm(cls, y_true, y_pred):
        m = getattr(keras.metrics, cls)()
        m.update_state(jnp.asarray(y_true), jnp.asarray(y_pred))
        mets.append({"metric": cls, "config": {}, "y_true": tensor(y_true),
                     "y_pred": tensor(y_pred), "value": num(m.result())})

    addm("SparseCategoricalAccuracy", sparse, probs)
    addm("CategoricalAccuracy", onehot, probs)
    addm("BinaryAccuracy", btrue, bprobs)
    addm("MeanAbsoluteError", rt, rp)
    addm("MeanSquaredError", rt, rp)
    dump(os.path.join(OUT, "metrics.json"), mets)


# ------------------------------------------------------------- optimizers
def make_optimizers():
    cases = [
        ("SGD", {}, 1.0),
        ("SGD", {"learning_rate": 0.1, "momentum": 0.9}, 1.0),
        ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, 1.0),
        ("Adam", {}, 1.0),
        ("Adam", {"learning_rate": 0.01}, 1.0),
        ("RMSprop", {}, 1.0),
        ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5}, 1.0),
        ("SGD", {"learning_rate": 0.1, "clipnorm": 1.0}, 3.0),
        ("SGD", {"learning_rate": 0.1, "clipvalue": 0.1}, 3.0),
    ]
    out = []
    for cls, cfg, gscale in cases:
        keras.backend.clear_session()
        init = unif((2, 3))
        grads = [unif((2, 3), -gscale, gscale) for _ in range(3)]
        v = keras.Variable(init, name="w")
        opt = getattr(keras.optimizers, cls)(**cfg)
        after = []
        for g in grads:
            opt.apply_gradients([(jnp.asarray(g), v)])
            after.append(tensor(v.numpy()))
        full = opt.get_config()
        full_cfg = {k: (num(full[k]) if isinstance(full[k], float) else full[k]) for k in ("learning_rate", "momentum", "nesterov", "beta_1", "beta_2",
                                         "epsilon", "amsgrad", "rho", "centered", "clipnorm",
                                         "clipvalue", "global_clipnorm") if k in full}
        out.append({"optimizer": cls, "config": cfg, "resolved_config": full_cfg,
                    "initial": tensor(init), "grads": [tensor(g) for g in grads],
                    "after_each_step": after})
    dump(os.path.join(OUT, "optimizers.json"), out)


# -------------------------------------------------------------- summaries
def shape_str(s):
    return "(" + ", ".join("None" if d is None else str(d) for d in s) + ")"


def layer_output_shape(layer):
    if layer._inbound_nodes:
        outs = layer._inbound_nodes[-1].output_tensors
        shapes = [shape_str(t.shape) for t in keras.tree.flatten(outs)]
        return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"
    return "?"


def summarize(title, model):
    lines = []
    model.summary(print_fn=lambda s, *a, **k: lines.append(s))
    text = "\n".join(lines)
    per = []
    for l in model.layers:
        per.append({"name": l.name, "class": l.__class__.__name__,
                    "output_shape": layer_output_shape(l), "params": int(l.count_params())})
    tw = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    nw = sum(int(np.prod(v.shape)) for v in model.non_trainable_weights)
    return {"model": title, "model_name": model.name, "model_class": model.__class__.__name__,
            "layers": per, "total_params": tw + nw, "trainable_params": tw,
            "non_trainable_params": nw, "summary_text": text}


def make_summaries():
    res = []
    keras.backend.clear_session()
    m = keras.Sequential([keras.Input(shape=(None,)), layers.Embedding(1000, 64),
                          layers.LSTM(128), layers.Dense(10)])
    res.append(summarize("guide_1_embedding_lstm", m))

    keras.backend.clear_session()
    m = keras.Sequential([keras.Input(shape=(None,)), layers.Embedding(1000, 64),
                          layers.GRU(256, return_sequences=True), layers.SimpleRNN(128),
                          layers.Dense(10)])
    res.append(summarize("guide_2_gru_simplernn", m))

    keras.backend.clear_session()
    enc_in = keras.Input(shape=(None,))
    enc_emb = layers.Embedding(input_dim=1000, output_dim=64)(enc_in)
    _, h, c = layers.LSTM(64, return_state=True, name="encoder")(enc_emb)
    dec_in = keras.Input(shape=(None,))
    dec_emb = layers.Embedding(input_dim=2000, output_dim=64)(dec_in)
    dec_out = layers.LSTM(64, name="decoder")(dec_emb, initial_state=[h, c])
    out = layers.Dense(10)(dec_out)
    m = keras.Model([enc_in, dec_in], out)
    res.append(summarize("guide_3_encoder_decoder", m))

    keras.backend.clear_session()
    m = keras.Sequential([keras.Input(shape=(5, 10)),
                          layers.Bidirectional(layers.LSTM(64, return_sequences=True)),
                          layers.Bidirectional(layers.LSTM(32)), layers.Dense(10)])
    res.append(summarize("guide_4_bidirectional", m))

    keras.backend.clear_session()
    m = keras.Sequential([keras.Input(shape=(None, 28)), layers.LSTM(64),
                          layers.BatchNormalization(), layers.Dense(10)])
    res.append(summarize("guide_5_mnist_rows", m))

    for r in res:
        print(f"--- {r['model']} total={r['total_params']}")
        print(r["summary_text"])
    dump(os.path.join(OUT, "summaries.json"), res)


if __name__ == "__main__":
    print("keras", keras.__version__, "jax", jax.__version__, "numpy", np.__version__)
    make_layers()
    make_losses()
    make_optimizers()
    make_summaries()
    dump(os.path.join(OUT, "versions.json"),
         {"keras": keras.__version__, "jax": jax.__version__, "numpy": np.__version__,
          "backend": keras.backend.backend(), "dtype": "float32"})
