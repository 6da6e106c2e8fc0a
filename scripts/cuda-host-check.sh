#!/usr/bin/env bash
# Runs the CUDA kernels of cuda/tensor.cu and cuda/nn.cu on the CPU, every block and thread of each grid,
# against plain C++ references (cuda/host-check/check.cpp; cuda_host_shim.h says how and why): CI has no
# GPU, so this is where their index math is checked. Built with AddressSanitizer and UBSan where the
# compiler has them, which also catches a kernel reading or writing outside its buffers. Prints
# mismatches and a one-line summary; exits non-zero on any mismatch. Needs g++ (C++20).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# -ffp-contract=off: no FMA contraction, as scripts/build-ptx.sh compiles with -fmad=false and the
# CPU kernels are compared bit for bit.
flags=(-O1 -g -ffp-contract=off -fno-omit-frame-pointer)
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all)
if ! echo 'int main() { return 0; }' | g++ -x c++ "${sanitize[@]}" - -o "$out/probe" 2>/dev/null || ! "$out/probe" 2>/dev/null; then
    echo "note: g++ cannot build with -fsanitize=address,undefined here; checking without sanitizers" >&2
    sanitize=()
fi
# The CPU kernels the nn.cu kernels mirror, with the names tensor.cu and nn.cu also use prefixed cpu_.
gcc "${flags[@]}" "${sanitize[@]}" -include cuda/host-check/cpu_renames.h -I Sources/CRecurKernels/include \
    -c Sources/CRecurKernels/RecurKernels.c -o "$out/cpu_kernels.o"
g++ -std=c++20 "${flags[@]}" "${sanitize[@]}" -pthread -I Sources/CRecurKernels/include \
    cuda/host-check/check.cpp "$out/cpu_kernels.o" -lm -o "$out/check"
# Leak checking needs ptrace, which containers often forbid, and a leak is no kernel bug.
status=0
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" "$out/check" cuda/tensor.cu cuda/nn.cu || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
    # Not the check's own failure (exit 3, its summary printed): a sanitizer report or a crash, above.
    echo "cuda host check: FAILED: the check stopped with exit status $status (a sanitizer report or a crash, above)"
fi
exit "$status"
