#!/usr/bin/env bash
# Builds scripts/kernel_check.c with the C kernels and runs it: every kernel variant this CPU picks
# against double-precision references (see the file's header).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cc=$(command -v clang || command -v gcc)
"$cc" -O2 -I Sources/CRecurKernels/include scripts/kernel_check.c Sources/CRecurKernels/RecurKernels.c \
    Sources/CRecurKernels/RecurGemm.c Sources/CRecurKernels/RecurElementwise.c Sources/CRecurKernels/RecurLSTMStep.c -lm -o "$out/kernel_check"
"$out/kernel_check"
# The AVX2 GEMM tile and the portable gate kernels, which a CPU with AVX-512 otherwise never runs.
echo "-- without the AVX-512 GEMM tile and gate kernels:"
RECUR_GEMM_AVX512=0 RECUR_GATES_AVX512=0 "$out/kernel_check"
