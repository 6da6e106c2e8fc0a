#!/usr/bin/env python3
"""Fixtures for Keras's layers that sequence models put around recurrent layers, from Keras itself (JAX
backend): 1-D convolution and pooling (Conv1D, MaxPooling1D, AveragePooling1D), time-step layers
(ZeroPadding1D, Cropping1D, UpSampling1D), Softmax, PReLU, and the noise layers and Identity (the
identity in inference), and Attention and AdditiveAttention (layers/attention_*.json, called on
[query, value(, key)] with masks per input and Keras's call arguments; a saved encoder-decoder).

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
    layers/convlstm1d_*.json, layers/convlstm2d_*.json, layers/convlstm3d_*.json
        ConvLSTM1D with valid and same padding (odd and even kernels), strides, dilation, other
        activations, no bias, go_backwards, return_sequences and return_state (inputs (batch, time,
        width, channels)); ConvLSTM2D with rectangular kernels, strides and dilation per axis, same
        padding and the RNN options; ConvLSTM3D with same padding.
    layers/conv2d_*.json, layers/conv3d_*.json, layers/pooling2d_*.json, layers/pooling3d_*.json,
    layers/global_pooling_*.json
        Conv2D and Conv3D with valid and same padding, rectangular kernels, strides, dilation, groups
        and no bias; 2-D and 3-D max and average pooling with windows that do and do not divide the
        input and both paddings; global average and max pooling over 2 and 3 axes, with keepdims.
    parity/convlstm1d_stack.keras/.npz, parity/convlstm2d_stack.keras/.npz, parity/next_frame.keras/.npz
        ConvLSTM1D layers stacked and under Bidirectional, then Flatten and Dense; ConvLSTM2D layers
        stacked, then Flatten and Dense; Keras's next-frame prediction example in small (ConvLSTM2D,
        BatchNormalization and Conv3D over frames of unknown count).
    parity/cnn_lstm.keras/.npz, parity/volume_pooling.keras/.npz, parity/convlstm2d_bidirectional_state.keras/.npz
        TimeDistributed Conv2D, MaxPooling2D and GlobalAveragePooling2D under an LSTM (a video
        classifier); Conv3D, MaxPooling3D, AveragePooling3D and GlobalMaxPooling3D; a Bidirectional
        ConvLSTM2D (sum) under a backwards ConvLSTM2D returning its states.
    parity/conv_lstm.keras/.npz, parity/conv_bidirectional.keras/.npz, parity/sequence_layers.keras/.npz,
    parity/attention_seq2seq.keras/.npz
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


def attention_case(name, cls, config, shapes, masks=None, causal=False, scores=False):
    """A layer called on [query, value(, key)]: every input gets a gradient; masks per input."""
    keras.backend.clear_session()
    layer = getattr(layers, cls)(**config)
    inputs = [base.unif(s) for s in shapes]
    layer([jnp.asarray(x) for x in inputs])
    mask_j = None if masks is None else [None if m is None else jnp.asarray(np.asarray(m, dtype=bool)) for m in masks]
    arguments = {"use_causal_mask": causal, "return_attention_scores": scores}

    def call_fn(layer, tv, ntv, ins):
        kw = dict(arguments)
        if mask_j is not None:
            kw["mask"] = mask_j
        return layer.stateless_call(tv, ntv, list(ins), **kw)

    extra = {"multi_input": True, "call_arguments": arguments,
             "input_masks": None if masks is None else [
                 None if m is None else {"shape": list(np.shape(m)), "values": [int(v) for v in np.ravel(m)]} for m in masks]}
    base.layer_case(name, cls, config, layer, inputs, call_fn=call_fn, extra=lambda *a: extra)


ATTENTION_MASKS = [[[1, 1, 1, 0], [1, 1, 0, 0]], [[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]]]


def make_attention():
    q, v = (2, 4, 3), (2, 5, 3)
    attention_case("attention_dot", "Attention", {}, [q, v])
    attention_case("attention_dot_scaled_key", "Attention", {"use_scale": True}, [q, (2, 5, 2), v])
    attention_case("attention_concat", "Attention", {"score_mode": "concat"}, [q, v], scores=True)
    attention_case("attention_concat_scaled_masked", "Attention", {"score_mode": "concat", "use_scale": True}, [q, v],
                   masks=ATTENTION_MASKS)
    attention_case("attention_dot_causal", "Attention", {}, [(2, 4, 3), (2, 4, 2), (2, 4, 3)], causal=True, scores=True)
    attention_case("attention_dot_value_mask_causal", "Attention", {}, [(2, 5, 3), v], masks=[None, ATTENTION_MASKS[1]],
                   causal=True)
    attention_case("attention_additive", "AdditiveAttention", {}, [q, v], masks=ATTENTION_MASKS, scores=True)
    attention_case("attention_additive_unscaled_key", "AdditiveAttention", {"use_scale": False}, [q, (2, 5, 4), v])


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
    make_attention()


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

    # An encoder-decoder with attention: masks from Embedding(mask_zero) reach both attention layers
    # as a list (query, value), one returns its scores, the other attends causally to the decoder.
    parity.fresh()
    source = keras.Input((6,), dtype="int32", name="source")
    target = keras.Input((5,), dtype="int32", name="target")
    encoded = layers.LSTM(4, return_sequences=True)(layers.Embedding(12, 3, mask_zero=True)(source))
    decoded = layers.LSTM(4, return_sequences=True)(layers.Embedding(12, 3, mask_zero=True)(target))
    context, scores = layers.Attention(use_scale=True)([decoded, encoded], return_attention_scores=True)
    itself = layers.AdditiveAttention()([decoded, decoded], use_causal_mask=True)
    y = layers.Dense(3)(layers.Add()([context, itself]))
    ids = parity.RNG.integers(1, 12, size=(4, 6)).astype(np.int32)
    tokens = parity.RNG.integers(1, 12, size=(4, 5)).astype(np.int32)
    for row, n in enumerate([6, 4, 2, 5]):
        ids[row, n:] = 0
    for row, n in enumerate([5, 3, 5, 1]):
        tokens[row, n:] = 0
    parity.save_case(out, "attention_seq2seq", keras.Model([source, target], [y, scores], name="attention_seq2seq"), [ids, tokens])


CONV_LSTM = [
    ("convlstm1d_valid", {"filters": 3, "kernel_size": 3}, (2, 4, 6, 2)),
    ("convlstm1d_same_even_sequences_state", {"filters": 2, "kernel_size": 2, "padding": "same", "return_sequences": True,
                                              "return_state": True}, (2, 3, 5, 3)),
    ("convlstm1d_strides_backwards", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "go_backwards": True,
                                      "return_sequences": True}, (3, 4, 7, 2)),
    ("convlstm1d_dilation_activations_no_bias", {"filters": 3, "kernel_size": 2, "dilation_rate": 2, "activation": "relu",
                                                 "recurrent_activation": "hard_sigmoid", "use_bias": False}, (2, 3, 6, 2)),
]


CONV_LSTM_2D_3D = [
    ("convlstm2d_valid", "ConvLSTM2D", {"filters": 2, "kernel_size": [2, 3]}, (2, 3, 4, 5, 2)),
    ("convlstm2d_same_strides_backwards_state", "ConvLSTM2D", {"filters": 2, "kernel_size": 3, "strides": [2, 1], "padding": "same",
                                                             "go_backwards": True, "return_sequences": True, "return_state": True},
     (2, 3, 5, 4, 2)),
    ("convlstm2d_dilation_relu", "ConvLSTM2D", {"filters": 3, "kernel_size": [2, 2], "dilation_rate": [2, 1], "activation": "relu"},
     (2, 2, 5, 4, 1)),
    ("convlstm3d_same", "ConvLSTM3D", {"filters": 2, "kernel_size": [2, 2, 2], "padding": "same"}, (2, 2, 3, 3, 3, 1)),
]


CONV_ND = [
    ("conv2d_valid", "Conv2D", {"filters": 3, "kernel_size": [2, 3]}, (2, 5, 6, 2)),
    ("conv2d_same_strided_relu", "Conv2D", {"filters": 2, "kernel_size": 3, "strides": [2, 2], "padding": "same", "activation": "relu"},
     (2, 5, 4, 3)),
    ("conv2d_dilated_groups_no_bias", "Conv2D", {"filters": 4, "kernel_size": [2, 2], "dilation_rate": [1, 2], "groups": 2,
                                                 "use_bias": False}, (2, 4, 6, 4)),
    ("conv3d_same", "Conv3D", {"filters": 2, "kernel_size": [2, 3, 2], "padding": "same", "activation": "sigmoid"}, (2, 3, 4, 3, 2)),
]


POOLING_ND = [
    ("pooling2d_max_valid", "MaxPooling2D", {"pool_size": [2, 2]}, (2, 5, 4, 3)),
    ("pooling2d_max_same_strided", "MaxPooling2D", {"pool_size": [3, 2], "strides": [2, 1], "padding": "same"}, (2, 5, 4, 2)),
    ("pooling2d_average_same", "AveragePooling2D", {"pool_size": [2, 3], "strides": [2, 2], "padding": "same"}, (2, 5, 5, 2)),
    ("pooling3d_max", "MaxPooling3D", {"pool_size": [2, 2, 2]}, (2, 4, 4, 3, 2)),
    ("pooling3d_average_same", "AveragePooling3D", {"pool_size": [2, 2, 2], "padding": "same"}, (2, 3, 3, 3, 1)),
    ("global_pooling_average_2d", "GlobalAveragePooling2D", {}, (2, 3, 4, 3)),
    ("global_pooling_max_2d_keepdims", "GlobalMaxPooling2D", {"keepdims": True}, (2, 3, 4, 3)),
    ("global_pooling_average_3d_keepdims", "GlobalAveragePooling3D", {"keepdims": True}, (2, 2, 3, 2, 2)),
    ("global_pooling_max_3d", "GlobalMaxPooling3D", {}, (2, 2, 3, 2, 2)),
]


def make_conv_lstm(out):
    for name, config, shape in CONV_LSTM:
        base.layer_case(name, "ConvLSTM1D", config, layers.ConvLSTM1D(**config), [base.unif(shape)])
    parity.fresh()
    inp = keras.Input((5, 8, 2), name="x")
    h = layers.ConvLSTM1D(4, 3, padding="same", return_sequences=True)(inp)
    h = layers.Bidirectional(layers.ConvLSTM1D(2, 2, return_sequences=True))(h)
    h = layers.ConvLSTM1D(3, 3, strides=2)(h)
    y = layers.Dense(2)(layers.Flatten()(h))
    parity.save_case(out, "convlstm1d_stack", keras.Model(inp, y, name="convlstm1d_stack"), [base.unif((3, 5, 8, 2))])
    for name, cls, config, shape in CONV_LSTM_2D_3D:
        base.layer_case(name, cls, config, getattr(layers, cls)(**config), [base.unif(shape)])
    parity.fresh()
    inp = keras.Input((4, 6, 5, 1), name="frames")
    h = layers.ConvLSTM2D(3, (3, 3), padding="same", return_sequences=True)(inp)
    h = layers.ConvLSTM2D(2, (2, 3), strides=(2, 1))(h)
    y = layers.Dense(2)(layers.Flatten()(h))
    parity.save_case(out, "convlstm2d_stack", keras.Model(inp, y, name="convlstm2d_stack"), [base.unif((2, 4, 6, 5, 1))])
    for name, cls, config, shape in CONV_ND:
        base.layer_case(name, cls, config, getattr(layers, cls)(**config), [base.unif(shape)])
    parity.fresh()
    frames = keras.Input((None, 8, 8, 1), name="frames")
    h = layers.ConvLSTM2D(4, (3, 3), padding="same", return_sequences=True, activation="relu")(frames)
    h = layers.BatchNormalization()(h)
    h = layers.ConvLSTM2D(4, (3, 3), padding="same", return_sequences=True, activation="relu")(h)
    y = layers.Conv3D(1, (3, 3, 3), activation="sigmoid", padding="same")(h)
    parity.save_case(out, "next_frame", keras.Model(frames, y, name="next_frame"), [base.unif((2, 5, 8, 8, 1), 0.0, 1.0)])


def make_pooling(out):
    for name, cls, config, shape in POOLING_ND:
        base.layer_case(name, cls, config, getattr(layers, cls)(**config), [base.unif(shape)])
    parity.fresh()
    clips = keras.Input((3, 8, 8, 1), name="clips")
    h = layers.TimeDistributed(layers.Conv2D(4, 3, activation="relu"))(clips)
    h = layers.TimeDistributed(layers.MaxPooling2D())(h)
    h = layers.TimeDistributed(layers.GlobalAveragePooling2D())(h)
    y = layers.Dense(2)(layers.LSTM(5)(h))
    parity.save_case(out, "cnn_lstm", keras.Model(clips, y, name="cnn_lstm"), [base.unif((2, 3, 8, 8, 1), 0.0, 1.0)])
    parity.fresh()
    volume = keras.Input((6, 6, 5, 2), name="volume")
    h = layers.Conv3D(3, (2, 2, 2), padding="same")(volume)
    h = layers.MaxPooling3D((2, 2, 2), padding="same")(h)
    h = layers.AveragePooling3D((2, 2, 1))(h)
    y = layers.GlobalMaxPooling3D()(h)
    parity.save_case(out, "volume_pooling", keras.Model(volume, y, name="volume_pooling"), [base.unif((2, 6, 6, 5, 2))])
    parity.fresh()
    frames = keras.Input((3, 5, 4, 2), name="frames")
    both = layers.Bidirectional(layers.ConvLSTM2D(2, (2, 2), padding="same", return_sequences=True), merge_mode="sum")(frames)
    last, h, c = layers.ConvLSTM2D(3, (3, 2), go_backwards=True, return_state=True)(both)
    parity.save_case(out, "convlstm2d_bidirectional_state", keras.Model(frames, [last, h, c], name="convlstm2d_bidirectional_state"),
                     [base.unif((2, 3, 5, 4, 2))])


if __name__ == "__main__":
    print("keras", keras.__version__)
    keras.utils.set_random_seed(parity.SEED)
    make_layers()
    make_models(os.path.join(base.OUT, "parity"))
    make_conv_lstm(os.path.join(base.OUT, "parity"))
    make_pooling(os.path.join(base.OUT, "parity"))
