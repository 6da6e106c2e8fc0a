#!/usr/bin/env python3
"""The `recur train` recipe in PyTorch (CPU), for comparing time with the same data and model.

LSTM/GRU/RNN(64) over 28 rows of 28 pixels, BatchNorm1d (Keras's momentum 0.99 and epsilon 1e-3),
Linear(10) logits, cross-entropy, SGD at Keras's default learning rate 0.01, batch 64, shuffled each
epoch, then the 10k test images evaluated in batches of 64 (as Keras's fit validates); prints one JSON line like `recur train`'s, whose
`ms_per_step` is the epoch's seconds including validation ÷ the training steps, as Recur's.

    /tmp/benchvenv/bin/python scripts/train_torch.py --threads 2 --cell lstm
"""
import argparse
import json
import time

import numpy as np
import torch

from fashion_mnist import read_idx

parser = argparse.ArgumentParser()
parser.add_argument("--cell", choices=["lstm", "gru", "simplernn"], default="lstm")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--seed", type=int, default=1337)
parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)


def idx(name):
    return read_idx(args.data_dir, name)


x_train = torch.tensor(idx("train-images-idx3-ubyte") / 255.0, dtype=torch.float32)
y_train = torch.tensor(idx("train-labels-idx1-ubyte"), dtype=torch.long)
x_test = torch.tensor(idx("t10k-images-idx3-ubyte") / 255.0, dtype=torch.float32)
y_test = torch.tensor(idx("t10k-labels-idx1-ubyte"), dtype=torch.long)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        recurrent = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "simplernn": torch.nn.RNN}[args.cell]
        self.rnn = recurrent(28, 64, batch_first=True)
        self.norm = torch.nn.BatchNorm1d(64, eps=1e-3, momentum=0.01)
        self.dense = torch.nn.Linear(64, 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.dense(self.norm(out[:, -1]))


model = Model()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
loss_fn = torch.nn.CrossEntropyLoss()
start = time.perf_counter()
steps = 0
for epoch in range(args.epochs):
    model.train()
    order = torch.randperm(len(x_train))
    total, correct, seen = 0.0, 0, 0
    for i in range(0, len(x_train), 64):
        index = order[i:i + 64]
        xb, yb = x_train[index], y_train[index]
        optimizer.zero_grad()
        logits = model(xb)
        loss = loss_fn(logits, yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
        correct += (logits.argmax(1) == yb).sum().item()
        seen += len(yb)
        steps += 1
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x_test[i:i + 64]) for i in range(0, len(x_test), 64)])
        val_loss = loss_fn(logits, y_test).item()
        val_accuracy = (logits.argmax(1) == y_test).float().mean().item()
seconds = time.perf_counter() - start
print(json.dumps({"loss": total / seen, "accuracy": correct / seen, "val_loss": val_loss, "val_accuracy": val_accuracy,
                  "seconds": seconds, "ms_per_step": seconds * 1000 / steps, "torch_version": torch.__version__}, sort_keys=True))
