"""Shared helpers: the timely program the module is compared with, and exact comparison."""
import json
import os
import subprocess

import numpy as np
import pytest

BINARY = os.environ.get("TIMELY_BINARY", "build/timely")
# Timings differ between any two runs.
TIMINGS = ("wall_seconds", "events_per_second")


def run_cli(*args, check=True):
    """The program's stdout, stderr and exit status."""
    p = subprocess.run([BINARY, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"timely {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p.stdout, p.stderr, p.returncode


def cli_json(*args):
    return json.loads(run_cli(*args)[0])


def cli_error(*args):
    """The message the program prints for bad input (exit 2), without its "timely: error: "."""
    _, err, status = run_cli(*args, check=False)
    assert status == 2, f"timely {' '.join(args)} exited {status}, expected 2: {err}"
    line = err.strip().splitlines()[-1]
    assert line.startswith("timely: error: "), line
    return line[len("timely: error: "):]


def without_timings(result):
    return {k: v for k, v in result.items() if k not in TIMINGS}


def as_json(result):
    """The part of a simulate() result that `simulate --json` prints, without its timings."""
    return {k: v for k, v in without_timings(result).items() if k not in ("per_trial", "learning_curves")}


def assert_same(a, b, where="result"):
    """Equal values of equal types, every float bit for bit (what json.loads gives for the
    program's output is the reference)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} against {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} against {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{where}: lengths {len(a)} against {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert a.hex() == b.hex(), f"{where}: {a!r} against {b!r}"
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} against {b.dtype}{b.shape}"
        assert a.tobytes() == b.tobytes(), f"{where}: {a} against {b}"
    else:
        assert a == b, f"{where}: {a!r} against {b!r}"


@pytest.fixture
def cli():
    return run_cli
