"""Reads Recur's TensorBoard logs with the `tensorboard` package's own reader and checks them.

    recur train --epochs 2 --limit 640 --tensorboard /tmp/tb | tee /tmp/train.log
    python3 scripts/check_tensorboard_events.py /tmp/tb --epochs 2 --json "$(tail -n 1 /tmp/train.log)"

Checks: train/ has epoch_loss, epoch_accuracy and epoch_learning_rate at steps 0..epochs-1 and batch
scalars; validation/ has epoch_loss and epoch_accuracy at the same steps; every weight has a histogram
each epoch; with --json (recur train's last line) the last epoch's values equal it. Needs
`pip install tensorboard`; exits non-zero on the first mismatch.
"""
import argparse
import json
import math
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def load(directory):
    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0, "histograms": 0})
    accumulator.Reload()
    return accumulator


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("logdir")
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--json", help="recur train's JSON last line")
    args = parser.parse_args()
    train, validation = load(args.logdir + "/train"), load(args.logdir + "/validation")
    steps = list(range(args.epochs))
    last = {}
    for reader, name, tags in [(train, "train", ["epoch_loss", "epoch_accuracy", "epoch_learning_rate"]),
                               (validation, "validation", ["epoch_loss", "epoch_accuracy"])]:
        found = reader.Tags()["scalars"]
        for tag in tags:
            if tag not in found:
                fail(f"{name}: no scalar {tag} (found {found})")
            events = reader.Scalars(tag)
            if [e.step for e in events] != steps:
                fail(f"{name}/{tag}: steps {[e.step for e in events]}, expected {steps}")
            last[f"{name}/{tag}"] = events[-1].value
            print(f"{name}/{tag}:", ", ".join(f"{e.step}: {e.value:.6f}" for e in events))
    batch = [t for t in train.Tags()["scalars"] if t.startswith("batch_")]
    if not batch:
        fail("train: no batch_ scalars")
    print("train batch scalars:", batch, "steps", [e.step for e in train.Scalars(batch[0])][:5], "...")
    histograms = train.Tags()["histograms"]
    if not histograms:
        fail("train: no weight histograms")
    for tag in histograms:
        events = train.Histograms(tag)
        if [e.step for e in events] != steps:
            fail(f"histogram {tag}: steps {[e.step for e in events]}")
        value = events[-1].histogram_value
        if value.num <= 0 or abs(sum(value.bucket) - value.num) > 1e-9:
            fail(f"histogram {tag}: {value.num} values but buckets sum to {sum(value.bucket)}")
    print(f"{len(histograms)} weight histograms, e.g. {histograms[0]}")
    if args.json:
        result = json.loads(args.json)
        for key, tag in [("loss", "train/epoch_loss"), ("accuracy", "train/epoch_accuracy"),
                         ("val_loss", "validation/epoch_loss"), ("val_accuracy", "validation/epoch_accuracy")]:
            if not math.isclose(result[key], last[tag], rel_tol=1e-6, abs_tol=1e-7):
                fail(f"{tag} = {last[tag]} but recur train printed {key} = {result[key]}")
        print("last epoch matches recur train's JSON line")
    print("OK")


if __name__ == "__main__":
    main()
