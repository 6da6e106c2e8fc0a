#!/usr/bin/env python3
"""Records Keras's own outputs for model files kept as regression inputs.

Usage: KERAS_BACKEND=jax python3 scripts/record_keras_outputs.py MODEL.keras [...]
For each MODEL.keras with inputs MODEL.in0.npy, MODEL.in1.npy, ... beside it, writes MODEL.npz with
input_i and output_i from keras.saving.load_model(MODEL.keras)(inputs, training=False).
Used for Tests/RecurTests/Fixtures/crafted/attack (files from a black-box attack on Recur's reader).
"""
import glob, os, sys
os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np
import keras

for path in sys.argv[1:]:
    stem = path[:-len(".keras")]
    inputs = [np.load(p) for p in sorted(glob.glob(stem + ".in*.npy"))]
    model = keras.saving.load_model(path)
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    outputs = [np.asarray(t) for t in keras.tree.flatten(outputs)]
    arrays = {f"input_{i}": x for i, x in enumerate(inputs)}
    arrays.update({f"output_{i}": y.astype("float32") for i, y in enumerate(outputs)})
    np.savez(stem + ".npz", **arrays)
    print(stem + ".npz", [y.shape for y in outputs])
