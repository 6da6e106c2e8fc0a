#!/usr/bin/env python3
"""A fixture for the order of a functional model's layers in Keras's weight files, from Keras itself
(JAX backend), where the mask ops Keras puts in the graph change that order.

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py, whose helpers it uses):
    pip install keras jax jaxlib
    KERAS_BACKEND=jax python3 scripts/make_keras_layer_order_fixtures.py [fixtures_dir]

Writes, under fixtures_dir (default Tests/RecurTests/Fixtures):
    parity/layer_order_masked_concatenate.keras/.npz
        Embedding(mask_zero) -> SimpleRNN, Input -> SimpleRNN -> Dropout and Input -> Dropout meet in
        a Concatenate before an LSTM. Counted without the mask ops, the second SimpleRNN is deeper and
        would come first; Keras's graph holds the mask ops (not_equal, expand_dims, zeros_like,
        logical_or, ones_like, concatenate, any), which make the first one as deep, so Keras lists it
        first. Both SimpleRNNs have kernels of one shape: read in the wrong order, their weights swap
        without an error. Inputs and Keras's outputs.
    parity/summary_embedding_lstm.keras/.npz, parity/summary_masking_bidirectional.keras/.npz
        Functional models whose masks Keras computes with ops: Embedding(mask_zero) -> LSTM (a
        not_equal op), and Masking -> Bidirectional(GRU) -> Dense (not_equal and any).
    parity/summary_chain_*.keras/.npz and parity/chain_summaries.json
        Functional models and Keras's summary() of each as load_model reads it: chains from one input,
        which Keras prints as a Sequential's table (no "Connected to"): Input -> LSTM -> Dense; an LSTM
        with return_state whose three outputs are the model's; outputs taken along the chain; and a
        Bidirectional GRU. And two that are not: Masking -> GRU with an initial_state (two inputs;
        Keras passes that GRU no mask, records no mask ops and runs it unmasked), and Input -> LSTM
        and Dense called twice (a shared layer).
    parity/summary_optimizer_*.keras/.npz and parity/optimizer_summaries.json
        Compiled models and Keras's summary() of each as load_model reads it, which counts the
        optimizer's variables once it is built: Adam and Nadam (a scalar after the slots) trained a
        step, SGD with momentum and a frozen layer, RMSprop compiled only (load_model builds it), and
        Adam under a learning-rate schedule (no learning-rate variable).
    parity/functional_dict_io.keras/.npz
        A functional model of named inputs and outputs (dicts, their keys not in order): Keras
        flattens them in the order of the keys, as the .npz lists them.
    parity/mask_convert_to_tensor.keras/.npz
        Masking -> LSTM -> Attention -> GlobalAveragePooling1D: Keras records the pooling's mask as a
        convert_to_tensor op of the any op.
    parity/wide_name_summaries.json
        Keras's summary() of a Sequential and a functional model whose layer names hold wide (CJK,
        fullwidth, emoji) and zero-width characters: Rich measures them in terminal cells.
    parity/mask_ops_suffixed.keras/.npz and parity/suffixed_mask_op_summaries.json
        Masking -> Bidirectional(GRU) -> Dense built after another masked model in the same session:
        its mask op is named not_equal_1 in the file and in Keras's summary of it as loaded.
    parity/masked_summaries.json
        For each of the three files, Keras's model.summary() text of the model as load_model reads
        it (in a fresh session): the mask ops are rows of their own, and the layers that take a mask
        list it among their inputs.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_keras_fixtures as base  # noqa: E402  (sets KERAS_BACKEND before importing keras)
import make_keras_parity_fixtures as parity  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402


def loaded_summary(path):
    """Keras's summary() of the model at path as load_model reads it, in a fresh session."""
    keras.backend.clear_session()
    lines = []
    keras.saving.load_model(path).summary(print_fn=lambda text, *a, **k: lines.append(text))
    text = "\n".join(lines)
    print(text)
    return text


def write_summaries(path, summaries):
    with open(path, "w") as f:
        json.dump(summaries, f, indent=1, ensure_ascii=False)
        f.write("\n")


def make_models(out):
    parity.fresh()
    ids = keras.Input((5,), dtype="int32", name="ids")
    plain = keras.Input((5, 2), name="plain")
    steps = keras.Input((5, 4), name="steps")
    first = layers.SimpleRNN(3, return_sequences=True)(layers.Embedding(12, 4, mask_zero=True)(ids))
    second = layers.Dropout(0.1)(layers.SimpleRNN(3, return_sequences=True)(steps))
    joined = layers.Concatenate()([first, layers.Dropout(0.1)(plain), second])
    model = keras.Model([ids, plain, steps], layers.Dense(2)(layers.LSTM(3)(joined)), name="layer_order_masked_concatenate")
    tokens = parity.RNG.integers(1, 12, size=(3, 5)).astype(np.int32)
    tokens[0, 3:] = 0
    tokens[2, 1:] = 0
    parity.save_case(out, "layer_order_masked_concatenate", model, [tokens, parity.seq(3, 5, 2), parity.seq(3, 5, 4)])
    print("Keras's layer order:", [l.name for l in model.layers])

    parity.fresh()
    ids = keras.Input((6,), dtype="int32", name="ids")
    model = keras.Model(ids, layers.Dense(2)(layers.LSTM(3)(layers.Embedding(9, 4, mask_zero=True)(ids))), name="summary_embedding_lstm")
    tokens = parity.RNG.integers(1, 9, size=(2, 6)).astype(np.int32)
    tokens[1, 4:] = 0
    parity.save_case(out, "summary_embedding_lstm", model, [tokens])

    parity.fresh()
    x = keras.Input((5, 3), name="x")
    hidden = layers.Bidirectional(layers.GRU(2, return_sequences=True))(layers.Masking(0.0)(x))
    model = keras.Model(x, layers.Dense(2)(hidden), name="summary_masking_bidirectional")
    values = parity.seq(2, 5, 3)
    values[0, 3:] = 0
    parity.save_case(out, "summary_masking_bidirectional", model, [values])

    names = ["layer_order_masked_concatenate", "summary_embedding_lstm", "summary_masking_bidirectional"]
    write_summaries(os.path.join(out, "masked_summaries.json"), {name: loaded_summary(os.path.join(out, f"{name}.keras")) for name in names})


def make_chain_models(out):
    cases = []
    parity.fresh()
    x = keras.Input((5, 3), name="x")
    cases.append(("summary_chain_lstm", keras.Model(x, layers.Dense(2)(layers.LSTM(4)(x)), name="summary_chain_lstm"), [parity.seq(2, 5, 3)]))
    parity.fresh()
    x = keras.Input((5, 3), name="x")
    cases.append(("summary_chain_states", keras.Model(x, layers.LSTM(4, return_state=True)(x), name="summary_chain_states"), [parity.seq(2, 5, 3)]))
    parity.fresh()
    x = keras.Input((5, 3), name="x")
    first = layers.LSTM(4, return_sequences=True)(x)
    last = layers.Dense(2)(layers.GRU(3)(first))
    cases.append(("summary_chain_outputs_along", keras.Model(x, [first, last], name="summary_chain_outputs_along"), [parity.seq(2, 5, 3)]))
    parity.fresh()
    x = keras.Input((5, 3), name="x")
    cases.append(("summary_chain_bidirectional", keras.Model(x, layers.Dense(2)(layers.Bidirectional(layers.GRU(3))(x)), name="summary_chain_bidirectional"),
                  [parity.seq(2, 5, 3)]))
    parity.fresh()
    x, s0 = keras.Input((5, 2), name="x"), keras.Input((3,), name="s0")
    values = parity.seq(2, 5, 2)
    values[0, 3:] = 0
    gru = layers.GRU(3, return_sequences=True)(layers.Masking(0.0)(x), initial_state=[s0])
    cases.append(("summary_chain_initial_state", keras.Model([x, s0], gru, name="summary_chain_initial_state"), [values, parity.unif((2, 3), -1.0, 1.0)]))
    parity.fresh()
    x = keras.Input((5, 3), name="x")
    shared = layers.Dense(3)
    cases.append(("summary_chain_shared", keras.Model(x, shared(shared(layers.LSTM(3)(x))), name="summary_chain_shared"), [parity.seq(2, 5, 3)]))
    summaries = {}
    for name, model, inputs in cases:
        parity.save_case(out, name, model, inputs)
        summaries[name] = loaded_summary(os.path.join(out, f"{name}.keras"))
    write_summaries(os.path.join(out, "chain_summaries.json"), summaries)


def make_convert_to_tensor_model(out):
    parity.fresh()
    x = keras.Input((5, 2), name="x")
    h = layers.LSTM(3, return_sequences=True)(layers.Masking(0.0)(x))
    y = layers.GlobalAveragePooling1D()(layers.Attention()([h, h]))
    values = parity.seq(3, 5, 2)
    values[1, 3:] = 0
    values[2, 1:] = 0
    config = parity.save_case(out, "mask_convert_to_tensor", keras.Model(x, y, name="mask_convert_to_tensor"), [values])
    assert "ConvertToTensor" in [entry["class_name"] for entry in config["config"]["layers"]]


def make_optimizer_summary_models(out):
    def sequential():
        return keras.Sequential([keras.Input((5, 3)), layers.LSTM(4), layers.Dense(2)])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.9)
    cases = [("adam", sequential(), keras.optimizers.Adam(0.01), True), ("nadam", sequential(), keras.optimizers.Nadam(0.01), True),
             ("rmsprop_untrained", sequential(), keras.optimizers.RMSprop(0.01), False),
             ("adam_schedule", sequential(), keras.optimizers.Adam(schedule), True)]
    parity.fresh()
    x = keras.Input((5, 3), name="x")
    frozen = layers.LSTM(4, name="frozen")
    frozen.trainable = False
    cases.append(("sgd_frozen", keras.Model(x, layers.Dense(2)(frozen(x))), keras.optimizers.SGD(0.1, momentum=0.9), True))
    summaries = {}
    for name, model, optimizer, trained in cases:
        parity.fresh()
        model.compile(optimizer, "mse")
        values = parity.seq(2, 5, 3)
        if trained:
            model.train_on_batch(values, parity.unif((2, 2), -1.0, 1.0))
        full = f"summary_optimizer_{name}"
        parity.save_case(out, full, model, [values])
        summaries[full] = loaded_summary(os.path.join(out, f"{full}.keras"))
    write_summaries(os.path.join(out, "optimizer_summaries.json"), summaries)


def make_dict_io_model(out):
    parity.fresh()
    steps, extra = keras.Input((5, 3), name="steps"), keras.Input((2,), name="extra")
    h = layers.Concatenate()([layers.LSTM(4)(steps), extra])
    model = keras.Model({"steps": steps, "extra": extra}, {"y": layers.Dense(1, name="y")(h), "x": layers.Dense(2, name="x")(h)},
                        name="functional_dict_io")
    parity.randomize(model)
    given = {"steps": parity.seq(3, 5, 3), "extra": parity.unif((3, 2), -1.0, 1.0)}
    flat_inputs = keras.tree.flatten(given)
    outputs = keras.tree.flatten(model(given, training=False))
    path = os.path.join(out, "functional_dict_io.keras")
    model.save(path)
    again = keras.tree.flatten(keras.saving.load_model(path)(given, training=False))
    assert max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(outputs, again)) <= 1e-6
    arrays = {f"input_{i}": np.asarray(a) for i, a in enumerate(flat_inputs)}
    arrays.update({f"output_{i}": np.asarray(o, dtype="float32") for i, o in enumerate(outputs)})
    np.savez(os.path.join(out, "functional_dict_io.npz"), **arrays)
    print("functional_dict_io", [a.shape for a in flat_inputs], [np.asarray(o).shape for o in outputs])


WIDE_NAMES = ["循环层", "全连接_输出层_很长的名字很长的名字很长的名字", "ｆｕｌｌｗｉｄｔｈ", "emoji😀dense",
              "中a文b中c文d中e文f中g文h中i文j中k文l", "a很长的名字很长的名字很长的名字很长名", "👨\u200d👩\u200d👧_family",
              "☀\ufe0f_sun", "cafe\u0301_layer"]


def make_wide_name_summaries(out):
    """Keras's summary() of models whose names take two terminal cells a character (Rich measures
    them so): a Sequential chain of them, and a functional model with two inputs."""
    summaries = {}
    def summary(model):
        lines = []
        model.summary(print_fn=lambda text, *a, **k: lines.append(text))
        print("\n".join(lines))
        return "\n".join(lines)
    parity.fresh()
    stack = [keras.Input((5, 3)), layers.LSTM(4, name=WIDE_NAMES[0])]
    stack += [layers.Dense(2, name=name) for name in WIDE_NAMES[1:]]
    summaries["sequential"] = summary(keras.Sequential(stack, name="宽字符模型"))
    parity.fresh()
    first, second = keras.Input((3,), name="入力_一"), keras.Input((2,), name="入力_二")
    joined = layers.Concatenate(name="結合レイヤー_とても長い名前")([first, second])
    model = keras.Model([first, second], [layers.Dense(1, name="出力層")(joined), layers.Dense(2, name="ｏｕｔ")(joined)], name="関数型")
    summaries["functional"] = summary(model)
    write_summaries(os.path.join(out, "wide_name_summaries.json"), summaries)


def make_suffixed_mask_op_model(out):
    """A masked functional model built after another in the same session: Keras's op names count up
    across the session (not_equal_1, any_1), and its file and summary keep them."""
    parity.fresh()
    ids = keras.Input((4,), dtype="int32")
    keras.Model(ids, layers.LSTM(2)(layers.Embedding(6, 3, mask_zero=True)(ids)))  # takes not_equal
    x = keras.Input((5, 2), name="x")
    h = layers.Bidirectional(layers.GRU(3))(layers.Masking(0.0)(x))
    values = parity.seq(3, 5, 2)
    values[1, 3:] = 0
    config = parity.save_case(out, "mask_ops_suffixed", keras.Model(x, layers.Dense(2)(h), name="mask_ops_suffixed"), [values])
    ops = [entry["name"] for entry in config["config"]["layers"] if entry["class_name"] in ("NotEqual", "Any")]
    assert ops == ["not_equal_1", "any"], ops
    write_summaries(os.path.join(out, "suffixed_mask_op_summaries.json"),
                    {"mask_ops_suffixed": loaded_summary(os.path.join(out, "mask_ops_suffixed.keras"))})


if __name__ == "__main__":
    print("keras", keras.__version__)
    keras.utils.set_random_seed(parity.SEED)
    make_models(os.path.join(base.OUT, "parity"))
    make_chain_models(os.path.join(base.OUT, "parity"))
    make_convert_to_tensor_model(os.path.join(base.OUT, "parity"))
    make_optimizer_summary_models(os.path.join(base.OUT, "parity"))
    make_dict_io_model(os.path.join(base.OUT, "parity"))
    make_wide_name_summaries(os.path.join(base.OUT, "parity"))
    make_suffixed_mask_op_model(os.path.join(base.OUT, "parity"))
