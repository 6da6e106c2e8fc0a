#!/usr/bin/env python3
"""Differential test against Keras: random recurrent models, Keras's outputs and summary vs Recur's.

Usage (run by hand, not in CI; needs keras 3, jax, numpy, and a built `recur`):
    swift build -c release --product recur
    KERAS_BACKEND=jax python3 scripts/keras_differential.py --count 200 --seed 1 --out /tmp/differential

Each case draws a model from a small grammar of what Keras's RNN guide and its neighbours build:
float sequences behind `Masking` (padded steps zero) or token ids behind `Embedding(mask_zero=...)`;
one to three recurrent layers (LSTM, GRU, SimpleRNN, `RNN` over a cell or stacked cells,
`Bidirectional` in every merge mode) with random activations, bias, direction, `unroll` and
`reset_after`; layers between them (TimeDistributed Dense, Dense, Conv1D, normalisation, dropout,
activations, pooling); and, in functional cases, two inputs, merges, encoder states fed to a decoder
as `initial_state`, and several outputs. Weights are redrawn (normal, scale 0.5; variances positive)
so that no initializer hides a wrong gate order. Keras saves the model; `recur predict` runs it on the
same inputs and `recur summary` prints it. A case passes when every output agrees to
--tolerance (max |Recur − Keras| / (1 + max |Keras|)) and the summaries are equal line for line.
A model Keras itself refuses to build is skipped, not counted. Failing cases stay in --out: the
model, its inputs as `.npy`, `CASE.npz` (input_i and Keras's output_i, the parity fixtures' format),
Recur's outputs (`CASE.recur.npz`), Keras's summary (`CASE.summary.txt`) and Recur's. A fixed case's
`.keras`, `.npz` and `.summary.txt` go to Tests/RecurTests/Fixtures/differential/, which
DifferentialCaseTests replays.

With --train, each model is compiled (a random optimizer, a loss per output among mse, mae, huber
and log_cosh, and the `mae` metric), saved untrained, and fitted for two epochs without shuffling,
layers that draw random numbers in training at rate 0: in Keras, and by `recur fit` on the saved
file. A case passes when Keras, loading Recur's trained file, finds every weight within --tolerance
of its own and the epoch logs agree. A failing case keeps `CASE.npz` (input_i, target_i and Keras's
trained_i, in `get_weights()` order) and `CASE.fit.json` (batch size, epochs, Keras's history); its
`.keras`, `.npz` and `.fit.json` go to Fixtures/differential/ as a training case. Adaptive optimizers
magnify rounding where a gradient is near zero: where Keras's own JAX and torch backends differ
as much, a difference is not Recur's (`KERAS_BACKEND=torch` on the saved case shows it).
"""
import argparse
import json
import os
import subprocess
import sys
import traceback

os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--count", type=int, default=100)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--out", default="/tmp/recur-differential")
parser.add_argument("--recur", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "recur"))
parser.add_argument("--tolerance", type=float, default=1e-5)
parser.add_argument("--keep-passing", action="store_true", help="keep the files of passing cases too")
parser.add_argument("--cases", type=int, nargs="*", help="run only these case numbers (of --seed)")
parser.add_argument("--train", action="store_true",
                    help="compare training instead: compile, fit two epochs unshuffled, compare weights and losses")
args = parser.parse_args()
# Layers that draw random numbers in training get rate 0 in --train cases, so both sides compute the same.
RANDOM_RATE = 0.0 if args.train else 0.3


class Draw:
    """The random choices of one case."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]

    def chance(self, p):
        return bool(self.rng.random() < p)

    def int(self, low, high):
        return int(self.rng.integers(low, high + 1))


def recurrent_cell(d, units):
    kind = d.choice(["lstm", "gru", "simple"])
    options = dict(activation=d.choice(["tanh", "tanh", "relu", "sigmoid", "elu", "softsign", "linear", "swish", "hard_tanh"]), use_bias=d.chance(0.8))
    if kind != "simple":
        options["recurrent_activation"] = d.choice(["sigmoid", "sigmoid", "hard_sigmoid", "tanh"])
    if kind == "lstm":
        return layers.LSTMCell(units, unit_forget_bias=d.chance(0.5), **options)
    if kind == "gru":
        return layers.GRUCell(units, reset_after=d.chance(0.7), **options)
    return layers.SimpleRNNCell(units, **options)


def recurrent_layer(d, return_sequences, return_state=False):
    """One recurrent layer: a built-in one, RNN over a cell or stacked cells, maybe Bidirectional."""
    units = d.int(1, 9)
    bidirectional = not return_state and d.chance(0.3)
    common = dict(return_sequences=return_sequences, return_state=return_state,
                  go_backwards=not bidirectional and d.chance(0.25), unroll=d.chance(0.15))
    form = d.choice(["builtin", "builtin", "builtin", "rnn_cell", "stacked"])
    if form == "stacked":
        layer = layers.RNN(layers.StackedRNNCells([recurrent_cell(d, units), recurrent_cell(d, d.int(1, 7))]), **common)
    elif form == "rnn_cell":
        layer = layers.RNN(recurrent_cell(d, units), **common)
    else:
        cell = recurrent_cell(d, units)
        kind = type(cell).__name__
        options = dict(activation=cell.activation.__name__ if hasattr(cell.activation, "__name__") else "tanh",
                       use_bias=cell.use_bias, **common)
        if kind == "LSTMCell":
            layer = layers.LSTM(units, recurrent_activation=d.choice(["sigmoid", "hard_sigmoid"]),
                                unit_forget_bias=cell.unit_forget_bias, **options)
        elif kind == "GRUCell":
            layer = layers.GRU(units, recurrent_activation=d.choice(["sigmoid", "hard_sigmoid"]),
                               reset_after=cell.reset_after, **options)
        else:
            layer = layers.SimpleRNN(units, **options)
    if bidirectional:
        return layers.Bidirectional(layer, merge_mode=d.choice(["concat", "sum", "mul", "ave"]))
    return layer


def between_layer(d, masked):
    """A layer that keeps a (batch, steps, features) sequence and, where `masked`, its mask."""
    options = ["time_dense", "dense", "dropout", "layer_norm", "batch_norm", "activation", "spatial_dropout",
               "noise", "prelu", "softmax", "leaky_relu", "unit_norm", "rms_norm", "group_norm"]
    if not masked:
        options += ["conv1d", "conv1d", "pool", "zero_padding", "cropping", "upsampling", "time_conv"]
    kind = d.choice(options)
    if kind == "spatial_dropout":
        return layers.SpatialDropout1D(RANDOM_RATE)
    if kind == "noise":
        return d.choice([layers.GaussianNoise(RANDOM_RATE), layers.GaussianDropout(RANDOM_RATE)])
    if kind == "prelu":
        return layers.PReLU()
    if kind == "softmax":
        return layers.Softmax()
    if kind == "leaky_relu":
        return d.choice([layers.LeakyReLU(negative_slope=0.2), layers.ELU(alpha=0.7), layers.ReLU(max_value=1.5)])
    if kind == "unit_norm":
        return layers.UnitNormalization()
    if kind == "rms_norm":
        return layers.RMSNormalization()
    if kind == "group_norm":
        return layers.GroupNormalization(groups=1)
    if kind == "pool":
        return d.choice([layers.MaxPooling1D, layers.AveragePooling1D])(pool_size=d.int(1, 2), strides=1,
                                                                        padding=d.choice(["same", "valid"]))
    if kind == "zero_padding":
        return layers.ZeroPadding1D((d.int(0, 2), d.int(0, 2)))
    if kind == "cropping":
        return layers.Cropping1D((0, 0))
    if kind == "upsampling":
        return layers.UpSampling1D(2)
    if kind == "time_conv":
        return layers.TimeDistributed(layers.Dense(d.int(1, 4), use_bias=False))
    if kind == "time_dense":
        return layers.TimeDistributed(layers.Dense(d.int(1, 8), activation=d.choice([None, "relu", "tanh"])))
    if kind == "dense":
        return layers.Dense(d.int(1, 8), activation=d.choice([None, "relu", "sigmoid"]))
    if kind == "dropout":
        return layers.Dropout(RANDOM_RATE)
    if kind == "layer_norm":
        return layers.LayerNormalization()
    if kind == "batch_norm":
        return layers.BatchNormalization()
    if kind == "activation":
        return layers.Activation(d.choice(["relu", "tanh", "softsign", "gelu", "selu", "softplus", "silu", "mish",
                                           "log_softmax", "relu6", "leaky_relu", "hard_sigmoid", "exponential"]))
    return layers.Conv1D(d.int(1, 6), d.int(1, 3), padding=d.choice(["same", "causal"]),
                         dilation_rate=d.choice([1, 1, 2]))


def pad(d, data):
    """Zeroes (masks) some steps of each sample: after its end (post-padding, as Keras's
    pad_sequences), before its start (pre-padding), or a random few anywhere."""
    steps = data.shape[1]
    for b in range(data.shape[0]):
        style = d.choice(["post", "post", "pre", "scattered"])
        if style == "post":
            data[b, d.int(1, steps):] = 0
        elif style == "pre":
            data[b, :d.int(0, steps - 1)] = 0
        else:
            data[b, d.rng.random(steps) < 0.3] = 0


def sequence_input(d, batch, steps, name):
    """An input and the tensor after its masking layer, and a batch of data with padded samples."""
    if d.chance(0.4):
        vocabulary, mask_zero = d.int(5, 20), d.chance(0.7)
        ids = d.rng.integers(1, vocabulary, size=(batch, steps)).astype("int32")
        pad(d, ids)
        tensor_input = keras.Input((None,), dtype="int32", name=name)
        x = layers.Embedding(vocabulary, d.int(2, 6), mask_zero=mask_zero)(tensor_input)
        return tensor_input, x, ids, mask_zero
    features = d.int(1, 6)
    data = d.rng.normal(size=(batch, steps, features)).astype("float32")
    masked = d.chance(0.5)
    if masked:
        pad(d, data)
    tensor_input = keras.Input((None if d.chance(0.5) else steps, features), name=name)
    x = layers.Masking()(tensor_input) if masked else tensor_input
    return tensor_input, x, data, masked


def head(d, x, rank3):
    if rank3 and d.chance(0.5):
        x = d.choice([layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D])()(x)
        rank3 = False
    if d.chance(0.5):
        x = layers.BatchNormalization()(x) if d.chance(0.5) else layers.Dropout(RANDOM_RATE)(x)
    return layers.Dense(d.int(1, 5), activation=d.choice([None, "softmax", "sigmoid"]))(x)


def chain_case(d, batch, steps):
    """One input, a stack of recurrent layers with layers between them, a dense head."""
    tensor_input, x, data, masked = sequence_input(d, batch, steps, "tokens")
    depth = d.int(1, 3)
    last_sequences = d.chance(0.3)
    for i in range(depth):
        if d.chance(0.4):
            x = between_layer(d, masked)(x)
        x = recurrent_layer(d, return_sequences=i < depth - 1 or last_sequences)(x)
    return keras.Model(tensor_input, head(d, x, last_sequences)), [data]


def sequential_case(d, batch, steps):
    """A Sequential model of the guide's kind: [Embedding | Masking] → recurrent layers → Dense."""
    features = d.int(1, 6)
    model = keras.Sequential()
    embedded = d.chance(0.4)
    if embedded:
        vocabulary = d.int(5, 20)
        model.add(keras.Input((None,), dtype="int32"))
        model.add(layers.Embedding(vocabulary, d.int(2, 6), mask_zero=d.chance(0.6)))
        data = d.rng.integers(1, vocabulary, size=(batch, steps)).astype("int32")
        for b in range(batch):
            data[b, d.int(1, steps):] = 0
    else:
        model.add(keras.Input((None, features)))
        data = d.rng.normal(size=(batch, steps, features)).astype("float32")
        if d.chance(0.5):
            model.add(layers.Masking())
            for b in range(batch):
                data[b, d.int(1, steps):] = 0
    depth = d.int(1, 3)
    for i in range(depth):
        model.add(recurrent_layer(d, return_sequences=i < depth - 1))
    if d.chance(0.5):
        model.add(layers.BatchNormalization())
    model.add(layers.Dense(d.int(1, 5), activation=d.choice([None, "softmax"])))
    return model, [data]


def encoder_decoder_case(d, batch, steps):
    """Two inputs: an encoder's final states start a decoder of the same kind; one or two outputs."""
    encoder_input, x, encoder_data, _ = sequence_input(d, batch, steps, "encoder")
    decoder_input, y, decoder_data, _ = sequence_input(d, batch, d.int(1, steps), "decoder")
    units = d.int(1, 8)
    kind = d.choice([layers.LSTM, layers.GRU, layers.SimpleRNN])
    encoder = kind(units, return_state=True, go_backwards=d.chance(0.2))
    outputs = encoder(x)
    states = outputs[1:]
    decoder = kind(units, return_sequences=d.chance(0.6), return_state=d.chance(0.3))
    decoded = decoder(y, initial_state=states)
    sequence = decoded[0] if isinstance(decoded, (list, tuple)) else decoded
    final = [layers.Dense(d.int(1, 4))(sequence)]
    if d.chance(0.5):
        final.append(layers.Dense(d.int(1, 3), activation="sigmoid")(outputs[0]))
    return keras.Model([encoder_input, decoder_input], final), [encoder_data, decoder_data]


def merge_case(d, batch, steps):
    """Two recurrent branches over one input, merged."""
    tensor_input, x, data, masked = sequence_input(d, batch, steps, "sequence")
    units = d.int(1, 8)
    sequences = d.chance(0.5)
    branches = []
    for _ in range(2):
        layer = d.choice([layers.LSTM, layers.GRU, layers.SimpleRNN])(units, return_sequences=sequences,
                                                                      go_backwards=d.chance(0.3))
        branches.append(layer(x))
    merge = d.choice([layers.Add(), layers.Concatenate(), layers.Average(), layers.Multiply(), layers.Maximum()])
    merged = merge(branches)
    if sequences:
        merged = recurrent_layer(d, return_sequences=False)(merged)
    return keras.Model(tensor_input, head(d, merged, False)), [data]


def bidirectional_states_case(d, batch, steps):
    """A Bidirectional layer returning its four or two states, which start the next layer."""
    tensor_input, x, data, masked = sequence_input(d, batch, steps, "sequence")
    units = d.int(1, 6)
    kind = d.choice([layers.LSTM, layers.GRU, layers.SimpleRNN])
    merge_mode = d.choice(["concat", "sum", "mul", "ave", None])
    outputs = layers.Bidirectional(kind(units, return_sequences=d.chance(0.5), return_state=True),
                                   merge_mode=merge_mode)(x)
    output_count = 2 if merge_mode is None else 1
    sequences, states = outputs[:output_count], outputs[output_count:]
    forward_states = states[:len(states) // 2]
    decoder_input, y, decoder_data, _ = sequence_input(d, batch, d.int(1, steps), "decoder")
    decoded = kind(units, return_sequences=d.chance(0.5))(y, initial_state=forward_states)
    results = [layers.Dense(d.int(1, 3))(decoded)] + [layers.Dense(2)(state) for state in states[:2]]
    if d.chance(0.5):
        results.append(sequences[0])
    return keras.Model([tensor_input, decoder_input], results), [data, decoder_data]


def shaping_case(d, batch, steps):
    """Recurrent layers around shape layers: RepeatVector, Reshape, Permute, Flatten, nested models."""
    features = d.int(1, 5)
    data = d.rng.normal(size=(batch, steps, features)).astype("float32")
    tensor_input = keras.Input((steps, features))
    encoded = recurrent_layer(d, return_sequences=False)(tensor_input)
    kind = d.choice(["repeat", "reshape", "permute", "flatten", "nested"])
    if kind == "repeat":
        x = layers.RepeatVector(d.int(1, 4))(encoded)
        x = recurrent_layer(d, return_sequences=True)(x)
        x = layers.TimeDistributed(layers.Dense(d.int(1, 3)))(x)
    elif kind == "reshape":
        width = encoded.shape[-1]
        x = layers.Reshape((width, 1))(encoded)
        x = recurrent_layer(d, return_sequences=d.chance(0.5))(x)
    elif kind == "permute":
        x = layers.Permute((2, 1))(tensor_input)
        x = recurrent_layer(d, return_sequences=d.chance(0.5))(x)
    elif kind == "flatten":
        x = recurrent_layer(d, return_sequences=True)(tensor_input)
        x = layers.Flatten()(x)
    else:
        inner = keras.Sequential([keras.Input((steps, features)), recurrent_layer(d, return_sequences=True),
                                  layers.Dense(d.int(1, 4))], name="inner")
        x = recurrent_layer(d, return_sequences=False)(inner(tensor_input))
    return keras.Model(tensor_input, layers.Dense(d.int(1, 4))(x)), [data]


def attention_case(d, batch, steps):
    """A recurrent encoder and decoder joined by Attention, AdditiveAttention or MultiHeadAttention."""
    encoder_input, x, encoder_data, _ = sequence_input(d, batch, steps, "encoder")
    decoder_input, y, decoder_data, _ = sequence_input(d, batch, d.int(1, steps), "decoder")
    units = d.int(2, 8)
    encoded = d.choice([layers.LSTM, layers.GRU])(units, return_sequences=True)(x)
    decoded = d.choice([layers.LSTM, layers.GRU])(units, return_sequences=True)(y)
    kind = d.choice(["dot", "additive", "mha"])
    if kind == "dot":
        context = layers.Attention(use_scale=d.chance(0.5), score_mode=d.choice(["dot", "concat"]))([decoded, encoded])
    elif kind == "additive":
        context = layers.AdditiveAttention()([decoded, encoded])
    else:
        context = layers.MultiHeadAttention(num_heads=d.int(1, 2), key_dim=d.int(1, 4))(decoded, encoded)
    joined = layers.Concatenate()([decoded, context])
    return keras.Model([encoder_input, decoder_input], layers.Dense(d.int(1, 4))(joined)), [encoder_data, decoder_data]


def stateful_case(d, batch, steps):
    """A stateful recurrent layer at a fixed batch size (one call: its states start at zero)."""
    features = d.int(1, 4)
    data = d.rng.normal(size=(batch, steps, features)).astype("float32")
    model = keras.Sequential([keras.Input((steps, features), batch_size=batch)])
    kind = d.choice([layers.LSTM, layers.GRU, layers.SimpleRNN])
    model.add(kind(d.int(1, 6), stateful=True, return_sequences=d.chance(0.5)))
    model.add(layers.Dense(2))
    return model, [data]


def conv_lstm_case(d, batch, steps):
    """ConvLSTM1D or ConvLSTM2D over frames, then pooling or Flatten and a dense head."""
    rank = d.int(1, 2)
    spatial = tuple(d.int(2, 5) for _ in range(rank))
    channels = d.int(1, 3)
    data = d.rng.normal(size=(batch, steps) + spatial + (channels,)).astype("float32")
    tensor_input = keras.Input((d.choice([None, steps]),) + spatial + (channels,))
    layer = (layers.ConvLSTM1D if rank == 1 else layers.ConvLSTM2D)(
        d.int(1, 4), d.int(1, 3), padding=d.choice(["same", "valid"]), return_sequences=d.chance(0.4),
        go_backwards=d.chance(0.3))
    x = layer(tensor_input)
    if d.chance(0.3):
        x = layers.Bidirectional(type(layer)(2, 1, return_sequences=False))(x) if len(x.shape) == rank + 3 else x
    if None in x.shape[1:]:  # frames of unknown number: average every position of every frame
        x = layers.GlobalAveragePooling1D()(layers.Reshape((-1, x.shape[-1]))(x))
    else:
        x = layers.Flatten()(x)
    return keras.Model(tensor_input, layers.Dense(2)(x)), [data]


def redraw_weights(d, model):
    for weight in model.weights:
        shape = tuple(weight.shape)
        values = d.rng.normal(scale=0.5, size=shape).astype("float32")
        if "variance" in weight.path:
            values = np.abs(values) + 0.1
        weight.assign(values)


def run(command):
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def keras_summary(model):
    lines = []
    model.summary(print_fn=lambda s, *a, **k: lines.append(s), line_length=None)
    return "\n".join(lines).strip()


class KerasRefused(Exception):
    """Keras itself cannot build or train the drawn model."""


def compare_training(stem, d, model, inputs, expected, input_paths):
    """Compiles `model` (random optimizer, losses and a metric), saves it untrained, fits it in Keras and
    with `recur fit` (two epochs, no shuffling) and compares the trained weights and the epoch logs."""
    optimizer = d.choice([keras.optimizers.SGD(0.05, momentum=d.choice([0.0, 0.9])), keras.optimizers.Adam(0.01),
                          keras.optimizers.RMSprop(0.01), keras.optimizers.Adagrad(0.05), keras.optimizers.Nadam(0.01),
                          keras.optimizers.AdamW(0.01)])
    losses = [d.choice(["mse", "mae", "huber", "log_cosh"]) for _ in expected]
    model.compile(optimizer=optimizer, loss=losses if len(losses) > 1 else losses[0], metrics=["mae"] * len(losses)
                  if len(losses) > 1 else ["mae"])
    model.save(stem + ".keras")
    targets = [d.rng.normal(size=y.shape).astype("float32") for y in expected]
    target_paths = []
    for i, array in enumerate(targets):
        target_paths.append(f"{stem}.target{i}.npy")
        np.save(target_paths[-1], array)
    batch_size = d.int(1, 3)
    samples = len(inputs[0])
    validation_split = 0.4 if samples >= 3 and d.chance(0.3) else 0.0
    masked = any(type(layer).__name__ == "Masking" or getattr(layer, "mask_zero", False)
                 for layer in model._flatten_layers())
    # Keras 3.15's masked loss multiplies (batch,) sample weights into the (batch, steps) mask by
    # broadcasting from the last axis: an error where batch ≠ steps, each sample's weight applied to
    # a time step where they are equal. Recur weights samples; masked models get no sample weights here.
    sample_weight = d.rng.uniform(0.2, 2.0, size=samples).astype("float32") if not masked and d.chance(0.3) else None
    options = []
    if validation_split:
        options += ["--validation-split", str(validation_split)]
    if sample_weight is not None:
        np.save(stem + ".weights.npy", sample_weight)
        options += ["--sample-weight", stem + ".weights.npy"]
    try:
        fitted = model.fit(inputs if len(inputs) > 1 else inputs[0], targets if len(targets) > 1 else targets[0],
                           batch_size=batch_size, epochs=2, shuffle=False, verbose=0, validation_split=validation_split,
                           sample_weight=sample_weight)
    except Exception as error:  # a model Keras cannot train is not a case
        raise KerasRefused(f"keras fit: {type(error).__name__}: {str(error)[:200]}")
    model.save(stem + ".trained.keras")
    # The parity fixtures' form of the case: inputs, targets, Keras's trained weights (get_weights order)
    # and how it was fitted, for DifferentialCaseTests.
    arrays = {f"input_{i}": x for i, x in enumerate(inputs)}
    arrays.update({f"target_{i}": y for i, y in enumerate(targets)})
    arrays.update({f"trained_{i}": w for i, w in enumerate(model.get_weights())})
    if sample_weight is not None:
        arrays["sample_weight"] = sample_weight
    np.savez(stem + ".npz", **arrays)
    json.dump({"batch_size": batch_size, "epochs": 2, "validation_split": validation_split, "history": fitted.history},
              open(stem + ".fit.json", "w"))
    trained = run([args.recur, "fit", stem + ".keras", *sum([["--input", p] for p in input_paths], []),
                   *sum([["--target", p] for p in target_paths], []), "--epochs", "2", "--batch-size", str(batch_size),
                   "--no-shuffle", "--verbose", "0", "--save", stem + ".recur.keras", "--history", stem + ".history.json",
                   *options])
    extra_paths = target_paths + ([stem + ".weights.npy"] if sample_weight is not None else [])
    if trained.returncode != 0:
        return [f"fit exited {trained.returncode}: {trained.stderr.strip()[-400:]}"], extra_paths
    problems = []
    theirs = keras.saving.load_model(stem + ".recur.keras")
    for mine, want in zip(theirs.weights, model.weights):
        got, wanted = np.asarray(mine), np.asarray(want)
        if got.shape != wanted.shape:
            problems.append(f"weight {want.path}: shape {got.shape}, Keras {wanted.shape}")
            continue
        error = float(np.max(np.abs(got - wanted), initial=0) / (1 + np.max(np.abs(wanted), initial=0)))
        if not error <= args.tolerance:
            problems.append(f"weight {want.path}: relative error {error:.3g}")
    history = json.load(open(stem + ".history.json"))
    # Keras-JAX's fit updates its metrics with outputs that have lost their mask (its evaluate, and fit
    # on the torch backend, keep it, as Recur does), so a masked model's metrics are compared only in
    # their losses.
    for name, values in fitted.history.items():
        if masked and not name.endswith("loss"):
            continue
        got = history.get(name)
        if got is None or len(got) != len(values) or not np.allclose(got, values, rtol=args.tolerance, atol=args.tolerance):
            problems.append(f"history {name}: {got}, Keras {values}")
    return problems, extra_paths


def compare(case, d):
    builders = [chain_case, sequential_case, encoder_decoder_case, merge_case, bidirectional_states_case,
                shaping_case, attention_case, conv_lstm_case] + ([] if args.train else [stateful_case])
    batch, steps = d.int(1, 5), d.int(1, 7)
    try:
        model, inputs = d.choice(builders)(d, batch, steps)
        redraw_weights(d, model)
        expected = model(inputs if len(inputs) > 1 else inputs[0], training=False)
        expected = [np.asarray(t) for t in keras.tree.flatten(expected)]
    except Exception as error:  # a model Keras refuses is not a case
        return "skipped", f"keras: {type(error).__name__}: {str(error)[:200]}"
    stem = os.path.join(args.out, f"case{case:04d}")
    model.save(stem + ".keras")
    input_paths = []
    for i, array in enumerate(inputs):
        input_paths.append(f"{stem}.in{i}.npy")
        np.save(input_paths[-1], array)
    arrays = {f"input_{i}": x for i, x in enumerate(inputs)}
    arrays.update({f"output_{i}": y.astype("float32") for i, y in enumerate(expected)})
    np.savez(stem + ".npz", **arrays)
    if args.train:
        try:
            problems, extra_paths = compare_training(stem, d, model, inputs, expected, input_paths)
        except KerasRefused as refusal:
            return "skipped", str(refusal)
        if problems:
            return "failed", "; ".join(problems)
        if not args.keep_passing:
            for path in [stem + ".keras", stem + ".npz", stem + ".fit.json", stem + ".trained.keras", stem + ".recur.keras",
                         stem + ".history.json", *input_paths, *extra_paths]:
                if os.path.exists(path):
                    os.remove(path)
        return "passed", ""
    predicted = run([args.recur, "predict", stem + ".keras", *sum([["--input", p] for p in input_paths], []),
                     "--output", stem + ".recur.npz", "--device", "cpu"])
    problems = []
    if predicted.returncode != 0:
        problems.append(f"predict exited {predicted.returncode}: {predicted.stderr.strip()[-400:]}")
    else:
        actual = np.load(stem + ".recur.npz")
        if len(actual.files) != len(expected):
            problems.append(f"{len(actual.files)} outputs, Keras {len(expected)}")
        for i, want in enumerate(expected):
            got = actual.get(f"output_{i}")
            if got is None or got.shape != want.shape:
                problems.append(f"output {i}: shape {None if got is None else got.shape}, Keras {want.shape}")
                continue
            error = float(np.max(np.abs(got - want), initial=0) / (1 + np.max(np.abs(want), initial=0)))
            if not error <= args.tolerance:
                problems.append(f"output {i}: relative error {error:.3g}")
    summary = run([args.recur, "summary", stem + ".keras"])
    theirs = keras_summary(keras.saving.load_model(stem + ".keras"))
    open(stem + ".summary.txt", "w").write(theirs + "\n")
    if summary.returncode != 0:
        problems.append(f"summary exited {summary.returncode}: {summary.stderr.strip()[-300:]}")
    elif summary.stdout.strip() != theirs:
        problems.append("summary differs")
        open(stem + ".summary.recur.txt", "w").write(summary.stdout)
    if problems:
        return "failed", "; ".join(problems)
    if not args.keep_passing:
        for path in [stem + ".keras", stem + ".npz", stem + ".recur.npz", stem + ".summary.txt", *input_paths]:
            if os.path.exists(path):
                os.remove(path)
    return "passed", ""


os.makedirs(args.out, exist_ok=True)
tally = {"passed": 0, "failed": 0, "skipped": 0}
for case in args.cases if args.cases else range(args.count):
    draw = Draw([args.seed, case])
    try:
        outcome, detail = compare(case, draw)
    except Exception:
        outcome, detail = "failed", "script: " + traceback.format_exc().strip().splitlines()[-1]
    keras.backend.clear_session()
    tally[outcome] += 1
    if outcome != "passed":
        print(f"case{case:04d} {outcome}: {detail}", flush=True)
print(json.dumps(tally), flush=True)
sys.exit(1 if tally["failed"] else 0)
