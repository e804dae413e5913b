#!/bin/bash
# The SAPO study (docs/studies/sapo.md) in one command: the paper's four splits of own and
# shared rollouts with eight users, the same at n = 64 to 1024 sharing with graph neighbours,
# and the effect of latency on the age of shared experience and on the reward; the table
# beside the paper's totals, and the per-round reward curves.
#   bash examples/study-sapo.sh [OUT_DIR] [--tables]   (about 4 minutes on two cores)
# OUT_DIR (default out/sapo) gets sweep/ (results.csv, trials.csv, learning_curves.csv,
# figures), summary.md (the tables) and sapo_reward.png. --tables redraws them from sweep/.
set -euo pipefail
out=${1:-out/sapo}
timely=${TIMELY:-./build/timely}
here=$(dirname "$0")
if [ "${2:-}" != "--tables" ]; then
  "$timely" sweep "$here/sweep-sapo.toml" --out "$out/sweep" --force
fi
python3 - "$out" <<'PY' | tee "$out/summary.md"
import csv, sys
from collections import defaultdict
out = sys.argv[1]
read = lambda path: list(csv.DictReader(open(f"{out}/{path}")))
num = lambda x: float(x) if x not in ("", None) else None
results, curves = read("sweep/results.csv"), read("sweep/learning_curves.csv")
by = {r["setup"]: r for r in results}
pm = lambda r, k, d=1: "–" if num(r[k]) is None else (f"{num(r[k]):,.{d}f}" + ("" if num(r[k + "_ci95"]) is None else f" ± {num(r[k + '_ci95']):,.{d}f}"))
paper = {"8-0": 561.8, "6-2": 854.4, "4-4": 1093.3, "2-6": 945.9}
print("## The paper's four splits: eight users, 2000 rounds\n")
print(f"Means over {by['paper-8-0']['trials']} trials ± the 95% CI half-width. Total reward: the sum over users and")
print("rounds of the round's mean 0/1 reward (SAPO's measure; timely's rewards are per answer, so only")
print("the ratios to 8/0 compare with the paper's). Age and KL: over the external rollouts trained on.\n")
print("| I / J | total reward | × 8/0 | paper: total | paper: × 8/0 | reward, last 100 rounds | generator updates before use | KL(generator ‖ learner), nats |")
print("|---|---|---|---|---|---|---|---|")
base = num(by["paper-8-0"]["total_reward"])
for split in paper:
    r = by[f"paper-{split}"]
    print(f"| {split.replace('-', ' / ')} | {pm(r, 'total_reward', 0)} | {num(r['total_reward']) / base:.2f} | {paper[split]} | "
          f"{paper[split] / paper['8-0']:.2f} | {pm(r, 'final_reward', 3)} | {pm(r, 'experience_age', 2)} | {pm(r, 'experience_divergence', 2)} |")
print("\n## Sharing with graph neighbours at larger n: 200 rounds, random 8-regular graph\n")
print("| n | I / J | total reward per user | reward, last 20 rounds | generator updates before use | time before use | KL, nats |")
print("|---|---|---|---|---|---|---|")
for n in (64, 256, 1024):
    for split in ("8-0", "4-4"):
        r = by.get(f"scale-{n}-{split}")
        if r is None:
            continue
        per_user = num(r["total_reward"]) / n
        print(f"| {n} | {split.replace('-', ' / ')} | {per_user:,.1f} | {pm(r, 'final_reward', 3)} | {pm(r, 'experience_age', 2)} | "
              f"{pm(r, 'experience_age_time', 2)} | {pm(r, 'experience_divergence', 2)} |")
print("\n## Latency: the paper's 4 / 4 with every rollout delayed\n")
print("| latency (rounds) | total reward | × no latency | generator updates before use | time before use | KL, nats |")
print("|---|---|---|---|---|---|")
zero = num(by["paper-4-4"]["total_reward"])
for name, label in (("paper-4-4", "0"), ("latency-1", "1"), ("latency-4", "4"), ("latency-16", "16")):
    r = by[name]
    print(f"| {label} | {pm(r, 'total_reward', 0)} | {num(r['total_reward']) / zero:.3f} | {pm(r, 'experience_age', 2)} | "
          f"{pm(r, 'experience_age_time', 2)} | {pm(r, 'experience_divergence', 2)} |")
print("\n## Specialties: four task kinds, each user asking one (synthetic arithmetic, 8 answers)\n")
print("Test accuracy: the users' own greedy policies on questions of every kind (chance 1/8; one kind")
print("learnt alone: 1/4 + 3/4 x 1/8 = 0.34). Reward: on the user's own questions, last 100 rounds.\n")
print("| I / J | test accuracy, users' own policies | reward, last 100 rounds | total reward | generator updates before use | KL, nats |")
print("|---|---|---|---|---|---|")
for split in ("8-0", "4-4"):
    r = by[f"specialties-{split}"]
    print(f"| {split.replace('-', ' / ')} | {pm(r, 'final_accuracy', 3)} | {pm(r, 'final_reward', 3)} | {pm(r, 'total_reward', 0)} | "
          f"{pm(r, 'experience_age', 2)} | {pm(r, 'experience_divergence', 2)} |")
# The per-round reward curves of the four splits, for the figure.
point = {r["setup"]: r["point"] for r in results}
for split in paper:
    with open(f"{out}/reward_{split}.dat", "w") as f:
        for c in curves:
            if c["point"] == point[f"paper-{split}"] and c["reward"]:
                f.write(f"{c['time']} {c['reward']} {c['reward_ci95'] or 0}\n")
PY
# Drawn in timely's figure style (`timely plot --gnuplot-style`: palette, key, terminals).
"$timely" plot --gnuplot-style > "$out/timely_style.gp"
gnuplot <<GP
load "$out/timely_style.gp"
@timely_png
set output "$out/sapo_reward.png"
set title "Fashion-MNIST bandit, 8 users: reward per round (last 100 rounds, 95% CI)"
set xlabel "round (local updates per user)"
set ylabel "mean reward per answer"
plot for [s in "8-0 6-2 4-4 2-6"] "$out/reward_".s.".dat" using 1:2:3 with yerrorlines title "I/J = ".s
GP
echo "figure: $out/sapo_reward.png; tables: $out/summary.md"
