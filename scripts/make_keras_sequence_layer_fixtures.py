#!/usr/bin/env python3
"""Fixtures for Keras's layers that sequence models put around recurrent layers, from Keras itself (JAX
backend): 1-D convolution and pooling (Conv1D, MaxPooling1D, AveragePooling1D), time-step layers
(ZeroPadding1D, Cropping1D, UpSampling1D), Softmax, PReLU, and the noise layers and Identity (the
identity in inference).

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py, whose helpers it uses):
    pip install keras jax jaxlib
    KERAS_BACKEND=jax python3 scripts/make_keras_sequence_layer_fixtures.py [fixtures_dir]

Writes, under fixtures_dir (default Tests/RecurTests/Fixtures):
    layers/conv1d_*.json, layers/pooling1d_*.json, layers/timestep_*.json, layers/softmax_*.json,
    layers/prelu_*.json
        layer fixtures (outputs and gradients for random cotangents, the format KerasLayerFixtureTests
        reads): convolutions with every padding (valid, same with odd and even windows, causal),
        strides, dilation, groups and no bias; pooling windows that do and do not divide the input,
        with both paddings; padding, cropping and repeating steps; softmax over the last, another and
        two axes, and under a mask with a wholly masked row; PReLU with and without shared axes.
    parity/conv_lstm.keras/.npz, parity/conv_bidirectional.keras/.npz, parity/sequence_layers.keras/.npz
        whole models saved by Keras (convolutions and pooling in front of recurrent layers, one with
        an unknown time length; every other layer above around an LSTM) with inputs and Keras's
        outputs (input_0, output_0), as the parity script's model files.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_keras_fixtures as base  # noqa: E402  (sets KERAS_BACKEND before importing keras)
import make_keras_parity_fixtures as parity  # noqa: E402

import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

CONV = [
    ("conv1d_valid", {"filters": 4, "kernel_size": 3}, (2, 7, 3)),
    ("conv1d_same_odd", {"filters": 3, "kernel_size": 3, "padding": "same", "activation": "tanh"}, (2, 6, 3)),
    ("conv1d_same_even_strided", {"filters": 5, "kernel_size": 4, "strides": 2, "padding": "same", "activation": "relu"},
     (2, 7, 3)),
    ("conv1d_valid_strided", {"filters": 2, "kernel_size": 2, "strides": 3}, (2, 8, 3)),
    ("conv1d_causal_dilated", {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2, "use_bias": False},
     (2, 7, 3)),
    ("conv1d_same_dilated", {"filters": 2, "kernel_size": 2, "padding": "same", "dilation_rate": 3}, (2, 6, 2)),
    ("conv1d_groups", {"filters": 4, "kernel_size": 2, "groups": 2, "padding": "same"}, (2, 5, 6)),
]

POOL = [
    ("pooling1d_max_default", "MaxPooling1D", {}, (2, 7, 3)),
    ("pooling1d_max_same_strided", "MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 8, 3)),
    ("pooling1d_max_overlapping", "MaxPooling1D", {"pool_size": 3, "strides": 1}, (2, 6, 2)),
    ("pooling1d_average_default", "AveragePooling1D", {"pool_size": 2}, (2, 6, 3)),
    ("pooling1d_average_same", "AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 3)),
    ("pooling1d_average_same_even", "AveragePooling1D", {"pool_size": 4, "strides": 1, "padding": "same"}, (2, 5, 2)),
]


TIMESTEP = [
    ("timestep_zero_padding", "ZeroPadding1D", {"padding": 2}),
    ("timestep_zero_padding_pair", "ZeroPadding1D", {"padding": [1, 3]}),
    ("timestep_cropping", "Cropping1D", {"cropping": [1, 2]}),
    ("timestep_up_sampling", "UpSampling1D", {"size": 3}),
]

SOFTMAX_AND_PRELU = [
    ("softmax_last", "Softmax", {}, (2, 3, 5)),
    ("softmax_axis1", "Softmax", {"axis": 1}, (2, 4, 3)),
    ("softmax_two_axes", "Softmax", {"axis": [1, 2]}, (2, 3, 4)),
    ("prelu", "PReLU", {}, (2, 5, 3)),
    ("prelu_shared_time", "PReLU", {"shared_axes": [1]}, (2, 5, 3)),
]

# A mask of the input's own shape, with a wholly masked row (Keras's Softmax zeroes it).
SOFTMAX_MASK = [[1, 1, 0, 1, 1], [0, 0, 0, 0, 0], [1, 1, 1, 0, 0]]


def masked_softmax_case():
    keras.backend.clear_session()
    mask = jnp.asarray(np.asarray(SOFTMAX_MASK, dtype=bool))

    def call_fn(layer, tv, ntv, ins):
        return layer.stateless_call(tv, ntv, ins[0], mask=mask)

    extra = {"mask": {"shape": [3, 5], "values": [v for row in SOFTMAX_MASK for v in row]}}
    base.layer_case("softmax_masked", "Softmax", {}, layers.Softmax(), [base.unif((3, 5), -3.0, 3.0)],
                    call_fn=call_fn, extra=lambda *a: extra)


def make_layers():
    for name, config, shape in CONV:
        keras.backend.clear_session()
        base.layer_case(name, "Conv1D", config, layers.Conv1D(**config), [base.unif(shape)])
    for name, cls, config, shape in POOL:
        keras.backend.clear_session()
        base.layer_case(name, cls, config, getattr(layers, cls)(**config), [base.unif(shape)])
    for name, cls, config in TIMESTEP:
        keras.backend.clear_session()
        base.layer_case(name, cls, config, getattr(layers, cls)(**config), [base.unif((2, 4, 3))])
    for name, cls, config, shape in SOFTMAX_AND_PRELU:
        keras.backend.clear_session()
        base.layer_case(name, cls, config, getattr(layers, cls)(**config), [base.unif(shape, -2.0, 2.0)])
    masked_softmax_case()


def make_models(out):
    parity.fresh()
    inp = keras.Input((None, 3), name="x")
    h = layers.Conv1D(6, 3, padding="causal", activation="relu")(inp)
    h = layers.MaxPooling1D(2)(h)
    y = layers.Dense(3)(layers.LSTM(5)(h))
    parity.save_case(out, "conv_lstm", keras.Model(inp, y, name="conv_lstm"), [parity.seq(4, 9, 3)])

    parity.fresh()
    model = keras.Sequential([
        keras.Input((10, 4)),
        layers.Conv1D(8, 4, strides=2, padding="same", groups=2),
        layers.AveragePooling1D(3, strides=1, padding="same"),
        layers.Bidirectional(layers.GRU(3, return_sequences=True)),
        layers.Conv1D(2, 2, dilation_rate=2, use_bias=False),
        layers.GlobalMaxPooling1D(),
    ], name="conv_bidirectional")
    parity.save_case(out, "conv_bidirectional", model, [parity.seq(3, 10, 4)])

    parity.fresh()
    model = keras.Sequential([
        keras.Input((6, 3)),
        layers.GaussianNoise(0.3),
        layers.ZeroPadding1D((2, 1)),
        layers.SpatialDropout1D(0.2),
        layers.PReLU(shared_axes=[1]),
        layers.UpSampling1D(2),
        layers.Cropping1D((3, 2)),
        layers.GaussianDropout(0.25),
        layers.Identity(),
        layers.LSTM(4, return_sequences=True),
        layers.Softmax(axis=1),
        layers.GlobalAveragePooling1D(),
    ], name="sequence_layers")
    parity.save_case(out, "sequence_layers", model, [parity.seq(3, 6, 3)])


if __name__ == "__main__":
    print("keras", keras.__version__)
    keras.utils.set_random_seed(parity.SEED)
    make_layers()
    make_models(os.path.join(base.OUT, "parity"))
