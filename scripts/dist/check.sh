#!/usr/bin/env bash
# Checks the self-contained `recur` (scripts/dist/build.sh): `ldd` lists only glibc, libstdc++ and
# libgcc; then, with an empty environment and — where a mount namespace can be made (root) — the Swift
# toolchain's folder hidden under an empty tmpfs, it trains the guide model on 640 samples, saves it,
# `recur predict` runs the saved model on a test image and `recur summary` prints its table with the
# optimizer's parameters, as Keras's load_model(path).summary() does.
#   scripts/dist/check.sh .build/dist/recur
set -euo pipefail
binary="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
toolchain="$(dirname "$(dirname "$(command -v swift)")")"   # /opt/swift/usr -> /opt/swift
toolchain="${toolchain%/usr}"

allowed='^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$'
libraries="$(ldd "$binary" | awk '{print $1}')"
echo "ldd $binary:"; echo "$libraries" | sed 's/^/  /'
unexpected="$(echo "$libraries" | grep -Ev "$allowed" || true)"
[ -z "$unexpected" ] || { echo "dist check: unexpected shared libraries: $unexpected" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A 28x28 float32 test image of zeros as .npy (version 1.0 header padded to 64 bytes).
header="{'descr': '<f4', 'fortran_order': False, 'shape': (1, 28, 28), }"
printf '\x93NUMPY\x01\x00\x76\x00%s%*s\n' "$header" $((117 - ${#header})) '' > "$work/image.npy"
head -c $((28 * 28 * 4)) /dev/zero >> "$work/image.npy"

run_clean() { # runs "$@" in $work with an empty environment and, when possible, no toolchain
    if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
        unshare -m sh -c 'mount -t tmpfs none "$0" && cd "$1" && shift && exec env -i "$@"' "$toolchain" "$work" "$@"
    else
        echo "dist check: no mount namespace here; running with an empty environment only" >&2
        (cd "$work" && env -i "$@")
    fi
}
run_clean "$binary" --version
run_clean "$binary" train --limit 640 --save model.keras | tail -n 1 | tee "$work/train.json"
grep -q '"val_accuracy"' "$work/train.json"
run_clean "$binary" predict model.keras --input image.npy --output out.npz
[ -s "$work/out.npz" ] || { echo "dist check: predict wrote no output" >&2; exit 1; }
run_clean "$binary" summary model.keras | tee "$work/summary.txt"
grep -q '^ Optimizer params: ' "$work/summary.txt" || { echo "dist check: summary counts no optimizer parameters" >&2; exit 1; }
echo "dist check: OK ($(du -h "$binary" | cut -f1), toolchain $toolchain hidden)"
