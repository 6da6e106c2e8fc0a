#!/usr/bin/env python3
"""Fixtures for Keras's MultiHeadAttention and Dot (the layer of Keras's Luong-style attention
examples), from Keras itself (JAX backend).

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py, whose helpers it uses):
    pip install keras jax jaxlib
    KERAS_BACKEND=jax python3 scripts/make_keras_attention_layer_fixtures.py [fixtures_dir]

Writes, under fixtures_dir (default Tests/RecurTests/Fixtures):
    layers/mha_*.json
        layer fixtures (outputs and gradients for random cotangents, for query, value, key and every
        weight; the multi-input format KerasLayerFixtureTests reads): self- and cross-attention,
        a separate key, value_dim and output_shape, no bias, value and key masks, the causal mask, a
        sliding window, the attention scores as a second output.
    layers/dot_*.json
        Dot on [x, y]: one axis for both, one each, negative axes, rank 2, 3 and 4 inputs, normalize.
    parity/mha_seq2seq.keras/.npz
        a saved encoder-decoder: Embedding(mask_zero) -> GRU encoder, Masking -> LSTM decoder, cross
        attention with a separate key returning its scores, causal self-attention over its output
        (the query's mask reaches both), pooling and a Dense head; inputs and Keras's outputs.
    parity/mha_masked_query_rows.keras/.npz
        self-attention over Masking (one each) whose padded query steps see no step: Keras's fused
        dot_product_attention (no dropout, no scores returned) attends to every step alike there,
        its Softmax-layer path (scores returned, or dropout > 0 even in inference) gives zeros; one
        layer of each kind, and a sample with no step at all.
    parity/dot_attention.keras/.npz
        Luong attention from Dot layers: scores = Dot(axes=2), softmax, context = Dot(axes=[2, 1]),
        concatenated with the decoder and through TimeDistributed(Dense); a cosine Dot(normalize) too.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_keras_fixtures as base  # noqa: E402  (sets KERAS_BACKEND before importing keras)
import make_keras_parity_fixtures as parity  # noqa: E402

import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402


def mha_case(name, config, shapes, value_mask=None, key_mask=None, causal=False, scores=False):
    """MultiHeadAttention called on query, value (and key=): every input gets a gradient. Masks of the
    value and key only: Keras reads the query's mask from the tensor, which a JAX array cannot carry
    (the saved model below covers it)."""
    keras.backend.clear_session()
    layer = layers.MultiHeadAttention(**config)
    inputs = [base.unif(s) for s in shapes]
    # Built through Keras's explicit path (returning scores): its fused JAX path refuses value_dim != key_dim.
    layer(*[jnp.asarray(x) for x in inputs[:2]], return_attention_scores=True,
          **({"key": jnp.asarray(inputs[2])} if len(inputs) == 3 else {}))
    arguments = {"use_causal_mask": causal, "return_attention_scores": scores}
    masks = [None, value_mask, key_mask if len(shapes) == 3 else None]

    def call_fn(layer, tv, ntv, ins):
        kw = dict(arguments)
        if len(ins) == 3:
            kw["key"] = ins[2]
        if value_mask is not None:
            kw["value_mask"] = jnp.asarray(np.asarray(value_mask, dtype=bool))
        if masks[2] is not None:
            kw["key_mask"] = jnp.asarray(np.asarray(key_mask, dtype=bool))
        return layer.stateless_call(tv, ntv, ins[0], ins[1], **kw)

    extra = {"multi_input": True, "call_arguments": arguments,
             "input_masks": None if value_mask is None and masks[2] is None else [
                 None if m is None else {"shape": list(np.shape(m)), "values": [int(v) for v in np.ravel(m)]}
                 for m in masks[:len(shapes)]]}
    base.layer_case(name, "MultiHeadAttention", config, layer, inputs, call_fn=call_fn, extra=lambda *a: extra)


def make_layers():
    q, v = (2, 4, 5), (2, 3, 6)
    mha_case("mha_cross", {"num_heads": 2, "key_dim": 3}, [q, v])
    mha_case("mha_key_value_dim_output", {"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": 7},
             [q, v, (2, 3, 4)], scores=True)
    mha_case("mha_self_causal_masked", {"num_heads": 2, "key_dim": 4}, [(2, 5, 3), (2, 5, 3)],
             value_mask=[[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], causal=True, scores=True)
    mha_case("mha_sliding_window_key_mask", {"num_heads": 1, "key_dim": 3, "sliding_window": 2}, [(2, 4, 3), (2, 4, 2), (2, 4, 3)],
             value_mask=[[1, 1, 1, 1], [1, 0, 1, 1]], key_mask=[[1, 1, 0, 1], [1, 1, 1, 1]])
    mha_case("mha_no_bias", {"num_heads": 2, "key_dim": 2, "use_bias": False}, [(1, 3, 4), (1, 6, 4)])


DOT = [
    ("dot_scores", 2, False, [(2, 4, 3), (2, 5, 3)]),
    ("dot_context", [2, 1], False, [(2, 4, 5), (2, 5, 3)]),
    ("dot_rank2_normalized", 1, True, [(3, 4), (3, 4)]),
    ("dot_negative_mixed_ranks", [-1, -1], False, [(2, 4), (2, 5, 4)]),
    ("dot_rank4_normalized", [3, 1], True, [(2, 3, 2, 4), (2, 4, 3)]),
]


def make_dot():
    for name, axes, normalize, shapes in DOT:
        keras.backend.clear_session()
        layer = layers.Dot(axes=axes, normalize=normalize)
        inputs = [base.unif(s, -1.0, 1.0) for s in shapes]
        layer([jnp.asarray(x) for x in inputs])

        def call_fn(layer, tv, ntv, ins):
            return layer.stateless_call(tv, ntv, list(ins))

        base.layer_case(name, "Dot", {"axes": axes, "normalize": normalize}, layer, inputs, call_fn=call_fn,
                        extra=lambda *a: {"multi_input": True})


def make_models(out):
    parity.fresh()
    source = keras.Input((6,), dtype="int32", name="source")
    target = keras.Input((5, 3), name="target")
    encoded = layers.GRU(4, return_sequences=True)(layers.Embedding(12, 3, mask_zero=True)(source))
    decoded = layers.LSTM(4, return_sequences=True)(layers.Masking()(target))
    context, scores = layers.MultiHeadAttention(2, 3, value_dim=2, name="cross")(decoded, encoded, key=encoded,
                                                                                 return_attention_scores=True)
    itself = layers.MultiHeadAttention(2, 2, output_shape=3, name="self")(context, context, use_causal_mask=True)
    y = layers.Dense(2)(layers.GlobalAveragePooling1D()(itself))
    ids = parity.RNG.integers(1, 12, size=(4, 6)).astype(np.int32)
    for row, n in enumerate([6, 4, 2, 5]):
        ids[row, n:] = 0
    steps = parity.seq(4, 5, 3)
    for row, n in enumerate([5, 3, 5, 1]):
        steps[row, n:] = 0
    parity.save_case(out, "mha_seq2seq", keras.Model([source, target], [y, scores], name="mha_seq2seq"), [ids, steps])

    parity.fresh()
    source = keras.Input((6, 3), name="source")
    target = keras.Input((4, 2), name="target")
    encoded = layers.LSTM(5, return_sequences=True)(source)
    decoded = layers.GRU(5, return_sequences=True)(target)
    weights = layers.Activation("softmax")(layers.Dot(axes=2)([decoded, encoded]))
    context = layers.Dot(axes=[2, 1])([weights, encoded])
    combined = layers.TimeDistributed(layers.Dense(4, activation="tanh"))(layers.Concatenate()([context, decoded]))
    cosine = layers.Dot(axes=-1, normalize=True)([layers.GlobalAveragePooling1D()(combined), layers.Dense(4)(layers.LSTM(3)(source))])
    parity.save_case(out, "dot_attention", keras.Model([source, target], [combined, cosine], name="dot_attention"),
                     [parity.seq(3, 6, 3), parity.seq(3, 4, 2)])

    parity.fresh()
    x = keras.Input((4, 3), name="x")
    # A Masking each: Keras's MultiHeadAttention takes the masks off the tensors it is called on, so a
    # later layer called on the same tensor would see none (in Keras's order of running them).
    hidden = [layers.Masking(0.0)(x) for _ in range(3)]
    fused = layers.MultiHeadAttention(2, 2, name="fused")(hidden[0], hidden[0])
    scored, scores = layers.MultiHeadAttention(1, 3, name="scored")(hidden[1], hidden[1], return_attention_scores=True)
    dropped = layers.MultiHeadAttention(1, 2, dropout=0.4, name="dropped")(hidden[2], hidden[2])
    values = parity.seq(3, 4, 3)
    values[1, 2:] = 0
    values[2, :] = 0
    parity.save_case(out, "mha_masked_query_rows", keras.Model(x, [fused, scored, scores, dropped], name="mha_masked_query_rows"), [values])


if __name__ == "__main__":
    print("keras", keras.__version__)
    keras.utils.set_random_seed(parity.SEED)
    make_layers()
    make_dot()
    make_models(os.path.join(base.OUT, "parity"))
