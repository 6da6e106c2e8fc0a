#!/usr/bin/env python3
"""Fixtures for Keras's Normalization preprocessing layer, from Keras itself (JAX backend).

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py, whose helpers it uses):
    pip install keras jax jaxlib
    KERAS_BACKEND=jax python3 scripts/make_keras_normalization_fixtures.py [fixtures_dir]

Writes, under fixtures_dir (default Tests/RecurTests/Fixtures):
    parity/normalization_adapted.keras/.npz
        Normalization adapted on data (per feature of the last axis) in front of an LSTM, a second one
        adapted per (step, feature) with axis=[1, 2], and an inverted one after the LSTM given a scalar
        mean and variance; the adapt data (adapt_0, adapt_1), inputs and Keras's outputs, and the
        adapted statistics (mean_k, variance_k, count_k) Keras computed.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_keras_fixtures as base  # noqa: E402  (sets KERAS_BACKEND before importing keras)
import make_keras_parity_fixtures as parity  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402


def make_models(out):
    parity.fresh()
    adapt_features = parity.seq(20, 5, 3) * 4 + 1.5
    adapt_steps = parity.seq(20, 5, 3) * 2 - 0.5
    per_feature = layers.Normalization(name="per_feature")
    per_feature.adapt(adapt_features)
    per_step = layers.Normalization(axis=[1, 2], name="per_step")
    per_step.adapt(adapt_steps)
    inp = keras.Input((5, 3), name="x")
    h = layers.LSTM(4, return_sequences=True)(per_feature(inp))
    y = layers.Normalization(mean=0.5, variance=4.0, invert=True, name="inverted")(h)
    z = layers.Normalization(axis=[1, 2], mean=[[1.0, -1.0, 0.5]], variance=[[2.0, 0.5, 1.0]], name="given")(per_step(inp))
    model = keras.Model(inp, [y, z], name="normalization_adapted")
    x = parity.seq(4, 5, 3)
    outputs = [np.asarray(o) for o in model(x)]
    path = os.path.join(out, "normalization_adapted.keras")
    # The LSTM's weights rounded and random; the adapted statistics kept.
    lstm = model.get_layer(index=2)
    for v in lstm.weights:
        v.assign(base.unif(v.shape, -0.8, 0.8))
    outputs = [np.asarray(o) for o in model(x)]
    model.save(path)
    arrays = {"input_0": x, "output_0": outputs[0], "output_1": outputs[1], "adapt_0": adapt_features, "adapt_1": adapt_steps}
    for k, layer in enumerate([per_feature, per_step]):
        arrays[f"mean_{k}"] = np.asarray(layer.adapt_mean)
        arrays[f"variance_{k}"] = np.asarray(layer.adapt_variance)
        arrays[f"count_{k}"] = np.asarray(layer.count, dtype=np.float32)
    np.savez(os.path.join(out, "normalization_adapted.npz"), **arrays)
    again = keras.saving.load_model(path)
    worst = max(float(np.max(np.abs(np.asarray(a) - b))) for a, b in zip(again(x), outputs))
    assert worst <= 1e-6, worst
    print("normalization_adapted outputs", [o.shape for o in outputs], "reload max|diff|", worst)


if __name__ == "__main__":
    print("keras", keras.__version__)
    keras.utils.set_random_seed(parity.SEED)
    make_models(os.path.join(base.OUT, "parity"))
