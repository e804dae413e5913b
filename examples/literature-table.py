#!/usr/bin/env python3
"""The table of docs/studies/literature.md from a run of examples/sweep-literature.toml.

Reads DIR/results.csv and DIR/fits.csv (timely's fits: a + b ln n, a n^b, a + b sqrt n, by
AIC) and prints, per published result, the law, the fitted law and power exponent with its
95% CI, and whether they agree: a power law within its CI or 0.05 of the published exponent, a
logarithmic law not rejected by AIC (within 2 of the best law's AIC). Also the local slopes of the age in time (the low-noise
estimator of the same law: E[version age] = lambda_e E[age in time], lambda_e = 1), the ratio of
the mean to m* on the random regular graph, and the slopes of the binary freshness.
    python3 examples/literature-table.py out/literature
"""
import csv
import math
import sys

out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/results.csv")))
fits = list(csv.DictReader(open(f"{out}/fits.csv")))


def points(setup):
    return sorted((r for r in rows if r["setup"] == setup), key=lambda r: int(r["n"]))


def fit(setup, law):
    for f in fits:
        if f["curve"] == f"setup={setup}" and f["law"] == law:
            return f
    return None


def best(setup):
    for f in fits:
        if f["curve"] == f"setup={setup}" and f["best"] == "true":
            return {"log": "a + b ln n", "power": "a n^b", "sqrt": "a + b sqrt n"}[f["law"]]
    return "no fit"


def slope(xs, ys, ws=None):
    """Weighted least squares slope of ys on xs, and its standard error (from the weights when given)."""
    ws = ws or [1.0] * len(xs)
    sw = sum(ws)
    mx = sum(w * x for w, x in zip(ws, xs)) / sw
    my = sum(w * y for w, y in zip(ws, ys)) / sw
    sxx = sum(w * (x - mx) ** 2 for w, x in zip(ws, xs))
    b = sum(w * (x - mx) * (y - my) for w, x, y in zip(ws, xs, ys)) / sxx
    return b, math.sqrt(1.0 / sxx)


def top_slope(setup, count=3):
    """Slope of ln(age in time) on ln n over the largest `count` sizes, weighted by the CIs, and its
    95% half-width: the exponent where the asymptotics are closest."""
    p = [r for r in points(setup) if r["age_time"] and r["age_time_ci95"]][-count:]
    if len(p) < 2:
        return None
    xs = [math.log(int(r["n"])) for r in p]
    ys = [math.log(float(r["age_time"])) for r in p]
    # The CI of a mean is 1.96 standard errors; the standard error of its log is the relative one.
    ws = [(1.96 * float(r["age_time"]) / float(r["age_time_ci95"])) ** 2 for r in p]
    b, se = slope(xs, ys, ws)
    return b, 1.96 * se


def local_slopes(setup, column="age_time"):
    p = [r for r in points(setup) if r[column]]
    return [math.log(float(b[column]) / float(a[column])) / math.log(int(b["n"]) / int(a["n"]))
            for a, b in zip(p, p[1:])]


# setup, graph, published law, its exponent (None: logarithmic), source
table = [
    ("complete", "complete graph", "log n", None, "Yates 2021"),
    ("ring", "ring", "sqrt n", 0.5, "Yates 2021"),
    ("torus", "2-D torus", "n^(1/3)", 1 / 3, "Srivastava & Ulukus, 2307.08670"),
    ("grid", "2-D grid", "n^(1/3)", 1 / 3, "Srivastava & Ulukus, 2307.08670"),
    ("torus-3d", "3-D torus (Z^3)", "n^(1/4)", 1 / 4, "Maranzatto & Michelen, 2409.12710"),
    ("generalized-ring-0.5", "generalized ring, f = n^0.5", "O(n^(1/4)), upper bound", 1 / 4,
     "Srivastava & Ulukus, 2308.12266"),
    ("random-regular-4", "random 4-regular", "log n; Theta(m*)", None, "Maranzatto, 2401.11580; 2409.12710"),
    ("erdos-renyi", "Erdos-Renyi, p = 2 ln n / n", "log n (above the threshold)", None, "Maranzatto, 2401.11580"),
    ("hypercube", "hypercube", "log n (some regimes)", None, "2405.19310"),
    ("clusters-disconnected", "clusters, disconnected inside, m = sqrt n", "sqrt n", 1 / 2, "Buyukates et al., 2109.08669"),
    ("clusters-ring", "clusters, ring inside, m = n^(1/3)", "n^(1/3)", 1 / 3, "Buyukates et al., 2109.08669"),
    ("clusters-complete", "clusters, complete inside, m = 4", "log n", None, "Buyukates et al., 2109.08669"),
    ("heads-ring-disconnected", "heads in a ring, disconnected inside, m = n^(2/3)", "n^(1/3)", 1 / 3,
     "Buyukates et al., 2109.08669"),
    ("heads-ring-ring", "heads in a ring, ring inside, m = sqrt n", "n^(1/4)", 1 / 4, "Buyukates et al., 2109.08669"),
    ("heads-ring-complete", "heads in a ring, complete inside, m = 4", "log n", None, "Buyukates et al., 2109.08669"),
    ("three-levels-of-rings", "h = 3 levels of rings, m = n^(1/3)", "n^(1/6)", 1 / 6, "Buyukates et al., 2109.08669"),
]

print("## Version age against the published laws\n")
print("Source model, lambda_e = lambda_0 = lambda = 1, push. `b`: the fitted exponent of `a n^b` over all n with its "
      "95% CI (fits.csv); best fit: the law AIC picks; largest three n: the slope of ln(age in time) on ln n over the "
      "three largest sizes with its 95% CI; local slopes: the same between successive n. A power law agrees when `b`, or "
      "failing that the slope at the largest n, is within its CI or 0.05 of the published exponent; a log law when AIC "
      "does not reject it (within 2 of the best).\n")
print("| graph | n | published law | source | best fit (AIC) | b ± 95% CI | largest three n | published exponent | agrees | local slopes |")
print("|---|---|---|---|---|---|---|---|---|---|")
for setup, graph, law, exponent, source in table:
    p = points(setup)
    if not p:
        continue
    power = fit(setup, "power")
    b = f"{float(power['b']):.3f} ± {float(power['b_ci95']):.3f}" if power else "no fit"
    chosen = best(setup)
    if exponent is None:
        # Over 10^3 to 10^5 a logarithm's local exponent is about 1 / ln n (0.1): a n^b with small
        # b can fit as well. The log law agrees when AIC does not reject it (Delta AIC < 2).
        aics = {f["law"]: float(f["aic"]) for f in fits if f["curve"] == f"setup={setup}"}
        delta = aics["log"] - min(aics.values()) if "log" in aics else float("inf")
        agrees = "yes (log chosen)" if delta == 0 else (f"yes (log within {delta:.1f} AIC)" if delta < 2
                                                         else f"no: AIC prefers {chosen} by {delta:.1f}")
        target = "0 (log)"
    else:
        diff = float(power["b"]) - exponent
        within = abs(diff) <= max(float(power["b_ci95"]), 0.05)
        top = top_slope(setup)
        top_within = top is not None and abs(top[0] - exponent) <= max(top[1], 0.05)
        if within:
            agrees = f"yes ({diff:+.3f})"
        elif top_within:
            agrees = f"at the largest n ({top[0] - exponent:+.3f}; all n {diff:+.3f})"
        else:
            agrees = f"no ({diff:+.3f})"
        target = f"{exponent:.3f}"
    top = top_slope(setup)
    top_text = f"{top[0]:.3f} ± {top[1]:.3f}" if top else ""
    slopes = ", ".join(f"{s:.2f}" for s in local_slopes(setup))
    print(f"| {graph} | {p[0]['n']} to {p[-1]['n']} | {law} | {source} | {chosen} | {b} | {top_text} | {target} | {agrees} "
          f"| {slopes} |")

print("\n## The Theta(m*) law on the random 4-regular graph\n")
print("| n | mean ± 95% CI | m* | mean / m* | mean / ln n |")
print("|---|---|---|---|---|")
for r in points("random-regular-4"):
    m = float(r["m_star"])
    mean = float(r["mean"])
    print(f"| {r['n']} | {mean:.2f} ± {float(r['ci95']):.2f} | {m:.3g} | {mean / m:.2f} | {mean / math.log(int(r['n'])):.2f} |")

print("\n## Binary freshness\n")
print("The fraction of time a user holds the source's current version; slopes of ln(freshness) against ln n "
      "(weighted by the CIs), measured and, where timely has it, exact.\n")
print("| network | n | published | measured slope | exact slope | freshness at the largest n (exact) |")
print("|---|---|---|---|---|---|")
for setup, name, published in [("disconnected", "disconnected (no gossip)", "~ 1/n"), ("ring", "ring", "~ 1/n"),
                                ("complete", "complete graph", "~ n^-rho, rho < 1")]:
    p = [r for r in points(setup) if r["freshness"] and float(r["freshness"]) > 0]
    xs = [math.log(int(r["n"])) for r in p]
    ys = [math.log(float(r["freshness"])) for r in p]
    ws = [(float(r["freshness"]) / float(r["freshness_ci95"])) ** 2 if r["freshness_ci95"] else 1.0 for r in p]
    b, se = slope(xs, ys, ws)
    exact = [r for r in p if r["freshness_theory"]]
    eb = slope([math.log(int(r["n"])) for r in exact], [math.log(float(r["freshness_theory"])) for r in exact])[0] \
        if len(exact) >= 2 else None
    last = p[-1]
    at = f"{float(last['freshness']):.3g} ± {float(last['freshness_ci95']):.2g}" + \
         (f" ({float(last['freshness_theory']):.3g})" if last["freshness_theory"] else "")
    print(f"| {name} | {p[0]['n']} to {last['n']} | {published} | {b:.3f} ± {1.96 * se:.3f} | "
          f"{'' if eb is None else f'{eb:.3f}'} | {at} |")
