"""Scenario dictionaries as TOML text, and results CSV files as tables; and the text of the
package's messages, one printable line each."""
import csv
import io
import json
import math
import numbers
import os
import re
import sys
from collections.abc import Mapping

import numpy as np


def _string(text):
    """A TOML basic string: JSON's escapes are TOML's, but for DEL, which TOML wants escaped
    (ensure_ascii would write characters beyond the BMP as surrogate pairs, which TOML
    refuses)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


def shown(text, limit=None):
    """Text a user gave (a key, a path, a name) as it goes into a message: one printable line,
    every character that is not printable (a newline, a control character, a lone surrogate, a
    line separator) escaped as repr() escapes it (\\n, \\x1b, \\udcff, \\u2028), as the program
    escapes its messages; with a limit, text beyond it is cut short."""
    text = text if isinstance(text, str) else str(text)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}... ({len(text)} characters)"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def described(value, limit=80):
    """A value a user gave, for "got ..." in a message: its repr() as one printable line."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"an integer of {value.bit_length()} bits"  # (str() refuses beyond 4300 digits)
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - any object's repr may fail
        text = f"<{type(value).__name__}>"
    return shown(text, limit)


def fspath_text(value, name):
    """A path argument (str, bytes or os.PathLike) as str, bytes decoded as os.fsdecode does
    (a name that is not UTF-8 gets lone surrogates); TypeError naming `name` for anything else."""
    try:
        path = os.fspath(value)
    except TypeError:
        raise TypeError(f"{shown(name)}: expected a path (str, bytes or os.PathLike), "
                        f"got {type(value).__name__}") from None
    return os.fsdecode(path) if isinstance(path, bytes) else path


def utf8_text(text, name):
    """`text`, which the engine takes as UTF-8. A str that cannot be encoded so (a lone
    surrogate: what os.fsdecode returns for a file name that is not UTF-8) is ValueError
    naming `name`, not pybind11's four-line TypeError that names no argument."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"{shown(name)}: expected text that can be encoded as UTF-8, got {described(text)} "
                         f"(a lone surrogate at position {e.start}, as os.fsdecode gives for a name that is not "
                         "UTF-8)") from None
    return text


def _quote(key, named=None):
    """A key as TOML text; `named` (default: the key) names it in errors."""
    return _string(utf8_text(str(key), key if named is None else named))


_DEPTH = 64  # lists and tables in a value nest no deeper (one that holds itself would recurse forever)


def toml_value(value, key, depth=0):
    """One value as TOML text; `key` names it in errors."""
    if depth > _DEPTH:
        raise ValueError(f"{shown(key)}: lists and tables nested more than {_DEPTH} deep (one that holds itself?)")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]  # a 0-d array is its one value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        value = int(value)
        if value.bit_length() > 4096:  # beyond every key's range (and str()'s 4300 digits)
            raise ValueError(f"{shown(key)}: expected a number, got {described(value)}")
        # TOML's integers are 64-bit; larger ones (a run.seed up to 2^64 - 1) as digits in a
        # string, which run.seed takes.
        return str(value) if -2**63 <= value < 2**63 else _string(str(value))
    if isinstance(value, numbers.Real):
        try:
            x = float(value)
        except (OverflowError, ValueError, ArithmeticError):  # a Fraction beyond a double's range
            raise ValueError(f"{shown(key)}: expected a number within a double's range, "
                             f"got {described(value)}") from None
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)
    if isinstance(value, (str, os.PathLike)):
        return _string(utf8_text(fspath_text(value, key), key))
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_quote(k, f'{key}.{k}')} = {toml_value(v, f'{key}.{k}', depth + 1)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(toml_value(v, key, depth + 1) for v in value) + "]"
    if value is None:
        raise ValueError(f"{shown(key)}: None is not a value (leave the key out to keep its default)")
    raise TypeError(f"{shown(key)}: expected a number, string, boolean, list or table, got {type(value).__name__}")


def setting_text(value, key):
    """A value as --set takes it: strings as they are, anything else as TOML."""
    if isinstance(value, (str, os.PathLike)):
        return utf8_text(fspath_text(value, key), key)
    return toml_value(value, key)


def scenario_key(key, what):
    """A key of a scenario dict or of set= as (table, ".", name), or (table, "", "") for a key
    without a dot; TypeError or ValueError naming the argument `what` for a key that is not a
    string, or has an empty table or name ("", ".n", "network.")."""
    if not isinstance(key, str):
        raise TypeError(f"{what}: keys are strings such as \"network.n\", got {described(key)}")
    table, dot, name = key.partition(".")
    if not table or (dot and not name):
        raise ValueError(f"{what}: {described(key)} is not a scenario key; keys are dotted, such as \"network.n\" "
                         "(timely.keys() lists them)")
    return table, dot, name


def scenario_toml(scenario, what="scenario"):
    """A dictionary of dotted keys ({"network.n": 100}) or tables ({"network": {"n": 100}}), or
    both, as the TOML text of a scenario file. A "sweep" table keeps its dotted keys, as in a
    sweep file. `what` names the argument in errors."""
    tables = {}
    for key, value in scenario.items():
        table, dot, name = scenario_key(key, what)
        if dot:
            tables.setdefault(table, {})[name] = value
        elif isinstance(value, Mapping):
            for inner in value:
                scenario_key(f"{table}.{inner}" if isinstance(inner, str) else inner, what)
            tables.setdefault(table, {}).update(value)
        else:
            raise ValueError(f"{shown(key)}: not a scenario key; keys are dotted, such as \"network.n\" "
                             "(timely.keys() lists them)")
    lines = []
    for table, entries in tables.items():
        lines.append(f"[{_quote(table)}]")
        lines.extend(f"{_quote(name, f'{table}.{name}')} = {toml_value(value, f'{table}.{name}')}"
                     for name, value in entries.items())
    return "\n".join(lines) + "\n"


_INTEGER = re.compile(r"-?[0-9]+")


def _column(cells):
    """One CSV column as a numpy array: int64, float64 (NaN where a cell is empty), bool, or
    strings (None where a cell is empty), the types pandas.read_csv gives."""
    present = [c for c in cells if c != ""]
    # (at most 20 significant digits: int() refuses beyond 4300, and 64 bits hold 20)
    if present and len(present) == len(cells) and all(_INTEGER.fullmatch(c) and len(c.lstrip("-0")) <= 20
                                                      for c in cells):
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


def _one_line(error):
    return shown(" ".join(str(error).split()), 200)


def read_table(path, as_frame=None):
    """A CSV file with a header row as a pandas DataFrame (as_frame=None: when pandas is
    installed) or a dict of numpy columns. A file that cannot be read, is not UTF-8 or is not
    a table is ValueError naming it."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ValueError(f"{shown(path)}: cannot read the table ({shown(e.strerror or e)})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ValueError(f"{shown(path)}: line {line}: not UTF-8 text "
                         f"(byte 0x{data[e.start]:02x}; a damaged table?)") from None
    if not text:
        raise ValueError(f"{shown(path)}: empty (expected a header row)")
    if as_frame is None or as_frame:
        try:
            import pandas as pd
        except ImportError:
            if as_frame:
                raise ValueError(f"as_frame: True needs pandas, which {shown(sys.executable)} cannot import "
                                 "(as_frame=None gives a dict of numpy columns without it)") from None
        else:
            # Only an empty cell is missing ("none" or "NA" are values here), and numbers are
            # read to the nearest double, as float() reads them.
            try:
                return pd.read_csv(path, keep_default_na=False, na_values=[""], float_precision="round_trip")
            except Exception as e:  # noqa: BLE001 - pandas' ParserError, EmptyDataError, ...: a damaged file
                raise ValueError(f"{shown(path)}: not a table ({_one_line(e)})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)  # a torn quoted cell: an error, as in pandas
    try:
        rows = list(reader)
    except csv.Error as e:
        raise ValueError(f"{shown(path)}: line {reader.line_num}: not a table ({_one_line(e)})") from None
    if not rows:
        raise ValueError(f"{shown(path)}: empty (expected a header row)")
    header, body = rows[0], rows[1:]
    return {name: _column([row[i] if i < len(row) else "" for row in body]) for i, name in enumerate(header)}
