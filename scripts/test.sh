#!/usr/bin/env bash
# Runs every test that this machine can run. That is the Rust core's unit tests and its
# crash, concurrency, fault, attack and leak suites, and a short fuzzing run. Then the Kotlin
# commonTest and jvmTest suites against the real Rust library, the compilation of
# androidMain against the Android framework, and the sample end to end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-tools.sh

echo "== Rust core: unit tests"
cargo test --workspace --lib

echo "== Rust core: crash, concurrency, fault, attack and leak suites (with their figures)"
cargo test --workspace --test '*' -- --nocapture
cargo check --workspace --benches

echo "== Rust core: fuzzing each target briefly"
scripts/fuzz.sh "${FUZZ_SECONDS:-15}"

echo "== Kotlin: commonTest and jvmTest on the JVM, androidMain against the Android framework (Maven)"
mvn -B -ntp install

echo "== Sample: store in one process, read in another"
scripts/sample-check.sh
