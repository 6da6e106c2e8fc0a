#!/usr/bin/env bash
# Recur's quick start: `./run.sh train` trains the guide's model, `./run.sh test` runs all tests,
# `./run.sh dist` builds a self-contained recur.
# Installs the Debian packages Recur needs when missing (as root), or prints the apt-get line to run.
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
mapfile -t packages < <(grep -v '^#' "$root/scripts/debian-packages.txt")
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "Recur needs: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi
command="${1:-train}"
shift || true
case "$command" in
    test) exec swift test --package-path "$root" "$@" ;;
    # A self-contained recur in .build/dist/recur (needs only glibc, libstdc++ and libgcc; no MPI).
    dist) "$root/scripts/dist/build.sh" ;;
    # The CLI runs in the caller's directory, so relative paths to models and arrays work.
    *) swift build --package-path "$root" -c release --product recur >/dev/null && exec "$root/.build/release/recur" "$command" "$@" ;;
esac
