#!/usr/bin/env python3
"""Layer fixtures for every elementwise activation Keras 3 takes by name, from Keras itself (JAX backend).

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py, whose helpers it uses):
    pip install keras jax jaxlib
    KERAS_BACKEND=jax python3 scripts/make_keras_activation_fixtures.py [output_dir]

Writes, under output_dir (default Tests/RecurTests/Fixtures) /layers, in the layer-fixture format
that KerasLayerFixtureTests reads (outputs and gradients for random cotangents):
    activation_<name>.json   an Activation layer with that activation on inputs spread over [-6, 6]
                             (so both sides of every kink and the saturated ends are sampled);
    rnn_activation_*.json    LSTM, GRU and SimpleRNN layers whose activation and recurrent activation
                             are ones the fused kernels do not take (the cell loop runs them);
    activation_layer_*.json  the ReLU (max_value, negative_slope, threshold), LeakyReLU and ELU layers.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_keras_fixtures as base  # noqa: E402  (sets KERAS_BACKEND before importing keras)

import keras  # noqa: E402
from keras import layers  # noqa: E402

NAMES = ["log_softmax", "exponential", "softsign", "softplus", "log_sigmoid", "elu", "selu", "celu", "gelu",
         "silu", "hard_silu", "mish", "relu6", "leaky_relu", "hard_tanh", "tanh_shrink", "soft_shrink",
         "hard_shrink", "squareplus", "sparse_plus", "sparse_sigmoid", "hard_sigmoid", "sigmoid"]


def make():
    for name in NAMES:
        keras.backend.clear_session()
        config = {"activation": name}
        x = base.unif((3, 12), -6.0, 6.0)
        base.layer_case(f"activation_{name}", "Activation", config, layers.Activation(name), [x])

    recurrent = [
        ("rnn_activation_lstm_softsign", "LSTM",
         {"units": 4, "activation": "softsign", "recurrent_activation": "hard_silu", "return_sequences": True}),
        ("rnn_activation_gru_elu", "GRU",
         {"units": 4, "activation": "elu", "recurrent_activation": "sparse_sigmoid", "return_state": True}),
        ("rnn_activation_gru_before_selu", "GRU",
         {"units": 4, "activation": "selu", "reset_after": False, "go_backwards": True}),
        ("rnn_activation_simple_gelu", "SimpleRNN", {"units": 4, "activation": "gelu", "return_sequences": True}),
        ("rnn_activation_simple_mish", "SimpleRNN", {"units": 4, "activation": "mish"}),
    ]
    for name, cls, config in recurrent:
        keras.backend.clear_session()
        layer = getattr(layers, cls)(**config)
        base.layer_case(name, cls, config, layer, [base.unif((base.B, base.T, base.F))])

    activation_layers = [
        ("activation_layer_relu", "ReLU", {}),
        ("activation_layer_relu_all", "ReLU", {"max_value": 2.5, "negative_slope": 0.1, "threshold": 0.5}),
        ("activation_layer_relu_max", "ReLU", {"max_value": 1.0}),
        ("activation_layer_leaky_relu", "LeakyReLU", {}),
        ("activation_layer_leaky_relu_slope", "LeakyReLU", {"negative_slope": 0.05}),
        ("activation_layer_elu", "ELU", {"alpha": 0.7}),
    ]
    for name, cls, config in activation_layers:
        keras.backend.clear_session()
        x = base.unif((3, 12), -6.0, 6.0)
        base.layer_case(name, cls, config, getattr(layers, cls)(**config), [x])


if __name__ == "__main__":
    print("keras", keras.__version__)
    make()
