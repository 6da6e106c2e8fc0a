#!/usr/bin/env python3
"""CPU speed of PyTorch on the configurations of `recur bench rnn`, printed as one JSON object.

Usage:
    python3 -m venv /tmp/benchvenv && /tmp/benchvenv/bin/pip install torch numpy
    /tmp/benchvenv/bin/python scripts/bench_torch.py [--threads 2] [--steps 200]

Models: nn.LSTM/nn.GRU (batch_first, hidden 64) -> last output -> BatchNorm1d(64) -> Linear(10)
("fused" keys), or a Python loop over nn.LSTMCell/nn.GRUCell ("cell_loop" keys); and
nn.LSTM(32, 256) over 100 steps -> Linear(10) at batch 32. Training: SGD(lr=0.01), CrossEntropyLoss,
random float32 data; ms per step = mean over `--steps` timed steps after warm-up steps.
Inference (eval mode, torch.no_grad()): median ms for one sample and for 10,000 samples in batches of 32
and of 1024. `--inference-only` skips the training models (as `recur bench inference`).
`--device cuda` runs the training models on the GPU (cuDNN; TF32 off unless `--tf32`), reads the loss
back every step (`loss.item()`, as a training loop that logs it does), synchronises around the timed
steps, and adds `lstm512_t100_b256_train_ms_per_step`: nn.LSTM(32, 512) over 100 steps at batch 256.
"""
import argparse
import json
import sys
import time

import numpy as np
import torch
from torch import nn

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
parser.add_argument("--steps", type=int, default=200, help="timed training steps per model")
parser.add_argument("--warmup", type=int, default=10, help="untimed training steps before timing")
parser.add_argument("--inference-repeats", type=int, default=1000, help="timed single-sample calls")
parser.add_argument("--predict-repeats", type=int, default=3, help="timed predict(10k) calls")
parser.add_argument("--inference-only", action="store_true", help="measure only the inference keys")
parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where the models run")
parser.add_argument("--tf32", action="store_true", help="with --device cuda: allow TF32 in cuDNN and cuBLAS")
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(7)
rng = np.random.default_rng(2)
device = torch.device(args.device)
cuda = args.device == "cuda"
if cuda:
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32


def synchronize():
    if cuda:
        torch.cuda.synchronize()


class Recurrent(nn.Module):
    """Fused nn.LSTM/nn.GRU or a Python loop over nn.LSTMCell/nn.GRUCell; returns the last output."""

    def __init__(self, kind, input_size, hidden, cell_loop):
        super().__init__()
        self.kind, self.cell_loop, self.hidden = kind, cell_loop, hidden
        if cell_loop:
            self.rnn = (nn.LSTMCell if kind == "lstm" else nn.GRUCell)(input_size, hidden)
        else:
            self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(input_size, hidden, batch_first=True)

    def forward(self, x):
        if not self.cell_loop:
            out, _ = self.rnn(x)
            return out[:, -1]
        h = x.new_zeros(x.shape[0], self.hidden)
        c = x.new_zeros(x.shape[0], self.hidden)
        for t in range(x.shape[1]):
            if self.kind == "lstm":
                h, c = self.rnn(x[:, t], (h, c))
            else:
                h = self.rnn(x[:, t], h)
        return h


def guide_model(kind, cell_loop=False):
    return nn.Sequential(Recurrent(kind, 28, 64, cell_loop), nn.BatchNorm1d(64), nn.Linear(64, 10))


def random_batch(batch, timesteps, features):
    x = torch.from_numpy(rng.random((batch, timesteps, features), dtype=np.float32))
    y = torch.arange(batch) % 10
    return x.to(device), y.to(device)


def train_ms_per_step(model, x, y):
    model.to(device)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if cuda:
            loss.item()

    for _ in range(args.warmup):
        step()
    synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    synchronize()
    return (time.perf_counter() - start) / args.steps * 1e3


def median_ms(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples)) * 1e3


result = {"torch_version": torch.__version__, "threads": torch.get_num_threads(), "batch": 64,
          "steps": args.steps}
x, y = random_batch(64, 28, 28)
guide_lstm = guide_model("lstm")
configs = [
    ("guide_lstm_fused_train_ms_per_step", guide_lstm),
    ("guide_lstm_cell_loop_train_ms_per_step", guide_model("lstm", cell_loop=True)),
    ("guide_gru_fused_train_ms_per_step", guide_model("gru")),
    ("guide_gru_cell_loop_train_ms_per_step", guide_model("gru", cell_loop=True)),
]
if args.inference_only:
    configs = []
for key, model in configs:
    result[key] = train_ms_per_step(model, x, y)
    print(f"{key}: {result[key]:.3f}", file=sys.stderr, flush=True)

if not args.inference_only:
    long_model = nn.Sequential(Recurrent("lstm", 32, 256, False), nn.Linear(256, 10))
    x_long, y_long = random_batch(32, 100, 32)
    result["lstm256_t100_b32_train_ms_per_step"] = train_ms_per_step(long_model, x_long, y_long)
    print(f"lstm256_t100_b32_train_ms_per_step: {result['lstm256_t100_b32_train_ms_per_step']:.3f}",
          file=sys.stderr, flush=True)
    if cuda:
        wide_model = nn.Sequential(Recurrent("lstm", 32, 512, False), nn.Linear(512, 10))
        x_wide, y_wide = random_batch(256, 100, 32)
        result["lstm512_t100_b256_train_ms_per_step"] = train_ms_per_step(wide_model, x_wide, y_wide)

guide_lstm.to(device).eval()
sample = x[:1]
x10k = torch.from_numpy(rng.random((10_000, 28, 28), dtype=np.float32)).to(device)


def predict_10k(batch):
    return torch.cat([guide_lstm(x10k[i:i + batch]) for i in range(0, x10k.shape[0], batch)])


with torch.no_grad():
    result["guide_single_sample_inference_ms"] = median_ms(lambda: guide_lstm(sample), args.inference_repeats,
                                                           warmup=10)
    result["guide_predict_10k_ms"] = median_ms(lambda: predict_10k(32), args.predict_repeats, warmup=1)
    result["guide_predict_10k_b1024_ms"] = median_ms(lambda: predict_10k(1024), args.predict_repeats + 2, warmup=1)
print(json.dumps(result, indent=2, sort_keys=True))
