#!/usr/bin/env python3
"""The table of the full vanishing-variance study (docs/studies/vanishing_variance.md), from the sweep's results.csv.

    timely sweep examples/sweep-vanishing-variance-full.toml --out out/vv
    python3 examples/vanishing-variance-table.py out/vv/results.csv

Per (n, graph, data): time to the target accuracy for plain averaging, variance-corrected
averaging and FedAvg (mean +- 95% CI over the trials that reached it, and how many did when
not all), the speed-up plain / corrected (a lower bound, '>', when plain averaging did not
always reach the target: a trial that did not counts as the horizon), the plateau delays and
the accuracy at the horizon."""
import csv
import sys

RULES = ("average", "variance-corrected", "fedavg")
GRAPH = {"random-regular": "8-regular", "complete": "complete"}


def num(x):
    return float(x) if x not in ("", None) else None


def with_ci(mean, ci):
    if mean is None:
        return "-"
    text = f"{mean:.3g}"
    return text + (f" ± {ci:.3g}" if ci else "")


def main(path, horizon=200.0):
    rows = list(csv.DictReader(open(path)))
    points = {}
    for r in rows:
        key = (int(r["network.n"]), r["network.topology"], r["data.partition"])
        points.setdefault(key, {})[r["mixing.rule"]] = r
    print("| n | graph | data | plain averaging | variance-corrected | FedAvg | speed-up (plain / corrected) "
          "| plateau delay: plain / corrected | accuracy at t = %g: plain / corrected / FedAvg |" % horizon)
    print("|---|---|---|---|---|---|---|---|---|")
    order = sorted(points, key=lambda k: (k[0], k[1] != "random-regular", k[2] != "iid"))
    for key in order:
        by_rule = points[key]
        if any(rule not in by_rule for rule in RULES):
            continue
        cells, times = [], {}
        for rule in RULES:
            r = by_rule[rule]
            trials, reached = int(r["trials"]), int(r["reached"])
            t, ci = num(r["time_to_target"]), num(r["time_to_target_ci95"])
            times[rule] = (t, reached, trials)
            if reached == 0:
                cells.append(f"not reached (0/{trials})")
            elif reached < trials:
                cells.append(f"{with_ci(t, ci)} ({reached}/{trials} reached)")
            else:
                cells.append(with_ci(t, ci))
        (tp, rp, n_p), (tc, rc, n_c) = times["average"], times["variance-corrected"]
        if rc == n_c and tc:
            # Unreached trials count as the horizon: a lower bound on plain averaging's mean.
            plain = ((tp or 0.0) * rp + horizon * (n_p - rp)) / n_p
            speedup = f"{plain / tc:.1f}x" if rp == n_p else f"> {plain / tc:.1f}x"
        else:
            speedup = "-"
        delays = " / ".join(with_ci(num(by_rule[rule]["plateau_delay"]), num(by_rule[rule]["plateau_delay_ci95"]))
                            for rule in RULES[:2])
        accuracy = " / ".join(f"{100 * float(by_rule[rule]['final_accuracy']):.1f}%" for rule in RULES)
        print(f"| {key[0]} | {GRAPH.get(key[1], key[1])} | {key[2]} | {' | '.join(cells)} | {speedup} | {delays} | {accuracy} |")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: vanishing-variance-table.py RESULTS_CSV")
    sys.exit(main(sys.argv[1]))
