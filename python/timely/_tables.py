"""Scenario dictionaries as TOML text, and results CSV files as tables."""
import csv
import json
import math
import numbers
import os
import re
from collections.abc import Mapping

import numpy as np


def _string(text):
    """A TOML basic string: JSON's escapes are TOML's, but for DEL, which TOML wants escaped
    (ensure_ascii would write characters beyond the BMP as surrogate pairs, which TOML
    refuses)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


def utf8_text(text, name):
    """`text`, which the engine takes as UTF-8. A str that cannot be encoded so (a lone
    surrogate: what os.fsdecode returns for a file name that is not UTF-8) is ValueError
    naming `name`, not pybind11's four-line TypeError that names no argument."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        shown = str(name).encode("utf-8", "backslashreplace").decode("utf-8")
        raise ValueError(f"{shown}: expected text that can be encoded as UTF-8, got {text!r} (a lone surrogate "
                         f"at position {e.start}, as os.fsdecode gives for a name that is not UTF-8)") from None
    return text


def _quote(key):
    return _string(utf8_text(str(key), key))


def toml_value(value, key):
    """One value as TOML text; `key` names it in errors."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        # TOML's integers are 64-bit; larger ones (a run.seed up to 2^64 - 1) as digits in a
        # string, which run.seed takes.
        return str(int(value)) if -2**63 <= int(value) < 2**63 else _string(str(int(value)))
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)
    if isinstance(value, (str, os.PathLike)):
        return _string(utf8_text(os.fspath(value), key))
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_quote(k)} = {toml_value(v, f'{key}.{k}')}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(toml_value(v, key) for v in value) + "]"
    if value is None:
        raise ValueError(f"{key}: None is not a value (leave the key out to keep its default)")
    raise TypeError(f"{key}: expected a number, string, boolean, list or table, got {type(value).__name__}")


def setting_text(value, key):
    """A value as --set takes it: strings as they are, anything else as TOML."""
    if isinstance(value, (str, os.PathLike)):
        return utf8_text(os.fspath(value), key)
    return toml_value(value, key)


def scenario_toml(scenario):
    """A dictionary of dotted keys ({"network.n": 100}) or tables ({"network": {"n": 100}}), or
    both, as the TOML text of a scenario file. A "sweep" table keeps its dotted keys, as in a
    sweep file."""
    tables = {}
    for key, value in scenario.items():
        if not isinstance(key, str):
            raise TypeError(f"scenario: keys are strings such as \"network.n\", got {key!r}")
        table, dot, name = key.partition(".")
        if dot:
            tables.setdefault(table, {})[name] = value
        elif isinstance(value, Mapping):
            tables.setdefault(table, {}).update(value)
        else:
            raise ValueError(f"{key}: not a scenario key; keys are dotted, such as \"network.n\" "
                             "(timely.keys() lists them)")
    lines = []
    for table, entries in tables.items():
        lines.append(f"[{_quote(table)}]")
        lines.extend(f"{_quote(name)} = {toml_value(value, f'{table}.{name}')}" for name, value in entries.items())
    return "\n".join(lines) + "\n"


_INTEGER = re.compile(r"-?[0-9]+")


def _column(cells):
    """One CSV column as a numpy array: int64, float64 (NaN where a cell is empty), bool, or
    strings (None where a cell is empty), the types pandas.read_csv gives."""
    present = [c for c in cells if c != ""]
    if present and len(present) == len(cells) and all(_INTEGER.fullmatch(c) for c in cells):
        values = [int(c) for c in cells]
        for dtype in (np.int64, np.uint64):  # as pandas: uint64 beyond int64 (a seed >= 2^63)
            if np.iinfo(dtype).min <= min(values) and max(values) <= np.iinfo(dtype).max:
                return np.array(values, dtype=dtype)
    try:
        return np.array([float(c) if c != "" else math.nan for c in cells], dtype=np.float64)
    except ValueError:
        pass
    if present and len(present) == len(cells) and all(c in ("true", "false", "True", "False") for c in cells):
        return np.array([c in ("true", "True") for c in cells], dtype=bool)
    return np.array([c if c != "" else None for c in cells], dtype=object)


def read_table(path, as_frame=None):
    """A CSV file with a header row as a pandas DataFrame (as_frame=None: when pandas is
    installed) or a dict of numpy columns."""
    if as_frame is None or as_frame:
        try:
            import pandas as pd
        except ImportError:
            if as_frame:
                raise
        else:
            # Only an empty cell is missing ("none" or "NA" are values here), and numbers are
            # read to the nearest double, as float() reads them.
            return pd.read_csv(path, keep_default_na=False, na_values=[""], float_precision="round_trip")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: empty (expected a header row)")
    header, body = rows[0], rows[1:]
    return {name: _column([row[i] if i < len(row) else "" for row in body]) for i, name in enumerate(header)}
