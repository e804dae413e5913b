#!/bin/bash
# The MoDeST study (docs/studies/modest.md) in one command: MoDeST, FedAvg, D-PSGD and gossip
# learning on Fashion-MNIST over the same links and clocks, then 80% of the users going
# offline at once; the table with the ratios de Vos et al. report beside timely's, and figures.
#   bash examples/study-modest.sh [OUT_DIR] [--tables]   (about 10 minutes on two cores)
# OUT_DIR (default out/modest) gets main/ and churn/, each a sweep directory (results.csv,
# trials.csv, learning_curves.csv, figures), summary.md (the tables) and modest_*.png.
# --tables makes the tables and figures again from the sweeps already in OUT_DIR.
set -euo pipefail
out=${1:-out/modest}
timely=${TIMELY:-./build/timely}
here=$(dirname "$0")
if [ "${2:-}" != "--tables" ]; then
  "$timely" sweep "$here/sweep-modest.toml" --out "$out/main" --force
  "$timely" sweep "$here/sweep-modest-churn.toml" --out "$out/churn" --force
fi
python3 - "$out" <<'PY' | tee "$out/summary.md"
import csv, sys
from collections import defaultdict
out = sys.argv[1]
read = lambda path: list(csv.DictReader(open(f"{out}/{path}")))
num = lambda x: float(x) if x not in ("", None) else None
results, trials, curves = read("main/results.csv"), read("main/trials.csv"), read("main/learning_curves.csv")
updates = defaultdict(list)  # per point: every trial's local updates over its run
for t in trials:
    updates[t["point"]].append(float(t["local_updates"]))
curve = defaultdict(list)  # per point: (time, mean bytes sent per user) on the observation grid
for c in curves:
    curve[c["point"]].append((float(c["time"]), num(c["bytes_sent_per_user"])))

def at(point, t):  # the mean curve's bytes per user at time t, linear between observations
    pts = curve[point]
    for (t0, b0), (t1, b1) in zip(pts, pts[1:]):
        if t0 <= t <= t1:
            return b0 + (b1 - b0) * (t - t0) / (t1 - t0)
    return None

rows = defaultdict(dict)  # (model, partition, n) -> protocol -> figures at the target
for r in results:
    protocol, n = r["setup"].split("-")
    ttt, reached = num(r["time_to_target"]), int(r["reached"] or 0)
    horizon = 80.0 if protocol == "gossip" else 200.0
    trial_updates = sum(updates[r["point"]]) / len(updates[r["point"]])
    rows[(r["model.kind"], r["data.partition"], int(n))][protocol] = {
        "ttt": ttt if reached == int(r["trials"]) else None, "ci": num(r["time_to_target_ci95"]),
        "reached": reached, "trials": int(r["trials"]), "final": num(r["final_accuracy"]),
        "bytes_at": at(r["point"], ttt) if ttt is not None and reached == int(r["trials"]) else None,
        "bytes_run": num(r["bytes_sent_per_user_mean"]), "horizon": horizon,
        "updates_at": trial_updates / horizon * ttt if ttt is not None and reached == int(r["trials"]) else None,
        "rounds": num(r["rounds_completed"])}

fmt = lambda x, d=0: "–" if x is None else f"{x:,.{d}f}"
mb = lambda x: "–" if x is None else f"{x / 1e6:.2f}"
ratio = lambda a, b: None if a is None or b is None or b == 0 else a / b
protocols = ["modest", "fedavg", "dpsgd", "gossip"]
print("## Time to 75% test accuracy, bytes and training resources\n")
print("Means over 2 trials (± the 95% CI half-width of the time). Bytes: model bytes sent per user by the")
print("time to target (the mean curve, interpolated); local updates: the run's updates per second times the")
print("time to target (all users). – : not reached in every trial by the horizon (200 s; gossip 80 s).\n")
print("| model | data | n | protocol | time to 75% (s) | final accuracy | MB sent per user by then | local updates by then |")
print("|---|---|---|---|---|---|---|---|")
for key in sorted(rows):
    for p in protocols:
        x = rows[key].get(p)
        if x is None:
            continue
        t = "–" if x["ttt"] is None else f"{x['ttt']:.0f}" + (f" ± {x['ci']:.0f}" if x["ci"] is not None else "")
        if x["ttt"] is None:
            t += f" ({x['reached']}/{x['trials']})"
        print(f"| {key[0]} | {key[1]} | {key[2]} | {p} | {t} | {fmt(x['final'], 3)} | {mb(x['bytes_at'])} | {fmt(x['updates_at'])} |")
print("\n## MoDeST's advantage: the paper's ratios beside timely's\n")
print("de Vos et al. report 3 to 14 times less communication than decentralized learning (2.4 to 15.3 in the")
print("later version) and 1.2 to 8.3 times shorter time to accuracy. timely's, per setting: bytes per user by")
print("the target and time to target, the baseline over MoDeST (> 1: MoDeST better). Where the baseline did")
print("not reach the target by its horizon and MoDeST did, a lower bound: its horizon, or its bytes over the")
print("whole run, over MoDeST's; – : MoDeST did not reach it in every trial.\n")
print("| model | data | n | bytes: D-PSGD / MoDeST | bytes: gossip / MoDeST | time: D-PSGD / MoDeST | time: gossip / MoDeST | time: FedAvg / MoDeST | updates: gossip / MoDeST |")
print("|---|---|---|---|---|---|---|---|---|")
def versus(key, p, field, bound, d):  # baseline p over MoDeST, or a lower bound when p missed the target
    m, b = rows[key].get("modest", {}), rows[key].get(p, {})
    if m.get(field) is None:
        return "–"
    if b.get(field) is not None:
        return fmt(b[field] / m[field], d)
    return "> " + fmt(b[bound] / m[field], d) if b.get(bound) is not None else "–"

for key in sorted(rows):
    v = lambda p, f, bound, d: versus(key, p, f, bound, d)
    print(f"| {key[0]} | {key[1]} | {key[2]} | {v('dpsgd', 'bytes_at', 'bytes_run', 1)} | {v('gossip', 'bytes_at', 'bytes_run', 1)} "
          f"| {v('dpsgd', 'ttt', 'horizon', 2)} | {v('gossip', 'ttt', 'horizon', 2)} | {v('fedavg', 'ttt', 'horizon', 2)} "
          f"| {v('gossip', 'updates_at', None, 0)} |")

print("\n## 80% of 200 users offline at t = 100 (logistic, IID)\n")
churn = read("churn/results.csv")
ccurves = read("churn/learning_curves.csv")
by = {(r["learning.protocol"], float(r["run.horizon"])): r for r in churn}
print("| protocol | accuracy at t = 100 | at 200 | at 300 | rounds by t = 100 | rounds by t = 300 | abandoned by 300 | sample overlap (to 300) |")
print("|---|---|---|---|---|---|---|---|")
for p in ("modest", "gossip"):
    long = by[(p, 300.0)]
    acc = {float(c["time"]): (num(c["accuracy"]), num(c["accuracy_ci95"])) for c in ccurves if c["point"] == long["point"]}
    cell = lambda t: f"{acc[t][0]:.3f} ± {acc[t][1]:.3f}"
    print(f"| {p} | {cell(100.0)} | {cell(200.0)} | {cell(300.0)} | {fmt(num(by[(p, 100.0)]['rounds_completed']), 1)} "
          f"| {fmt(num(long['rounds_completed']), 1)} | {fmt(num(long['rounds_abandoned']), 1)} | {fmt(num(long['sample_overlap']), 3)} |")
PY

# Figures: accuracy against time and against bytes per user (logistic, IID, n = 1000), and
# accuracy through the mass departure.
python3 - "$out" <<'PY'
import csv, sys
out = sys.argv[1]
results = list(csv.DictReader(open(f"{out}/main/results.csv")))
curves = list(csv.DictReader(open(f"{out}/main/learning_curves.csv")))
for r in results:
    if r["model.kind"] == "logistic" and r["data.partition"] == "iid" and r["setup"].endswith("-1000"):
        with open(f"{out}/curve_{r['setup'].split('-')[0]}.dat", "w") as f:
            for c in curves:
                if c["point"] == r["point"]:
                    f.write(f"{c['time']} {c['accuracy']} {max(float(c['bytes_sent_per_user']), 1.0)}\n")
churn = list(csv.DictReader(open(f"{out}/churn/results.csv")))
ccurves = list(csv.DictReader(open(f"{out}/churn/learning_curves.csv")))
for r in churn:
    if r["run.horizon"] in ("300", "300.0"):
        with open(f"{out}/churn_{r['learning.protocol']}.dat", "w") as f:
            for c in ccurves:
                if c["point"] == r["point"]:
                    f.write(f"{c['time']} {c['accuracy']} {c['accuracy_ci95']}\n")
PY
# Drawn in timely's figure style (the palette, key and terminals of `timely plot --gnuplot-style`),
# with one legend for both panels.
"$timely" plot --gnuplot-style > "$out/timely_style.gp"
gnuplot <<GP
load "$out/timely_style.gp"
@timely_png_wide
set output "$out/modest_accuracy.png"
set multiplot layout 1,2 title "Fashion-MNIST, logistic, IID, n = 1000"
set bmargin 7
set key at screen 0.5, screen 0.02 center bottom horizontal box
set yrange [0.5:0.9]
set xlabel "time (s)"
set ylabel "test accuracy of the observed model"
plot for [p in "modest fedavg dpsgd gossip"] "$out/curve_".p.".dat" using 1:2 with linespoints title p
unset key
set logscale x
set xrange [1000:*]
set xlabel "model bytes sent per user"
plot for [p in "modest fedavg dpsgd gossip"] "$out/curve_".p.".dat" using 3:2 with linespoints notitle
unset multiplot
@timely_png
set output "$out/modest_churn.png"
set key outside below center horizontal box
set bmargin 6
unset logscale x
set xrange [*:*]
set yrange [0.6:0.9]
set xlabel "time (s)"
set title "200 users, 80% offline for good at t = 100 (logistic, IID)"
set arrow from 100, graph 0 to 100, graph 1 nohead dashtype 2
plot for [p in "modest gossip"] "$out/churn_".p.".dat" using 1:2:3 with yerrorlines title p
GP
echo "figures: $out/modest_accuracy.png, $out/modest_churn.png; tables: $out/summary.md"
