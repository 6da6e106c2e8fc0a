#!/usr/bin/env python3
"""Keras 3 file fixtures for Recur's `.keras` / `.weights.h5` support (run by hand, not in CI).

Usage:
    python3 -m venv /tmp/h5venv && /tmp/h5venv/bin/pip install keras jax jaxlib h5py
    KERAS_BACKEND=jax /tmp/h5venv/bin/python scripts/make_keras_file_fixtures.py [out_dir]
        Builds small models covering every layer and option Recur reads, gives them random
        weights, and writes NAME.keras plus NAME.npz (input_0.., output_0.. of
        model(inputs, training=False)) to out_dir (default Tests/RecurTests/Fixtures/keras), and
        seq_lstm_dense.weights.h5 from model.save_weights of a compiled model.

    KERAS_BACKEND=jax /tmp/h5venv/bin/python scripts/make_keras_file_fixtures.py --check-recur DIR
        The other direction. DIR holds files that Recur wrote (RECUR_KERAS_EXPORT_DIR=DIR
        swift test --filter KerasFile): NAME.keras, NAME.weights.h5 and NAME.npz with the inputs and
        Recur's outputs. Loads each .keras with keras.saving.load_model and each .weights.h5 into the
        same architecture with model.load_weights, and compares Keras's outputs with Recur's.
"""
import glob
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import keras
from keras import layers as L

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(7)
B, T, F = 3, 5, 3


def randomize(model):
    """Random weights (moving variances positive), so a wrong assignment cannot go unnoticed."""
    for layer in model.layers:
        for v in layer.weights:
            value = RNG.uniform(-0.8, 0.8, size=v.shape).astype("float32")
            if "moving_variance" in v.path:
                value = np.abs(value) + 0.5
            v.assign(value)


def seq_input(time=T, features=F, batch=B):
    return RNG.normal(size=(batch, time, features)).astype("float32")


def ids(time=T, vocab=10, batch=B, pad=False):
    x = RNG.integers(1, vocab, size=(batch, time)).astype("int32")
    if pad:
        x[0, 3:] = 0
        x[1, 1:] = 0
    return x


def cases():
    c = {}
    c["seq_lstm_dense"] = (keras.Sequential([keras.Input((T, F)), L.LSTM(4), L.Dense(2, activation="relu")]), [seq_input()])
    c["seq_gru_stack"] = (keras.Sequential([keras.Input((T, F)), L.GRU(3, return_sequences=True),
                                            L.GRU(2, reset_after=False), L.Dense(2)]), [seq_input()])
    c["seq_simplernn_backwards"] = (keras.Sequential([keras.Input((T, F)),
                                                      L.SimpleRNN(3, return_sequences=True, go_backwards=True, activation="relu"),
                                                      L.LSTM(2, go_backwards=True, use_bias=False, recurrent_activation="hard_sigmoid")]),
                                    [seq_input()])
    c["seq_embedding_bn"] = (keras.Sequential([keras.Input((T,), dtype="int32"), L.Embedding(10, 4),
                                               L.LSTM(3, return_sequences=True, unit_forget_bias=False),
                                               L.BatchNormalization(), L.Dropout(0.3),
                                               L.GRU(3, go_backwards=True, return_sequences=True, reset_after=False),
                                               L.BatchNormalization(center=False, scale=False, epsilon=0.01),
                                               L.Dense(2, activation="softmax")]), [ids()])
    c["seq_masking_lstm"] = (keras.Sequential([keras.Input((T, F)), L.Masking(mask_value=0.0),
                                               L.LSTM(3, return_sequences=True), L.SimpleRNN(2)]), None)
    c["seq_embedding_mask_zero"] = (keras.Sequential([keras.Input((T,), dtype="int32"), L.Embedding(10, 3, mask_zero=True),
                                                      L.GRU(3, return_sequences=True), L.LSTM(2, go_backwards=True)]),
                                    [ids(pad=True)])
    c["seq_rnn_cells"] = (keras.Sequential([keras.Input((T, F)), L.RNN(L.LSTMCell(3), return_sequences=True),
                                            L.RNN([L.LSTMCell(2), L.GRUCell(3), L.GRUCell(2, reset_after=False), L.SimpleRNNCell(2)],
                                                  go_backwards=True)]), [seq_input()])
    for mode in ["concat", "sum", "mul", "ave"]:
        c[f"seq_bidirectional_{mode}"] = (keras.Sequential([keras.Input((T, F)),
                                                            L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=mode),
                                                            L.Bidirectional(L.GRU(2), merge_mode=mode)]), [seq_input()])
    c["seq_bidirectional_rnn_cells"] = (keras.Sequential([keras.Input((T, F)),
                                                          L.Bidirectional(L.RNN([L.SimpleRNNCell(2), L.LSTMCell(2)], return_sequences=True)),
                                                          L.Bidirectional(L.SimpleRNN(2))]), [seq_input()])

    # Functional: several inputs and outputs, states, initial_state, merge_mode=None, shared layers.
    x = keras.Input((T, F), name="x")
    tok = keras.Input((T,), dtype="int32", name="tokens")
    e = L.Embedding(10, 3, name="emb")(tok)
    seq, h, cst = L.LSTM(3, return_sequences=True, return_state=True, name="encoder")(x)
    dec = L.LSTM(3, name="decoder", go_backwards=True)(e, initial_state=[h, cst])
    gru_seq, gru_h = L.GRU(2, return_state=True, return_sequences=True, reset_after=False)(seq)
    both = L.Bidirectional(L.SimpleRNN(2, return_sequences=True), merge_mode=None)(gru_seq)
    d1 = L.Dense(2, name="head")(dec)
    c["functional_multi_io"] = (keras.Model([x, tok], [d1, gru_h, both[0], both[1], cst]), [seq_input(), ids()])

    x = keras.Input((T, F), name="seq")
    outs = L.Bidirectional(L.GRU(2, return_state=True))(x)
    init = keras.Input((2,), name="h0")
    r = L.RNN(L.GRUCell(2), return_sequences=True)(x, initial_state=[init])
    shared = L.Dense(3, name="shared")
    c["functional_bidirectional_states"] = (keras.Model([x, init], [outs[0], outs[1], outs[2], shared(outs[1]), shared(outs[2]), r]),
                                            [seq_input(), RNG.normal(size=(B, 2)).astype("float32")])

    x = keras.Input((T, F))
    m = L.Masking()(x)
    y = L.Bidirectional(L.LSTM(2, return_sequences=True))(m)
    y = L.RNN([L.SimpleRNNCell(2), L.GRUCell(2)], return_state=True)(y)
    c["functional_masking_stacked_state"] = (keras.Model(x, list(y)), None)
    return c


def masked_input():
    x = seq_input()
    x[0, 3:] = 0.0
    x[2, 1:3] = 0.0
    return x


def make(out):
    os.makedirs(out, exist_ok=True)
    for name, (model, inputs) in cases().items():
        randomize(model)
        if inputs is None:
            inputs = [masked_input()]
        outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        arrays = {f"input_{i}": np.asarray(a) for i, a in enumerate(inputs)}
        arrays.update({f"output_{i}": np.asarray(o, dtype="float32") for i, o in enumerate(outputs)})
        model.save(os.path.join(out, f"{name}.keras"))
        if name == "seq_lstm_dense":
            # A plain weights file too, from a compiled model (it then has an `optimizer` group).
            model.compile(optimizer="adam", loss="mse")
            model.save_weights(os.path.join(out, f"{name}.weights.h5"))
        np.savez(os.path.join(out, f"{name}.npz"), **arrays)
        # A fresh load must reproduce the outputs (Keras itself).
        again = keras.saving.load_model(os.path.join(out, f"{name}.keras"))
        check(name, again, arrays, "keras reload")
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(out, "*")))
    print(f"wrote {len(cases())} cases to {out} ({total / 1024:.0f} KiB)")


def check(name, model, arrays, what):
    n_in = len([k for k in arrays if k.startswith("input_")])
    inputs = [arrays[f"input_{i}"] for i in range(n_in)]
    outputs = model(inputs if n_in > 1 else inputs[0], training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    worst = 0.0
    for i, o in enumerate(outputs):
        expected = arrays[f"output_{i}"]
        o = np.asarray(o)
        assert o.shape == expected.shape, f"{name} {what}: output {i} shape {o.shape} vs {expected.shape}"
        worst = max(worst, float(np.max(np.abs(o - expected))) if o.size else 0.0)
    ok = worst <= 1e-5
    print(f"{'OK  ' if ok else 'FAIL'} {name:40s} {what:22s} max|diff| {worst:.2e}")
    return ok


def check_recur(directory):
    """Every file must load without an error and without a warning from Keras (a skipped optimizer
    state, an unreadable compile config), and give Recur's outputs."""
    results = []
    for npz in sorted(glob.glob(os.path.join(directory, "*.npz"))):
        name = os.path.basename(npz)[:-4]
        arrays = dict(np.load(npz))
        path = os.path.join(directory, f"{name}.keras")
        if not os.path.exists(path):
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = keras.saving.load_model(path)
            # Warnings about the file (a skipped optimizer state, a compile config Keras cannot use);
            # not those about the model itself (a mask reaching a layer that drops it).
            complaints = [str(w.message) for w in caught if issubclass(w.category, UserWarning)
                          and any(word in str(w.message) for word in ("optimizer", "compil", "load"))]
            if complaints:
                print(f"{name}: load_model warned: {complaints[0][:300]}")
                results.append(False)
            results.append(check(name, model, arrays, "load_model(.keras)"))
            weights = os.path.join(directory, f"{name}.weights.h5")
            if os.path.exists(weights):
                fresh = keras.saving.load_model(path, compile=False)  # same architecture
                randomize(fresh)
                fresh.load_weights(weights)
                results.append(check(name, fresh, arrays, "load_weights(.h5)"))
        except Exception as error:  # one file's failure must not hide the others'
            print(f"{name}: {type(error).__name__}: {str(error)[:300]}")
            results.append(False)
    print(f"{sum(results)}/{len(results)} checks passed")
    return all(results) and results


if __name__ == "__main__":
    assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"
    if len(sys.argv) > 2 and sys.argv[1] == "--check-recur":
        sys.exit(0 if check_recur(sys.argv[2]) else 1)
    make(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "RecurTests", "Fixtures", "keras"))
