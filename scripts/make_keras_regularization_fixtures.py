#!/usr/bin/env python3
"""Fixtures for Keras's weight and activity regularizers and weight constraints, from Keras itself
(JAX backend): compiled models trained a few steps with train_on_batch.

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py, whose helpers it uses):
    pip install keras jax jaxlib
    KERAS_BACKEND=jax python3 scripts/make_keras_regularization_fixtures.py [fixtures_dir]

Writes, under fixtures_dir (default Tests/RecurTests/Fixtures):
    parity/regularized_<name>.keras
        the compiled model as Keras saved it before training (rounded random weights);
    parity/regularized_<name>.npz
        input_i / target_0: one batch; loss_k: the loss train_on_batch returned at step k (weight and
        activity penalties included, as Keras reports it); weight_i: model.get_weights() after the
        steps (constraints applied after every update); eval_loss: model.evaluate on the batch
        afterwards (penalties included).
    Cases: an LSTM with a regularizer on each of its weights, constraints (MaxNorm, UnitNorm) and
    an activity regularizer, then a Dense with "l2" by name, MinMaxNorm and NonNeg, under SGD and
    MSE; and Embedding (regularized, UnitNorm over axis 1) -> Bidirectional GRU (L1) -> Conv1D (L2,
    MaxNorm over axes [0, 1], an L1 activity regularizer) -> pooling -> LayerNormalization (gamma
    L2, beta NonNeg) -> Dense softmax under Adam and sparse categorical cross-entropy; and an LSTM and
    a Dense with OrthogonalRegularizer on their kernels (rows and columns) and as the Dense's activity
    regularizer, under SGD and MSE.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_keras_fixtures as base  # noqa: E402  (sets KERAS_BACKEND before importing keras)
import make_keras_parity_fixtures as parity  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import constraints, layers, regularizers  # noqa: E402

STEPS = 3


def save_trained(out, name, model, inputs, target):
    parity.randomize(model, -0.6, 0.6)
    path = os.path.join(out, f"regularized_{name}.keras")
    model.save(path)
    arrays = {f"input_{i}": np.asarray(a) for i, a in enumerate(inputs)}
    arrays["target_0"] = np.asarray(target)
    x = inputs if len(inputs) > 1 else inputs[0]
    for k in range(STEPS):
        arrays[f"loss_{k}"] = np.asarray(model.train_on_batch(x, target), dtype="float32")
    for i, w in enumerate(model.get_weights()):
        arrays[f"weight_{i}"] = np.asarray(w, dtype="float32")
    arrays["eval_loss"] = np.asarray(model.evaluate(x, target, verbose=0), dtype="float32")
    np.savez(os.path.join(out, f"regularized_{name}.npz"), **arrays)
    print(f"regularized_{name:14s} losses {[float(arrays[f'loss_{k}']) for k in range(STEPS)]} eval {float(arrays['eval_loss'])}")


def make_models(out):
    parity.fresh()
    model = keras.Sequential([
        keras.Input((5, 3)),
        layers.LSTM(4, kernel_regularizer=regularizers.L2(0.01), recurrent_regularizer=regularizers.L1(0.02),
                    bias_regularizer=regularizers.L1L2(0.01, 0.02), activity_regularizer=regularizers.L2(0.05),
                    kernel_constraint=constraints.MaxNorm(1.0), recurrent_constraint=constraints.UnitNorm(axis=0)),
        layers.Dense(2, kernel_regularizer="l2", kernel_constraint=constraints.MinMaxNorm(0.2, 0.8, rate=0.5, axis=0),
                     bias_constraint=constraints.NonNeg()),
    ], name="lstm_dense")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    save_trained(out, "lstm_dense", model, [parity.seq(4, 5, 3)], base.unif((4, 2), -1.0, 1.0))

    parity.fresh()
    tokens = keras.Input((6,), dtype="int32")
    h = layers.Embedding(10, 3, embeddings_regularizer=regularizers.L2(0.01), embeddings_constraint=constraints.UnitNorm(axis=1))(tokens)
    h = layers.Bidirectional(layers.GRU(3, return_sequences=True, kernel_regularizer=regularizers.L1(0.01)))(h)
    h = layers.Conv1D(2, 2, kernel_regularizer=regularizers.L2(0.02), kernel_constraint=constraints.MaxNorm(0.5, axis=[0, 1]),
                      activity_regularizer=regularizers.L1(0.01))(h)
    h = layers.LayerNormalization(gamma_regularizer=regularizers.L2(0.1), beta_constraint=constraints.NonNeg())(layers.GlobalAveragePooling1D()(h))
    y = layers.Dense(3, activation="softmax")(h)
    model = keras.Model(tokens, y, name="embedding_bidirectional")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    ids = parity.RNG.integers(1, 10, size=(5, 6)).astype(np.int32)
    save_trained(out, "embedding_bidirectional", model, [ids], np.asarray([0, 2, 1, 1, 0], dtype=np.int32))


def make_orthogonal(out):
    parity.fresh()
    model = keras.Sequential([
        keras.Input((5, 3)),
        layers.LSTM(4, kernel_regularizer=regularizers.OrthogonalRegularizer(0.05),
                    recurrent_regularizer=regularizers.OrthogonalRegularizer(0.1, mode="columns")),
        layers.Dense(3, kernel_regularizer=regularizers.OrthogonalRegularizer(0.2, mode="rows"),
                     activity_regularizer=regularizers.OrthogonalRegularizer(0.05, mode="columns")),
    ], name="orthogonal")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    save_trained(out, "orthogonal", model, [parity.seq(4, 5, 3)], base.unif((4, 3), -1.0, 1.0))


if __name__ == "__main__":
    print("keras", keras.__version__)
    keras.utils.set_random_seed(parity.SEED)
    make_models(os.path.join(base.OUT, "parity"))
    make_orthogonal(os.path.join(base.OUT, "parity"))
