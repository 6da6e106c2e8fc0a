#!/usr/bin/env python3
"""Hostile input files for Recur's readers of untrusted files (run by hand, not in CI).

Usage:
    KERAS_BACKEND=jax python3 scripts/make_crafted_files.py [out_dir]
        (needs keras 3, jax, h5py, numpy; out_dir defaults to Tests/RecurTests/Fixtures/crafted)

Writes small files that are each valid except for one hostile feature, verifies each one is what it
claims (prints HDF5 link types / layouts / filters / external lists, ZIP entry tables, headers), asks
Keras / NumPy what *they* do with each file (in a memory-limited child process, so a file that makes
Keras allocate 32 GiB fails there instead of taking the machine down), and writes README.md in
out_dir with one row per file.

Weights files: the model is `Sequential([Input((4, 3)), Dense(2)])` built with
keras.utils.set_random_seed(1). `valid_dense.weights.h5` is exactly what `model.save_weights` writes
(groups `layers/dense/vars` with attribute name="dense" holding datasets `0` = kernel float32 (3, 2)
and `1` = bias float32 (2,), and an empty group `vars` with name="sequential"). Every other
`.weights.h5` is a byte copy of it edited in place with h5py, so the hostile feature is the only
difference:

    valid_dense                  control; Recur must load it (kernel/bias as saved)
    external_link                layers/dense/vars/0 is an external link to file /etc/passwd, object
                                 /data; Recur must refuse (naming the external link) without
                                 opening any other file
    external_link_group          layers/dense is an external link to /tmp/recur-absent.h5
                                 (/layers/dense); refuse, naming the external link
    soft_link                    layers/dense/vars/0 is a soft link to /stash/kernel, a float32 (3, 2)
                                 copy of the real kernel; refuse (soft link); Keras/h5py follow it
    external_storage             layers/dense/vars/0 is a (3, 2) float32 dataset whose raw data is
                                 declared to live in /etc/hostname bytes 0..24; refuse (external
                                 storage) without reading /etc/hostname
    virtual_dataset              layers/dense/vars/0 is a virtual dataset (3, 2) float32 mapped from
                                 /tmp/recur-absent-source.h5 dataset `data`; refuse (virtual dataset)
    unknown_filter               layers/dense/vars/0 is chunked with HDF5 filter 307 (bzip2, not
                                 built into HDF5; h5py marks it optional), its one chunk written
                                 with write_direct_chunk as a real bz2 stream of the kernel;
                                 refuse, naming filter 307; load no plugin
    huge_declared                layers/dense/vars/0 is declared float32 (2**31, 2**31), chunked
                                 (3, 2), fill value 0, no chunk written (64 EiB declared, the file
                                 stays ~12 KB); refuse on the shape before allocating
    huge_declared_matching_rank  same with shape (3, 2**40), contiguous, never allocated (rank and
                                 first dimension match the kernel); refuse on the shape
    hardlink_cycle               valid file plus group layers/extra/vars (no dataset 0 in it) and a
                                 hard link layers/extra/loop -> /layers (a group cycle); any walk
                                 of the groups must terminate; Recur may load the model (the extra
                                 layer is not in the model) or refuse, but never loop or recurse
                                 without bound
    wrong_dtype                  layers/dense/vars/0 is a (3, 2) variable-length UTF-8 string
                                 dataset; refuse, naming the datatype
    compound_dtype               layers/dense/vars/0 is a (3, 2) compound {x: float32} dataset
                                 (same 4-byte element size as float32); refuse, naming the datatype

`.keras` archives: rewritten from a real `model.save` of `Sequential([Input((4, 3)), LSTM(4),
Dense(2)])` (seed 1): same entries in the same order, same metadata.json bytes, same dates and
attributes; config.json is the real one re-serialised with json.dumps (Keras's own formatting)
after the edit (stored, like Keras, unless over 64 KB, then deflated); model.weights.h5 has the same
bytes but is stored deflated (Keras stores it uncompressed; deflating keeps the folder small and
Keras reads it the same):

    units_1e19 / units_neg1 / units_2e62 / units_2e31 / units_0 / units_float
                                 LSTM units = 10000000000000000000 (beyond Int64), -1, 2**62,
                                 2**31, 0, 2.5; refuse, naming `units`, before any allocation
    null_recurrent_activation    LSTM "recurrent_activation": null; Keras reads null as linear;
                                 Recur must match Keras's output in null_recurrent_activation.npz
                                 (input_0, output_0 computed by keras.saving.load_model of this
                                 very file)
    duplicate_config             two entries named config.json (the real one, then one with Dense
                                 units 3); refuse (duplicate entry); Python's zipfile, so Keras,
                                 silently takes the last one
    config_bomb                  config.json is a deflate stream of the real config followed by
                                 65 MiB of spaces, while both headers declare the real size and the
                                 CRC of the real bytes; Recur must never inflate past the declared
                                 size: it loads the model (as Keras does, which stops at the
                                 declared size) or refuses the entry, without a 65 MiB buffer
    negative_node_index          functional Input -> LSTM(4) -> Dense(2); the Dense inbound node's
                                 keras_history is ["lstm", -1, 0]; refuse, naming the node index
    deep_nesting                 the LSTM config has an extra key whose value is 100,000 nested
                                 JSON arrays; refuse (nesting depth) without overflowing the stack
    long_name                    the Dense layer's name is 10,000,000 x 'a' (config.json inflates
                                 to ~10 MB, under the 64 MiB config limit); Recur may load it (the
                                 weights are found by position, not name) or refuse the name, but
                                 must not take quadratic time or print the whole name in an error

`.npy`:
    deep_parens                  version 2.0 header whose shape is 100,000 '(' ; refuse (header
                                 nesting / length) without recursion
    huge_shape                   shape (2147483648, 2147483648) float32, no data; refuse on the
                                 shape / file size before allocating
    negative_shape               shape (-1, 3) float32 with 12 bytes of data; refuse the negative
                                 dimension

IDX:
    bomb.idx.gz                  gzip (mtime 0) of an IDX header for (10, 28, 28) uint8 followed by
                                 200 MiB of zeros (the header + 7840 payload bytes are valid);
                                 Recur must stop inflating at the declared 7840 bytes (or refuse
                                 the trailing data) rather than inflate 200 MiB
    huge_header.idx              uncompressed IDX uint8 header declaring (4294967295, 4294967295)
                                 followed by 10 bytes; refuse on the declared size before
                                 allocating

Output is deterministic except the .keras zips (metadata date_saved, the weights entry's date,
shared_object_id in config.json) and the Keras observations column of README.md.
"""
import bz2
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_BOMB_MIB = 65   # spaces after the real config.json in config_bomb.keras (~1 KB of file per MiB)
IDX_BOMB_MIB = 64     # zeros after the IDX header in bomb.idx.gz (~1 KB of file per MiB)
WORK = tempfile.mkdtemp(prefix="recur-crafted-")

# What each file is and what Recur must do; README.md is generated from this table.
TABLE = []


def note(name, hostile, recur):
    TABLE.append((name, hostile, recur))


# --------------------------------------------------------------------------------------------
# .weights.h5


def keras_models():
    """Each built after clear_session (so layers get the default names dense, lstm, ...) and seed 1."""
    import keras
    keras.backend.clear_session()
    keras.utils.set_random_seed(1)
    dense = keras.Sequential([keras.Input((4, 3)), keras.layers.Dense(2)])
    keras.backend.clear_session()
    keras.utils.set_random_seed(1)
    lstm = keras.Sequential([keras.Input((4, 3)), keras.layers.LSTM(4), keras.layers.Dense(2)])
    keras.backend.clear_session()
    keras.utils.set_random_seed(1)
    inp = keras.Input((4, 3))
    out = keras.layers.Dense(2)(keras.layers.LSTM(4)(inp))
    functional = keras.Model(inp, out)
    return dense, lstm, functional


def edited_copy(base, out, edit):
    shutil.copyfile(base, out)
    with h5py.File(out, "r+") as f:
        edit(f)


def make_weights(out, base):
    shutil.copyfile(base, os.path.join(out, "valid_dense.weights.h5"))
    note("valid_dense.weights.h5", "nothing: `model.save_weights` of `Sequential([Input((4, 3)), Dense(2)])` (control)",
         "load it: kernel `layers/dense/vars/0` (3, 2), bias `layers/dense/vars/1` (2,)")
    with h5py.File(base, "r") as f:
        kernel = f["layers/dense/vars/0"][()]

    def path(name):
        return os.path.join(out, name)

    def external_link(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd", "/data")
    edited_copy(base, path("external_link.weights.h5"), external_link)
    note("external_link.weights.h5", "`layers/dense/vars/0` is an external link to file `/etc/passwd`, object `/data`",
         "refuse, naming the external link; open no other file")

    def external_link_group(f):
        del f["layers/dense"]
        f["layers/dense"] = h5py.ExternalLink("/tmp/recur-absent.h5", "/layers/dense")
    edited_copy(base, path("external_link_group.weights.h5"), external_link_group)
    note("external_link_group.weights.h5", "the group `layers/dense` is an external link to `/tmp/recur-absent.h5` `/layers/dense`",
         "refuse, naming the external link")

    def soft_link(f):
        f.create_group("stash").create_dataset("kernel", data=kernel)
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.SoftLink("/stash/kernel")
    edited_copy(base, path("soft_link.weights.h5"), soft_link)
    note("soft_link.weights.h5", "`layers/dense/vars/0` is a soft link to `/stash/kernel` (a float32 (3, 2) copy of the kernel)",
         "refuse, naming the soft link (Recur follows hard links only)")

    def external_storage(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", shape=(3, 2), dtype="<f4", external=[("/etc/hostname", 0, 24)])
    edited_copy(base, path("external_storage.weights.h5"), external_storage)
    note("external_storage.weights.h5", "`layers/dense/vars/0` float32 (3, 2) with external storage: raw data in `/etc/hostname` bytes 0-24",
         "refuse, naming external storage; read no other file")

    def virtual_dataset(f):
        del f["layers/dense/vars/0"]
        layout = h5py.VirtualLayout(shape=(3, 2), dtype="<f4")
        layout[:] = h5py.VirtualSource("/tmp/recur-absent-source.h5", "data", shape=(3, 2), dtype="<f4")
        f["layers/dense/vars"].create_virtual_dataset("0", layout, fillvalue=0)
    edited_copy(base, path("virtual_dataset.weights.h5"), virtual_dataset)
    note("virtual_dataset.weights.h5", "`layers/dense/vars/0` is a virtual dataset (3, 2) float32 mapped from `/tmp/recur-absent-source.h5` `data`",
         "refuse, naming the virtual dataset; open no other file")

    def unknown_filter(f):
        del f["layers/dense/vars/0"]
        d = f["layers/dense/vars"].create_dataset("0", shape=(3, 2), dtype="<f4", chunks=(3, 2), compression=307,
                                                  compression_opts=(9,), allow_unknown_filter=True)
        d.id.write_direct_chunk((0, 0), bz2.compress(kernel.astype("<f4").tobytes(), 9), filter_mask=0)
    edited_copy(base, path("unknown_filter.weights.h5"), unknown_filter)
    note("unknown_filter.weights.h5", "`layers/dense/vars/0` chunked with HDF5 filter 307 (bzip2, not built into HDF5); the chunk is a real bz2 stream of the kernel",
         "refuse, naming filter 307; load no filter plugin")

    def huge(shape, chunks):
        def edit(f):
            del f["layers/dense/vars/0"]
            f["layers/dense/vars"].create_dataset("0", shape=shape, dtype="<f4", chunks=chunks, fillvalue=0)
        return edit
    edited_copy(base, path("huge_declared.weights.h5"), huge((2**31, 2**31), (3, 2)))
    note("huge_declared.weights.h5", "`layers/dense/vars/0` declared float32 (2³¹, 2³¹) (chunked (3, 2), fill 0, no chunk written)",
         "refuse on the shape (expected (3, 2) / over the element limit) before allocating")
    edited_copy(base, path("huge_declared_matching_rank.weights.h5"), huge((3, 2**40), None))
    note("huge_declared_matching_rank.weights.h5", "`layers/dense/vars/0` declared float32 (3, 2⁴⁰), contiguous, never allocated",
         "refuse on the shape before allocating")

    def cycle(f):
        f.create_group("layers/extra/vars")
        f["layers/extra/loop"] = f["layers"]
    edited_copy(base, path("hardlink_cycle.weights.h5"), cycle)
    note("hardlink_cycle.weights.h5", "valid file plus empty group `layers/extra/vars` and a hard link `layers/extra/loop` → `/layers` (a group cycle)",
         "terminate: load the model (the extra group is no layer of it) or refuse the cycle; never loop or recurse without bound")

    def wrong_dtype(f):
        del f["layers/dense/vars/0"]
        text = np.array([[str(v) for v in row] for row in kernel], dtype=object)
        f["layers/dense/vars"].create_dataset("0", data=text, dtype=h5py.string_dtype("utf-8"))
    edited_copy(base, path("wrong_dtype.weights.h5"), wrong_dtype)
    note("wrong_dtype.weights.h5", "`layers/dense/vars/0` is a (3, 2) variable-length UTF-8 string dataset",
         "refuse, naming the datatype")

    def compound(f):
        del f["layers/dense/vars/0"]
        dt = np.dtype([("x", "<f4")])
        value = np.zeros((3, 2), dtype=dt)
        value["x"] = kernel
        f["layers/dense/vars"].create_dataset("0", data=value)
    edited_copy(base, path("compound_dtype.weights.h5"), compound)
    note("compound_dtype.weights.h5", "`layers/dense/vars/0` is a (3, 2) compound `{x: float32}` dataset (4-byte elements, like float32)",
         "refuse, naming the datatype")


def describe_h5(path):
    """One line per object: link type, and for datasets dtype/shape/layout/filters/external/storage."""
    lines = []
    layouts = {0: "compact", 1: "contiguous", 2: "chunked", 3: "virtual"}
    seen = set()
    with h5py.File(path, "r") as f:
        def walk(group, prefix):
            for name in group:
                full = f"{prefix}/{name}"
                link = group.get(name, getlink=True)
                kind = type(link).__name__
                if isinstance(link, h5py.ExternalLink):
                    lines.append(f"{full}: ExternalLink -> {link.filename}:{link.path}")
                    continue
                if isinstance(link, h5py.SoftLink):
                    lines.append(f"{full}: SoftLink -> {link.path}")
                    continue
                obj = group[name]
                addr = h5py.h5o.get_info(obj.id).addr
                if isinstance(obj, h5py.Group):
                    if addr in seen:
                        lines.append(f"{full}: {kind} to group @{addr} already visited (cycle)")
                        continue
                    seen.add(addr)
                    lines.append(f"{full}: {kind} group attrs={dict(obj.attrs)}")
                    walk(obj, full)
                else:
                    dcpl = obj.id.get_create_plist()
                    layout = layouts.get(dcpl.get_layout(), dcpl.get_layout())
                    filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
                    external = [dcpl.get_external(i) for i in range(dcpl.get_external_count())]
                    extra = ""
                    if layout == "virtual":
                        extra = f" vds_sources={[(dcpl.get_virtual_filename(i), dcpl.get_virtual_dsetname(i)) for i in range(dcpl.get_virtual_count())]}"
                    lines.append(f"{full}: {kind} dataset {obj.dtype} {obj.shape} {layout} filters={filters}"
                                 f" external={external} storage={obj.id.get_storage_size()}B{extra}")
        walk(f, "")
    return lines


# --------------------------------------------------------------------------------------------
# .keras


def read_archive(path):
    with zipfile.ZipFile(path) as z:
        return [(info, z.read(info.filename)) for info in z.infolist()]


def write_archive(path, entries, deflate=("model.weights.h5",)):
    """entries: [(ZipInfo template, bytes)], written in order with zipfile (as Keras does)."""
    with zipfile.ZipFile(path, "w") as z:
        for template, data in entries:
            info = zipfile.ZipInfo(template.filename, date_time=template.date_time)
            info.external_attr = template.external_attr
            info.create_system = template.create_system
            big = len(data) > 64 * 1024
            info.compress_type = zipfile.ZIP_DEFLATED if (template.filename in deflate or big) else template.compress_type
            z.writestr(info, data, compresslevel=9)


def with_config(entries, config_text, extra=None):
    out = []
    for info, data in entries:
        out.append((info, config_text.encode() if info.filename == "config.json" else data))
        if info.filename == "config.json" and extra is not None:
            out.append((info, extra.encode()))
    return out


def layer(config, class_name):
    return next(l for l in config["config"]["layers"] if l["class_name"] == class_name)


def dos_time(date_time):
    y, mo, d, h, mi, s = date_time
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


def write_raw_zip(path, entries):
    """entries: [(name, payload, method, crc, compressed_size, declared_size, date_time, external_attr)].
    The sizes and CRC go into both headers exactly as given (no consistency check)."""
    body, central = io.BytesIO(), io.BytesIO()
    for name, payload, method, crc, csize, usize, date_time, ext in entries:
        t, d = dos_time(date_time)
        offset = body.tell()
        encoded = name.encode()
        body.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, t, d, crc, csize, usize, len(encoded), 0))
        body.write(encoded)
        body.write(payload)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, 0, method, t, d, crc, csize, usize,
                                  len(encoded), 0, 0, 0, 0, ext, offset))
        central.write(encoded)
    cd = central.getvalue()
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), body.tell(), 0)
    with open(path, "wb") as f:
        f.write(body.getvalue() + cd + eocd)


def make_keras(out, lstm, functional):
    real = os.path.join(WORK, "lstm_dense.keras")
    lstm.save(real)
    entries = read_archive(real)
    config = json.loads(dict((i.filename, d) for i, d in entries)["config.json"])

    def edited(edit):
        c = json.loads(json.dumps(config))
        edit(c)
        return json.dumps(c)

    units = [("units_1e19", 10**19, "10000000000000000000 (beyond Int64)"), ("units_neg1", -1, "-1"),
             ("units_2e62", 2**62, "2⁶² (parameter counts overflow Int64)"), ("units_2e31", 2**31, "2³¹"),
             ("units_0", 0, "0"), ("units_float", 2.5, "2.5")]
    for name, value, text in units:
        def set_units(c, value=value):
            layer(c, "LSTM")["config"]["units"] = value
        write_archive(os.path.join(out, name + ".keras"), with_config(entries, edited(set_units)))
        note(name + ".keras", f"LSTM `units` = {text}", "refuse, naming `units`, before allocating anything")

    def null_act(c):
        layer(c, "LSTM")["config"]["recurrent_activation"] = None
    null_path = os.path.join(out, "null_recurrent_activation.keras")
    write_archive(null_path, with_config(entries, edited(null_act)))
    note("null_recurrent_activation.keras", "LSTM `\"recurrent_activation\": null`",
         "load it (null = linear, as in Keras) and match `null_recurrent_activation.npz` (`input_0`, `output_0` from Keras loading this file)")

    def dense3(c):
        layer(c, "Dense")["config"]["units"] = 3
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_archive(os.path.join(out, "duplicate_config.keras"),
                      with_config(entries, json.dumps(config), extra=edited(dense3)))
    note("duplicate_config.keras", "two entries named `config.json`: the real one, then one with Dense `units` 3",
         "refuse, naming the duplicate entry `config.json`")

    # config_bomb: real config + 65 MiB of spaces in one deflate stream; headers declare the real size.
    text = json.dumps(config).encode()
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = [comp.compress(text)]
    block = b" " * (1 << 20)
    for _ in range(CONFIG_BOMB_MIB):
        payload.append(comp.compress(block))
    payload.append(comp.flush())
    payload = b"".join(payload)
    raw = []
    for info, data in entries:
        if info.filename == "config.json":
            raw.append((info.filename, payload, 8, zlib.crc32(text), len(payload), len(text), info.date_time, info.external_attr))
        elif info.filename == "model.weights.h5":
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            packed = c.compress(data) + c.flush()
            raw.append((info.filename, packed, 8, zlib.crc32(data), len(packed), len(data), info.date_time, info.external_attr))
        else:
            raw.append((info.filename, data, 0, zlib.crc32(data), len(data), len(data), info.date_time, info.external_attr))
    write_raw_zip(os.path.join(out, "config_bomb.keras"), raw)
    note("config_bomb.keras", f"`config.json` is a deflate stream of the real config ({len(text)} bytes) followed by {CONFIG_BOMB_MIB} MiB of spaces; both headers declare {len(text)} bytes and the CRC of the real config",
         f"never inflate past the declared size: load the model as Keras does (Python's zipfile stops at the declared size) or refuse the entry; no {CONFIG_BOMB_MIB} MiB buffer")

    real_f = os.path.join(WORK, "functional.keras")
    functional.save(real_f)
    f_entries = read_archive(real_f)
    f_config = json.loads(dict((i.filename, d) for i, d in f_entries)["config.json"])
    dense_node = layer(f_config, "Dense")["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
    assert dense_node[0] == "lstm" and dense_node[1] == 0, dense_node
    dense_node[1] = -1
    write_archive(os.path.join(out, "negative_node_index.keras"), with_config(f_entries, json.dumps(f_config)))
    note("negative_node_index.keras", "functional Input → LSTM(4) → Dense(2); the Dense inbound `keras_history` is `[\"lstm\", -1, 0]`",
         "refuse, naming the node index -1 (Keras accepts it only because Python reads index -1 as the last node, here the only one)")

    def deep(c):
        layer(c, "LSTM")["config"]["recur_crafted_nesting"] = "@DEEP@"
    deep_text = edited(deep).replace('"@DEEP@"', "[" * 100_000 + "]" * 100_000)
    write_archive(os.path.join(out, "deep_nesting.keras"), with_config(entries, deep_text))
    note("deep_nesting.keras", "the LSTM config has an extra key whose value is 100,000 nested JSON arrays",
         "refuse (JSON nesting depth) without overflowing the stack")

    long_name = "a" * 10_000_000

    def rename(c):
        layer(c, "Dense")["config"]["name"] = long_name
    long_text = edited(rename)
    assert long_text.count(long_name) == 1 and '"dense"' not in long_text
    write_archive(os.path.join(out, "long_name.keras"), with_config(entries, long_text))
    note("long_name.keras", "the Dense layer's name is 10,000,000 × `a` (config.json inflates to ~10 MB, under the 64 MiB config limit)",
         "load it like Keras (weights are found by position, not name) or refuse the name; no quadratic work, no 10 MB error message")
    return null_path


def make_null_npz(out, null_path, original):
    import keras
    model = keras.saving.load_model(null_path)
    act = model.layers[0].cell.recurrent_activation
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype("float32")
    y = np.asarray(model(x, training=False))
    np.savez(os.path.join(out, "null_recurrent_activation.npz"), input_0=x, output_0=y)
    gap = float(np.max(np.abs(y - np.asarray(original(x, training=False)))))
    return (f"Keras reads null as {getattr(act, '__name__', act)}; output differs from the saved sigmoid model's "
            f"by up to {gap:.3g}")


def describe_zip(path):
    lines = []
    with open(path, "rb") as fh:
        data = fh.read()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            lines.append(f"{info.filename}: method={info.compress_type} compressed={info.compress_size} declared={info.file_size}")
            if info.filename == "config.json" and info.compress_type == 8:
                start = info.header_offset + 30 + len(info.filename.encode())
                inflated = zlib.decompressobj(-15)
                total = 0
                chunk = data[start:start + info.compress_size]
                total += len(inflated.decompress(chunk, 0))
                lines.append(f"  config.json deflate stream inflates to {total} bytes (declared {info.file_size})")
    return lines


# --------------------------------------------------------------------------------------------
# .npy and IDX


def npy(path, version, header_dict_text, data=b""):
    prefix = b"\x93NUMPY" + bytes(version)
    length_size = 2 if version[0] == 1 else 4
    header = header_dict_text.encode("latin1")
    total = len(prefix) + length_size + len(header) + 1
    header += b" " * ((-total) % 64) + b"\n"
    length = struct.pack("<H" if length_size == 2 else "<I", len(header))
    with open(path, "wb") as f:
        f.write(prefix + length + header + data)


def make_npy(out):
    npy(os.path.join(out, "deep_parens.npy"), (2, 0), "{'descr': '<f4', 'fortran_order': False, 'shape': " + "(" * 100_000 + ", }")
    note("deep_parens.npy", "version 2.0 header whose `shape` is 100,000 `(` (100 KB header)",
         "refuse (header nesting depth / header length) without recursion")
    npy(os.path.join(out, "huge_shape.npy"), (1, 0), "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2147483648), }")
    note("huge_shape.npy", "`shape` (2147483648, 2147483648) float32 and no data", "refuse on the shape / file size before allocating")
    npy(os.path.join(out, "negative_shape.npy"), (1, 0), "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }",
        np.arange(1, 4, dtype="<f4").tobytes())
    note("negative_shape.npy", "`shape` (-1, 3) float32 with 12 bytes of data", "refuse, naming the negative dimension")


def make_idx(out):
    header = struct.pack(">BBBB", 0, 0, 0x08, 3) + struct.pack(">III", 10, 28, 28)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip wrapper, mtime 0
    parts = [comp.compress(header)]
    block = bytes(1 << 20)
    for _ in range(IDX_BOMB_MIB):
        parts.append(comp.compress(block))
    parts.append(comp.flush())
    with open(os.path.join(out, "bomb.idx.gz"), "wb") as f:
        f.write(b"".join(parts))
    note("bomb.idx.gz", f"gzip of an IDX header for (10, 28, 28) uint8 followed by {IDX_BOMB_MIB} MiB of zeros (first 16 + 7840 bytes are a valid file)",
         f"stop inflating at the declared 7840 payload bytes (or refuse the trailing data); never inflate {IDX_BOMB_MIB} MiB")
    with open(os.path.join(out, "huge_header.idx"), "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 0x08, 2) + struct.pack(">II", 0xFFFFFFFF, 0xFFFFFFFF) + bytes(range(10)))
    note("huge_header.idx", "uncompressed IDX uint8 header declaring (4294967295, 4294967295), then 10 bytes",
         "refuse on the declared size (vs. file size) before allocating")


def describe_gz(path):
    d = zlib.decompressobj(31)
    total = 0
    head = b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 16):
            piece = d.decompress(chunk)
            if len(head) < 16:
                head += piece[:16 - len(head)]
            total += len(piece)
    return [f"inflates to {total} bytes; IDX header {head.hex()}"]


# --------------------------------------------------------------------------------------------
# What Keras / NumPy do with each file (child process, address space limited to 6 GiB)

CHILD = r"""
import os, re, sys, json, resource, warnings
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
os.environ["KERAS_BACKEND"] = "jax"
warnings.simplefilter("ignore")
import numpy as np, keras
valid = sys.argv[1]
ref = keras.Sequential([keras.Input((4, 3)), keras.layers.Dense(2)]); ref.load_weights(valid)
ref = [np.asarray(w) for w in ref.weights]
for path in sys.argv[2:]:
    name = os.path.basename(path)
    print(json.dumps({"file": name, "status": "started"}), flush=True)
    try:
        if name.endswith(".weights.h5"):
            m = keras.Sequential([keras.Input((4, 3)), keras.layers.Dense(2)])
            m.load_weights(path)
            same = all(np.array_equal(np.asarray(a), b) for a, b in zip(m.weights, ref))
            result = "loads" + (" (same weights as valid_dense)" if same else " (weights differ from valid_dense)")
        elif name.endswith(".keras"):
            m = keras.saving.load_model(path)
            shapes = [tuple(w.shape) for w in m.weights]
            result = f"loads; weight shapes {shapes}"
        elif name.endswith(".npy"):
            a = np.load(path)
            result = f"np.load gives {a.dtype} {a.shape}"
        else:
            result = "-"
    except BaseException as e:
        msg = " ".join(str(e).split())
        msg = re.sub(r"^A total of \d+ objects could not be loaded\. Example error message for object <[^>]*>: ", "", msg)
        msg = msg.split(" List of objects that could not be loaded")[0]
        if len(msg) > 160:
            msg = msg[:160] + "..."
        result = f"{type(e).__name__}: {msg}"
    print(json.dumps({"file": name, "status": "done", "result": result}), flush=True)
"""


def observe(out, files):
    results = {}
    pending = list(files)
    valid = os.path.join(out, "valid_dense.weights.h5")
    while pending:
        proc = subprocess.run([sys.executable, "-c", CHILD, valid] + [os.path.join(out, p) for p in pending],
                              capture_output=True, text=True, timeout=900)
        current = None
        for line in proc.stdout.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg["status"] == "started":
                current = msg["file"]
            else:
                results[msg["file"]] = msg["result"]
                current = None
        if current is not None:  # the child died on this file
            why = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit status {proc.returncode}"
            last = [l.strip() for l in proc.stderr.splitlines() if l.strip()][-1:]
            results[current] = f"the Python process died ({why}): {' '.join(last)[:200]}"
        before = len(pending)
        pending = [p for p in pending if p not in results]
        if pending and (proc.returncode == 0 or len(pending) == before):  # no progress: give up
            for p in pending:
                results[p] = f"not observed ({proc.stderr.strip().splitlines()[-1:] or proc.returncode})"
            pending = []
    return results


# --------------------------------------------------------------------------------------------


def write_readme(out, observed):
    rows = ["| file | bytes | what is hostile | what Recur must do | Keras / NumPy (observed) |", "|---|---:|---|---|---|"]
    for name, hostile, recur in TABLE:
        size = os.path.getsize(os.path.join(out, name))
        rows.append(f"| `{name}` | {size} | {hostile} | {recur} | {observed.get(name, '-').replace('|', '/')} |")
    import keras
    text = f"""# Crafted hostile input files

Generated by `scripts/make_crafted_files.py` (docstring there has the details):

    KERAS_BACKEND=jax python3 scripts/make_crafted_files.py

Keras {keras.__version__}, h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version}), NumPy {np.__version__}.
Each file is valid except for the one hostile feature listed. The `.weights.h5` files are byte
copies of `valid_dense.weights.h5` (`model.save_weights` of `Sequential([Input((4, 3)), Dense(2)])`,
seed 1) edited with h5py; the `.keras` files are rewritten from a real `model.save` of
`Sequential([Input((4, 3)), LSTM(4), Dense(2)])` (seed 1), with `model.weights.h5` stored deflated
(`negative_node_index.keras`: the functional Input → LSTM(4) → Dense(2)).
"Refuse" means: throw a `RecurError` naming the file and the feature, before reading other files,
loading plugins or allocating for the declared size. The last column is what Keras / NumPy did
with the file when it was generated (Keras in a child process limited to 6 GiB of address space).

{chr(10).join(rows)}

`null_recurrent_activation.npz` holds `input_0` (2, 4, 3) and `output_0`, the output of
`keras.saving.load_model("null_recurrent_activation.keras")` on `input_0`.
"""
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(text)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "RecurTests", "Fixtures", "crafted")
    os.makedirs(out, exist_ok=True)
    dense, lstm, functional = keras_models()
    base = os.path.join(WORK, "dense.weights.h5")
    dense.save_weights(base)

    make_weights(out, base)
    null_path = make_keras(out, lstm, functional)
    null_result = make_null_npz(out, null_path, lstm)
    make_npy(out)
    make_idx(out)

    print("== verification")
    for name, _, _ in TABLE:
        path = os.path.join(out, name)
        print(f"{name} ({os.path.getsize(path)} bytes)")
        if name.endswith(".h5"):
            lines = describe_h5(path)
        elif name.endswith(".keras"):
            lines = describe_zip(path)
        elif name.endswith(".npy"):
            with open(path, "rb") as f:
                head = f.read(120)
            lines = [f"starts {head!r}"]
        elif name.endswith(".gz"):
            lines = describe_gz(path)
        else:
            with open(path, "rb") as f:
                lines = [f"bytes {f.read().hex()}"]
        for line in lines:
            print("   ", line if len(line) < 300 else line[:300] + "...")

    print("== Keras / NumPy")
    observed = observe(out, [n for n, _, _ in TABLE if not n.endswith((".idx", ".gz"))])
    observed["null_recurrent_activation.keras"] = observed.get("null_recurrent_activation.keras", "") + f"; {null_result}"
    for name, _, _ in TABLE:
        print(f"{name}: {observed.get(name, '-')}")
    write_readme(out, observed)
    shutil.rmtree(WORK, ignore_errors=True)
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f"== {len(os.listdir(out))} files, {total} bytes in {out}")


if __name__ == "__main__":
    main()
