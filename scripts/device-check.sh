#!/usr/bin/env bash
# The CUDA backend's check on a GPU machine (no Swift toolchain there): run with the self-contained
# recur built here (`./run.sh dist`, in .build/dist/recur), from the repository root:
#     scripts/device-check.sh [RECUR] [OUTDIR] [FASHION_MNIST_DIR]
# Finds NVIDIA's libraries (the driver on the loader's path; cuBLAS, cuDNN 9 and NVRTC from the
# nvidia-* wheels beside PyTorch), then runs `recur gpu-check` (every op, recurrent layer and guide model
# against the CPU), `recur bench rnn --device cuda --compare python3` (Recur and PyTorch + cuDNN on the
# same GPU, TF32 off in both, ratios), PyTorch with TF32 on for reference, and — given the data —
# `recur train --device cuda` on Fashion-MNIST. Logs go to OUTDIR (default: .).
set -uo pipefail
recur="${1:-.build/dist/recur}"
out="${2:-.}"
data="${3:-}"
folders=""
for name in libcudnn_graph.so.9 libcublasLt.so.13 libcublas.so.13 libnvrtc.so.13; do
    found="$(find /opt /usr/local /usr/lib -name "$name" 2>/dev/null | head -1)"
    [ -n "$found" ] && folders="$folders:$(dirname "$found")"
done
export LD_LIBRARY_PATH="${folders#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NVIDIA_TF32_OVERRIDE=0 PYTHONUNBUFFERED=1
nvidia-smi -L
timeout 300 "$recur" gpu-check 2>&1 | tee "$out/gpu-check.log"
status=${PIPESTATUS[0]}
timeout 200 "$recur" bench rnn --device cuda --steps 200 --compare "$(command -v python3)" 2>&1 | tee "$out/bench-cuda.json"
unset NVIDIA_TF32_OVERRIDE
timeout 100 python3 scripts/bench_torch.py --device cuda --tf32 --steps 200 --predict-repeats 3 2>/dev/null | tee "$out/torch-cuda-tf32.json"
if [ -n "$data" ]; then
    for cell in lstm gru; do
        timeout 120 "$recur" train --device cuda --cell "$cell" --data-dir "$data" 2>&1 | tail -4 | tee -a "$out/train-cuda.log"
    done
fi
exit "$status"
