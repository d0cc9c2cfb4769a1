#!/usr/bin/env bash
# Runs the sample as a user would: stores a secret in one process, reads it in another,
# checks the exit codes of bad input, and checks that no file contains the key name or value.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() { "$root/sample/run" --dir "$dir/store" "$@"; }
passed=0

value="check-value-$RANDOM$RANDOM"
run set sample_token_name "$value" >/dev/null
read_back=$(run get sample_token_name)
[[ $read_back == "$value" ]] || { echo "FAIL: read back '$read_back'" >&2; exit 1; }
passed=$((passed + 1))

expect_exit() {
  local expected=$1; shift
  local code=0
  run "$@" >/dev/null 2>&1 || code=$?
  [[ $code == "$expected" ]] || { echo "FAIL: '$*' exited with $code, expected $expected" >&2; exit 1; }
  passed=$((passed + 1))
}
expect_exit 1 get never_written
expect_exit 2 get
expect_exit 2 --dir "" list
expect_exit 3 set "bad key" value
expect_exit 4 set big "$(head -c 2049 /dev/zero | tr '\0' x)"
expect_exit 2 frobnicate

# A secret given on standard input, and options after the command.
printf 'from stdin\n' | run set piped - --service other >/dev/null
[[ $(run get piped --service other) == "from stdin" ]] || { echo "FAIL: standard input value" >&2; exit 1; }
passed=$((passed + 1))

# Non-ASCII text survives a C locale.
[[ $(LC_ALL=C run set unicode "héllo 😀" >/dev/null && LC_ALL=C run get unicode) == "héllo 😀" ]] || {
  echo "FAIL: non-ASCII text under LC_ALL=C" >&2; exit 1; }
passed=$((passed + 1))

if grep -rl -e "$value" -e sample_token_name "$dir/store"; then
  echo "FAIL: a file under the store directory contains the key name or the value" >&2
  exit 1
fi
passed=$((passed + 1))
echo "sample check: $passed passed, 0 failed"
