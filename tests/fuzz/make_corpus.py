#!/usr/bin/env python3
"""Writes the hand-made reproducers of tests/fuzz/corpus/ (one per audited defect and per
defect the fuzzer found). Cases the fuzzer wrote itself are copied in by hand and are not
touched here.

  make_corpus.py --binary PATH [--corpus DIR]

The binary is only used to produce the small results directories of the --resume cases
(a two-point sweep); every other case is static text. Re-run it if the sweep fingerprint
changes (a scenario key added or renamed): otherwise every --resume case stops at "holds a
different sweep" (exit 2) and no longer exercises the parsing it was written for.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHEAP = ["--set", "network.n=6", "--set", "run.horizon=10", "--set", "run.warmup=0", "--set", "run.trials=2"]

SWEEP = """[network]
n = 4

[run]
horizon = 10
warmup = 0
trials = 2

[sweep]
"network.n" = [4, 6]
"""

CASES = {}


def case(name, args, expect, files=None, setup=None, absent=None, stderr_has=None):
    CASES[name] = dict(args=args, expect=expect, files=files or {}, setup=setup or [], absent=absent or [],
                       stderr_has=stderr_has)


def learning_sweep(axis, extra=""):
    return ("[network]\nn = 8\n\n[model]\nkind = \"linear\"\n\n[data]\nsource = \"synthetic-regression\"\n"
            "train_samples = 400\ntest_samples = 100\n\n" + extra +
            "[run]\nhorizon = 20\nwarmup = 0\ntrials = 1\n\n[sweep]\n" + axis + "\n")


# ---- the audited defects ---------------------------------------------------------------

case("toml-edges-file-integer", ["simulate", "@DIR@/s.toml"], "2",
     {"s.toml": "[network]\nn = 4\ntopology = \"edges\"\nedges_file = 5\n"})
case("edges-weights-1e308", ["simulate", "--set", "network.n=3", "--set", "network.topology=edges", "--set",
                             "network.edges_file=@DIR@/g.edges", "--set", "run.horizon=10", "--set", "run.warmup=0",
                             "--set", "run.trials=2", "--json"], "0|2",
     {"g.edges": "0 1 1e308\n1 2 1e308\n2 0 1e308\n"})
case("work-gossip-capacity-1e300", ["simulate", "--set", "gossip.capacity=1e300"], "2")
case("work-updates-rate-1e6", ["simulate", "--set", "updates.rate=1e6"], "2")
case("work-observe-every-tiny", ["simulate", "--set", "model.kind=linear", "--set", "data.source=synthetic-regression",
                                 "--set", "observe.every=1e-9"], "2")
case("work-horizon-1e12-slow-clocks", ["simulate", "--set", "run.horizon=1e12", "--set", "updates.rate=1e-4"], "2")
case("edges-file-fifo", ["simulate", "--set", "network.n=4", "--set", "network.topology=edges", "--set",
                         "network.edges_file=@DIR@/g.edges"] + CHEAP[2:], "2", setup=["mkfifo g.edges"])
case("edges-file-dev-zero", ["simulate", "--set", "network.n=4", "--set", "network.topology=edges", "--set",
                             "network.edges_file=/dev/zero"] + CHEAP[2:], "2")
case("learning-diverged-json", ["simulate", "--set", "model.kind=linear", "--set", "data.source=synthetic-regression",
                                "--set", "train.lr=1e9", "--set", "network.n=16", "--set", "run.horizon=50", "--set",
                                "run.warmup=0", "--json"], "0|2")
case("sweep-lr-axis-diverged", ["sweep", "@DIR@/s.toml", "--out", "@DIR@/out"], "0|2",
     {"s.toml": learning_sweep('"train.lr" = [0.05, 1e9]')})
case("gnuplot-simulate-out-horizon-below-observe", [
    "simulate", "--set", "model.kind=linear", "--set", "data.source=synthetic-regression", "--set", "network.n=8",
    "--set", "data.train_samples=400", "--set", "data.test_samples=100", "--set", "run.horizon=5", "--set",
    "run.warmup=0", "--set", "run.trials=1", "--set", "observe.every=10", "--out", "@DIR@/out"], "0")
case("gnuplot-learning-sweep-quick", ["sweep", "@DIR@/s.toml", "--quick", "--out", "@DIR@/out"], "0",
     {"s.toml": learning_sweep('"network.n" = [4, 8]')})
case("gnuplot-12-categorical-points", ["sweep", "@DIR@/s.toml", "--out", "@DIR@/out"], "0",
     {"s.toml": "[network]\nn = 8\ndegree = 3\np = 0.9\n\n[run]\nhorizon = 5\nwarmup = 0\ntrials = 2\n\n[sweep]\n"
                "\"network.topology\" = [\"erdos-renyi\", \"random-regular\"]\n"
                "\"gossip.mode\" = [\"push\", \"pull\", \"exchange\"]\n"
                "\"gossip.scaling\" = [\"constant\", \"linear\"]\n\"staleness.model\" = [\"users\"]\n"})
TINY = ["--set", "network.n=4", "--set", "run.horizon=5", "--set", "run.warmup=0", "--set", "run.trials=1"]
case("seed-2-pow-63", ["simulate", "--seed", "9223372036854775808"] + TINY + ["--json"], "0")
case("seed-2-pow-64-minus-1-set", ["simulate", "--set", "run.seed=18446744073709551615"] + TINY + ["--json"], "0")
case("seed-minus-1", ["simulate", "--seed", "-1"] + TINY, "2", stderr_has="-1")
case("newline-in-set-value", ["simulate", "--set", "network.topology=ri@NL@ng"] + TINY, "2")
case("newline-in-toml-string", ["simulate", "@DIR@/s.toml"], "2",
     {"s.toml": "[network]\nn = 4\ntopology = \"ri\\nng\"\n"})

# ---- found by the fuzzer (not in the audit) ---------------------------------------------

INJECTION = 'x" 0); system "touch INJECTED"; set xtics ("y'
case("gnuplot-injection-axis-label", ["sweep", "@DIR@/s.toml", "--out", "@DIR@/out"], "0|2",
     {"s.toml": "[network]\nn = 4\n\n[run]\nhorizon = 5\nwarmup = 0\ntrials = 2\n\n[sweep]\n"
                f"\"network.edges_file\" = ['{INJECTION}', \"c\"]\n"}, absent=["out/INJECTED", "INJECTED"])
case("gnuplot-quote-in-axis-value", ["sweep", "@DIR@/s.toml", "--out", "@DIR@/out"], "0|2",
     {"s.toml": "[network]\nn = 4\n\n[run]\nhorizon = 5\nwarmup = 0\ntrials = 2\n\n[sweep]\n"
                "\"data.dir\" = ['a\"b', 'c\\']\n"})
case("edges-one-huge-weight-theory-inf", ["theory", "--set", "network.n=4", "--set", "network.topology=edges", "--set",
                                          "network.edges_file=@DIR@/g.edges"], "0|2",
     {"g.edges": "0 1 1.7976931348623157e308\n1 2\n2 3\n3 0\n"})
case("edges-line-carriage-return", ["simulate", "--set", "network.n=4", "--set", "network.topology=edges", "--set",
                                    "network.edges_file=@DIR@/g.edges"] + CHEAP[2:], "2",
     {"g.edges": "0 1\n1 2\n2 x\ry\n"})
case("out-dir-not-writable-simulate", ["simulate"] + TINY + ["--out", "/proc"], "2")
case("out-dir-not-writable-sweep", ["sweep", "@DIR@/s.toml", "--out", "/proc"], "2", {"s.toml": SWEEP})
case("work-train-steps", ["simulate", "--set", "model.kind=logistic", "--set", "train.steps=100000", "--set",
                          "train.batch=4096"], "2")
case("work-learning-horizon", ["simulate", "--set", "model.kind=logistic", "--set", "network.n=6", "--set",
                               "data.train_samples=120", "--set", "data.test_samples=30", "--set", "run.trials=1",
                               "--set", "run.horizon=5e8", "--set", "run.warmup=0"], "2")
case("memory-data-features", ["simulate", "--set", "model.kind=logistic", "--set", "data.features=100000"] + TINY,
     "0|2")
case("learning-diverged-text", ["simulate", "--set", "model.kind=linear", "--set", "data.source=synthetic-regression",
                                "--set", "train.lr=1e9", "--set", "network.n=16", "--set", "run.horizon=50", "--set",
                                "run.warmup=0"], "0|2")
case("seed-2-pow-64-out-of-range", ["simulate", "--seed", "18446744073709551616"] + TINY, "2",
     stderr_has="18446744073709551616")
case("newline-in-scenario-path", ["simulate", "@DIR@/no@NL@such.toml"], "2")
case("toml-parse-error-newline", ["theory", "@DIR@/s.toml"], "2", {"s.toml": "[network]\nn = 6\n\n[run]\ntrials = tru\n"})
case("sweep-axis-newline-csv-roundtrip", ["sweep", "@DIR@/s.toml", "--out", "@DIR@/out"], "0|2",
     {"s.toml": "[network]\nn = 4\n\n[run]\nhorizon = 5\nwarmup = 0\ntrials = 2\n\n[sweep]\n"
                "\"network.edges_file\" = [\"a\\nb\", \"c\"]\n"})

# ---- the network layer (docs/model.md §7) ------------------------------------------------

TRACE = ["--set", "churn.model=trace", "--set", "churn.trace_file=@DIR@/t.csv"]
case("churn-trace-fifo", ["simulate", "--set", "network.n=2"] + TRACE + CHEAP[2:], "2", setup=["mkfifo t.csv"])
case("churn-trace-overlap", ["simulate", "--set", "network.n=4"] + TRACE + CHEAP[2:], "2",
     {"t.csv": "user,start,end\n0,0,10\n1,2,5\n1,4,9\n"}, stderr_has="line 4: user 1's interval [4, 9) overlaps")
case("churn-trace-unknown-user", ["simulate", "--set", "network.n=4"] + TRACE + CHEAP[2:], "2",
     {"t.csv": "user,start,end\n0,0,10\n7,0,10\n"}, stderr_has="names user 7, but network.n = 4")
case("latency-negative", ["simulate", "--set", "gossip.latency=-1"] + TINY, "2", stderr_has="gossip.latency")
case("loss-one", ["simulate", "--set", "gossip.loss=1"] + TINY, "2", stderr_has="gossip.loss")


def resume_cases(binary):
    """Cases on a real two-point results directory, each with one file corrupted."""
    tmp = tempfile.mkdtemp(prefix="timely_corpus_")
    try:
        with open(os.path.join(tmp, "s.toml"), "w") as f:
            f.write(SWEEP)
        subprocess.run([binary, "sweep", "s.toml", "--out", "res"], cwd=tmp, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        res = {}
        for name in ("results.csv", "trials.csv", "meta.json"):
            with open(os.path.join(tmp, "res", name)) as f:
                res[name] = f.read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def with_row0(text, field, value):
        lines = text.split("\n")
        fields = lines[1].split(",")
        fields[field] = value
        lines[1] = ",".join(fields)
        return "\n".join(lines)

    def rcase(name, args, expect, changed, setup=None, drop=()):
        files = {"s.toml": SWEEP}
        for n, t in res.items():
            if n not in drop:
                files["res/" + n] = changed.get(n, t)
        case(name, args, expect, files, setup)

    resume = ["sweep", "@DIR@/s.toml", "--out", "@DIR@/res", "--resume"]
    mean = res["results.csv"].split("\n")[0].split(",").index("mean")
    rcase("resume-results-index-abc", resume, "0|2", {"results.csv": with_row0(res["results.csv"], 0, "abc")})
    rcase("resume-results-index-20-digits", resume, "0|2",
          {"results.csv": with_row0(res["results.csv"], 0, "99999999999999999999")})
    rcase("resume-trials-index-abc", resume, "0|2", {"trials.csv": with_row0(res["trials.csv"], 0, "abc")})
    rcase("resume-meta-array", resume, "2", {"meta.json": "[]\n"})
    rcase("resume-meta-fingerprint-number", resume, "2", {"meta.json": '{"fingerprint": 5}\n'})
    rcase("resume-results-value-malformed", resume, "0|2",
          {"results.csv": with_row0(res["results.csv"], mean, "xxxx")})
    rcase("resume-results-value-nan", resume, "0|2", {"results.csv": with_row0(res["results.csv"], mean, "-nan")})
    rcase("resume-results-fifo", resume, "0|2", {}, ["mkfifo res/results.csv"], drop=("results.csv",))
    rcase("resume-meta-fifo", resume, "0|2", {}, ["mkfifo res/meta.json"], drop=("meta.json",))
    rcase("plot-results-dev-zero", ["plot", "@DIR@/res"], "2", {}, ["symlink /dev/zero res/results.csv"],
          drop=("results.csv",))


def write(corpus):
    for name, c in CASES.items():
        d = os.path.join(corpus, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with open(os.path.join(d, "args"), "w") as f:
            f.write("".join(a + "\n" for a in c["args"]))
        with open(os.path.join(d, "expect"), "w") as f:
            f.write(c["expect"] + "\n")
        for rel, text in c["files"].items():
            os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
        if c["setup"]:
            with open(os.path.join(d, "setup"), "w") as f:
                f.write("".join(s + "\n" for s in c["setup"]))
        if c["absent"]:
            with open(os.path.join(d, "absent"), "w") as f:
                f.write("".join(s + "\n" for s in c["absent"]))
        if c["stderr_has"]:
            with open(os.path.join(d, "stderr_has"), "w") as f:
                f.write(c["stderr_has"] + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--corpus", default=os.path.join(HERE, "corpus"))
    a = ap.parse_args()
    resume_cases(os.path.abspath(a.binary))
    write(a.corpus)
    print(f"{len(CASES)} cases written to {a.corpus}")


if __name__ == "__main__":
    main()
