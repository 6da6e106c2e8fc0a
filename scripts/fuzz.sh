#!/usr/bin/env bash
# Builds Recur's libFuzzer harnesses (Fuzz/) with AddressSanitizer and runs each one.
#   [HARNESSES="npy zip config weights idx events"] scripts/fuzz.sh [SECONDS_PER_HARNESS] [RUNS_PER_HARNESS] [CORPUS_ROOT]
# Defaults: 12 seconds, no run limit, a fresh copy of Fuzz/Corpus under a temporary directory.
# A crash, leak (LeakSanitizer; see Fuzz/lsan.supp) or timeout fails the script and leaves the input
# in CORPUS_ROOT/crash-*; turn it into a regression test.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-12}"
runs="${2:--1}"
work="${3:-$(mktemp -d)}"
mkdir -p "$work"
# The harnesses must carry coverage instrumentation for Recur's own code (tens of thousands of
# counters, not the two thousand of the harness alone). `--sanitize fuzzer` alone was seen to leave
# every Swift object without coverage sections (no `__sancov_*` in `objdump -h`, 2,076 counters)
# on some builds, so the coverage is also asked for explicitly; the check below still guards it:
# build from a removed release folder, check, and try again (three times at most).
flags=(-c release --sanitize fuzzer --sanitize address -Xswiftc -enable-testing
       -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
instrumented() {
    local counters
    counters=$("$1" -runs=0 "$(mktemp -d)" 2>&1 | sed -n 's/.*(\([0-9]*\) inline 8-bit counters.*/\1/p' | head -1)
    [ "${counters:-0}" -gt 10000 ] && echo yes || echo no
}
bin="$root/Fuzz/.build/release"
for attempt in 1 2 3; do
    rm -rf "$root/Fuzz/.build"/*/release
    swift build --package-path "$root/Fuzz" "${flags[@]}" >"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; exit 1; }
    [ "$(instrumented "$bin/FuzzNpy")" = yes ] && break
    [ $attempt = 3 ] && { echo "the fuzz harnesses were built without coverage instrumentation" >&2; exit 1; }
done
export LSAN_OPTIONS="suppressions=$root/Fuzz/lsan.supp"
# libhdf5 mallocs sizes read from corrupt files; glibc returns NULL for impossible ones where ASan
# would abort, so ASan returns NULL too (libhdf5 crashing on it is caught by Recur's child-process probe).
export ASAN_OPTIONS="allocator_may_return_null=1"
status=0
for harness in ${HARNESSES:-npy zip config weights idx events}; do
    target="Fuzz$(echo "${harness:0:1}" | tr a-z A-Z)${harness:1}"
    [ "$harness" = idx ] && target=FuzzIDX
    mkdir -p "$work/$harness"
    cp -n "$root/Fuzz/Corpus/$harness/"* "$work/$harness/" 2>/dev/null || true
    if "$bin/$target" -max_total_time="$seconds" -runs="$runs" -rss_limit_mb=2048 -malloc_limit_mb=1048576 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/crash-$harness-" "$work/$harness" >"$work/$harness.log" 2>&1; then
        result=ok
        # A harness that sees no coverage is not fuzzing anything (an uninstrumented build).
        if grep -q "no interesting inputs were found" "$work/$harness.log"; then result="FAILED (no coverage)"; status=1; fi
    else
        result=FAILED; status=1
    fi
    execs=$(grep -m1 number_of_executed_units "$work/$harness.log" | awk '{print $2}')
    echo "$target: $result, ${execs:-?} executions, corpus $(ls "$work/$harness" | wc -l) files (log: $work/$harness.log)"
done
exit $status
