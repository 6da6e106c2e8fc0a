#!/usr/bin/env python3
"""Generate *semantic* Keras reference fixtures for Recur (masks, Bidirectional initial states,
return-state combinations, custom activations, stateful LSTM, masked loss).

Usage:
    KERAS_BACKEND=jax /tmp/kvenv/bin/python scripts/make_keras_semantics_fixtures.py [output_dir]

Default output dir: Tests/RecurTests/Fixtures. Writes
    layers/<case>.json   -- same format as make_keras_fixtures.py, plus an optional
                            "mask": {"shape": [batch, time], "values": [0/1...]} passed as mask=;
                            among them *_unroll_zero_output_mask: unroll with zero_output_for_mask
    stateful.json        -- stateful LSTM over 3 chunks vs. one non-stateful pass
    masked_loss.json     -- Embedding(mask_zero) -> LSTM -> Dense, evaluate() with a masked loss
Helpers (rounding, tensor(), layer_case(), ...) are imported from make_keras_fixtures.py; this
script uses its own RNG seed (4321) so it does not disturb that script's output.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import jax
import jax.numpy as jnp
import keras
from keras import layers

import make_keras_fixtures as mkf
from make_keras_fixtures import r6, num, tensor, dump, randomize_weights, layer_case, ROOT

assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "RecurTests", "Fixtures")
mkf.OUT = OUT                              # layer_case() writes to mkf.OUT/layers
mkf.RNG = np.random.default_rng(4321)      # unif() draws from mkf.RNG
unif = mkf.unif

F, U = 3, 4

# ------------------------------------------------------------------ masks (batch 3, time 5)
MASK_RIGHT = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]]
MASK_MIDDLE = [[1, 1, 0, 1, 1], [1, 0, 1, 0, 1], [1, 1, 1, 1, 1]]
MASK_LEFT = [[0, 0, 1, 1, 1], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]]
MASK_FULL_ROW = [[1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [1, 1, 1, 0, 0]]


def mask_json(m):
    m = np.asarray(m, dtype=np.int32)
    return {"shape": list(m.shape), "values": [int(v) for v in m.ravel()]}


def make_call(mask=None, n_states=0):
    """call_fn for layer_case: ins[0] = data, ins[1:1+n_states] = initial states."""
    mask_j = None if mask is None else jnp.asarray(np.asarray(mask, dtype=bool))

    def call_fn(layer, tv, ntv, ins):
        kw = {"training": False}
        if mask_j is not None:
            kw["mask"] = mask_j
        if n_states:
            kw["initial_state"] = list(ins[1:1 + n_states])
        return layer.stateless_call(tv, ntv, ins[0], **kw)

    return call_fn


def mask_extra(mask):
    if mask is None:
        return None
    return lambda *a: {"mask": mask_json(mask)}


def case(name, cls, cfg, layer, batch, time, mask=None, n_states=0, state_units=U):
    x = unif((batch, time, F))
    states = [unif((batch, state_units)) for _ in range(n_states)]
    layer(jnp.asarray(x))  # build
    layer_case(name, cls, cfg, layer, [x] + states, call_fn=make_call(mask, n_states),
               extra=mask_extra(mask))


def rnn_case(name, cls, cfg, batch=2, time=5, mask=None, n_states=0):
    keras.backend.clear_session()
    case(name, cls, cfg, getattr(layers, cls)(**cfg), batch, time, mask, n_states)


def bidi_case(name, inner_cls, inner_cfg, merge_mode, batch=2, time=5, mask=None, n_states=0):
    keras.backend.clear_session()
    layer = layers.Bidirectional(getattr(layers, inner_cls)(**inner_cfg), merge_mode=merge_mode)
    cfg = {"layer": {"class": inner_cls, "config": inner_cfg}, "merge_mode": merge_mode}
    case(name, "Bidirectional", cfg, layer, batch, time, mask, n_states)


# --------------------------------------------------------------------------- layer cases
def make_layer_cases():
    seq_state = {"units": U, "return_sequences": True, "return_state": True}
    # 1. right-padded masks
    rnn_case("lstm_mask_right", "LSTM", dict(seq_state), batch=3, mask=MASK_RIGHT)
    rnn_case("gru_mask_right", "GRU", dict(seq_state), batch=3, mask=MASK_RIGHT)
    rnn_case("simple_rnn_mask_right", "SimpleRNN", {"units": U, "return_sequences": False},
             batch=3, mask=MASK_RIGHT)
    rnn_case("lstm_mask_right_backwards", "LSTM",
             {"units": U, "go_backwards": True, "return_sequences": True}, batch=3, mask=MASK_RIGHT)
    # 2. not right-padded
    rnn_case("lstm_mask_middle", "LSTM", dict(seq_state), batch=3, mask=MASK_MIDDLE)
    rnn_case("gru_mask_left", "GRU", {"units": U, "return_sequences": True}, batch=3,
             mask=MASK_LEFT)
    # 3. fully masked row
    rnn_case("lstm_mask_full_row", "LSTM", dict(seq_state), batch=3, mask=MASK_FULL_ROW)
    # 4. Bidirectional + mask
    bidi_case("bidirectional_mask_concat", "LSTM", {"units": U, "return_sequences": True},
              "concat", batch=3, mask=MASK_RIGHT)
    bidi_case("bidirectional_mask_none", "GRU", {"units": U, "return_sequences": True},
              None, batch=3, mask=MASK_RIGHT)
    # 5. Bidirectional + initial states
    for mode in ["concat", "sum", "mul", "ave", "none"]:
        mm = None if mode == "none" else mode
        bidi_case(f"bidirectional_init_{mode}", "LSTM", {"units": U, "return_sequences": True},
                  mm, n_states=4)
    bidi_case("bidirectional_init_state_gru", "GRU", {"units": U, "return_state": True},
              "concat", n_states=2)
    # 6. return-state combinations
    rnn_case("gru_state_last", "GRU", {"units": U, "return_state": True,
                                       "return_sequences": False})
    rnn_case("simple_rnn_state_last", "SimpleRNN", {"units": U, "return_state": True})
    rnn_case("gru_reset_before_state", "GRU", {"units": U, "reset_after": False,
                                               "return_state": True, "go_backwards": True})
    rnn_case("simple_rnn_initial_state", "SimpleRNN", {"units": U}, n_states=1)
    rnn_case("gru_initial_state", "GRU", {"units": U, "return_sequences": True}, n_states=1)
    # 7. custom activations / no bias
    rnn_case("lstm_relu", "LSTM", {"units": U, "activation": "relu", "return_sequences": True})
    rnn_case("gru_hard_sigmoid", "GRU", {"units": U, "recurrent_activation": "hard_sigmoid"})
    rnn_case("simple_rnn_relu", "SimpleRNN", {"units": U, "activation": "relu"})
    rnn_case("lstm_no_bias", "LSTM", {"units": U, "use_bias": False})


def make_unroll_cases():
    """Keras's unrolled loop outputs the previous output at a masked step whatever
    zero_output_for_mask says (its scan honours it): LSTM, GRU and SimpleRNN with both."""
    for cls in ["LSTM", "GRU", "SimpleRNN"]:
        rnn_case(f"{cls.lower()}_unroll_zero_output_mask", cls,
                 {"units": U, "return_sequences": True, "unroll": True, "zero_output_for_mask": True},
                 batch=3, mask=MASK_MIDDLE)


# ------------------------------------------------------------------------------ stateful
def make_stateful():
    keras.backend.clear_session()
    chunks = [unif((2, 3, F)) for _ in range(3)]
    layer = layers.LSTM(U, stateful=True, return_sequences=True, return_state=True)
    layer(jnp.asarray(chunks[0]))  # build (batch size 2)
    randomize_weights(layer)
    layer.reset_states()
    weights = layer.get_weights()

    chunk_outputs = []
    for c in chunks:
        o, h, cc = layer(jnp.asarray(c))
        chunk_outputs.append({"output": tensor(o), "h": tensor(h), "c": tensor(cc)})
    layer.reset_states()
    after_reset = np.asarray(layer(jnp.asarray(chunks[0]))[0])

    long_input = np.concatenate(chunks, axis=1)
    plain = layers.LSTM(U, return_sequences=True)
    plain(jnp.asarray(long_input))
    plain.set_weights(weights)
    long_out = np.asarray(plain(jnp.asarray(long_input)))

    cat = np.concatenate([np.asarray(layer_o["output"]["values"], dtype=np.float64)
                          .reshape(layer_o["output"]["shape"]) for layer_o in chunk_outputs],
                         axis=1)
    assert np.max(np.abs(cat - long_out)) <= 1e-6, np.max(np.abs(cat - long_out))
    first = np.asarray(chunk_outputs[0]["output"]["values"]).reshape(2, 3, U)
    assert np.max(np.abs(first - after_reset)) <= 1e-6

    dump(os.path.join(OUT, "stateful.json"), {
        "config": {"units": U},
        "weights": [{"name": v.name, "path": v.path, "trainable": bool(v.trainable),
                     **tensor(w)} for v, w in zip(layer.weights, weights)],
        "chunks": [tensor(c) for c in chunks],
        "chunk_outputs": chunk_outputs,
        "long_input": tensor(long_input),
        "long_output": tensor(long_out),
        "after_reset_output": tensor(after_reset),
    })


# --------------------------------------------------------------------------- masked loss
def make_masked_loss():
    keras.backend.clear_session()
    Bm, Tm, V, C = 3, 6, 7, 5
    model = keras.Sequential([keras.Input(shape=(Tm,), dtype="int32"),
                              layers.Embedding(V, 3, mask_zero=True),
                              layers.LSTM(U, return_sequences=True),
                              layers.Dense(C)])
    model.set_weights([unif(w.shape, -0.5, 0.5) for w in model.get_weights()])
    lengths = [6, 4, 2]
    ids = np.zeros((Bm, Tm), dtype=np.int32)
    for b, n in enumerate(lengths):
        ids[b, :n] = mkf.RNG.integers(1, V, size=n)
    targets = mkf.RNG.integers(0, C, size=(Bm, Tm)).astype(np.int32)
    model.compile(optimizer="sgd",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    preds = np.asarray(model.predict(ids, verbose=0))
    ev = model.evaluate(ids, targets, return_dict=True, batch_size=Bm, verbose=0)

    # per-position loss (float64 from float32 logits)
    z = preds.astype(np.float64)
    lse = np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1)) + z.max(-1)
    per = lse - np.take_along_axis(z, targets[..., None], -1)[..., 0]
    m = (ids != 0).astype(np.float64)
    masked_mean = float((per * m).sum() / m.sum())
    masked_over_all = float((per * m).sum() / per.size)
    acc = (preds.argmax(-1) == targets).astype(np.float64)
    print("masked_loss: evaluate", {k: float(v) for k, v in ev.items()},
          "masked mean", masked_mean, "masked sum / 18", masked_over_all,
          "unmasked mean", per.mean(),
          "masked acc", (acc * m).sum() / m.sum(), "unmasked acc", acc.mean())

    dump(os.path.join(OUT, "masked_loss.json"), {
        "model": "Sequential[Embedding(7,3,mask_zero=True), LSTM(4, return_sequences=True), "
                 "Dense(5)]; loss SparseCategoricalCrossentropy(from_logits=True), "
                 "metrics=['accuracy']",
        "ids": tensor(ids.astype(np.float32)),
        "targets": tensor(targets.astype(np.float32)),
        "weights": [{"name": v.name, "path": v.path, "trainable": bool(v.trainable),
                     **tensor(v.numpy())} for v in model.weights],
        "predictions": tensor(preds),
        "evaluate": {k: num(v) for k, v in ev.items()},
        "per_position_loss": tensor(per),
        "masked_mean_loss": num(masked_mean),
        "unmasked_mean_loss": num(per.mean()),
        "masked_accuracy": num((acc * m).sum() / m.sum()),
        "unmasked_accuracy": num(acc.mean()),
    })


if __name__ == "__main__":
    print("keras", keras.__version__, "jax", jax.__version__, "numpy", np.__version__)
    make_layer_cases()
    make_stateful()
    make_masked_loss()
    make_unroll_cases()
