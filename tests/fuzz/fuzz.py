#!/usr/bin/env python3
"""Robustness fuzzer for the timely command line (Python 3 standard library only).

The contract checked (docs/interface.md, "Exit statuses" and the robustness audit):
  exit 0  success; with --json, stdout is one JSON object with no NaN/Infinity and no
          null where a number belongs ("mean": null, null inside a list of numbers);
          CSV/JSON files the run wrote hold no nan/inf numbers; stdout has no nan/inf token
  exit 2  bad input, with exactly one line on stderr ("timely: error: ...")
  never   exit 1, any other status, a signal, a hang, runaway memory or output
The large family's runs keep it under an address-space limit (--as-mb). The python family
checks the module's contract: a result, ValueError, or TypeError naming the argument, each
with a one-line message.

Usage:
  fuzz.py --binary PATH [--minutes M | --cases N] [--seed S] [--jobs J] [--out DIR]
          [--timeout SEC] [--mem-mb MB] [--as-mb MB] [--large-timeout SEC] [--keep K]
          [--python-path DIR] [--python EXE]
  fuzz.py --binary PATH --replay CORPUS_DIR      # run reproducer cases, report pass/fail

Every case is generated from random.Random(f"{seed}:{index}"), so the cases (and their
order) are a function of the seed alone; --minutes only decides how many are run. Each run
gets a fresh temporary directory as its working directory. Failures are written to
OUT/failures/<class>-<signature hash>-<case>/ in the corpus format of tests/fuzz/README.md
(args, input files, setup, expect, plus info.txt), at most --keep per signature; counts per
class and every distinct signature go to OUT/summary.json and OUT/summary.txt.
"""
import argparse
import ast
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, FIRST_COMPLETED, wait

# ----------------------------------------------------------------------------------------
# Scenario keys: kind, and cheap valid values (strings as --set would take them)

KEYS = {
    "network.n": ("int", ["4", "5", "6", "8", "9"]),
    "network.topology": ("choice", ["complete", "ring", "torus", "random-regular", "erdos-renyi", "star", "edges"]),
    "network.degree": ("int", ["2", "3", "4"]),
    "network.p": ("num", ["0.5", "0.9", "1"]),
    "network.edges_file": ("str", ["g.edges"]),
    "gossip.capacity": ("num", ["0.5", "1", "2", '{ dist = "uniform", low = 0.5, high = 1.5 }', '{ dist = "lognormal", median = 1, sigma = 0.5 }', '{ dist = "two-point", value = 1, slow_value = 0.1, slow_fraction = 0.2 }']),
    "gossip.scaling": ("choice", ["constant", "log", "linear", "power"]),
    "gossip.exponent": ("num", ["-0.5", "0", "0.5", "1"]),
    "gossip.mode": ("choice", ["push", "pull", "exchange"]),
    "gossip.latency": ("num", ["0", "0.1", "2", '{ dist = "exponential", mean = 0.2 }', '{ dist = "uniform", low = 0, high = 0.5 }', '{ dist = "two-point", value = 0.01, slow_value = 1, slow_fraction = 0.1 }']),
    "gossip.message_bytes": ("num", ["0", "32", "1000"]),
    "gossip.bandwidth": ("num", ["0", "100", "1e6"]),
    "gossip.busy": ("choice", ["queue", "drop"]),
    "gossip.loss": ("num", ["0", "0.1", "0.5"]),
    "updates.rate": ("num", ["0.5", "1", "2", '{ dist = "uniform", low = 0.5, high = 1.5 }', '{ dist = "lognormal", median = 1, sigma = 0.5 }', '{ dist = "two-point", value = 1, slow_value = 0.1, slow_fraction = 0.2 }']),
    "updates.delay": ("num", ["0", "0.5", '{ dist = "uniform", low = 0, high = 1 }']),
    "churn.model": ("choice", ["none", "markov", "trace"]),
    "churn.online_mean": ("num", ["1", "10", "100"]),
    "churn.offline_mean": ("num", ["1", "10"]),
    "churn.trace_file": ("str", ["t.csv"]),
    "churn.offline_updates": ("bool", ["true", "false"]),
    "staleness.model": ("choice", ["users", "source"]),
    "staleness.tracked": ("int", ["0", "1", "2"]),
    "staleness.bound": ("int", ["0", "1", "10"]),
    "source.rate": ("num", ["0.5", "1", "2"]),
    "source.push_rate": ("num", ["0.5", "1", "2"]),
    "run.horizon": ("num", ["5", "10", "20"]),
    "run.warmup": ("num", ["0", "1"]),
    "run.trials": ("int", ["1", "2", "3"]),
    "run.seed": ("int", ["0", "1", "42"]),
    "model.kind": ("choice", ["none", "linear", "logistic", "mlp", "quadratic"]),
    "model.hidden": ("list", ["[8]", "[4, 4]"]),
    "model.activation": ("choice", ["relu", "tanh"]),
    "model.init": ("choice", ["xavier", "he"]),
    "data.source": ("choice", ["synthetic-regression", "synthetic-mixture", "fashion-mnist", "synthetic-arithmetic"]),
    "data.partition": ("choice", ["iid", "dirichlet", "shards"]),
    "data.alpha": ("num", ["0.1", "1"]),
    "data.shards_per_user": ("int", ["1", "2"]),
    "data.features": ("int", ["2", "5"]),
    "data.classes": ("int", ["2", "4"]),
    "data.train_samples": ("int", ["100", "200"]),
    "data.test_samples": ("int", ["20", "50"]),
    "data.noise": ("num", ["0", "0.1"]),
    "data.spread": ("num", ["0", "0.5", "1"]),
    "data.target": ("choice", ["linear", "teacher"]),
    "data.teacher_hidden": ("int", ["2", "8"]),
    "data.separation": ("num", ["1", "3"]),
    "data.dir": ("str", ["/usr/share/datasets/fashion-mnist"]),
    "train.steps": ("int", ["0", "1", "2"]),
    "train.batch": ("int", ["1", "8"]),
    "train.lr": ("num", ["0.01", "0.1"]),
    "train.schedule": ("choice", ["constant", "inverse-time", "step"]),
    "train.decay_time": ("num", ["10"]),
    "train.step_time": ("num", ["5"]),
    "train.step_factor": ("num", ["0.5", "1"]),
    "train.momentum": ("num", ["0", "0.5"]),
    "mixing.rule": ("choice", ["average", "age-weighted", "variance-corrected", "fedavg"]),
    "mixing.fedavg_fraction": ("num", ["0.5", "1"]),
    "mixing.variance_target": ("choice", ["contributing", "received"]),
    "mixing.correct_biases": ("bool", ["true", "false"]),
    "mixing.fedavg_variance_correction": ("bool", ["true", "false"]),
    "observe.every": ("num", ["2", "5"]),
    "observe.users": ("int", ["1", "2"]),
    "observe.test_samples": ("int", ["0", "10"]),
    "observe.plateau_fraction": ("num", ["0.5"]),
    "target.accuracy": ("num", ["0.5", "0.9"]),
    "target.loss": ("num", ["0.1", "1"]),
    "target.distance": ("num", ["0.1", "0.5"]),
}
STALENESS_KEYS = [k for k in KEYS
                  if k.split(".")[0] in ("network", "gossip", "updates", "churn", "staleness", "source", "run")]
LEARNING_KEYS = [k for k in KEYS if k not in STALENESS_KEYS]

# Cheap scenarios: every run stays far below a second unless a mutation is about its cost.
STALENESS_BASE = {"network.n": "6", "run.horizon": "10", "run.warmup": "0", "run.trials": "2"}
LEARNING_BASE = {"model.kind": "logistic", "data.source": "synthetic-mixture", "data.features": "5",
                 "data.classes": "3", "data.train_samples": "120", "data.test_samples": "30", "model.hidden": "[4]",
                 "network.n": "6", "run.horizon": "10", "run.warmup": "0", "run.trials": "1",
                 "observe.every": "5", "observe.users": "2"}

# ----------------------------------------------------------------------------------------
# Value pools

NUMERIC_EDGE = ["0", "-0", "-1", "1", "2", "-2", "0.5", "1e-9", "1e-300", "5e-324", "1e-320", "1e6", "1e9", "1e12",
                "1e300", "1e308", "1.7976931348623157e308", "1e309", "-1e309", "nan", "NaN", "-nan", "inf", "-inf",
                "infinity", "2147483647", "2147483648", "4294967295", "4294967296", "9223372036854775807",
                "9223372036854775808", "18446744073709551615", "18446744073709551616", "-9223372036854775808",
                "99999999999999999999999", "0x10", "0b1", "1_000", "1e3", "1.", ".5", "+1", " 1", "1 ", "", "1e",
                "--1", "\u0663", "1,5", "1.5.5", "0.0000000000000000000000000001"]
TYPE_CONFUSION = ["true", "false", "[1,2]", "[]", "[0]", "[-1]", "[100000, 100000]", "[1,,2]", "[,]", "{}", "'ring'",
                  '"ring"', "ring", "[1 2]", "[ 3 ]", "1,2", ","]
GNUPLOT_INJECTION = 'x" 0); system "touch INJECTED"; set xtics ("y'
WEIRD_STRINGS = ["ri\nng", "a\rb", "\t", "\x1b[31mred\x1b[0m", "\x7f", "\u00e9", "\u73af", "\u202eevil", "\U0001F600",
                 "a" * 5000, "a,b", 'a"b', "a\\b", "$(id)", "%s%n", "{}", "{0}", "\u2028", "\x01\x02", " ",
                 GNUPLOT_INJECTION, "../../etc/passwd", "/", ".", "-", "--json"]
HUGE_COST = ["1e6", "1e9", "1e12", "1e300", "1e-9", "1e-300", "100000000", "1000000"]


def mutate_raw(rng, key):
    """A --set value for `key`: valid, boundary, wrong type, weird string."""
    kind, valid = KEYS.get(key, ("str", ["x"]))
    r = rng.random()
    if r < 0.2:
        return rng.choice(valid)
    if r < 0.55:
        return rng.choice(NUMERIC_EDGE)
    if r < 0.7:
        return rng.choice(TYPE_CONFUSION)
    if r < 0.85:
        return rng.choice(WEIRD_STRINGS)
    if kind == "choice":
        v = rng.choice(valid)
        return rng.choice([v.upper(), v.capitalize(), v + " ", " " + v, v[:-1], v + "x", '"' + v + '"', v + "\n"])
    if kind == "list":
        return rng.choice(["[0]", "[100001]", "[100000, 100000, 100000]", "[" + ",".join(["1"] * 2000) + "]",
                           "[9223372036854775807]", "[1.5]", "[a]", "[[1]]", "[1]]", "[[1]", "1", "[-5, 4]"])
    return rng.choice(HUGE_COST)


TOML_INTS = ["0", "-1", "1", "2", "4", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
             "0x7fffffff", "0o17", "0b101", "1_000", "+5", "00", "1__0", "0xFFFFFFFFFFFFFFFF"]
TOML_FLOATS = ["0.0", "-0.0", "0.5", "1e-9", "1e-300", "5e-324", "1e300", "1e308", "1.8e308", "1e400", "nan", "+nan",
               "-nan", "inf", "-inf", "1e06", "3.14159", "1e12", "1e6"]
TOML_STRINGS = ['"ring"', '"ri\\nng"', '"a\\tb"', '"\\u0000"', '"\\u001b[31m"', '"\\u2028"', '"\\U0001F600"',
                "'lit\\eral'", '"""multi\nline"""', "'''raw\nline'''", '""', '"' + "x" * 5000 + '"', '"\u73af"',
                '"\\"quoted\\""', '"a\\rb"', "'" + GNUPLOT_INJECTION + "'", '"/dev/zero"', '"."', '"/"']
TOML_OTHER = ["true", "false", "[]", "[1, 2]", "[[1]]", '["a"]', '[1, "a"]', "[1.5]", "[0]", "[-1]",
              "[100000, 100000]", "[9223372036854775807]", "{}", "{ a = 1 }", "{ n = 4 }", "1979-05-27T07:32:00Z",
              "1979-05-27", "07:32:00", '{ dist = "uniform" }', '{ dist = "lognormal", median = 1e300, sigma = 10 }',
              '{ dist = "two-point", value = 1, slow_value = 1e-300, slow_fraction = nan }', '{ dist = 1 }',
              '{ dist = "uniform", low = 2, high = 1 }', '{ dist = "uniform", low = 0.5, high = 1.5, x = { y = 1 } }']
TOML_BROKEN = ["", "=", "[", '"unterminated', "1 2", "0x", "tru", "nan1", "[1,", "{", "'", '"\\x41"', '"\\ud800"']


def toml_of_raw(kind, raw):
    """A valid value as TOML text."""
    if kind in ("int", "num", "bool", "list"):
        return raw.replace("'", '"')
    return json.dumps(raw)


def mutate_toml(rng, key):
    kind, valid = KEYS.get(key, ("str", ["x"]))
    r = rng.random()
    if r < 0.2:
        return toml_of_raw(kind, rng.choice(valid))
    pool = rng.choice([TOML_INTS, TOML_FLOATS, TOML_STRINGS, TOML_OTHER, TOML_OTHER, TOML_BROKEN])
    return rng.choice(pool)


def toml_text(tables, extra_lines=()):
    """tables: {table: {key: value-text}} in order."""
    out = []
    for table, entries in tables.items():
        out.append(f"[{table}]")
        for k, v in entries.items():
            out.append(f"{k} = {v}")
        out.append("")
    out.extend(extra_lines)
    return "\n".join(out) + "\n"


def tables_of(settings):
    tables = {}
    for name, value in settings.items():
        t, k = name.split(".", 1)
        tables.setdefault(t, {})[k] = value
    return tables


def toml_settings(base):
    return {k: toml_of_raw(KEYS[k][0], v) for k, v in base.items()}

# ----------------------------------------------------------------------------------------
# Cases


class Case:
    def __init__(self, index, family):
        self.index = index
        self.family = family
        self.args = []
        self.files = {}      # relative path -> bytes
        self.setup = []      # "mkfifo P", "mkdir P", "symlink TARGET P"
        self.json = False    # stdout must be one JSON object
        self.tags = []       # what was mutated (for signatures of hangs and memory blow-ups)
        self.program = "timely"  # or "python": args are then the interpreter's (-c SCRIPT)
        self.script = ""     # the python family's program
        self.names = []      # what a TypeError of the python family may name: its arguments and keys

    def add(self, path, data):
        self.files[path] = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data


def sets(settings):
    args = []
    for k, v in settings.items():
        args += ["--set", f"{k}={v}"]
    return args


def gen_set(rng, case):
    """simulate/theory with --set overrides of a cheap base."""
    learning = rng.random() < 0.25
    base = dict(LEARNING_BASE if learning else STALENESS_BASE)
    settings = dict(base)
    keys = LEARNING_KEYS + STALENESS_KEYS if learning else STALENESS_KEYS
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        key = rng.choice(keys)
        settings[key] = mutate_raw(rng, key)
        case.tags.append(key)
    if "churn.trace_file" in settings:  # a relative trace is read from the working directory
        case.add("t.csv", VALID_TRACE)
    command = rng.choice(["simulate", "simulate", "simulate", "theory"])
    args = [command] + sets(settings)
    r = rng.random()
    if r < 0.1:  # a malformed --set itself
        bad = rng.choice(["network.n", "=5", "network.n5", "network..n=5", "NETWORK.N=5", ".n=5", "network.=5",
                          "network.n.x=5", "net\nwork.n=5", "network.n==5", "x=1", "network.n = 5", "foo.bar=1",
                          "model=1", "network.\u00e9=1", "=", "network.n=5=6"])
        args += ["--set", bad]
        case.tags.append("--set " + bad.split("=")[0])
    if rng.random() < 0.6:
        args.append("--json")
        case.json = True
    elif command == "simulate" and rng.random() < 0.3:
        args += ["--out", "@DIR@/out"]
    case.args = args


def gen_learning(rng, case):
    """Learning runs: learning keys mutated, often to extreme but well-typed values."""
    settings = dict(LEARNING_BASE)
    kind = rng.choice(["linear", "logistic", "mlp"])
    settings["model.kind"] = kind
    settings["data.source"] = "synthetic-regression" if kind == "linear" else "synthetic-mixture"
    for _ in range(rng.choice([1, 1, 2, 3])):
        key = rng.choice(LEARNING_KEYS + ["run.horizon", "network.n", "gossip.mode", "updates.rate"])
        if rng.random() < 0.5:
            settings[key] = mutate_raw(rng, key)
        else:  # in-range extremes: what a user might really type
            settings[key] = rng.choice({
                "train.lr": ["1e9", "1e30", "1e300", "1e-300", "10", "100"],
                "train.momentum": ["0.999999", "0.9999999999999999"],
                "data.noise": ["1e300", "1e30"],
                "data.separation": ["1e300", "1e-300"],
                "data.alpha": ["1e-300", "1e300"],
                "observe.every": ["1e-9", "0.001", "1e300"],
                "run.horizon": ["1", "2", "0.5", "4"],
                "train.decay_time": ["1e-300"],
                "train.step_time": ["1e-300"],
                "train.step_factor": ["1e-300"],
                "data.train_samples": ["1", "6", "7", "3000000000", "100000000"],
                "data.test_samples": ["1", "3000000000"],
                "observe.test_samples": ["1", "10000000"],
                "model.hidden": ["[1]", "[100000]", "[100000, 100000]", "[1, 1, 1, 1, 1, 1, 1, 1]"],
                "data.features": ["1", "100000"],
                "data.classes": ["1000", "2"],
                "train.batch": ["4096", "1"],
                "train.steps": ["100000", "0"],
                "observe.users": ["1000000000", "6", "7"],
                "data.shards_per_user": ["1000000000", "100"],
            }.get(key, KEYS.get(key, ("", ["1"]))[1]))
        case.tags.append(key)
    settings["model.kind"] = settings.get("model.kind", kind)
    args = ["simulate"] + sets(settings)
    if rng.random() < 0.7:
        args.append("--json")
        case.json = True
    if rng.random() < 0.4:
        args += ["--out", "@DIR@/out"]
    case.args = args


def gen_toml(rng, case):
    """Scenario files: valid keys with mutated values, unknown keys and tables, broken TOML."""
    learning = rng.random() < 0.25
    base = toml_settings(LEARNING_BASE if learning else STALENESS_BASE)
    keys = list(KEYS) if learning else STALENESS_KEYS
    for _ in range(rng.choice([1, 1, 2])):
        key = rng.choice(keys)
        base[key] = mutate_toml(rng, key)
        case.tags.append(key)
    tables = tables_of(base)
    extra = []
    r = rng.random()
    if r < 0.08:
        extra = [rng.choice(["[foo]", "[network.sub]", "[[network]]", "[sweep]", "[run.x.y]"]), "a = 1"]
        case.tags.append("table " + extra[0])
    elif r < 0.14:
        tables.setdefault("network", {})[rng.choice(["bogus", "N", "n ", '"n\\nx"', '"\u00e9"', '""'])] = "1"
        case.tags.append("unknown key")
    elif r < 0.18:
        extra = [rng.choice(["n = 4", "network = 4", "network = [1]", "run = \"x\"", "network = { n = 4 }"])]
        case.tags.append("root " + extra[0])
    elif r < 0.21:
        extra = ["[network]", "n = 5"]  # duplicate table
        case.tags.append("duplicate table")
    text = toml_text(tables, extra)
    r = rng.random()
    data = text.encode("utf-8")
    if r < 0.06:
        depth = rng.choice([100, 1000, 10000, 100000])
        data += (f"[run]\nx = " + "[" * depth + "]" * depth + "\n").encode()
        case.tags.append(f"nested arrays {depth}")
    elif r < 0.09:
        depth = rng.choice([100, 1000, 10000, 100000])
        data += ("[run]\nx = " + "{a=" * depth + "1" + "}" * depth + "\n").encode()
        case.tags.append(f"nested tables {depth}")
    elif r < 0.15:
        cut = rng.randrange(len(data) + 1)
        data = data[:cut]
        case.tags.append("truncated")
    elif r < 0.25:
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        data = bytes(b)
        case.tags.append("byte flips")
    elif r < 0.28:
        data = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\xc3\x28"]) + data
        case.tags.append("prefix bytes")
    elif r < 0.30:
        data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
        case.tags.append("junk file")
    elif r < 0.31:
        data = b"[network]\nn = 4\n" + b"#" * 5_000_000 + b"\n"
        case.tags.append("huge comment")
    name = rng.choice(["s.toml", "s.toml", "s.toml", "s", "s.TOML", "dir with space/s.toml", "s\nx.toml"])
    case.add(name, data)
    if "churn.trace_file" in base:  # relative to the scenario file
        case.add(os.path.join(os.path.dirname(name), "t.csv"), VALID_TRACE)
    command = rng.choice(["simulate", "simulate", "theory"])
    case.args = [command, "@DIR@/" + name]
    if rng.random() < 0.6:
        case.args.append("--json")
        case.json = True


def range_text(rng):
    fields = {"from": rng.choice(["4", "4", "1", "0", "-1", "1e308", "nan", "inf", '"4"', "4.5", "1e-300"]),
              "to": rng.choice(["8", "8", "16", "1e308", "nan", "inf", "-inf", "3", "1e6", '"8"', "9223372036854775807"]),
              }
    r = rng.random()
    if r < 0.5:
        fields["times"] = rng.choice(["2", "2", "1", "1.0000001", "1e308", "nan", "inf", "0", "-2", "1.5", '"2"'])
    elif r < 0.9:
        fields["step"] = rng.choice(["1", "1", "2", "0.5", "1e-300", "5e-324", "nan", "inf", "0", "-1", "1e-9"])
    else:
        fields["times"] = "2"
        fields["step"] = "1"
    if rng.random() < 0.1:
        fields[rng.choice(["bogus", "From", "count"])] = "1"
    if rng.random() < 0.1:
        del fields[rng.choice(list(fields))]
    return "{ " + ", ".join(f"{k} = {v}" for k, v in fields.items()) + " }"


def gen_sweep(rng, case):
    """Sweep files: axes with bad values, ranges, string axes, --quick/--resume/--force."""
    learning = rng.random() < 0.2
    base = toml_settings(LEARNING_BASE if learning else STALENESS_BASE)
    if learning:
        base["run.horizon"] = toml_of_raw("num", rng.choice(["4", "10", "20"]))
        base["observe.every"] = toml_of_raw("num", rng.choice(["2", "5", "10"]))
    axes = []
    for _ in range(rng.choice([1, 1, 2, 2, 3])):
        key = rng.choice(list(KEYS) if learning else STALENESS_KEYS + ["network.edges_file", "data.dir"])
        r = rng.random()
        if r < 0.4:
            values = [toml_of_raw(KEYS[key][0], v) for v in rng.sample(KEYS[key][1], min(len(KEYS[key][1]), rng.randint(1, 3)))]
            text = "[" + ", ".join(values) + "]"
        elif r < 0.65:
            values = [mutate_toml(rng, key) for _ in range(rng.randint(1, 3))]
            text = "[" + ", ".join(values) + "]"
        elif r < 0.8:
            text = range_text(rng)
        elif r < 0.9:  # string values that end up in labels, file names and figure scripts
            values = rng.sample(['"a\\"b"', "'x\\'", '"a/b"', '"a b"', '"a,b"', '"a\\nb"', "'" + GNUPLOT_INJECTION + "'",
                                 '"\u73af"', '"' + "y" * 300 + '"', '"-"', '"."', '"#"', '"a;b"', '"@"'], rng.randint(1, 3))
            key = rng.choice(["network.edges_file", "data.dir"])
            text = "[" + ", ".join(values) + "]"
        else:
            text = rng.choice(["[]", "4", '"x"', "[[4]]", "{}", "[4, 4]", "{ from = 4 }", "[true]", "[1979-05-27]"])
        if rng.random() < 0.05:
            key = rng.choice(["bogus", "network", "network.bogus", "", "sweep.x", "network.n.x"])
        axes.append((key, text))
        case.tags.append(key)
    lines = ["[sweep]"] + [f"{json.dumps(k)} = {t}" for k, t in axes]
    if rng.random() < 0.05:
        lines = ["[sweep]"]
        case.tags.append("empty sweep")
    case.add("s.toml", toml_text(tables_of(base), lines))
    args = ["sweep", "@DIR@/s.toml", "--out", "@DIR@/out"]
    for flag in ("--quick", "--force", "--resume"):
        if rng.random() < 0.2:
            args.append(flag)
    if rng.random() < 0.1:
        args += ["--threads", rng.choice(["1", "2", "0", "4097", "-1"])]
    case.args = args


def cycle_edges(n):
    return "".join(f"{i} {(i + 1) % n}\n" for i in range(n))


def gen_edges(rng, case):
    """Edge lists: weights, ids out of range, junk; special files."""
    n = rng.choice([3, 4, 5, 6, 10])
    lines = cycle_edges(n).splitlines()
    r = rng.random()
    path = "@DIR@/g.edges"
    data = None
    if r < 0.25:  # weights
        w = rng.choice(["1e308", "1.7976931348623157e308", "1e-308", "5e-324", "1e-320", "1e300", "1e-300", "nan",
                        "inf", "-1", "0", "-0", "1e309", "0x10", "1e30", "2.5", "1e-30", "1e15"])
        every = rng.random() < 0.6
        lines = [l + " " + (w if every or i == 0 else "1") for i, l in enumerate(lines)]
        case.tags.append(f"weight {w}" + (" (all)" if every else " (one)"))
    elif r < 0.4:  # ids
        bad = rng.choice([str(n), "-1", "4294967295", "4294967296", "99999999999999999999", "1.0", "0x1", "+1",
                          "\u0661", "a", "1e0"])
        lines.append(f"0 {bad}")
        case.tags.append(f"id {bad}")
    elif r < 0.5:  # shapes
        kind = rng.choice(["self-loop", "duplicate", "disconnected", "empty", "comments", "one field", "four fields",
                           "crlf", "vt", "star", "complete"])
        if kind == "self-loop":
            lines.append("1 1")
        elif kind == "duplicate":
            lines.append(lines[0].split()[1] + " " + lines[0].split()[0])
        elif kind == "disconnected":
            lines = lines[:1]
        elif kind == "empty":
            lines = []
        elif kind == "comments":
            lines = ["# x"] * 3
        elif kind == "one field":
            lines.append("1")
        elif kind == "four fields":
            lines.append("0 2 1 1")
        elif kind == "crlf":
            lines = [l + "\r" for l in lines]
        elif kind == "vt":
            lines = [l.replace(" ", "\v") for l in lines]
        elif kind == "star":
            lines = [f"0 {i}" for i in range(1, n)]
        else:
            lines = [f"{i} {j}" for i in range(n) for j in range(i + 1, n)]
        case.tags.append(kind)
    elif r < 0.6:  # junk
        data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
        if rng.random() < 0.5:
            data = cycle_edges(n).encode() + data
        case.tags.append("binary junk")
    elif r < 0.65:
        data = (cycle_edges(n) + "0 2 " + "1" * rng.choice([400, 100000, 3000000]) + "\n").encode()
        case.tags.append("long line")
    elif r < 0.7:
        data = (cycle_edges(n) + "#" + "x" * 5_000_000 + "\n").encode()
        case.tags.append("huge comment")
    elif r < 0.8:  # a path that is not a regular file
        special = rng.choice(["fifo", "dir", "/dev/zero", "/dev/null", "/dev/urandom", "missing", "empty name",
                              "newline name", "long name", "/", "/proc/self/mem", "/dev/full"])
        if special == "fifo":
            case.setup.append("mkfifo g.edges")
        elif special == "dir":
            case.setup.append("mkdir g.edges")
        elif special == "missing":
            path = "@DIR@/missing.edges"
        elif special == "empty name":
            path = ""
        elif special == "newline name":
            path = "@DIR@/a\nb.edges"
        elif special == "long name":
            path = "@DIR@/" + "x" * 5000
        else:
            path = special
        if special in ("fifo", "dir"):
            data = b""
        case.tags.append(f"special {special}")
    else:  # a valid graph: weights random
        lines = [l + " " + repr(rng.choice([0.5, 1.0, 2.0, 1e-3, 1e3])) for l in lines]
        case.tags.append("valid weighted")
    if data is None:
        data = ("\n".join(lines) + ("\n" if lines else "")).encode()
    if not case.setup:
        case.add("g.edges", data)
    settings = {"network.n": str(n), "network.topology": "edges", "network.edges_file": path,
                "run.horizon": "10", "run.warmup": "0", "run.trials": "2"}
    if rng.random() < 0.3:
        settings["gossip.mode"] = rng.choice(["push", "pull", "exchange"])
    if rng.random() < 0.3:
        settings["staleness.model"] = "source"
    if rng.random() < 0.25 and path.startswith("@DIR@/") and "\n" not in path:
        # via a scenario file: the path is relative to the file
        t = toml_settings({k: v for k, v in settings.items() if k != "network.edges_file"})
        t["network.edges_file"] = json.dumps(path.replace("@DIR@/", ""))
        case.add("s.toml", toml_text(tables_of(t)))
        args = [rng.choice(["simulate", "theory"]), "@DIR@/s.toml"]
    else:
        args = [rng.choice(["simulate", "simulate", "theory"])] + sets(settings)
    if rng.random() < 0.5:
        args.append("--json")
        case.json = True
    case.args = args


VALID_TRACE = "user,start,end\n0,0,10\n1,0,4\n1,6,10\n2,2,8\n3,0,10\n"


def gen_churn(rng, case):
    """The network layer: churn traces (ids, times, overlaps, junk, special files) and link keys."""
    n = rng.choice([2, 4, 6])
    lines = ["user,start,end"] + [f"{u},0,10" for u in range(n)]
    r = rng.random()
    path = "@DIR@/t.csv"
    data = None
    if r < 0.25:  # ids and times
        bad = rng.choice([f"{n},0,1", "-1,0,1", "1.5,0,1", "10000000,0,1", "99999999999999999999,0,1", "0x1,0,1",
                          "0,-1,1", "0,1,1", "0,2,1", "0,nan,1", "0,0,inf", "0,0,1e13", "0,0,1e12", "0,5e-324,1e-300",
                          "0,0,1e308", ",0,1", "0,,1", "0,0,", "+1,0,1", "\u0661,0,1"])
        lines.append(bad)
        case.tags.append(f"interval {bad}")
    elif r < 0.45:  # shapes
        kind = rng.choice(["overlap", "touching", "duplicate", "unsorted", "no header", "bad header", "header only",
                           "empty", "comments", "two cells", "four cells", "crlf", "bom", "spaces", "many"])
        if kind == "overlap":
            lines += ["0,5,20"]
        elif kind == "touching":
            lines += ["0,10,20"]
        elif kind == "duplicate":
            lines.append(lines[1])
        elif kind == "unsorted":
            lines = [lines[0]] + ["0,20,30"] + lines[1:]
        elif kind == "no header":
            lines = lines[1:]
        elif kind == "bad header":
            lines[0] = rng.choice(["user,begin,end", "start,end,user", "user,start", "user,start,end,x", "User,Start,End"])
        elif kind == "header only":
            lines = lines[:1]
        elif kind == "empty":
            lines = []
        elif kind == "comments":
            lines = ["# x"] * 3
        elif kind == "two cells":
            lines.append("0,1")
        elif kind == "four cells":
            lines.append("0,20,30,40")
        elif kind == "crlf":
            lines = [l + "\r" for l in lines]
        elif kind == "bom":
            lines[0] = "\ufeff" + lines[0]
        elif kind == "spaces":
            lines = [" " + l.replace(",", " , ") + "\t" for l in lines]
        else:
            lines += [f"{u},{t},{t + 0.5}" for u in range(n) for t in range(10, 2000)]
        case.tags.append(kind)
    elif r < 0.55:  # junk
        data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
        if rng.random() < 0.5:
            data = ("\n".join(lines) + "\n").encode() + data
        case.tags.append("binary junk")
    elif r < 0.7:  # a path that is not a regular file
        special = rng.choice(["fifo", "dir", "/dev/zero", "/dev/null", "missing", "empty name", "newline name", "/"])
        if special == "fifo":
            case.setup.append("mkfifo t.csv")
        elif special == "dir":
            case.setup.append("mkdir t.csv")
        elif special == "missing":
            path = "@DIR@/missing.csv"
        elif special == "empty name":
            path = ""
        elif special == "newline name":
            path = "@DIR@/a\nb.csv"
        else:
            path = special
        case.tags.append(f"special {special}")
    else:
        case.tags.append("valid trace")
    if data is None:
        data = ("\n".join(lines) + ("\n" if lines else "")).encode()
    if not case.setup:
        case.add("t.csv", data)
    settings = {"network.n": str(n), "run.horizon": "10", "run.warmup": "0", "run.trials": "2"}
    if rng.random() < 0.7:
        settings.update({"churn.model": "trace", "churn.trace_file": path})
    else:
        settings["churn.model"] = rng.choice(["none", "markov"])
        if rng.random() < 0.3:
            settings["churn.trace_file"] = path
    for key in rng.sample(["gossip.latency", "gossip.message_bytes", "gossip.bandwidth", "gossip.busy", "gossip.loss",
                           "gossip.mode", "churn.online_mean", "churn.offline_mean", "churn.offline_updates",
                           "staleness.model"], rng.randint(0, 3)):
        settings[key] = mutate_raw(rng, key) if rng.random() < 0.3 else rng.choice(KEYS[key][1])
        case.tags.append(key)
    if rng.random() < 0.25 and path.startswith("@DIR@/") and "\n" not in path:
        # via a scenario file: the path is relative to the file
        t = toml_settings({k: v for k, v in settings.items() if k in KEYS and k != "churn.trace_file"})
        if "churn.trace_file" in settings:
            t["churn.trace_file"] = json.dumps(path.replace("@DIR@/", ""))
        case.add("s.toml", toml_text(tables_of(t)))
        args = [rng.choice(["simulate", "theory"]), "@DIR@/s.toml"]
    else:
        args = [rng.choice(["simulate", "simulate", "theory"])] + sets(settings)
    if rng.random() < 0.5:
        args.append("--json")
        case.json = True
    case.args = args


# ---- corrupted results directories (sweep --resume, plot)

TEMPLATE_SWEEPS = {
    "staleness": toml_text(tables_of(toml_settings({"network.n": "4", "run.horizon": "10", "run.warmup": "0",
                                                    "run.trials": "2"})),
                           ["[sweep]", '"network.n" = [4, 6]']),
    "learning": toml_text(tables_of(toml_settings({**LEARNING_BASE, "run.horizon": "10", "observe.every": "5"})),
                          ["[sweep]", '"network.n" = [4, 6]']),
}
TEMPLATES = {}  # kind -> {relative name: bytes}
RESULT_FILES = ("results.csv", "trials.csv", "meta.json", "learning_curves.csv")


def make_templates(binary, workdir):
    for kind, text in TEMPLATE_SWEEPS.items():
        d = os.path.join(workdir, "template-" + kind)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with open(os.path.join(d, "s.toml"), "w") as f:
            f.write(text)
        p = subprocess.run([binary, "sweep", "s.toml", "--out", "res"], cwd=d, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=120)
        files = {}
        for name in RESULT_FILES:
            path = os.path.join(d, "res", name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    files["res/" + name] = f.read()
        if "res/results.csv" in files and "res/meta.json" in files:
            files["s.toml"] = text.encode()
            TEMPLATES[kind] = files
        else:
            print(f"fuzz: could not make the {kind} results template (exit {p.returncode}): "
                  f"{p.stderr.decode(errors='replace')[:200]}", file=sys.stderr)


CSV_FIELD_POOL = ["abc", "", "99999999999999999999", "-1", "1.5", " 0", "0x1", "1e3", "nan", "inf", "-nan",
                  "\uff11", "18446744073709551615", "18446744073709551616", "1e308", "1e309", '"', '""', "0 ",
                  "+0", "00", "x" * 10000, "\x00", "9223372036854775808"]


def mutate_csv(rng, data, tags, name):
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    r = rng.random()
    if r < 0.45 and len(lines) > 1:
        i = rng.randrange(1, len(lines))
        fields = lines[i].split(",")
        j = 0 if rng.random() < 0.5 else rng.randrange(len(fields))
        v = rng.choice(CSV_FIELD_POOL)
        fields[j] = v
        lines[i] = ",".join(fields)
        tags.append(f"{name} field {'index' if j == 0 else 'value'} {v[:20]!r}")
    elif r < 0.55 and len(lines) > 1:
        i = rng.randrange(1, len(lines))
        lines.insert(i, lines[i])
        tags.append(f"{name} duplicate row")
    elif r < 0.62 and len(lines) > 1:
        del lines[rng.randrange(1, len(lines))]
        tags.append(f"{name} deleted row")
    elif r < 0.7 and lines:
        i = rng.randrange(len(lines))
        lines[i] += rng.choice([",x", ",,,", '"', "\r", ",\"a\nb\""])
        tags.append(f"{name} row shape")
    elif r < 0.75:
        lines = lines[:1]
        tags.append(f"{name} header only")
    elif r < 0.8:
        return b"", None
    elif r < 0.88:
        cut = rng.randrange(len(data) + 1)
        tags.append(f"{name} truncated")
        return data[:cut], None
    elif r < 0.93:
        b = bytearray(data)
        for _ in range(rng.randint(1, 5)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        tags.append(f"{name} byte flips")
        return bytes(b), None
    else:
        special = rng.choice(["dir", "fifo", "/dev/zero", "missing", "/dev/urandom"])
        tags.append(f"{name} special {special}")
        return None, special
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"), None


def mutate_meta(rng, data, tags):
    r = rng.random()
    if r < 0.5:
        v = rng.choice(["[]", "{}", "null", "1", '"x"', '{"fingerprint": 5}', '{"fingerprint": null}',
                        '{"fingerprint": []}', "", "{", "[" * 100000 + "]" * 100000, '{"a": ' * 100000 + "1" + "}" * 100000,
                        "1e999", "\xff\xfe", '{"fingerprint": "\\ud800"}', "\ufeff{}"])
        tags.append(f"meta.json {v[:24]!r}")
        return v.encode("utf-8", "surrogateescape"), None
    try:
        meta = json.loads(data)
    except Exception:
        return data, None
    if r < 0.85 and isinstance(meta, dict):
        k = rng.choice(list(meta))
        meta[k] = rng.choice([None, [], {}, 1e300, -1, "x", True, [1, "a"], 18446744073709551616])
        tags.append(f"meta.json field {k}")
        return json.dumps(meta).encode(), None
    special = rng.choice(["dir", "fifo", "/dev/zero", "missing"])
    tags.append(f"meta.json special {special}")
    return None, special


def gen_resume(rng, case):
    kind = "learning" if "learning" in TEMPLATES and rng.random() < 0.3 else "staleness"
    if kind not in TEMPLATES:
        return gen_sweep(rng, case)
    files = dict(TEMPLATES[kind])
    names = [n for n in files if n.startswith("res/")]
    for name in rng.sample(names, rng.choice([1, 1, 1, 2])):
        short = name[4:]
        if short == "meta.json":
            data, special = mutate_meta(rng, files[name], case.tags)
        else:
            data, special = mutate_csv(rng, files[name], case.tags, short)
        if special is None:
            files[name] = data
        else:
            del files[name]
            if special == "dir":
                case.setup.append(f"mkdir {name}")
            elif special == "fifo":
                case.setup.append(f"mkfifo {name}")
            elif special != "missing":
                case.setup.append(f"symlink {special} {name}")
    for name, data in files.items():
        case.add(name, data)
    if not any(s.startswith("mkdir res") for s in case.setup):
        case.setup.insert(0, "mkdir res")
    if rng.random() < 0.75:
        case.args = ["sweep", "@DIR@/s.toml", "--out", "@DIR@/res", "--resume"]
    else:
        case.args = ["plot", "@DIR@/res"]
        case.tags.insert(0, "plot")


# ---- IDX files (data.source = fashion-mnist, data.dir = a temporary directory)

def idx_bytes(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


def gen_idx(rng, case):
    rows = cols = rng.choice([28, 28, 4])
    n_train, n_test = 40, 12
    sets_ = {
        "train-images-idx3-ubyte": idx_bytes(0x803, [n_train, rows, cols], bytes(rng.randrange(256) for _ in range(n_train * rows * cols))),
        "train-labels-idx1-ubyte": idx_bytes(0x801, [n_train], bytes(i % 10 for i in range(n_train))),
        "t10k-images-idx3-ubyte": idx_bytes(0x803, [n_test, rows, cols], bytes(rng.randrange(256) for _ in range(n_test * rows * cols))),
        "t10k-labels-idx1-ubyte": idx_bytes(0x801, [n_test], bytes(i % 10 for i in range(n_test))),
    }
    raw = dict(sets_)
    gz = {k: gzip.compress(v, mtime=0) for k, v in sets_.items()}
    target = rng.choice(list(sets_))
    m = rng.choice(["magic", "count", "count-huge", "count-zero", "rows", "rows-huge", "truncated-raw", "truncated-gz",
                    "not-gzip", "empty", "labels", "test-size", "trailing-junk", "multi-member", "gz-flip", "missing",
                    "dir", "fifo", "header-only", "valid"])
    case.tags.append(f"{target} {m}")
    data = raw[target]
    if m == "magic":
        data = struct.pack(">I", rng.choice([0x802, 0x80803, 0, 0xFFFFFFFF, 0x801 if "images" in target else 0x803])) + data[4:]
    elif m == "count":
        data = data[:4] + struct.pack(">I", struct.unpack(">I", data[4:8])[0] + rng.choice([1, -1])) + data[8:]
    elif m == "count-huge":
        data = data[:4] + struct.pack(">I", rng.choice([10_000_000, 10_000_001, 0xFFFFFFFF])) + data[8:]
    elif m == "count-zero":
        data = data[:4] + struct.pack(">I", 0) + data[8:]
    elif m == "rows" and "images" in target:
        data = data[:8] + struct.pack(">I", rng.choice([0, 1, 27, 29])) + data[12:]
    elif m == "rows-huge" and "images" in target:
        data = data[:8] + struct.pack(">II", 4096, 4096) + data[16:]
    elif m == "truncated-raw":
        data = data[:rng.randrange(len(data))]
    elif m == "labels" and "labels" in target:
        b = bytearray(data)
        b[8 + rng.randrange(len(b) - 8)] = rng.choice([10, 255])
        data = bytes(b)
    elif m == "test-size" and "t10k-images" in target:
        data = idx_bytes(0x803, [n_test, rows + 1, cols], bytes((rows + 1) * cols * n_test))
    elif m == "header-only":
        data = data[:16 if "images" in target else 8]
    payload = gzip.compress(data, mtime=0)
    if m == "truncated-gz":
        payload = gz[target][:rng.randrange(1, len(gz[target]))]
    elif m == "not-gzip":
        payload = raw[target]
    elif m == "empty":
        payload = b""
    elif m == "trailing-junk":
        payload = gz[target] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif m == "multi-member":
        half = len(raw[target]) // 2
        payload = gzip.compress(raw[target][:half], mtime=0) + gzip.compress(raw[target][half:], mtime=0)
    elif m == "gz-flip":
        b = bytearray(gz[target])
        b[rng.randrange(10, len(b))] ^= 1 << rng.randrange(8)
        payload = bytes(b)
    for name, blob in gz.items():
        path = f"idx/{name}.gz"
        if name == target:
            if m == "missing":
                continue
            if m == "dir":
                case.setup.append(f"mkdir {path}")
                continue
            if m == "fifo":
                case.setup.append(f"mkfifo {path}")
                continue
            blob = payload
        case.add(path, blob)
    if "mkdir idx" not in case.setup:
        case.setup.insert(0, "mkdir idx")
    settings = {"model.kind": rng.choice(["logistic", "logistic", "mlp"]), "data.source": "fashion-mnist",
                "data.dir": "@DIR@/idx", "model.hidden": "[4]", "network.n": "4", "run.horizon": "4",
                "run.warmup": "0", "run.trials": "1", "observe.every": "2", "observe.users": "2",
                "data.train_samples": rng.choice(["0", "0", "20", "40", "41", "4"]),
                "data.test_samples": rng.choice(["0", "0", "5", "12", "13"])}
    case.args = ["simulate"] + sets(settings) + ["--json"]
    case.json = True


def gen_cli(rng, case):
    """Options and commands around the scenario keys."""
    cheap = sets(STALENESS_BASE)
    r = rng.random()
    opt = rng.choice(["--trials", "--seed", "--threads", "--out"])
    if r < 0.45:
        if opt == "--out":
            v = rng.choice(["", "@DIR@/f", "/dev/null", "/proc", "@DIR@/a\nb", "@DIR@/" + "d" * 300, "@DIR@/x/../y",
                            "/dev/full"])
            if v == "@DIR@/f":
                case.add("f", b"a file")
        else:
            v = rng.choice(NUMERIC_EDGE + ["-1", "0", "18446744073709551615", "9223372036854775808",
                                           "18446744073709551616", "4097", "4096"])
        case.args = ["simulate"] + cheap + [opt, v]
        case.tags.append(f"{opt} {v[:20]!r}")
    elif r < 0.6:
        word = rng.choice(["simulat", "SIMULATE", "sim\nulate", "\u00e9", "", "-", "--", "plot", "sweep", "theory",
                           "validate --threads 0", "--version", "--help", "help", "x" * 5000, "--bogus"])
        case.args = word.split(" ") if word.startswith("validate") else [word]
        case.tags.append(f"command {word[:20]!r}")
    elif r < 0.8:
        extra = rng.choice([["--bogus"], ["--json", "--json"], ["--set"], ["extra", "positional"], ["--json=1"],
                            ["--trials"], ["--", "--json"], ["--set", "network.n=4", "--set", "network.n=5"],
                            ["--threads", "1", "--threads", "2"], ["-h"], ["--set=network.n=5"]])
        case.args = [rng.choice(["simulate", "theory"])] + cheap + extra
        case.tags.append(" ".join(extra)[:30])
    else:
        target = rng.choice(["missing", "file", "empty dir", "newline", "dir with results.csv junk"])
        if target == "missing":
            case.args = ["plot", "@DIR@/nope"]
        elif target == "file":
            case.add("f", b"x")
            case.args = ["plot", "@DIR@/f"]
        elif target == "empty dir":
            case.setup.append("mkdir d")
            case.args = ["plot", "@DIR@/d"]
        elif target == "newline":
            case.args = ["plot", "@DIR@/a\nb"]
        else:
            case.add("d/results.csv", bytes(rng.randrange(256) for _ in range(200)))
            case.args = ["plot", "@DIR@/d"]
        case.tags.append(f"plot {target}")


def gen_overflow(rng, case):
    """Values that overflow short of infinity (issue 28): unstable quadratic and regression steps
    (|1 - lr| > 1) over horizons where the errors reach 1e100..1e300 but stay finite. Every run
    must report a number or a divergence, never inf or NaN, in simulate's output or in a sweep's
    files, and the sweep must accept its own files when it reads them back for its fits."""
    kind = rng.choice(["quadratic", "quadratic", "quadratic", "linear"])
    settings = {"model.kind": kind, "network.n": rng.choice(["2", "4", "8"]),
                "run.horizon": rng.choice(["60", "300", "560", "1100", "2000"]), "run.warmup": "10",
                "run.trials": rng.choice(["2", "3"]), "train.lr": rng.choice(["2", "2.0001", "2.5", "3", "5", "1e3"]),
                "train.steps": rng.choice(["1", "1", "2", "5"])}
    if kind == "quadratic":
        settings.update({"data.spread": rng.choice(["0", "1", "1e6"]), "data.features": rng.choice(["1", "4", "20"])})
    else:
        settings.update({"data.source": "synthetic-regression", "data.features": "3", "data.train_samples": "60",
                         "data.test_samples": "20", "observe.every": "5"})
    if rng.random() < 0.3:
        settings["train.schedule"] = rng.choice(["inverse-time", "step"])
    case.tags += [f"{kind} lr={settings['train.lr']}", f"horizon={settings['run.horizon']}"]
    if rng.random() < 0.5:
        case.args = ["simulate", "--json"] + sets(settings)
        case.json = True
        return
    sweep_axis = rng.choice(['"network.n" = [2, 4, 8]', '"train.lr" = [0.5, 3, 5]', '"run.horizon" = [60, 560]'])
    axis_key = sweep_axis.split('"')[1]
    case.add("s.toml", toml_text(tables_of(toml_settings({k: v for k, v in settings.items() if k != axis_key})),
                                 ["[sweep]", sweep_axis]))
    # The sweep reads its results.csv back for the fits and figures, as plot and --resume do.
    case.args = ["sweep", "@DIR@/s.toml", "--out", "@DIR@/res"]
    case.tags.append("sweep " + axis_key)


def gen_damaged(rng, case):
    """A finished sweep's directory damaged as disks and users damage them (issue 28): symlink
    loops, a directory where a file belongs, a torn last line, rows deleted, a stale temporary.
    plot, --resume and --force must answer 0 or 2 naming the file, never 1."""
    if "staleness" not in TEMPLATES:
        return gen_sweep(rng, case)
    files = dict(TEMPLATES["staleness"])
    target = rng.choice(["meta.json", "results.csv", "trials.csv"])
    damage = rng.choice(["loop", "dir", "torn", "deleted", "temporary"])
    name = "res/" + target
    if damage == "loop":
        del files[name]
        case.setup.append(f"symlink {target} {name}")
    elif damage == "dir":
        del files[name]
        case.setup.append(f"mkdir {name}")
    elif damage == "torn" and target != "meta.json":
        data = files[name]
        files[name] = data[:rng.randrange(max(1, data.rfind(b"\n", 0, len(data) - 1) + 2), len(data))]
    elif damage == "deleted" and target != "meta.json":
        lines = files[name].split(b"\n")
        if len(lines) > 3:
            del lines[rng.randrange(1, len(lines) - 1)]
        files[name] = b"\n".join(lines)
    else:
        files[name + ".tmp12345"] = files[name][: len(files[name]) // 2]
    for path, data in files.items():
        case.add(path, data)
    if not any(s.startswith("mkdir res") for s in case.setup):
        case.setup.insert(0, "mkdir res")
    command = rng.choice(["plot", "resume", "force"])
    case.tags += [f"{target} {damage}", command]
    case.args = {"plot": ["plot", "@DIR@/res"],
                 "resume": ["sweep", "@DIR@/s.toml", "--out", "@DIR@/res", "--resume"],
                 "force": ["sweep", "@DIR@/s.toml", "--out", "@DIR@/res", "--force"]}[command]


# ---- large n (issue 28): graphs, trackers, network layers and models of 1e5 to 4e9 users

LARGE_N = ["100000", "100001", "131072", "1000000", "1048576", "4194304", "10000000", "16777216", "67108864",
           "99999999", "100000000"]
BEYOND_N = ["100000001", "1000000000", "2147483647", "2147483648", "4294967295", "4294967296", "4294967297",
            "4000000000", "1e5", "1e8", "4e9"]  # past network.n's range, or not written as an integer
TORUS_SIDES = {2: [317, 1000, 3163, 10000, 65536], 3: [47, 100, 216, 465, 1626], 4: [18, 32, 100, 256]}
HYPERCUBE_BITS = [17, 20, 23, 24, 25, 26, 27, 32]
LARGE_TOPOLOGY_KEYS = {
    "erdos-renyi": {"network.p": ["1e-6", "1e-5", "1e-4", "0.001", "0.01", "0.1", "0.5"]},
    "random-regular": {"network.degree": ["3", "4", "8", "16", "64", "255", "256"]},
    "generalized-ring": {"network.reach": ["1", "2", "100", "10000", "1000000"],
                         "network.reach_exponent": ["0.1", "0.5", "0.9", "0.99"]},
    "clustered": {"network.clusters": ["1", "2", "1000", "100000"], "network.levels": ["1", "2", "10", "16"],
                  "network.inside": ["disconnected", "ring", "complete"], "network.head_ring": ["true"]},
    "bipartite": {"network.left": ["1", "2", "1000"]},
}
PER_USER_LAWS = ['{ dist = "uniform", low = 0.5, high = 1.5 }', '{ dist = "lognormal", median = 1, sigma = 2 }',
                 '{ dist = "two-point", value = 1, slow_value = 0.001, slow_fraction = 0.5 }']
LATENCY_LAWS = ['{ dist = "exponential", mean = 0.5 }', '{ dist = "uniform", low = 0, high = 1 }',
                '{ dist = "lognormal", median = 0.5, sigma = 1 }']


def large_n(rng, topology, dimensions):
    if topology == "torus":
        return str(rng.choice(TORUS_SIDES[dimensions]) ** dimensions)
    if topology == "hypercube":
        return str(2 ** rng.choice(HYPERCUBE_BITS))
    return rng.choice(LARGE_N if rng.random() < 0.8 else BEYOND_N)


def toml_guess(raw):
    """A --set value as TOML: numbers, booleans, tables and lists as they are, words quoted."""
    if re.fullmatch(r"[-+0-9.eE]+|true|false|\{.*\}|\[.*\]", raw):
        return raw
    return json.dumps(raw)


def gen_large(rng, case):
    """Large n (issue 28): every topology at 1e5 to 4e9 users (just below and above 2^32 too),
    trackers, the network layer, churn, per-user laws and learning models, over simulate,
    theory and 2-point sweeps. Horizons are tiny, so an accepted run only builds its state;
    under the address-space limit (--as-mb) a run must answer 0 or 2 in time, never
    std::bad_alloc (exit 1), a signal or minutes of graph building."""
    topology = rng.choice(["complete", "ring", "star", "erdos-renyi", "random-regular", "torus", "hypercube",
                           "clustered", "generalized-ring", "bipartite"])
    settings = {"network.topology": topology}
    dimensions = rng.choice([2, 2, 3, 4])
    if topology == "torus" and dimensions != 2:
        settings["network.dimensions"] = str(dimensions)
    settings["network.n"] = large_n(rng, topology, dimensions)
    case.tags += [topology, "n=" + settings["network.n"]]
    for key, values in LARGE_TOPOLOGY_KEYS.get(topology, {}).items():
        if rng.random() < 0.4:
            settings[key] = rng.choice(values)
            case.tags.append(key)
    users_model = rng.random() < 0.55
    if users_model:
        settings["staleness.model"] = "users"
        if rng.random() < 0.85:
            settings["staleness.tracked"] = str(rng.choice([1, 1, 2, 8, 64]))
    else:
        settings["staleness.model"] = "source"
        if topology == "clustered" and rng.random() < 0.3:
            settings["source.targets"] = "heads"
    case.tags.append(f"{settings['staleness.model']} tracked={settings.get('staleness.tracked', 'default')}")
    if users_model:  # the network layer and churn belong to the users model
        layer = {"gossip.latency": ["0.5"] + LATENCY_LAWS, "gossip.bandwidth": ["100", "1e6"] + PER_USER_LAWS,
                 "gossip.message_bytes": ["0", "1000", "1e9"], "gossip.loss": ["0.1", "0.5"], "gossip.busy": ["queue"],
                 "churn.model": ["markov"]}
        for key in rng.sample(sorted(layer), rng.choice([0, 0, 1, 2, 3])):
            settings[key] = rng.choice(layer[key])
            case.tags.append(key)
        if settings.get("churn.model") == "markov" and rng.random() < 0.5:
            settings["churn.online_mean"] = rng.choice(["1e-9", "1", "100"])
            settings["churn.offline_mean"] = rng.choice(["1e-9", "1", "10"])
    for key in rng.sample(["gossip.capacity", "updates.rate", "updates.delay"], rng.choice([0, 0, 1, 2])):
        if users_model or rng.random() < 0.1:  # the source model takes numbers
            settings[key] = rng.choice(PER_USER_LAWS)
            case.tags.append(key + " law")
    if rng.random() < 0.3:
        kind = rng.choice(["quadratic", "quadratic", "quadratic", "linear", "logistic", "mlp"])
        settings["model.kind"] = kind
        settings["data.features"] = rng.choice(["1", "100", "10000", "100000", "100000", "1000000"])
        if kind == "quadratic":
            settings["data.spread"] = rng.choice(["0", "1"])
        else:
            settings["data.source"] = "synthetic-regression" if kind == "linear" else "synthetic-mixture"
            settings["data.train_samples"] = rng.choice(["1000", settings["network.n"]])
            settings["data.test_samples"] = "100"
            if kind == "mlp":
                settings["model.hidden"] = rng.choice(["[4]", "[1000]", "[100000]"])
        case.tags.append(f"{kind} features={settings['data.features']}")
    settings.update({"run.horizon": rng.choice(["1e-6", "1e-5", "1e-4", "1e-3"]), "run.warmup": "0",
                     "run.trials": rng.choice(["1", "1", "2"])})
    command = rng.choice(["simulate"] * 5 + ["theory"] * 4 + ["sweep"] * 2)
    case.tags.append(command)
    if command != "sweep":
        case.args = [command] + sets(settings)
        if rng.random() < 0.7:
            case.args.append("--json")
            case.json = True
        return
    axis = rng.choice(["network.n", "network.n", "run.horizon"] +
                      (["staleness.tracked"] if "staleness.tracked" in settings else []))
    values = {"network.n": [settings["network.n"], large_n(rng, topology, dimensions)],
              "run.horizon": ["1e-6", "1e-5"], "staleness.tracked": ["1", "64"]}[axis]
    values = sorted(set(values), key=values.index)  # the same n drawn twice: a one-point axis
    settings.pop(axis, None)
    case.add("s.toml", toml_text(tables_of({k: toml_guess(v) for k, v in settings.items()}),
                                 ["[sweep]", f'"{axis}" = [{", ".join(toml_guess(v) for v in values)}]']))
    case.args = ["sweep", "@DIR@/s.toml", "--out", "@DIR@/res"]
    case.tags.append("axis " + axis)


# ---- the Python module (issue 28): timely.simulate, theory, sweep, read_results and keys

# Python expressions (source text) for an argument or a scenario value: wrong types, huge
# ints, non-finite floats, lone surrogates (os.fsdecode's text for a name that is not UTF-8),
# control characters, nested tables, bytes, None. None of them raises on its own.
PY_VALUES = ["None", "True", "False", "0", "-1", "6", "2**31", "2**63", "2**64", "-2**63 - 1", "10**400", "1e308",
             "float('nan')", "float('inf')", "float('-inf')", "-0.0", "5e-324", "'\\udcff'", "'s\\udcff.toml'",
             "'a\\nb'", "'a\\rb'", "'\\x00'", "'\\x1b[31m'", "'\\u2028'", "''", "'x' * 5000", "b'6'",
             "bytearray(b'6')", "[6]", "[]", "(6,)", "{}", "{'a': {'b': {'c': 1}}}", "{'\\udcff': 1}", "{1: 2}",
             "{'dist': {'x': float('nan')}}", "object()", "1j", "numpy.int64(6)", "numpy.float64('nan')",
             "numpy.array([6])", "numpy.bool_(True)", "numpy.uint64(2**64 - 1)", "pathlib.Path('x')", "set()",
             "range(3)", "len", "...", "fractions.Fraction(10**400, 3)", "decimal.Decimal('nan')"]
PY_KEYS = ["'\\udcff'", "'network.\\udcff'", "'network.n\\n'", "'network.n\\x00'", "5", "('network', 'n')",
           "'network'", "'sweep'", "''", "'.'", "'network.'", "b'network.n'", "'network.n=6'", "None"]
PY_AXES = ["{'network.n': [4, float('nan')]}", "{'network.n': {'from': 4, 'to': 10**400, 'times': 2}}",
           "{'\\udcff': [1, 2]}", "{'network.n': []}", "{'network.n': 4}", "[4, 6]", "{'network.n': [4, '\\udcff']}",
           "{'network.n': {'from': 4, 'to': 8, 'step': 1e-300}}", "{'network.topology': ['ring', 'a\\nb']}",
           "{'network.n': [4, None]}", "{'network.n': {'from': 4, 'to': 8, 'times': 2, 'x': b''}}"]
PY_SCENARIO = {"network.n": "6", "run.horizon": "10", "run.warmup": "0", "run.trials": "1"}
PY_VALID = {"network.n": ["4", "6"], "run.horizon": ["5", "10.0"], "run.warmup": ["0", "'auto'"],
            "run.trials": ["1", "2"], "network.topology": ["'ring'", "'complete'"], "run.seed": ["0", "2**64 - 1"],
            "gossip.capacity": ["2", "{'dist': 'uniform', 'low': 0.5, 'high': 1.5}"],
            "gossip.latency": ["0.1", "{'dist': 'exponential', 'mean': 0.2}"], "updates.rate": ["1", "0.5"],
            "staleness.model": ["'source'", "'users'"], "churn.model": ["'none'", "'markov'"]}
PY_ARGUMENTS = {  # the arguments of each function (python/timely/__init__.py)
    "simulate": ["scenario", "set", "trials", "seed", "threads", "max_events", "progress"],
    "theory": ["scenario", "set"],
    "sweep": ["sweep", "out", "resume", "force", "quick", "threads", "max_events", "progress", "name", "as_frame"],
    "read_results": ["directory", "table", "as_frame"],
    "keys": [],
}
PY_VALID_ARGUMENTS = {"trials": ["1", "2"], "seed": ["0", "7", "2**64 - 1"], "threads": ["None", "1", "2"],
                      "max_events": ["1e7", "10**7"], "progress": ["False", "None", "lambda *a: None"],
                      "resume": ["False"], "force": ["True", "False"], "quick": ["True", "False"],
                      "name": ["'sweep'", "'my sweep'"], "as_frame": ["False", "None"], "out": ["'res'"],
                      "table": ["'results'", "'trials'"], "directory": ["'res'", "pathlib.Path('res')"]}
PY_PATHS = ["'\\udcff'", "'s\\udcff.toml'", "'a\\nb'", "''", "'.'", "'/'", "'/dev/null'", "'/dev/zero'", "'/proc'",
            "b's.toml'", "pathlib.Path('s.toml')", "'x' * 5000", "'\\x00'", "'missing.toml'", "5", "None", "['s.toml']"]
PY_PROGRAM = '''\
import decimal, fractions, json, math, pathlib, sys
import numpy


def first_nonfinite(node, path="result"):
    """The first NaN or infinity among a result's dicts and lists (not its numpy columns, where
    NaN marks a row without the value)."""
    if isinstance(node, float):
        return None if math.isfinite(node) else path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if key not in ("per_trial", "learning_curves"):
            found = first_nonfinite(value, f"{path}[{key!r}]")
            if found:
                return found
    return None


try:
    import timely
    result = CALL
except BaseException as e:  # the fuzzer judges the class and the message
    print(json.dumps({"raised": type(e).__name__, "message": str(e)}))
else:
    print(json.dumps({"nonfinite": first_nonfinite(result)}))
'''


def py_names(source):
    """How a message may name a key given as Python source: as the text itself, or as written."""
    try:
        return [str(ast.literal_eval(source)), source.strip("'")]
    except (ValueError, SyntaxError):
        return [source]


def py_dict(entries):
    return "{" + ", ".join(f"{k}: {v}" for k, v in entries) + "}"


def py_scenario_entries(rng, case, base):
    """A cheap scenario as (key source, value source) pairs, with 0 to 2 keys or values fuzzed."""
    entries = [(repr(k), v) for k, v in base.items()]
    for _ in range(rng.choice([0, 1, 1, 2])):
        if rng.random() < 0.25:
            key = rng.choice(PY_KEYS)
            entries.append((key, rng.choice(PY_VALUES + ["6", "{'n': 6}"])))
            case.tags.append(f"key {key}")
            case.names += py_names(key)
            continue
        key = rng.choice(sorted(PY_VALID) + ["network.n", "run.horizon", "run.trials"])
        value = rng.choice(PY_VALID.get(key, ["1"])) if rng.random() < 0.25 else rng.choice(PY_VALUES)
        entries = [(k, v) for k, v in entries if k != repr(key)] + [(repr(key), value)]
        case.tags.append(f"{key}={value[:30]}")
        case.names.append(key)
    return entries


def py_scenario(rng, case):
    """Source text of a scenario argument: a dict (dotted or tables), a TOML file's path, or None."""
    form = rng.random()
    entries = py_scenario_entries(rng, case, PY_SCENARIO)
    if form < 0.55:
        return py_dict(entries)
    if form < 0.7:  # tables: {"network": {"n": 6}}
        tables = {}
        for k, v in entries:
            table, _, name = k.strip("'").partition(".")
            tables.setdefault(repr(table), []).append((repr(name), v) if name else ("'x'", v))
        return py_dict([(t, py_dict(e)) for t, e in tables.items()])
    if form < 0.85:
        name = rng.choice(["s.toml", "s.toml", "s\udcff.toml", "a b.toml", "s\nx.toml"])
        case.add(name, toml_text(tables_of(toml_settings(PY_SCENARIO))))
        if rng.random() < 0.3:
            path = rng.choice(PY_PATHS)
            case.tags.append(f"path {path}")
            return path
        return rng.choice([repr(name), f"pathlib.Path({name!r})"])
    return "None"


def py_set(rng, case):
    """Source text of set=: a dict, a list of "key=value" strings, one string, or a wrong type."""
    r = rng.random()
    if r < 0.5:
        return py_dict(py_scenario_entries(rng, case, {}))
    if r < 0.8:
        items = [repr(f"{k}={v}") for k, v in PY_SCENARIO.items() if rng.random() < 0.3]
        bad = rng.choice(["'network.n=\\udcff'", "'\\udcff=6'", "'network.n'", "'=6'", "b'network.n=6'", "6", "None",
                          "'network.n=6\\nrun.trials=2'", "['network.n=6']", "'network.n=' + 'x' * 5000"])
        items.insert(rng.randrange(len(items) + 1), bad)
        case.tags.append(f"set item {bad[:30]}")
        return "[" + ", ".join(items) + "]"
    value = rng.choice(PY_VALUES + ["'network.n=6'"])
    case.tags.append(f"set {value[:30]}")
    return value


def gen_python(rng, case):
    """timely.simulate/theory/sweep/read_results/keys with fuzzed arguments. The Python contract
    (docs/interface.md, "From Python"): a result, ValueError, or TypeError naming the argument,
    each with a one-line message; never another exception, a crash or a hang."""
    if not PYTHON:
        case.family = "set"
        return gen_set(rng, case)
    function = rng.choice(["simulate"] * 4 + ["theory"] * 2 + ["sweep"] * 2 + ["read_results"] * 2 + ["keys"])
    case.program = "python"
    case.names.append(function)
    first = None          # the first positional argument
    keywords = {}         # name -> source text
    if function in ("simulate", "theory"):
        first = py_scenario(rng, case)
        case.names.append("scenario")
        if first == "None" or rng.random() < 0.3:
            # set= carries the cheap scenario when there is none (the default one runs for seconds)
            keywords["set"] = py_dict([(repr(k), v) for k, v in PY_SCENARIO.items()])
        if function == "simulate":
            keywords.update(max_events="1e7", progress="False")
    elif function == "sweep":
        axis = rng.choice(["{'network.n': [4, 6]}", "{'network.n': {'from': 4, 'to': 8, 'times': 2}}",
                           "{'run.horizon': [5, 10]}"])
        if rng.random() < 0.3:
            axis = rng.choice(PY_AXES)
            case.tags.append(f"axis {axis[:40]}")
        if rng.random() < 0.2:
            case.add("sw.toml", toml_text(tables_of(toml_settings({**PY_SCENARIO, "run.horizon": "5"})),
                                          ["[sweep]", '"network.n" = [4, 6]']))
            first = rng.choice(["'sw.toml'", "pathlib.Path('sw.toml')"])
        else:
            entries = py_scenario_entries(rng, case, {**PY_SCENARIO, "run.horizon": "5"})
            first = py_dict(entries + [("'sweep'", axis)])
        case.names.append("sweep")
        keywords.update(out="'res'", progress="False", max_events="1e7", as_frame="False")
    elif function == "read_results":
        if "staleness" in TEMPLATES:
            files = dict(TEMPLATES["staleness"])
            name = rng.choice(["res/results.csv", "res/trials.csv"])
            r = rng.random()
            if r < 0.3:  # damaged as the resume family damages it
                data, special = mutate_csv(rng, files[name], case.tags, name[4:])
                files[name] = data if special is None else b""
            elif r < 0.5:  # a row that is not UTF-8, a torn quote, a NUL
                row = rng.choice([b"1,\xff\n", b'1,"torn\n', b"\x00\n", b"\xef\xbb\xbf\n"])
                files[name] += row
                case.tags.append(f"{name[4:]} row {row!r}")
            for name, data in files.items():
                case.add(name, data)
        first = "'res'"
        keywords.update(table=rng.choice(["'results'", "'trials'"]), as_frame=rng.choice(["False", "None"]))
    extra_positional = []
    for _ in range(rng.choice([0, 1, 1, 2])):  # none: the scenario or the files carry the fault, or none does
        if function == "keys" or rng.random() < 0.1:  # an argument the function does not have
            extra = rng.choice(["bogus=1", "1", "scenario=None", "set={}", "x=float('nan')"])
            name, _, value = extra.partition("=")
            if value:
                keywords[name] = value
            else:
                extra_positional.append(extra)
            case.tags.append(f"extra {extra}")
            case.names.append(name)
            continue
        name = rng.choice(PY_ARGUMENTS[function])
        if name in ("scenario", "sweep", "directory"):
            first = rng.choice(PY_PATHS + PY_VALUES) if name != "scenario" else py_scenario(rng, case)
        elif name == "set":
            keywords["set"] = py_set(rng, case)
        else:
            # a callable progress is called: its own exception would come back as itself
            values = [v for v in PY_VALUES if name != "progress" or v != "len"]
            keywords[name] = rng.choice(values + (PY_PATHS if name == "out" else []) + PY_VALID_ARGUMENTS.get(name, []))
        case.tags.append(f"{name}={(first if name in ('scenario', 'sweep', 'directory') else keywords[name])[:30]}")
        case.names.append(name)
    positional = ([first] if first is not None else []) + extra_positional
    call = ", ".join(positional + [f"{k}={v}" for k, v in keywords.items()])
    case.script = PY_PROGRAM.replace("CALL", f"timely.{function}({call})")
    case.args = ["-c", case.script]


FAMILIES = [(gen_set, 24), (gen_toml, 18), (gen_learning, 12), (gen_sweep, 12), (gen_edges, 12), (gen_resume, 12),
            (gen_idx, 6), (gen_cli, 4), (gen_churn, 8), (gen_overflow, 6), (gen_damaged, 6), (gen_large, 8),
            (gen_python, 8)]


def make_case(seed, index):
    rng = random.Random(f"{seed}:{index}")
    total = sum(w for _, w in FAMILIES)
    x = rng.uniform(0, total)
    for gen, w in FAMILIES:
        if x < w:
            break
        x -= w
    case = Case(index, gen.__name__[4:])
    gen(rng, case)
    return case

# ----------------------------------------------------------------------------------------
# Running and classifying

NAN_TOKEN = re.compile(r"(?<![A-Za-z0-9_.])[-+]?(nan|inf|infinity)(?![A-Za-z0-9_])", re.IGNORECASE)
PRLIMIT = shutil.which("prlimit")
PYTHON = {}  # the python family's interpreter, environment and package directory (probe_python)


def probe_python(package_dir, interpreter):
    """Finds an interpreter that imports the timely package in package_dir and keeps it in
    PYTHON; returns why none does, or None."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (package_dir, os.environ.get("PYTHONPATH")) if p))
    why = f"{package_dir}/timely does not exist"
    if not os.path.isdir(os.path.join(package_dir, "timely")):
        return why
    for exe in [interpreter] if interpreter else [sys.executable, "/usr/bin/python3"]:
        try:
            p = subprocess.run([exe, "-c", "import timely"], env=env, capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            why = f"{exe}: {e}"
            continue
        if p.returncode == 0:
            PYTHON.update(interpreter=exe, env=env, path=package_dir)
            return None
        why = f"{exe} cannot import timely from {package_dir}: " + \
            (p.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
    return why


def apply_setup(root, lines):
    for line in lines:
        parts = line.split(" ")
        if parts[0] == "mkfifo":
            os.makedirs(os.path.dirname(os.path.join(root, parts[1])) or root, exist_ok=True)
            os.mkfifo(os.path.join(root, parts[1]))
        elif parts[0] == "mkdir":
            os.makedirs(os.path.join(root, parts[1]), exist_ok=True)
        elif parts[0] == "symlink":
            os.makedirs(os.path.dirname(os.path.join(root, parts[2])) or root, exist_ok=True)
            os.symlink(parts[1], os.path.join(root, parts[2]))


def write_inputs(root, files, setup):
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    apply_setup(root, setup)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)  # the group we created for this child (start_new_session)
    except OSError:
        pass
    p.wait()


def execute(binary, args, files, setup, timeout, mem_mb, fsize_mb=512, absent=(), as_mb=None, data_mb=None, env=None):
    """Runs one case in a fresh directory (binary: timely, or the python family's interpreter),
    under an address-space limit of as_mb and a data-segment limit of data_mb when given.
    Returns a dict with the raw outcome."""
    top = tempfile.mkdtemp(prefix="timely_fuzz_")
    work = os.path.join(top, "w")
    os.makedirs(work)
    try:
        write_inputs(work, files, setup)
        before = {}
        for dirpath, _, names in os.walk(work):
            for n in names:
                p = os.path.join(dirpath, n)
                try:
                    if os.path.isfile(p) and not os.path.islink(p):
                        before[p] = os.path.getsize(p), os.path.getmtime(p)
                except OSError:
                    pass
        argv = [a.replace("@DIR@", work).replace("@NL@", "\n") for a in args]
        cmd = [binary] + argv
        if PRLIMIT:
            cmd = [PRLIMIT, "--core=0", f"--fsize={fsize_mb << 20}"] + ([f"--as={as_mb << 20}"] if as_mb else []) + \
                ([f"--data={data_mb << 20}"] if data_mb else []) + ["--"] + cmd
        out_path, err_path = os.path.join(top, "stdout"), os.path.join(top, "stderr")
        start = time.monotonic()
        kind = None
        peak = 0
        with open(out_path, "wb") as so, open(err_path, "wb") as se:
            p = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=so, stderr=se, start_new_session=True,
                                 env=env)
            delay = 0.005
            while True:
                try:
                    p.wait(timeout=delay)
                    break
                except subprocess.TimeoutExpired:
                    pass
                delay = min(delay * 2, 0.1)
                rss = rss_kib(p.pid)
                peak = max(peak, rss)
                if rss > mem_mb * 1024:
                    kill_group(p)
                    kind = "memory"
                    break
                if time.monotonic() - start > timeout:
                    kill_group(p)
                    kind = "hang"
                    break
        wall = time.monotonic() - start
        with open(out_path, "rb") as f:
            stdout = f.read((4 << 20) + 1)
        # Only the first 4 MB are judged: a JSON document cut there cannot be parsed, so it is
        # scanned for NaN/Infinity tokens instead (a theory of 10^6 users lists every user).
        stdout_truncated = len(stdout) > 4 << 20
        stdout = stdout[: 4 << 20]
        with open(err_path, "rb") as f:
            stderr = f.read(1 << 20)
        written = []
        injected = None
        for dirpath, _, names in os.walk(work):
            for n in names:
                path = os.path.join(dirpath, n)
                if n == "INJECTED":
                    injected = os.path.relpath(path, work)
                if not (n.endswith(".csv") or n.endswith(".json")) or os.path.islink(path):
                    continue
                try:
                    if not os.path.isfile(path):
                        continue
                    st = (os.path.getsize(path), os.path.getmtime(path))
                    if before.get(path) == st or st[0] > (64 << 20):
                        continue
                    with open(path, "rb") as f:
                        written.append((os.path.relpath(path, work), f.read()))
                except OSError:
                    pass
        present = [a for a in absent if os.path.lexists(os.path.join(work, a))]
        return {"present": present, "rc": p.returncode, "kind": kind, "stdout": stdout, "stderr": stderr, "wall": wall, "work": work,
                "written": written, "injected": injected, "peak_kib": peak,
                "stdout_truncated": stdout_truncated}
    finally:
        shutil.rmtree(top, ignore_errors=True)


def null_numbers(node, path="$"):
    """Paths of nulls where a number belongs: "mean": null and nulls inside lists."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if v is None and k == "mean":
                found.append(f"{path}.{k}")
            else:
                found += null_numbers(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if v is None:
                found.append(f"{path}[{i}]")
            else:
                found += null_numbers(v, f"{path}[{i}]")
    return found


def json_problems(text):
    bad = []

    def constant(name):
        bad.append(name)
        return 0.0
    try:
        doc = json.loads(text, parse_constant=constant)
    except ValueError as e:
        return [f"not JSON ({str(e)[:60]})"]
    return [f"{c} number" for c in bad] + [f"null number at {p}" for p in null_numbers(doc)[:3]]


def csv_problems(text):
    lines = text.splitlines()
    if not lines:
        return []
    header = lines[0].split(",")
    bad = []
    for line in lines[1:]:
        for i, field in enumerate(line.split(",")):
            col = header[i] if i < len(header) else "?"
            if "." in col:  # an axis column echoes the sweep file's values
                continue
            if NAN_TOKEN.fullmatch(field.strip()):
                bad.append(f"{col}={field.strip()}")
    return bad[:3]


def line_breaks(text):
    return text.count("\n") + text.count("\r")


def classify(case, res):
    """(class, detail) where class 'ok' and 'bad-input' pass."""
    rc, kind = res["rc"], res["kind"]
    err = res["stderr"].decode("utf-8", "replace")
    out = res["stdout"].decode("utf-8", "replace")
    if kind == "hang":
        return "hang", ""
    if kind == "memory":
        return "memory", f"rss above limit"
    if res["injected"]:
        return "injection", "a file named INJECTED was created (gnuplot command injection)"
    if rc < 0:
        if -rc == signal.SIGXFSZ:
            return "output-blowup", "SIGXFSZ (output file above the size limit)"
        return "signal", signal.Signals(-rc).name
    if case.program == "python":
        return classify_python(case, res)
    if rc == 0:
        if case.json:
            if res.get("stdout_truncated"):
                token = NAN_TOKEN.search(out)
                probs = [f"{token.group(0)} in the first 4 MB"] if token else []
            else:
                probs = json_problems(out)
            if probs:
                return "json-nan-null", "; ".join(probs)
        elif NAN_TOKEN.search(out):
            return "stdout-nan", NAN_TOKEN.search(out).group(0)
        return written_problems(res) or ("ok", "")
    if rc == 2:
        if not err.endswith("\n") or line_breaks(err) != 1:
            return "exit2-lines", f"{line_breaks(err)} line breaks"
        if not err.startswith("timely: error: "):
            return "exit2-format", err[:80]
        return "bad-input", ""
    if rc == 1:
        return "exit1", ""
    return f"exit{rc}", ""


def written_problems(res):
    """("file-nan-null", detail) for the first CSV/JSON file the run wrote with nan/inf, else None."""
    for name, data in res["written"]:
        text = data.decode("utf-8", "replace")
        probs = csv_problems(text) if name.endswith(".csv") else json_problems(text)
        if probs:
            return "file-nan-null", f"{name}: {'; '.join(probs)}"
    return None


def classify_python(case, res):
    """The python family's outcome, which the child prints as one JSON line (PY_PROGRAM): the
    result's first non-finite number, or the exception raised. ValueError, and TypeError naming
    one of the case's arguments or keys, with a one-line message, are bad input; any other
    exception (a subclass of ValueError too), a longer message or other output are failures."""
    lines = res["stdout"].decode("utf-8", "surrogateescape").splitlines()
    try:
        outcome = json.loads(lines[0]) if res["rc"] == 0 and len(lines) == 1 else None
    except ValueError:
        outcome = None
    if not isinstance(outcome, dict):
        return "py-output", f"exit {res['rc']}, {len(lines)} lines on stdout"
    if "raised" not in outcome:
        if outcome.get("nonfinite"):
            return "py-nan", outcome["nonfinite"]
        return written_problems(res) or ("ok", "")
    raised = outcome["raised"]
    message = outcome["message"].encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates shown
    if line_breaks(message):
        first_line = re.split(r"[\r\n]", message)[0]
        return "py-lines", f"{raised} in {line_breaks(message) + 1} lines: {first_line[:300]}"
    if raised not in ("ValueError", "TypeError"):
        return "py-exception", f"{raised}: {message[:300]}"
    if raised == "TypeError" and not any(name and name in message for name in case.names):
        return "py-typeerror-unnamed", message[:300]
    return "bad-input", ""


PASSING = ("ok", "bad-input")


def normalise(line, work):
    line = line.replace(work, "<DIR>")
    line = re.sub(r"/tmp/timely_fuzz_[A-Za-z0-9_]+/w", "<DIR>", line)
    line = re.sub(r"'[^']*'", "'Q'", line)
    line = re.sub(r'"[^"]*"', '"Q"', line)
    line = re.sub(r"\(full log: [^)]*\)", "(full log: L)", line)
    line = re.sub(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", "N", line)
    line = re.sub(r"\s+", " ", line).strip()
    return line[:200]


def signature(case, cls, detail, res):
    err = res["stderr"].decode("utf-8", "replace")
    first = next((l for l in err.splitlines() if l.strip() and not l.startswith("sweep ") and
                  not l.startswith("  figure")), "")
    if case.family == "large" and cls not in PASSING:
        # the std::bad_alloc or the hang of one topology and staleness model, whatever n and the other keys
        model = next(t.split()[0] for t in case.tags if "tracked=" in t)
        return f"{cls}: large: {case.tags[0]}, {model}: {normalise(first, res['work'])}"
    if cls in ("hang", "memory", "output-blowup"):
        return f"{cls}: {case.family}: {', '.join(sorted(set(t[:40] for t in case.tags)))}"
    if cls == "exit2-lines":
        m = re.match(r"timely: error: ([^:]*(:[^:]*)?)", err)
        head = normalise(m.group(1), res["work"]) if m else normalise(err.splitlines()[0] if err else "", res["work"])
        return f"{cls}: {head}"
    if cls in ("json-nan-null", "file-nan-null", "stdout-nan"):
        d = re.sub(r"\[\d+\]", "[i]", detail)
        return f"{cls}: {case.family}: {normalise(d, res['work'])}"
    if cls == "signal":
        return f"signal {detail}: {case.family}: {normalise(first, res['work'])}"
    if cls.startswith("py-"):
        return f"{cls}: {normalise(detail, res['work'])}"
    return f"{cls}: {normalise(first, res['work'])}"


def write_reproducer(dest, case, cls, detail, res, expect="0|2"):
    """A failure in the corpus format; a python case as script.py (run in the directory with
    PYTHONPATH at the package), which --replay also runs."""
    os.makedirs(dest, exist_ok=True)
    write_inputs(dest, case.files, [])
    if case.program == "python":
        with open(os.path.join(dest, "script.py"), "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(case.script)
    else:
        with open(os.path.join(dest, "args"), "w", encoding="utf-8", errors="surrogateescape") as f:
            for a in case.args:
                f.write(a.replace("\n", "@NL@") + "\n")  # one argument per line; @NL@ = a newline
    if case.setup:
        with open(os.path.join(dest, "setup"), "w") as f:
            f.write("\n".join(case.setup) + "\n")
    if case.program != "python":
        with open(os.path.join(dest, "expect"), "w") as f:
            f.write(expect + "\n")
    if res.get("injected"):
        with open(os.path.join(dest, "absent"), "w") as f:
            f.write(res["injected"] + "\n")
    with open(os.path.join(dest, "info.txt"), "w", encoding="utf-8") as f:
        f.write(f"case {case.index} family {case.family}\nclass {cls} {detail}\nexit {res['rc']} "
                f"kind {res['kind']} wall {res['wall']:.2f} s peak rss {res['peak_kib'] // 1024} MiB\n"
                f"mutated: {case.tags}\n")
        if case.program == "python":
            f.write(f"run: cd {dest} && PYTHONPATH={PYTHON['path']} {PYTHON['interpreter']} script.py\n")
        else:
            f.write(f"argv: {case.args!r}\n")
        f.write("--- stderr (head)\n")
        f.write(res["stderr"][:2000].decode("utf-8", "replace"))


# ----------------------------------------------------------------------------------------
# Corpus replay (the same checks as tests/app/fuzz_corpus_test.cpp)

def load_corpus_case(path):
    with open(os.path.join(path, "args"), encoding="utf-8", errors="surrogateescape") as f:
        args = f.read().split("\n")
    if args and args[-1] == "":
        args.pop()
    with open(os.path.join(path, "expect")) as f:
        expect = f.read().strip()
    setup = []
    if os.path.exists(os.path.join(path, "setup")):
        with open(os.path.join(path, "setup")) as f:
            setup = [l.strip() for l in f if l.strip()]
    absent = []
    if os.path.exists(os.path.join(path, "absent")):
        with open(os.path.join(path, "absent")) as f:
            absent = [l.strip() for l in f if l.strip()]
    stderr_has = None
    if os.path.exists(os.path.join(path, "stderr_has")):
        with open(os.path.join(path, "stderr_has")) as f:
            stderr_has = f.read().rstrip("\n")
    files = {}
    for dirpath, _, names in os.walk(path):
        for n in names:
            rel = os.path.relpath(os.path.join(dirpath, n), path)
            if rel in ("args", "expect", "setup", "absent", "stderr_has", "info.txt"):
                continue
            with open(os.path.join(dirpath, n), "rb") as f:
                files[rel] = f.read()
    return args, expect, setup, absent, stderr_has, files


def replay_python(path):
    """A python reproducer (script.py, see write_reproducer): (case, its input files and setup)."""
    case = Case(0, "python")
    case.program = "python"
    with open(os.path.join(path, "script.py"), encoding="utf-8", errors="surrogateescape") as f:
        case.script = f.read()
    case.args = ["-c", case.script]
    call = next(l for l in case.script.splitlines() if l.startswith("    result = "))
    case.names = re.findall(r"[\w.]+", call)  # what a TypeError may name: the arguments and keys passed
    if os.path.exists(os.path.join(path, "setup")):
        with open(os.path.join(path, "setup")) as f:
            case.setup = [l.strip() for l in f if l.strip()]
    for dirpath, _, names in os.walk(path):
        for n in names:
            rel = os.path.relpath(os.path.join(dirpath, n), path)
            if rel not in ("script.py", "setup", "info.txt"):
                with open(os.path.join(dirpath, n), "rb") as f:
                    case.files[rel] = f.read()
    return case


def replay(binary, corpus, timeout):
    failed = skipped = 0
    names = sorted(d for d in os.listdir(corpus) if os.path.isdir(os.path.join(corpus, d)))
    for name in names:
        if os.path.exists(os.path.join(corpus, name, "script.py")):
            case = replay_python(os.path.join(corpus, name))
            if not PYTHON:
                print(f"SKIP {name}: a python case, and no interpreter imports the timely package")
                skipped += 1
                continue
            res = execute(PYTHON["interpreter"], case.args, case.files, case.setup, timeout, 4096, env=PYTHON["env"])
            args, expect, absent, stderr_has = case.args, "0", [], None
        else:
            args, expect, setup, absent, stderr_has, files = load_corpus_case(os.path.join(corpus, name))
            case = Case(0, "corpus")
            case.args, case.files, case.setup = args, files, setup
            case.json = "--json" in args
            # RLIMIT_DATA as in the corpus test: a runaway allocation fails fast
            res = execute(binary, args, files, setup, timeout, 4096, absent=absent, data_mb=4096)
        cls, detail = classify(case, res)
        problems = []
        if res["kind"]:
            problems.append(res["kind"])
        elif res["rc"] < 0:
            problems.append(f"signal {signal.Signals(-res['rc']).name}")
        elif str(res["rc"]) not in expect.split("|"):
            problems.append(f"exit {res['rc']}, expected {expect}")
        if cls not in PASSING and cls not in ("hang", "memory", "signal") and not re.fullmatch(r"exit\d+", cls):
            problems.append(f"{cls} {detail}")
        if res["present"]:
            problems.append("created " + ", ".join(res["present"]))
        if stderr_has and stderr_has not in res["stderr"].decode("utf-8", "replace"):
            problems.append(f"stderr lacks {stderr_has!r}")
        err = res["stderr"].decode("utf-8", "replace").strip().splitlines()
        status = "PASS" if not problems else "FAIL"
        failed += bool(problems)
        print(f"{status} {name} ({res['wall']:.2f} s): {'; '.join(problems) if problems else 'exit ' + str(res['rc'])}"
              + (f"\n      stderr: {err[0][:150]}" if problems and err else ""))
    print(f"{len(names) - failed - skipped}/{len(names)} cases pass" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0

# ----------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--cases", type=int, default=0, help="run exactly this many cases (overrides --minutes)")
    ap.add_argument("--first", type=int, default=0, help="index of the first case")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="fuzz-out")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds before a run counts as a hang")
    ap.add_argument("--max-events", default="1e7",
                    help="passed to simulate, sweep and theory cases that do not set it: the work the program accepts is "
                         "bounded by this flag, so a run past --timeout is a hang, not an accepted long run")
    ap.add_argument("--mem-mb", type=int, default=2048, help="resident memory above which a run is killed")
    ap.add_argument("--as-mb", type=int, default=4096,
                    help="address-space limit of the large family's runs (prlimit --as), which must answer 0 or 2 "
                         "under it; their resident-memory cap is raised to match")
    ap.add_argument("--large-timeout", type=float, default=60.0,
                    help="seconds before a large-family run counts as a hang (building a graph for minutes is one)")
    ap.add_argument("--python-path", help="the directory holding the built timely package, for the python family "
                                          "(default: python/ next to the binary)")
    ap.add_argument("--python", help="the interpreter of the python family (default: this one or /usr/bin/python3, "
                                     "the first that imports the package: the module is built for one)")
    ap.add_argument("--keep", type=int, default=3, help="reproducers kept per distinct signature")
    ap.add_argument("--replay", metavar="CORPUS_DIR", help="run the corpus cases instead of fuzzing")
    ap.add_argument("--show", type=int, metavar="INDEX", help="print the generated case INDEX and exit")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    python_path = os.path.abspath(a.python_path or os.path.join(os.path.dirname(binary), "python"))
    python_missing = probe_python(python_path, a.python)
    if python_missing:
        print(f"fuzz: no python family (its cases run the set family instead): {python_missing}; "
              f"see --python-path and --python", file=sys.stderr)
    if a.replay:
        sys.exit(replay(binary, a.replay, a.timeout))
    os.makedirs(a.out, exist_ok=True)
    make_templates(binary, os.path.abspath(a.out))
    if a.show is not None:
        c = make_case(a.seed, a.show)
        print(c.family, c.tags, c.args, c.setup, {k: v[:200] for k, v in c.files.items()})
        return
    deadline = time.monotonic() + a.minutes * 60
    counts, sigs = {}, {}
    lock = threading.Lock()
    fail_dir = os.path.join(a.out, "failures")
    os.makedirs(fail_dir, exist_ok=True)
    log = open(os.path.join(a.out, "log.txt"), "w")
    started = time.monotonic()

    def one(index):
        case = make_case(a.seed, index)
        if case.program == "python":
            res = execute(PYTHON["interpreter"], case.args, case.files, case.setup, a.timeout, a.mem_mb,
                          env=PYTHON["env"])
        else:
            if case.args and case.args[0] in ("simulate", "sweep", "theory") and "--max-events" not in case.args:
                case.args = list(case.args) + ["--max-events", a.max_events]
            if case.family == "large":
                res = execute(binary, case.args, case.files, case.setup, a.large_timeout, max(a.mem_mb, a.as_mb),
                              as_mb=a.as_mb)
            else:
                res = execute(binary, case.args, case.files, case.setup, a.timeout, a.mem_mb)
        cls, detail = classify(case, res)
        with lock:
            counts[cls] = counts.get(cls, 0) + 1
            log.write(f"{index} {case.family} {cls} rc={res['rc']} {res['wall']:.2f}s {case.tags}\n")
            if cls in PASSING:
                return
            sig = signature(case, cls, detail, res)
            entry = sigs.setdefault(sig, {"class": cls, "count": 0, "cases": [], "reproducers": []})
            entry["count"] += 1
            entry["cases"].append(index)
            if len(entry["reproducers"]) < a.keep:
                h = hashlib.sha1(sig.encode()).hexdigest()[:8]
                dest = os.path.join(fail_dir, f"{cls}-{h}-{index}")
                write_reproducer(dest, case, cls, detail, res)
                entry["reproducers"].append(os.path.relpath(dest, a.out))
            log.flush()

    index = a.first
    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        pending = set()
        while True:
            if a.cases:
                if index >= a.first + a.cases:
                    break
            elif time.monotonic() >= deadline:
                break
            while len(pending) >= a.jobs * 2:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    f.result()
            pending.add(pool.submit(one, index))
            index += 1
        for f in pending:
            f.result()
    total = sum(counts.values())
    summary = {"binary": binary, "python": f"none ({python_missing})" if python_missing else
               f"{PYTHON['interpreter']}, PYTHONPATH={python_path}",
               "seed": a.seed, "cases": total, "first": a.first, "last": index - 1,
               "seconds": round(time.monotonic() - started, 1), "jobs": a.jobs, "counts": dict(sorted(counts.items())),
               "signatures": dict(sorted(sigs.items(), key=lambda kv: (kv[1]["class"], -kv[1]["count"])))}
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, ensure_ascii=False)
    lines = [f"timely fuzz: seed {a.seed}, {total} cases ({a.first}..{index - 1}) in {summary['seconds']} s, "
             f"{a.jobs} jobs, binary {binary}", f"python family: {summary['python']}", "", "counts per class:"]
    for cls, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {cls:<16} {n}{'' if cls in PASSING else '   FAILURE'}")
    lines += ["", f"{len(sigs)} distinct failure signatures:"]
    for sig, e in summary["signatures"].items():
        lines.append(f"  [{e['count']:>4}] {sig}")
        lines.append(f"         e.g. {e['reproducers'][0] if e['reproducers'] else ''}")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "summary.txt"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
