"""timely from Python: the simulator, theory, sweeps and validation of the `timely` program,
with the same engine, scenario keys and results.

    import timely
    r = timely.simulate({"network.n": 100}, trials=4)
    r["staleness"]["mean"]        # as `timely simulate --set network.n=100 --trials 4 --json`
    r["per_trial"]["mean_staleness"]   # numpy arrays, one value per trial

    df = timely.sweep("examples/sweep-capacity-regimes.toml", out="out/regimes", quick=True)

Scenarios are a TOML file's path or a dict of dotted keys ({"network.n": 100}) or tables
({"network": {"n": 100}}); `timely.keys()` and `timely simulate --help` list the keys. Bad
input raises ValueError with the message the command line prints (or TypeError for an
argument of the wrong type), one line naming the argument or key. Runs use every core (TBB)
with the GIL released, and Ctrl-C stops them (a trial at its next checkpoint). Progress
goes to stderr as on the command line (a live line on a terminal), or to
progress=callable, called as callable(label, fraction, status) on the calling thread.
docs/interface.md, "From Python", has the whole contract.
"""
import math
import numbers
import os
import sys
from collections.abc import Iterable, Mapping

try:
    import numpy as _np  # noqa: F401  (results hold numpy arrays)
except ImportError as e:  # pragma: no cover - depends on the machine
    raise ImportError(
        f"timely needs numpy, which {sys.executable} cannot import (Debian: apt-get install python3-numpy; "
        "an interpreter of its own, such as pyenv's, sees Debian's packages with "
        "PYTHONPATH=...:/usr/lib/python3/dist-packages)") from e

from . import _timely
from ._tables import (described, fspath_text, read_table, scenario_key, scenario_toml, setting_text, shown,
                      utf8_text)

__version__ = _timely.version
__all__ = ["simulate", "theory", "sweep", "validate", "read_results", "keys"]

_DEFAULT_MAX_EVENTS = 1e10

# Every argument is checked and converted here, before the engine sees it: bad input is
# ValueError (a bad value) or TypeError (a wrong type) with one printable line that names
# the argument or key (messages show user text through shown() and described()).


def _path(value, name, engine=True):
    """A path argument (str, bytes or os.PathLike) as str; one the engine takes must be UTF-8."""
    path = fspath_text(value, name)
    if "\x00" in path:
        raise ValueError(f"{name}: a path cannot hold a NUL character, got {described(path)}")
    return utf8_text(path, name) if engine else path


def _scenario(scenario, what="scenario"):
    """(file, toml_text, base_dir) for the engine."""
    if scenario is None:
        return None, None, ""
    if isinstance(scenario, (str, bytes, os.PathLike)):
        return _path(scenario, what), None, ""
    if isinstance(scenario, Mapping):
        return None, scenario_toml(scenario, what), os.getcwd()
    raise TypeError(f"{what}: expected a TOML file's path or a dict of scenario keys, got {type(scenario).__name__}")


def _settings(set):
    """`set` as --set strings: a dict {key: value}, or "key=value" strings."""
    if set is None:
        return []
    if isinstance(set, Mapping):
        for key in set:
            scenario_key(key, "set")
        return [f"{utf8_text(key, key)}={setting_text(value, key)}" for key, value in set.items()]
    if isinstance(set, str):
        items = [set]
    elif isinstance(set, Iterable) and not isinstance(set, (bytes, bytearray)):
        items = list(set)
    else:
        raise TypeError(f"set: expected a dict of keys or \"key=value\" strings, got {type(set).__name__}")
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"set: expected a dict of keys or \"key=value\" strings, got {described(item)}")
        utf8_text(item, item.partition("=")[0] if "=" in item else "set")  # names the key, as --set does
    return items


def _integer(value, name, low, high, none_means):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if not low <= int(value) <= high:
        raise ValueError(f"{name}: expected an integer from {low} to {high} ({none_means}), "
                         f"got {described(int(value))}")
    return int(value)


def _flag(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected True or False, got {described(value)}")
    return value


def _as_frame(as_frame):
    if as_frame is not None and not isinstance(as_frame, bool):
        raise TypeError("as_frame: expected None (a DataFrame when pandas is installed), True or False, "
                        f"got {described(as_frame)}")
    return as_frame


def _name(name):
    """A dict sweep's name: a file name (out/<name> by default)."""
    if not isinstance(name, str):
        raise TypeError(f"name: expected a string, got {type(name).__name__}")
    utf8_text(name, "name")
    if name in ("", ".", "..") or any(c in name for c in "/\\") or not name.isprintable():
        raise ValueError(f"name: expected a file name (no slashes or control characters, not . or ..), "
                         f"got {described(name)}")
    return name


def _table(table):
    """read_results' table: the name of a CSV file in the directory, without .csv."""
    if not isinstance(table, str):
        raise TypeError(f"table: expected a table's name such as \"results\", got {type(table).__name__}")
    if table in ("", ".", "..") or any(c in table for c in "/\x00"):
        raise ValueError(f"table: expected a table's name such as \"results\" (a file name without .csv), "
                         f"got {described(table)}")
    return table


def _threads(threads):
    return _integer(threads, "threads", 1, 4096, "None: every core") or 0


def _max_events(max_events):
    if max_events is None:
        return _DEFAULT_MAX_EVENTS
    if isinstance(max_events, bool) or not isinstance(max_events, numbers.Real):
        raise TypeError(f"max_events: expected a number, got {type(max_events).__name__}")
    try:
        x = float(max_events)
    except (OverflowError, ValueError, ArithmeticError):  # 10**400, a Fraction beyond a double
        x = math.inf
    if not (x > 0 and math.isfinite(x)):
        raise ValueError(f"max_events: expected a positive finite number (default 1e10), got {described(max_events)}")
    return x


def _progress(progress):
    """(show the live line on stderr, callback)."""
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty and isatty()), None
    if progress is True or progress is False:
        return progress, None
    if callable(progress):
        return False, progress
    raise TypeError("progress: expected None (a live line when stderr is a terminal), True, False or "
                    f"a callable(label, fraction, status), got {type(progress).__name__}")


def simulate(scenario=None, *, set=None, trials=None, seed=None, threads=None, max_events=None, progress=None):
    """Runs the trials of one scenario, as `timely simulate --json`.

    Returns the object `simulate --json` prints, as dicts (numbers bit for bit the same), plus
    "per_trial": the columns of --out's trials.csv as numpy arrays, and in learning mode
    "learning_curves": the columns of learning.csv (one row per trial and observation).
    trials and seed are run.trials and run.seed; threads caps the parallel trials (the
    results are the same for every value)."""
    file, text, base_dir = _scenario(scenario)
    settings = _settings(set)
    if trials is not None:
        settings.append(f"run.trials={_integer(trials, 'trials', 1, 2**32 - 1, 'None: run.trials')}")
    if seed is not None:
        settings.append(f"run.seed={_integer(seed, 'seed', 0, 2**64 - 1, 'None: run.seed')}")
    threads, max_events = _threads(threads), _max_events(max_events)
    show, callback = _progress(progress)
    return _timely.simulate(file, text, base_dir, settings, threads, max_events, show, callback)


def theory(scenario=None, *, set=None):
    """What theory gives for a scenario, as `timely theory --json`."""
    file, text, base_dir = _scenario(scenario)
    return _timely.theory(file, text, base_dir, _settings(set))


def sweep(sweep, out=None, resume=False, *, force=False, quick=False, threads=None, max_events=None,
          progress=None, name="sweep", as_frame=None):
    """Runs a sweep, as `timely sweep`, and returns its results table (results.csv).

    `sweep` is a sweep file's path or a dict: scenario keys plus a "sweep" table of
    {"key": [values] or {"from", "to", "times" or "step"}} and optionally "setup" (a list of
    dicts with a "name"). The directory `out` (default out/<file name>, or out/<name> for a
    dict) gets every file the command line writes: results.csv, trials.csv, fits.csv,
    meta.json and the figures; resume=True continues an interrupted sweep there, force=True
    replaces a finished one. The table is a pandas DataFrame when pandas is installed
    (as_frame=None) and a dict of numpy columns otherwise or with as_frame=False;
    read_results(out, "trials") and the like read the other tables."""
    name = _name(name)
    if isinstance(sweep, (str, bytes, os.PathLike)):
        file, text, base_dir = _path(sweep, "sweep"), None, ""
        default_out = os.path.join("out", os.path.splitext(os.path.basename(file))[0])
    elif isinstance(sweep, Mapping):
        file, text, base_dir = None, scenario_toml(sweep, "sweep"), os.getcwd()
        default_out = os.path.join("out", name)
    else:
        raise TypeError(f"sweep: expected a sweep file's path or a dict, got {type(sweep).__name__}")
    out = _path(out, "out") if out is not None else default_out
    resume, force, quick = _flag(resume, "resume"), _flag(force, "force"), _flag(quick, "quick")
    threads, max_events, as_frame = _threads(threads), _max_events(max_events), _as_frame(as_frame)
    show, callback = _progress(progress)
    try:
        # One line per finished point when no live line shows progress, as the program does.
        _timely.sweep(file, text, name, base_dir, out, resume, force, quick, threads, max_events, show,
                      progress is None and not show, callback)
    except KeyboardInterrupt:
        print(f"timely: sweep interrupted; its finished points are in {shown(out)} (resume=True continues it)",
              file=sys.stderr)
        raise
    return read_results(out, "results", as_frame=as_frame)


def validate(quick=True, *, out="out/validate", threads=None, progress=None, as_frame=None):
    """Runs the validation suite, as `timely validate` (quick=True: `--quick`, under a minute).

    Returns {"passed": all checks passed, "failed": how many did not, "checks": checks.csv as a
    table, "summary": the text the command prints, "out": the directory with report.md}."""
    quick, out, threads, as_frame = _flag(quick, "quick"), _path(out, "out"), _threads(threads), _as_frame(as_frame)
    show, callback = _progress(progress)
    r = _timely.validate(quick, out, threads, show, callback)
    return {"passed": r["failed"] == 0, "failed": r["failed"],
            "checks": read_results(out, "checks", as_frame=as_frame), "summary": r["summary"], "out": out}


def read_results(directory, table="results", *, as_frame=None):
    """One CSV table of a results directory (a sweep's results, trials, fits or
    learning_curves; a validation's checks) as a DataFrame, or a dict of numpy columns."""
    directory, table, as_frame = _path(directory, "directory", engine=False), _table(table), _as_frame(as_frame)
    if not os.path.isdir(directory):
        problem = "not a directory" if os.path.exists(directory) else "no such directory"
        raise ValueError(f"directory: {shown(directory)}: {problem} (expected the out= of a sweep or validation)")
    path = os.path.join(directory, f"{table}.csv")
    if not os.path.isfile(path):
        try:
            tables = sorted(shown(f[:-4]) for f in os.listdir(directory) if f.endswith(".csv"))
        except OSError:
            tables = []
        raise ValueError(f"table: {shown(path)}: no such table (tables here: {', '.join(tables) or 'none'})")
    return read_table(path, as_frame)


def keys():
    """Every scenario key: [{"name", "accepts", "meaning"}], as `timely simulate --help` lists them."""
    return _timely.keys()
