#!/usr/bin/env bash
# Fails when Sources/CRecurCUDA/RecurCUDAKernels.c was not generated from the current cuda/*.cu: it holds
# the sha256 of the sources it was compiled from, recomputed here as scripts/build-ptx.sh does (no nvcc
# needed). The fix is to run scripts/build-ptx.sh and commit its output.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
generated=Sources/CRecurCUDA/RecurCUDAKernels.c
expected=$(sha256sum cuda/*.cu | sha256sum | cut -d' ' -f1)
recorded=$(sed -n 's/^const char \*const recur_cuda_kernels_sha256 = "\([0-9a-f]*\)";$/\1/p' "$generated" 2>/dev/null || true)
if [ "$recorded" != "$expected" ]; then
    echo "error: $generated is stale: it was built from cuda/*.cu with sha256 ${recorded:-(none found)}," >&2
    echo "       the sources now hash to $expected. Run scripts/build-ptx.sh and commit the result." >&2
    exit 1
fi
echo "PTX kernels match cuda/*.cu (sha256 $expected)"
