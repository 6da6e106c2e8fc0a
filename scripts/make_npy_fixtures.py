"""Writes the .npy fixtures of Tests/RecurTests/Fixtures/io that only numpy itself can vouch for: byte
orders, float16 and Fortran order, each with its values in C order as float32 (`*.expected.npy`,
little-endian float32, C order), so the tests compare Recur's reading with numpy's.

    python3 scripts/make_npy_fixtures.py Tests/RecurTests/Fixtures/io
"""
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1])
values = np.array([[0.5, -1.25, 3.0], [1e-3, 65504.0, -2.0]])
arrays = {
    "numpy_f2": values.astype("<f2"),
    "numpy_be_f4": values.astype(">f4"),
    "numpy_be_f8": values.astype(">f8"),
    "numpy_be_i2": np.array([[-3, 2, 300], [7, -32768, 32767]], dtype=">i2"),
    "numpy_be_u4": np.array([1, 70000, 4000000000], dtype=">u4"),
    "numpy_fortran_f4": np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)),
    "numpy_fortran_be_f8": np.asfortranarray((np.arange(6) / 4).reshape(3, 2).astype(">f8")),
}
for name, array in arrays.items():
    np.save(out / f"{name}.npy", array)
    np.save(out / f"{name}.expected.npy", np.ascontiguousarray(array.astype("<f4")))
    header = open(out / f"{name}.npy", "rb").read(128)
    print(name, array.dtype.str, array.shape, b"True" in header)
