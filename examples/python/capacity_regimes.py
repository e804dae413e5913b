#!/usr/bin/env python3
"""The capacity-regimes figure (README; docs/model.md §3.5-3.6) from a sweep run in Python.

    PYTHONPATH=build/python python3 examples/python/capacity_regimes.py [--quick] [--out DIR]

Runs examples/sweep-capacity-regimes.toml (users model on the complete graph, gossip capacity
constant, ~ ln n and ~ n, n = 64 ... 1024) with timely.sweep, then draws the mean staleness
against n with 95% confidence intervals beside the exact theory, as
DIR/capacity_regimes.png. Under constant capacity staleness grows like ln n, under log
capacity it tends to a constant, under linear capacity it vanishes (Mitra & Ulukus).
--quick runs 4 trials per point on a quarter of the horizon (4 s instead of 15 s on two
cores); an existing DIR is replaced."""
import argparse
import os

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt

import timely

HERE = os.path.dirname(os.path.abspath(__file__))
SWEEP = os.path.join(HERE, os.pardir, "sweep-capacity-regimes.toml")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 trials per point, a quarter of the horizon")
    parser.add_argument("--out", default="out/python-capacity-regimes", help="sweep directory and figure")
    args = parser.parse_args()

    results = timely.sweep(SWEEP, out=args.out, quick=args.quick, force=True)

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for scaling, group in results.groupby("gossip.scaling", sort=False):
        group = group.sort_values("n")
        line = ax.errorbar(group["n"], group["mean"], yerr=group["ci95"], fmt="o", capsize=3, markersize=4,
                           label=f"capacity {scaling} (simulated, 95% CI)")
        ax.plot(group["n"], group["theory"], "-", color=line[0].get_color(), alpha=0.7,
                label=f"capacity {scaling} (theory)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("users n")
    ax.set_ylabel("mean staleness (versions)")
    ax.set_ylim(bottom=0)
    ax.set_title("Mean staleness against network size under three gossip capacities")
    ax.grid(True, which="both", linestyle=":", alpha=0.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    figure = os.path.join(args.out, "capacity_regimes.png")
    fig.savefig(figure, dpi=120)
    worst = results["ratio"].sub(1).abs().max()
    print(f"{len(results)} points, simulated/theory within {worst:.1%}; figure: {figure}")


if __name__ == "__main__":
    main()
