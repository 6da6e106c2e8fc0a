#!/usr/bin/env python3
"""The `recur train` recipe in Python Keras, for comparing accuracy and time on the same data.

Trains the guide's model (LSTM(64) over 28 rows of 28 pixels, BatchNormalization, Dense(10) logits,
SparseCategoricalCrossentropy(from_logits=True), batch 64) on Fashion-MNIST read from Debian's
`dataset-fashion-mnist` IDX files, validating on the test set, and prints one JSON line like
`recur train`'s.

    /tmp/benchvenv/bin/python scripts/train_keras.py --backend jax --optimizer sgd --epochs 1
    /tmp/benchvenv/bin/python scripts/train_keras.py --backend jax --optimizer adam --epochs 5
"""
import argparse
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("--backend", choices=["jax", "tensorflow"], default="jax")
parser.add_argument("--optimizer", default="sgd")
parser.add_argument("--epochs", type=int, default=1)
# lstm-cell: RNN(LSTMCell(64)), the generic loop over a cell (what Recur's user-lstm is measured against).
parser.add_argument("--cell", choices=["lstm", "gru", "simplernn", "lstm-cell"], default="lstm")
parser.add_argument("--seed", type=int, default=1337)
parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
args = parser.parse_args()
os.environ["KERAS_BACKEND"] = args.backend
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np

import keras

from fashion_mnist import read_idx


def idx(name):
    return read_idx(args.data_dir, name)


x_train, y_train = idx("train-images-idx3-ubyte") / 255.0, idx("train-labels-idx1-ubyte")
x_test, y_test = idx("t10k-images-idx3-ubyte") / 255.0, idx("t10k-labels-idx1-ubyte")
keras.utils.set_random_seed(args.seed)
recurrent = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simplernn": keras.layers.SimpleRNN,
             "lstm-cell": lambda units: keras.layers.RNN(keras.layers.LSTMCell(units))}[args.cell]
model = keras.Sequential([keras.Input((None, 28)), recurrent(64), keras.layers.BatchNormalization(), keras.layers.Dense(10)])
model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer=args.optimizer,
              metrics=["accuracy"])
start = time.perf_counter()
history = model.fit(x_train, y_train, validation_data=(x_test, y_test), batch_size=64, epochs=args.epochs, verbose=2)
seconds = time.perf_counter() - start
steps = args.epochs * ((len(x_train) + 63) // 64)
last = {k: float(v[-1]) for k, v in history.history.items()}
print(json.dumps({**last, "seconds": seconds, "ms_per_step": seconds * 1000 / steps, "backend": args.backend,
                  "keras_version": keras.__version__}, sort_keys=True))
