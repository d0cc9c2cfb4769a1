#!/usr/bin/env python3
"""Turns one run of scripts/bench.sh into Markdown tables with ratios.

Usage: bench_report.py RESULTS_DIR

Reads RESULTS_DIR/criterion (criterion's estimates.json files), jmh.json, footprint.md and
machine.txt. Every time is a median: criterion's median of per-sample means, and the 50th
percentile of JMH's sampled operation times.
"""

import json
import sys
from pathlib import Path

SIZES = ["32B", "2KiB", "64KiB"]
ENTRY_COUNTS = ["10", "1000", "10000"]
JVM_SIZE_LABELS = {"32": "32B", "2048": "2KiB"}


def criterion_median_ns(results: Path, *path: str):
    estimates = results.joinpath("criterion", *path, "new", "estimates.json")
    if not estimates.exists():
        return None
    return json.loads(estimates.read_text())["median"]["point_estimate"]


def format_time(ns):
    if ns is None:
        return "n/a"
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def ratio(numerator, denominator, digits=2):
    if numerator is None or denominator is None or denominator == 0:
        return "n/a"
    return f"{numerator / denominator:.{digits}f}x"


def verdict(value, limit, at_most=True):
    if value is None:
        return "n/a"
    met = value <= limit if at_most else value >= limit
    return "met" if met else "missed"


def jmh_medians_ns(results: Path):
    """Maps (benchmark method, entries, value bytes) to the median time in ns."""
    path = results / "jmh.json"
    if not path.exists():
        return {}
    medians = {}
    for run in json.loads(path.read_text()):
        method = run["benchmark"].rsplit(".", 1)[1]
        params = run.get("params", {})
        metric = run["primaryMetric"]
        unit_ns = {"us/op": 1e3, "ms/op": 1e6, "ns/op": 1.0, "s/op": 1e9}[metric["scoreUnit"]]
        median = metric["scorePercentiles"]["50.0"] * unit_ns
        medians[(method, params.get("entries"), params.get("valueBytes"))] = median
    return medians


def rust_tables(results: Path):
    lines = ["## Rust core (criterion)", ""]
    lines += [
        "Warm `get` next to its floor, which is one read of a file of the entry's size and one "
        "AES-256-GCM open of the value's size. `get` finds the entry file in the store's cache. "
        "`get from disk` is the same call with that cache turned off, as the first `get` after a "
        "change is. Target: within 2x, judged on each.",
        "",
        "| value | entries | get | get from disk | floor | get / floor | target | from disk / floor | target |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for size in SIZES:
        floor = criterion_median_ns(results, "floor_read_open", size)
        for entries in ENTRY_COUNTS:
            get = criterion_median_ns(results, "get", size, entries)
            disk = criterion_median_ns(results, "get_from_disk", size, entries)
            cached_value = get / floor if get and floor else None
            disk_value = disk / floor if disk and floor else None
            lines.append(f"| {size} | {entries} | {format_time(get)} | {format_time(disk)} | {format_time(floor)} | "
                         f"{ratio(get, floor)} | {verdict(cached_value, 2.0)} | {ratio(disk, floor)} | "
                         f"{verdict(disk_value, 2.0)} |")
    lines += [
        "",
        "Durable `set` next to its floor (write a temporary file of the entry's size, fsync, "
        "rename, fsync the directory), each measured by criterion on its own. Target: within 1.3x.",
        "",
        "| value | entries | set | floor | set / floor | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for size in SIZES:
        floor = criterion_median_ns(results, "floor_durable_write", size)
        for entries in ENTRY_COUNTS:
            set_ns = criterion_median_ns(results, "set", size, entries)
            value = set_ns / floor if set_ns and floor else None
            lines.append(f"| {size} | {entries} | {format_time(set_ns)} | {format_time(floor)} | "
                         f"{ratio(set_ns, floor)} | {verdict(value, 1.3)} |")
    paired_path = results / "paired.json"
    if paired_path.exists():
        lines += [
            "",
            "Durable `set` and its floor measured in alternation, one operation of each at a "
            "time, so both see the same disk. Target: within 1.3x.",
            "",
            "| value | entries | pairs | set | floor | set / floor | target |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for row in json.loads(paired_path.read_text()):
            set_ns, floor_ns = row["set_ns"], row["floor_ns"]
            lines.append(f"| {row['size']} | {row['entries']} | {row['pairs']} | {format_time(set_ns)} | "
                         f"{format_time(floor_ns)} | {ratio(set_ns, floor_ns)} | "
                         f"{verdict(set_ns / floor_ns if floor_ns else None, 1.3)} |")
    lines += [
        "",
        "Opening a store with an empty key cache plus the first `get` (32 B), `list`, and "
        "`delete_service`, by entry count.",
        "",
        "| entries | open + first get | list | delete_service |",
        "|---:|---:|---:|---:|",
    ]
    for entries in ENTRY_COUNTS:
        lines.append(
            f"| {entries} | {format_time(criterion_median_ns(results, 'open_first_get', '32B', entries))} | "
            f"{format_time(criterion_median_ns(results, 'list', 'keys', entries))} | "
            f"{format_time(criterion_median_ns(results, 'delete_service', 'all', entries))} |")
    return lines


def jvm_tables(results: Path):
    medians = jmh_medians_ns(results)
    if not medians:
        return ["## JVM (JMH)", "", "No jmh.json in this run."]
    entry_counts = sorted({key[1] for key in medians if key[1]}, key=int)
    value_sizes = sorted({key[2] for key in medians if key[2]}, key=int)

    lines = ["## JVM (JMH)", ""]
    binding = medians.get(("defaultService", None, None))
    lines += [f"One call through the generated binding with no I/O (`defaultService()`): "
              f"{format_time(binding)}.", ""]
    lines += [
        "The Kotlin API next to the core's JNI entry points that it calls (`NativeStoreCalls`), "
        "next to the Rust core's own `get` from criterion above, and next to the generated "
        "UniFFI binding, which goes through JNA. Target: Kotlin get under 3x the Rust core's.",
        "",
        "| value | entries | Kotlin get | JNI get | Rust get | Kotlin / JNI | Kotlin / Rust | target | JNA binding get | Kotlin set | JNI set | JNA binding set |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for value_bytes in value_sizes:
        for entries in entry_counts:
            kotlin = medians.get(("kotlinGet", entries, value_bytes))
            direct = medians.get(("directGet", entries, value_bytes))
            binding_get = medians.get(("coreGet", entries, value_bytes))
            rust = criterion_median_ns(results, "get", JVM_SIZE_LABELS.get(value_bytes, ""), entries)
            value = kotlin / rust if kotlin and rust else None
            lines.append(
                f"| {value_bytes} B | {entries} | {format_time(kotlin)} | {format_time(direct)} | {format_time(rust)} | "
                f"{ratio(kotlin, direct)} | {ratio(kotlin, rust)} | {verdict(value, 3.0)} | {format_time(binding_get)} | "
                f"{format_time(medians.get(('kotlinSet', entries, value_bytes)))} | "
                f"{format_time(medians.get(('directSet', entries, value_bytes)))} | "
                f"{format_time(medians.get(('coreSet', entries, value_bytes)))} |")

    lines += [
        "",
        "SecureStore (Kotlin API) next to the two peer designs. Targets at 1,000 entries: set "
        "at least 5x faster than each peer, get no slower than 1.5x either.",
        "",
        "| operation | value | entries | SecureStore | expo-style | EncryptedSharedPreferences-style | peer / SecureStore (expo, ESP) | target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for operation, ours, expo, esp in [("set", "kotlinSet", "expoSet", "encryptedPrefsSet"),
                                       ("get", "kotlinGet", "expoGet", "encryptedPrefsGet")]:
        for value_bytes in value_sizes:
            for entries in entry_counts:
                own = medians.get((ours, entries, value_bytes))
                peers = [medians.get((expo, entries, value_bytes)), medians.get((esp, entries, value_bytes))]
                speedups = [peer / own if peer and own else None for peer in peers]
                target = ""
                if entries == "1000" and None not in speedups:
                    if operation == "set":
                        target = verdict(min(speedups), 5.0, at_most=False)
                    else:
                        target = verdict(max(own / peer for peer in peers), 1.5)
                lines.append(
                    f"| {operation} | {value_bytes} B | {entries} | {format_time(own)} | "
                    f"{format_time(peers[0])} | {format_time(peers[1])} | "
                    f"{ratio(peers[0], own)}, {ratio(peers[1], own)} | {target} |")
    return lines


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench_report.py RESULTS_DIR")
    results = Path(sys.argv[1])
    lines = [f"# Benchmark run {results.name}", "", "```"]
    machine = results / "machine.txt"
    lines += machine.read_text().splitlines() if machine.exists() else ["machine.txt is missing"]
    lines += ["```", ""]
    lines += rust_tables(results) + [""] + jvm_tables(results) + [""]
    footprint = results / "footprint.md"
    if footprint.exists():
        lines += ["# Footprint", ""] + footprint.read_text().splitlines()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
