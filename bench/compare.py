#!/usr/bin/env python3
"""Medians and ratios of Google Benchmark counters from one JSON run (used by compare_*.sh).

compare.py RUN.json COUNTER[,COUNTER...] label=BM_name ... [--ratio a/b ...]
The first listed counter a benchmark reports is its rate; the median is over its
repetitions (the per-repetition rows, not Google Benchmark's aggregates)."""
import json
import statistics
import sys


def main(argv):
    path, counters, rest = argv[1], argv[2].split(","), argv[3:]
    labels, ratios = {}, []
    it = iter(rest)
    for arg in it:
        if arg == "--ratio":
            ratios.append(next(it).split("/"))
        else:
            label, name = arg.split("=", 1)
            labels[label] = name
    with open(path) as f:
        run = json.load(f)
    ctx = run.get("context", {})
    print(f"host {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} cpus at {ctx.get('mhz_per_cpu', '?')} MHz, "
          f"load {ctx.get('load_avg', '?')}, benchmark library build {ctx.get('library_build_type', '?')}")
    values = {label: [] for label in labels}
    for b in run["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        base = b["run_name"] if "run_name" in b else b["name"]
        for label, name in labels.items():
            if base == name or base.startswith(name + "/"):
                for c in counters:
                    if c in b:
                        values[label].append(b[c])
                        break
    medians = {}
    for label, name in labels.items():
        v = values[label]
        if not v:
            print(f"{label:>16}: {name}: no result", file=sys.stderr)
            continue
        medians[label] = statistics.median(v)
        spread = (max(v) - min(v)) / medians[label] if medians[label] else 0.0
        print(f"{label:>16}: median {medians[label]:14.6g} /s  over {len(v)} reps (spread {100 * spread:.0f}%)  [{name}]")
    for a, b in ratios:
        if a in medians and b in medians:
            print(f"{a + '/' + b:>32}: {medians[a] / medians[b]:.3f}")
    return 0 if len(medians) == len(labels) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
