"""Reads Debian's dataset-fashion-mnist IDX files (raw or .gz) as NumPy arrays, for the peer scripts."""
import gzip
import os

import numpy as np


def read_idx(data_dir, name):
    """The IDX array `name` (e.g. "train-images-idx3-ubyte") in `data_dir`, as uint8 of its shape."""
    path = os.path.join(data_dir, name)
    compressed = os.path.exists(path + ".gz")
    with (gzip.open(path + ".gz", "rb") if compressed else open(path, "rb")) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
