#!/usr/bin/env bash
# Writes a kotlinc argument file that assigns every Kotlin source file to its
# multiplatform fragment. kotlinc matches fragment sources file by file, so the
# directories of each source set are expanded here.
#
# usage: fragment-args.sh OUTPUT FRAGMENT=DIR[:DIR...] [EXTRA_SOURCE_DIR...]
#   FRAGMENT=DIR    a fragment and the source directories that belong to it
#   --extra DIR     a directory whose files are also passed as sources, for
#                   directories the Maven plugin does not pass (generated code)
set -euo pipefail

output=$1
shift
pairs=()
extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --extra) extra+=("$2"); shift 2 ;;
    *=*)
      fragment=${1%%=*}
      IFS=: read -ra dirs <<<"${1#*=}"
      for dir in "${dirs[@]}"; do
        [[ -d $dir ]] || continue
        while IFS= read -r file; do
          pairs+=("$fragment:$file")
        done < <(find "$dir" -name '*.kt' | sort)
      done
      shift
      ;;
    *) echo "fragment-args.sh: unexpected argument $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$(dirname "$output")"
{
  (IFS=,; echo "-Xfragment-sources=${pairs[*]}")
  for dir in "${extra[@]}"; do
    if [[ -d $dir ]]; then find "$dir" -name "*.kt" | sort; fi
  done
} >"$output"
