#!/usr/bin/env bash
# Runs every benchmark in one go and writes the results to one directory:
#   criterion.txt, criterion/   the Rust core (rust-core/benches/store.rs)
#   paired.json                 set and its floor measured in alternation (same bench)
#   jmh.txt, jmh.json           the JVM library and the peer designs (bench-jvm)
#   footprint.md                library size and heap use per operation (scripts/footprint.sh)
#   machine.txt                 CPU, memory, kernel, filesystem and load during the run
#   summary.md                  tables with ratios, made by scripts/bench_report.py
#
# Settings (environment):
#   SECURESTORE_BENCH_OUT       output directory (default target/bench-results/<UTC time>)
#   SECURESTORE_BENCH_DIR       where stores are created (default target/bench-tmp); must be
#                               on the disk being measured, not a tmpfs
#   SECURESTORE_BENCH_MAX_LOAD  wait until the 1-minute load average is below this before
#                               measuring (default: do not wait)
#   SECURESTORE_BENCH_WAIT      give up waiting after this many seconds and run anyway
#                               (default 1200)
#   CRITERION_ARGS, JMH_ARGS    extra options for criterion and for JMH
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

out=${SECURESTORE_BENCH_OUT:-$root/target/bench-results/$(date -u +%Y%m%dT%H%M%SZ)}
export SECURESTORE_BENCH_DIR=${SECURESTORE_BENCH_DIR:-$root/target/bench-tmp}
mkdir -p "$out" "$SECURESTORE_BENCH_DIR"
out=$(cd "$out" && pwd)
echo "bench.sh: results go to $out" >&2

scripts/install-tools.sh

echo "== Building the benchmarks" >&2
cargo bench -p securestore-core --no-run --quiet
mvn -B -ntp -q -P bench -pl bench-jvm -am package -DskipTests

load_average() { cut -d ' ' -f 1 /proc/loadavg; }
if [[ -n ${SECURESTORE_BENCH_MAX_LOAD:-} ]]; then
  deadline=$((SECONDS + ${SECURESTORE_BENCH_WAIT:-1200}))
  until awk -v load="$(load_average)" -v max="$SECURESTORE_BENCH_MAX_LOAD" 'BEGIN { exit !(load < max) }'; do
    if ((SECONDS >= deadline)); then
      echo "bench.sh: load average still $(load_average); running anyway" >&2
      break
    fi
    echo "bench.sh: load average $(load_average), waiting for < $SECURESTORE_BENCH_MAX_LOAD" >&2
    sleep 30
  done
fi

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "cpus (nproc): $(nproc)"
  echo "cpu model: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cpu flags used by the crypto: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'aes|pclmulqdq|avx2|sha_ni' | tr '\n' ' ')"
  echo "memory: $(free -h | awk '/^Mem:/ { print $2 }')"
  echo "kernel: $(uname -sr)"
  echo "bench directory: $SECURESTORE_BENCH_DIR"
  echo "bench filesystem: $(df -T "$SECURESTORE_BENCH_DIR" | awk 'NR == 2 { print $2 " on " $1 }')"
  echo "rustc: $(rustc --version)"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "uptime before: $(uptime)"
} > "$out/machine.txt"

echo "== Rust core (criterion)" >&2
# shellcheck disable=SC2086
CRITERION_HOME="$out/criterion" SECURESTORE_BENCH_PAIRED_OUT="$out/paired.json" cargo bench -p securestore-core --bench store -- ${CRITERION_ARGS:-} 2>&1 | tee "$out/criterion.txt" >&2
echo "uptime after criterion: $(uptime)" >> "$out/machine.txt"

echo "== JVM (JMH)" >&2
# shellcheck disable=SC2086
java -jar bench-jvm/target/benchmarks.jar -rf json -rff "$out/jmh.json" ${JMH_ARGS:-} 2>&1 | tee "$out/jmh.txt" >&2
echo "uptime after JMH: $(uptime)" >> "$out/machine.txt"

echo "== Footprint" >&2
scripts/footprint.sh > "$out/footprint.md"
echo "uptime after footprint: $(uptime)" >> "$out/machine.txt"

python3 scripts/bench_report.py "$out" > "$out/summary.md"
echo "bench.sh: summary in $out/summary.md" >&2
