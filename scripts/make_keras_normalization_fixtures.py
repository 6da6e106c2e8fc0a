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
    layers/groupnorm_*.json, layers/unitnorm_*.json, layers/rmsnorm_*.json, layers/layernorm_*.json,
    layers/rescaling_*.json, layers/activity_regularization.json
        layer fixtures (outputs and gradients for random cotangents, the format KerasLayerFixtureTests
        reads): GroupNormalization with groups dividing the channels, one group per channel (-1), a
        channel axis other than the last and rank 4; UnitNormalization over one and two axes;
        RMSNormalization over the last one and two axes; LayerNormalization over
        axes other than the last and with rms_scaling; Rescaling by numbers and per channel.
    parity/regularized_normalizations.keras/.npz
        Rescaling (numpy arrays per channel) -> GroupNormalization -> LSTM -> UnitNormalization ->
        ActivityRegularization -> RMSNormalization -> LayerNormalization over two axes -> Dense,
        compiled with SGD and MSE and trained three steps with train_on_batch, in the format of
        make_keras_regularization_fixtures.py (losses include the activity penalty).
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


LAYERS = [
    ("groupnorm_two_groups", "GroupNormalization", {"groups": 2}, (2, 5, 4)),
    ("groupnorm_per_channel", "GroupNormalization", {"groups": -1, "epsilon": 0.01}, (2, 3, 4)),
    ("groupnorm_axis1_no_center", "GroupNormalization", {"groups": 3, "axis": 1, "center": False}, (2, 6, 4)),
    ("groupnorm_rank4_no_scale", "GroupNormalization", {"groups": 2, "axis": -2, "scale": False}, (2, 3, 4, 2)),
    ("groupnorm_one_group", "GroupNormalization", {"groups": 1}, (3, 4, 2)),
    ("unitnorm_last", "UnitNormalization", {}, (3, 4, 5)),
    ("unitnorm_two_axes", "UnitNormalization", {"axis": [1, 2]}, (3, 4, 5)),
    ("rmsnorm_last", "RMSNormalization", {}, (2, 5, 4)),
    ("rmsnorm_two_axes", "RMSNormalization", {"axis": [-2, -1], "epsilon": 0.001}, (2, 5, 4)),
    ("layernorm_two_axes", "LayerNormalization", {"axis": [1, 2]}, (2, 3, 4)),
    ("layernorm_axis1", "LayerNormalization", {"axis": 1, "epsilon": 0.01}, (2, 3, 4)),
    ("layernorm_rms_scaling", "LayerNormalization", {"rms_scaling": True}, (2, 3, 4)),
    ("rescaling_numbers", "Rescaling", {"scale": 0.25, "offset": -0.5}, (2, 3, 4)),
    ("rescaling_per_channel", "Rescaling", {"scale": [0.5, -2.0, 1.5], "offset": [0.0, 1.0, -1.0]}, (2, 4, 3)),
    ("activity_regularization", "ActivityRegularization", {"l1": 0.01, "l2": 0.02}, (2, 3)),
]


def make_layers():
    for name, cls, config, shape in LAYERS:
        base.layer_case(name, cls, config, getattr(layers, cls)(**config), [base.unif(shape, -2.0, 2.0)])


def make_trained(out):
    import make_keras_regularization_fixtures as regularization
    parity.fresh()
    inp = keras.Input((6, 4), name="x")
    h = layers.Rescaling(scale=np.asarray([0.5, 2.0, -1.0, 1.5], dtype="float32"),
                         offset=np.asarray([0.1, 0.0, -0.2, 0.3], dtype="float32"))(inp)
    h = layers.GroupNormalization(groups=2)(h)
    h = layers.LSTM(5, return_sequences=True)(h)
    h = layers.UnitNormalization()(h)
    h = layers.ActivityRegularization(l1=0.01, l2=0.05)(h)
    h = layers.RMSNormalization()(h)
    h = layers.LayerNormalization(axis=[1, 2])(h)
    y = layers.Dense(2)(layers.Flatten()(h))
    model = keras.Model(inp, y, name="normalizations")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    regularization.save_trained(out, "normalizations", model, [parity.seq(4, 6, 4)], base.unif((4, 2), -1.0, 1.0))


if __name__ == "__main__":
    print("keras", keras.__version__)
    keras.utils.set_random_seed(parity.SEED)
    make_models(os.path.join(base.OUT, "parity"))
    make_layers()
    make_trained(os.path.join(base.OUT, "parity"))
