#!/usr/bin/env bash
# Installs the build tools that a fresh machine with Rust, a JDK 17 and Maven lacks: the
# Kotlin Multiplatform binding generator for UniFFI, at the version whose UniFFI matches the
# core's, and cargo-fuzz for the fuzz targets.
set -euo pipefail

GOBLEY_VERSION=0.3.7
CARGO_FUZZ_VERSION=0.13.2

for tool in cargo java mvn; do
  command -v "$tool" >/dev/null || { echo "install-tools.sh: $tool is missing; install it first" >&2; exit 1; }
done

installed=$(gobley-uniffi-bindgen --version 2>/dev/null || true)
if [[ $installed != *"$GOBLEY_VERSION"* ]]; then
  echo "installing gobley-uniffi-bindgen $GOBLEY_VERSION (about 3 minutes on 2 cores)" >&2
  cargo install --locked --quiet gobley-uniffi-bindgen --version "$GOBLEY_VERSION"
fi

installed=$(cargo fuzz --version 2>/dev/null || true)
if [[ $installed != *"$CARGO_FUZZ_VERSION"* ]]; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
  cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
