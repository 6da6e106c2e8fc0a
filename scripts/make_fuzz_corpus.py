#!/usr/bin/env python3
"""Seed corpora for Recur's libFuzzer harnesses (Fuzz/), written to Fuzz/Corpus/<harness>/.

Usage: python3 scripts/make_fuzz_corpus.py   (numpy only; run from the repository root)

Seeds are small valid files of each format, so the fuzzers start from inputs that reach deep into
the readers: .npy of several dtypes and versions, .npz archives (stored and deflated), config.json
files taken from the Keras fixtures, Keras .weights.h5 files for the harness's model
(Sequential([Input((4, 3)), LSTM(4), Dense(2)]), taken from the crafted .keras fixtures) and IDX
files raw and gzipped.
"""
import glob
import json, gzip, io, os, struct, zipfile
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Fuzz", "Corpus")
FIX = os.path.join(ROOT, "Tests", "RecurTests", "Fixtures")


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy(arr, version=None):
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, version=version)
    return b.getvalue()


arrays = {
    "f4": np.arange(6, dtype="<f4").reshape(2, 3), "f8": np.linspace(0, 1, 4), "i8": np.array([[1, -2], [3, 4]], "<i8"),
    "u1": np.arange(5, dtype="u1"), "b1": np.array([True, False]), "scalar": np.float32(3.5), "empty": np.zeros((0, 3), "<f4"),
}
for k, a in arrays.items():
    put("npy", f"{k}.npy", npy(np.asarray(a)))
put("npy", "v2.npy", npy(np.ones((2, 2), "<f4"), version=(2, 0)))
put("npy", "f2.npy", npy(np.arange(6, dtype="<f2").reshape(2, 3)))
put("npy", "be_f8.npy", npy(np.arange(4, dtype=">f8")))
put("npy", "fortran.npy", npy(np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4))))

for method, name in [(zipfile.ZIP_STORED, "stored.npz"), (zipfile.ZIP_DEFLATED, "deflated.npz")]:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        z.writestr("x.npy", npy(arrays["f4"]))
        z.writestr("y.npy", npy(arrays["i8"]))
    put("zip", name, b.getvalue())

for path in sorted(glob.glob(os.path.join(FIX, "keras", "*.keras")))[:8] + sorted(glob.glob(os.path.join(FIX, "merge_shape_wrapper_layers", "*.keras")))[:4]:
    with zipfile.ZipFile(path) as z:
        put("config", os.path.basename(path).replace(".keras", ".json"), z.read("config.json"))
# Convolution, pooling, time-step, noise, softmax, PReLU and attention layers (and call arguments, inputs by
# keyword), regularizers and constraints.
for name in ["conv_lstm", "conv_bidirectional", "sequence_layers", "attention_seq2seq", "mha_seq2seq", "dot_attention",
             "regularized_lstm_dense", "regularized_embedding_bidirectional", "normalization_adapted"]:
    with zipfile.ZipFile(os.path.join(FIX, "parity", f"{name}.keras")) as z:
        put("config", f"parity_{name}.json", z.read("config.json"))

# Compile configs: Keras's optimizers (and their options) and metric objects with options.
for name in ["optimizer_ftrl", "optimizer_nadam_schedule", "optimizer_adamw_amsgrad_clipvalue", "optimizer_rmsprop_centered",
             "compiled_rmsprop_decay_binary", "compiled_adam_sparse"]:
    with zipfile.ZipFile(os.path.join(FIX, "parity", f"{name}.keras")) as z:
        put("config", f"parity_{name}.json", z.read("config.json"))
with zipfile.ZipFile(os.path.join(FIX, "parity", "optimizer_lamb.keras")) as z:
    compiled = json.loads(z.read("config.json"))
compiled["compile_config"]["metrics"] = [json.loads(json.dumps(case["object"])) for case in
                                         json.load(open(os.path.join(FIX, "metrics_configured.json")))]
put("config", "parity_metric_objects.json", json.dumps(compiled).encode())

# Normalization layers, convolutional LSTMs, 2-D/3-D convolutions and pooling.
for name in ["regularized_normalizations", "convlstm1d_stack", "convlstm2d_stack", "next_frame", "cnn_lstm", "volume_pooling"]:
    with zipfile.ZipFile(os.path.join(FIX, "parity", f"{name}.keras")) as z:
        put("config", f"parity_{name}.json", z.read("config.json"))

with zipfile.ZipFile(os.path.join(FIX, "crafted", "null_recurrent_activation.keras")) as z:
    put("weights", "lstm_dense.weights.h5", z.read("model.weights.h5"))
    put("zip", "model.keras", open(os.path.join(FIX, "crafted", "null_recurrent_activation.keras"), "rb").read())

idx = struct.pack(">I", 0x0803) + struct.pack(">III", 2, 3, 3) + bytes(range(18))
put("idx", "images.idx", idx)
put("idx", "images.idx.gz", gzip.compress(idx, mtime=0))
put("idx", "labels.idx", struct.pack(">I", 0x0801) + struct.pack(">I", 4) + bytes([1, 2, 3, 9]))
