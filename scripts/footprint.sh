#!/usr/bin/env bash
# Measures the core's footprint and prints it as Markdown:
# - the size of the release native library for this host, as built (profile `release`,
#   default features, which are the ones Android uses) and with all symbols stripped;
# - heap use per get and set at 10 and at 10,000 entries, from the counting-allocator
#   bench (rust-core/benches/allocations.rs).
# Set SECURESTORE_BENCH_DIR to choose where the bench stores live (default target/bench-tmp).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

cargo build --release -p securestore-core --quiet
library=target/release/libsecurestore.so
stripped=$(mktemp --suffix=.so)
trap 'rm -f "$stripped"' EXIT
cp "$library" "$stripped"
strip --strip-all "$stripped"

bytes() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }

echo "## Native library (linux-x86-64, profile release, default features)"
echo
echo "| file | bytes | size |"
echo "|---|---:|---:|"
echo "| libsecurestore.so as built (debug info stripped) | $(bytes "$library") | $(mib "$(bytes "$library")") |"
echo "| the same, \`strip --strip-all\` | $(bytes "$stripped") | $(mib "$(bytes "$stripped")") |"
echo
echo "Sections of the stripped library (\`size\`):"
echo
echo '```'
size -A "$stripped" | awk 'NR > 2 && $2 > 4096 { printf "%-20s %10d\n", $1, $2 }'
echo '```'
echo
echo "## Heap use per operation"
echo
cargo bench -p securestore-core --bench allocations --quiet 2>/dev/null
