#!/usr/bin/env python3
"""Keras 3 reference fixtures for Recur's extra layers: merge layers (Concatenate, Add, Subtract,
Multiply, Average, Maximum, Minimum), Activation, Flatten, Reshape, RepeatVector, Permute,
TimeDistributed, GlobalAveragePooling1D, GlobalMaxPooling1D and LayerNormalization.

Usage (run by hand, not in CI):
    KERAS_BACKEND=jax /tmp/h5venv/bin/python scripts/make_merge_shape_wrapper_fixtures.py [fixtures_dir]
        Writes, under fixtures_dir (default Tests/RecurTests/Fixtures):
        layers/<case>.json      single-input layer cases in the format of make_keras_fixtures.py
                                (outputs and JAX gradients), read by KerasLayerFixtureTests;
        merge_shape_wrapper_layers/NAME.keras  small models using the layers, with NAME.npz (input_0.., output_0..
                                of model(inputs, training=False)), read by MergeShapeAndWrapperLayerTests;
        merge_shape_wrapper_layers/masked_merges.weights.h5 (+ .npz): a model whose masks flow through merge
                                layers. Keras records such masks as op layers (LogicalOr, ...) in
                                config.json, which Recur does not read, so the test builds the same
                                architecture in Swift and loads only the weights.

    KERAS_BACKEND=jax /tmp/h5venv/bin/python scripts/make_merge_shape_wrapper_fixtures.py --check-recur DIR
        Loads the files Recur wrote (RECUR_KERAS_EXPORT_DIR=DIR swift test --filter MergeShapeAndWrapperLayerTests)
        in Keras and compares Keras's outputs with Recur's (as make_keras_file_fixtures.py does).
"""
import glob
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import jax.numpy as jnp
import keras
from keras import layers as L

import make_keras_fixtures as mkf
from make_keras_fixtures import layer_case, ROOT
import make_keras_file_fixtures as mkff

assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"

B, T, F = 2, 5, 3
MASK = [[1, 1, 1, 0, 0], [1, 0, 1, 1, 0]]


def mask_json(m):
    m = np.asarray(m, dtype=np.int32)
    return {"shape": list(m.shape), "values": [int(v) for v in m.ravel()]}


def masked_call(mask):
    mask_j = jnp.asarray(np.asarray(mask, dtype=bool))

    def call_fn(layer, tv, ntv, ins):
        return layer.stateless_call(tv, ntv, ins[0], mask=mask_j)
    return call_fn


# ------------------------------------------------------------------ single-input layer cases
def make_layers():
    unif = mkf.unif
    x3 = lambda: unif((B, T, F))

    def case(name, cls, cfg, inputs, layer=None, **kw):
        keras.backend.clear_session()
        layer_case(name, cls, cfg, layer or getattr(L, cls)(**cfg), inputs, **kw)

    case("activation_tanh", "Activation", {"activation": "tanh"}, [x3()])
    case("activation_softmax", "Activation", {"activation": "softmax"}, [x3()])
    case("flatten", "Flatten", {}, [x3()])
    case("reshape", "Reshape", {"target_shape": [F, -1]}, [x3()])
    case("repeat_vector", "RepeatVector", {"n": 3}, [unif((B, F))])
    case("permute", "Permute", {"dims": [2, 1]}, [x3()])
    case("permute_rank4", "Permute", {"dims": [3, 1, 2]}, [unif((B, 2, T, F))])
    inner = {"class_name": "Dense", "config": {"units": 4, "activation": "tanh"}}
    case("time_distributed_dense", "TimeDistributed", {"layer": inner}, [x3()],
         layer=L.TimeDistributed(L.Dense(4, activation="tanh")))
    case("time_distributed_dense_rank4", "TimeDistributed", {"layer": {"class_name": "Dense", "config": {"units": 2}}},
         [unif((B, T, 2, F))], layer=L.TimeDistributed(L.Dense(2)))
    case("time_distributed_dropout", "TimeDistributed",
         {"layer": {"class_name": "Dropout", "config": {"rate": 0.5}}}, [x3()],
         layer=L.TimeDistributed(L.Dropout(0.5)))
    case("global_average_pooling1d", "GlobalAveragePooling1D", {}, [x3()])
    case("global_average_pooling1d_keepdims", "GlobalAveragePooling1D", {"keepdims": True}, [x3()])
    case("global_average_pooling1d_mask", "GlobalAveragePooling1D", {}, [x3()],
         call_fn=masked_call(MASK), extra=lambda *a: {"mask": mask_json(MASK)})
    case("global_max_pooling1d", "GlobalMaxPooling1D", {}, [x3()])
    case("global_max_pooling1d_mask_ignored", "GlobalMaxPooling1D", {}, [x3()],
         extra=lambda *a: {"mask": mask_json(MASK)})
    case("layer_normalization", "LayerNormalization", {}, [x3()])
    case("layer_normalization_2d_eps", "LayerNormalization", {"epsilon": 1e-5, "center": False}, [unif((4, 6))])


# ------------------------------------------------------------------ .keras model fixtures
def cases():
    seq, ids = mkff.seq_input, mkff.ids
    c = {}

    x = keras.Input((T, F), name="x")
    a = L.LSTM(4, return_sequences=True)(x)
    b = L.LSTM(4, return_sequences=True, go_backwards=True)(x)
    h1 = L.LSTM(3)(x)
    h2 = L.GRU(3)(x)
    merged = [L.Concatenate()([a, b]), L.Add()([a, b]), L.Concatenate(axis=1)([a, b]),
              L.Subtract()([h1, h2]), L.Multiply()([h1, h2, h1]), L.Average()([h1, h2]),
              L.Maximum()([h1, h2]), L.Minimum()([h1, h2, h1]), L.Add()([h1, L.Reshape((1, 3))(h2)])]
    head = L.Dense(2)(L.GlobalMaxPooling1D()(merged[0]))
    c["functional_merge_branches"] = (keras.Model(x, merged + [head]), [seq()])

    c["seq_time_distributed"] = (keras.Sequential([
        keras.Input((T, F)), L.LSTM(4, return_sequences=True), L.TimeDistributed(L.Dense(3, activation="relu")),
        L.TimeDistributed(L.Dropout(0.2)), L.Activation("tanh"), L.TimeDistributed(L.Dense(2))]), [seq()])

    tok = keras.Input((T,), dtype="int32", name="tokens")
    e = L.Embedding(10, 4, mask_zero=True)(tok)
    s = L.LSTM(4, return_sequences=True)(e)
    pooled = L.GlobalAveragePooling1D()(s)
    t = L.TimeDistributed(L.Dense(3))(L.LayerNormalization()(s))
    pooled2 = L.GlobalAveragePooling1D()(L.Activation("relu")(t))
    c["functional_embedding_mask_pooling"] = (
        keras.Model(tok, [L.Dense(2)(pooled), pooled2, L.GlobalMaxPooling1D()(s)]), [ids(pad=True)])

    c["seq_gru_layernorm"] = (keras.Sequential([
        keras.Input((T, F)), L.GRU(4, return_sequences=True), L.LayerNormalization(),
        L.GRU(3), L.LayerNormalization(epsilon=1e-5, center=False), L.Dense(2)]), [seq()])

    x = keras.Input((T, F), name="source")
    enc = L.LSTM(4)(x)
    dec = L.LSTM(4, return_sequences=True)(L.RepeatVector(3)(enc))
    flat = L.Flatten()(L.Permute((2, 1))(dec))
    out = L.TimeDistributed(L.Dense(2, activation="softmax"))(L.Reshape((3, 4))(flat))
    c["functional_seq2seq_reshape"] = (keras.Model(x, [out, L.Reshape((-1, 2))(flat)]), [seq()])
    return c


def masked_merges_model():
    """Masks through merge layers: Embedding(mask_zero) branches merged, pooled with the mask."""
    tok = keras.Input((T,), dtype="int32", name="tokens")
    other = keras.Input((T, 3), name="other")
    e = L.Embedding(10, 3, mask_zero=True)(tok)
    a = L.LSTM(3, return_sequences=True)(e)
    b = L.GRU(3, return_sequences=True)(e)
    outs = [L.GlobalAveragePooling1D()(L.Add()([a, b])), L.Multiply()([a, b]), L.Maximum()([a, b]),
            L.Minimum()([a, b]), L.GlobalAveragePooling1D()(L.Average()([a, b])), L.Subtract()([a, b]),
            L.LSTM(2)(L.Concatenate()([a, b])),
            L.GlobalAveragePooling1D()(L.Add()([a, other])), L.Multiply()([a, other]), L.Maximum()([a, other])]
    return keras.Model([tok, other], outs)


def run(model, inputs):
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    arrays = {f"input_{i}": np.asarray(a) for i, a in enumerate(inputs)}
    arrays.update({f"output_{i}": np.asarray(o, dtype="float32") for i, o in enumerate(outputs)})
    return arrays


def make_files(out):
    os.makedirs(out, exist_ok=True)
    for name, (model, inputs) in cases().items():
        mkff.randomize(model)
        arrays = run(model, inputs)
        model.save(os.path.join(out, f"{name}.keras"))
        np.savez(os.path.join(out, f"{name}.npz"), **arrays)
        mkff.check(name, keras.saving.load_model(os.path.join(out, f"{name}.keras")), arrays, "keras reload")
    model = masked_merges_model()
    mkff.randomize(model)
    arrays = run(model, [mkff.ids(pad=True), mkff.seq_input()])
    model.save_weights(os.path.join(out, "masked_merges.weights.h5"))
    np.savez(os.path.join(out, "masked_merges.npz"), **arrays)
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(out, "*")))
    print(f"wrote {len(cases()) + 1} models to {out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--check-recur":
        sys.exit(0 if mkff.check_recur(sys.argv[2]) else 1)
    fixtures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "RecurTests", "Fixtures")
    mkf.OUT = fixtures                          # layer_case() writes to mkf.OUT/layers
    mkf.RNG = np.random.default_rng(2468)       # unif() draws from mkf.RNG
    mkff.RNG = np.random.default_rng(1357)      # weights and inputs of the model fixtures
    print("keras", keras.__version__)
    make_layers()
    make_files(os.path.join(fixtures, "merge_shape_wrapper_layers"))
