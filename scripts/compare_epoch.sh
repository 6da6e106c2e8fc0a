#!/usr/bin/env bash
# One full Fashion-MNIST epoch of the guide model (batch 64, SGD, validation on the 10k test images),
# Recur vs PyTorch CPU vs Keras-JAX, run back to back and interleaved REPEATS times; prints each run's
# ms/step (epoch seconds including validation ÷ 938 steps) and the medians.
#   scripts/compare_epoch.sh PYTHON [REPEATS] [CELLS]      e.g. scripts/compare_epoch.sh /tmp/benchvenv/bin/python 3 "lstm gru"
# CELLS may include user-lstm (Recur's LSTM cell written from public ops, compiled cell loop), timed
# against Keras's RNN(LSTMCell) (no PyTorch counterpart).
# PYTHON needs torch, keras and jax (scripts/README-bench.md). Run on an idle machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="$1"; repeats="${2:-3}"; cells="${3:-lstm gru}"
threads="$(nproc)"
swift build --package-path "$root" -c release --product recur >/dev/null
results="$(mktemp)"
ms() { sed -n 's/.*"ms_per_step": *\([0-9.]*\).*/\1/p' | tail -n 1; }
for r in $(seq "$repeats"); do
    for cell in $cells; do
        echo "recur $cell $("$root/.build/release/recur" train --cell "$cell" | tail -n 1 | ms)" | tee -a "$results"
        if [ "$cell" = user-lstm ]; then keras_cell=lstm-cell; else keras_cell="$cell"
            echo "torch $cell $("$python" "$root/scripts/train_torch.py" --cell "$cell" --threads "$threads" | ms)" | tee -a "$results"
        fi
        echo "keras-jax $cell $(KERAS_BACKEND=jax "$python" "$root/scripts/train_keras.py" --backend jax --cell "$keras_cell" 2>/dev/null | ms)" | tee -a "$results"
    done
done
echo "medians (ms/step):"
for name in recur torch keras-jax; do
    for cell in $cells; do
        median="$(awk -v n="$name" -v c="$cell" '$1 == n && $2 == c { print $3 }' "$results" | sort -g |
                  awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }')"
        echo "$name $cell $median"
    done
done
