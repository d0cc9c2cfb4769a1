#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a number of seconds and prints its executions.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]    default 20; FUZZ_SECONDS also sets it
#
# cargo-fuzz passes nightly-only compiler flags (-Zsanitizer=address and others).
# RUSTC_BOOTSTRAP=1 makes the stable toolchain accept them, so no nightly is needed.
# Install cargo-fuzz once with: cargo install cargo-fuzz --locked
# The first build of the targets takes several minutes. Inputs that crash a target are
# saved under fuzz/artifacts/<target>/ and the script exits non-zero.
set -euo pipefail

seconds="${1:-${FUZZ_SECONDS:-20}}"
cd "$(dirname "$0")/.."

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed; run: cargo install cargo-fuzz --locked" >&2
    exit 1
fi
export RUSTC_BOOTSTRAP=1

cargo fuzz build -O
for target in $(cargo fuzz list); do
    log="$(mktemp)"
    mkdir -p "fuzz/corpus/$target"
    echo "fuzzing $target for $seconds s"
    if ! cargo fuzz run -O "$target" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz target $target failed; the crashing input is in fuzz/artifacts/$target/" >&2
        rm -f "$log"
        exit 1
    fi
    executions="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo unknown)"
    per_second="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo unknown)"
    corpus="$(find "fuzz/corpus/$target" -type f | wc -l)"
    echo "$target: $executions executions in $seconds s ($per_second per second), corpus of $corpus inputs, no crash"
    rm -f "$log"
done
