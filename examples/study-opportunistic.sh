#!/bin/bash
# The opportunistic-gossip study (docs/studies/opportunistic.md) in one command: four sweeps,
# then the table that answers the question of Mitra & Ulukus (arXiv 2404.19749): does any
# opportunistic scheme keep the worst staleness bounded with o(n) capacity?
#   bash examples/study-opportunistic.sh [OUT_DIR]        (about 2 minutes on two cores)
# OUT_DIR (default out/opportunistic) gets source/, users/, sqrt/ and learning/, each a sweep
# directory with results.csv, trials.csv, fits.csv and figures, and summary.md, the table.
set -euo pipefail
out=${1:-out/opportunistic}
timely=${TIMELY:-./build/timely}
here=$(dirname "$0")
"$timely" sweep "$here/sweep-opportunistic.toml" --out "$out/source" --force
"$timely" sweep "$here/sweep-opportunistic-users.toml" --out "$out/users" --force
"$timely" sweep "$here/sweep-opportunistic-sqrt.toml" --out "$out/sqrt" --force
"$timely" sweep "$here/sweep-opportunistic-learning.toml" --out "$out/learning" --force
python3 - "$out" <<'PY' | tee "$out/summary.md"
import csv, sys
out = sys.argv[1]
rows = lambda part: list(csv.DictReader(open(f"{out}/{part}/results.csv")))
f = lambda r, k, d=3: "" if r.get(k, "") == "" else f"{float(r[k]):.{d}f}"
ci = {"mean": "ci95", "max_mean": "max_ci95", "max_all_mean": "max_all_ci95"}
pm = lambda r, k, d=3: f"{f(r, k, d)} ± {f(r, ci.get(k, k + '_ci95'), d)}"
print("## One source: mean age and the worst user's age at the same budget (kappa = 1)\n")
print("| policy | n | mean age | exact | worst user's age | P(worst > 10) | sends per user |")
print("|---|---|---|---|---|---|---|")
for r in rows("source"):
    if r["n"] in ("16", "1024", "16384"):
        print(f"| {r['gossip.policy']} | {r['n']} | {pm(r, 'mean')} | {f(r, 'theory')} | {pm(r, 'max_mean', 2)} "
              f"| {f(r, 'exceed_all_pairs')} | {f(r, 'sends_per_user')} |")
print("\n## Every user a source: the worst over all pairs, and P(worst > 3)\n")
print("| setup | n | lambda | mean | worst observer per source | worst over all pairs | P(worst > 3) | sends per user |")
print("|---|---|---|---|---|---|---|---|")
for r in rows("users"):
    if r["n"] in ("16", "64", "256"):
        print(f"| {r['setup']} | {r['n']} | {f(r, 'lambda', 2)} | {f(r, 'mean')} | {f(r, 'max_mean')} "
              f"| {pm(r, 'max_all_mean', 2)} | {pm(r, 'exceed_all_pairs')} | {f(r, 'sends_per_user', 2)} |")
print("\n## n^0.5 capacity carried to n = 1024\n")
print("| policy | n | lambda | mean | worst over all pairs | P(worst > 3) | sends per user |")
print("|---|---|---|---|---|---|---|")
for r in rows("sqrt"):
    print(f"| {r['gossip.policy']} | {r['n']} | {f(r, 'lambda', 2)} | {f(r, 'mean')} | {pm(r, 'max_all_mean', 2)} "
          f"| {pm(r, 'exceed_all_pairs')} | {f(r, 'sends_per_user', 2)} |")
print("\n## Learning at equal bytes (kappa = 4, r = 1: f = 4)\n")
print("| setup | n | staleness | sends per user | error (quadratic: time-averaged; regression: final) | worst user's error (final) |")
print("|---|---|---|---|---|---|")
for r in rows("learning"):
    error = "stationary_error" if r["setup"].startswith("quadratic") else "user_error"
    print(f"| {r['setup']} | {r['n']} | {f(r, 'mean')} | {f(r, 'sends_per_user', 2)} | {pm(r, error)} "
          f"| {pm(r, 'worst_user_error')} |")
PY
