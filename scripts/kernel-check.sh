#!/usr/bin/env bash
# Builds scripts/kernel_check.c with the C kernels and runs it: every kernel variant this CPU picks
# against double-precision references (see the file's header).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cc=$(command -v clang || command -v gcc)
"$cc" -O2 -I Sources/CRecurKernels/include scripts/kernel_check.c Sources/CRecurKernels/RecurKernels.c \
    Sources/CRecurKernels/RecurGemm.c Sources/CRecurKernels/RecurElementwise.c -lm -o "$out/kernel_check"
"$out/kernel_check"
