"""timely.sweep writes what `timely sweep` writes and returns results.csv as a table: a
pandas DataFrame equal to the file cell by cell, or the same columns as numpy arrays."""
import csv
import filecmp
import math

import numpy as np
import pytest

import timely
from conftest import cli_error, run_cli

SWEEP = "examples/sweep-capacity-regimes.toml"


def csv_cells(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def assert_table_is_the_file(table, path):
    """Every cell: the integer, the nearest double (float()), or the text; empty cells are
    missing."""
    header, rows = csv_cells(path)
    assert list(table) == header
    for i, name in enumerate(header):
        column = list(table[name])
        assert len(column) == len(rows)
        for value, row in zip(column, rows):
            cell = row[i]
            if cell == "":
                assert value is None or (isinstance(value, float) and math.isnan(value)), (name, value)
            elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
                assert value == int(cell), (name, cell)
            elif isinstance(value, (float, np.floating)):
                assert float(value).hex() == float(cell).hex(), (name, cell)
            else:
                assert str(value) == cell, (name, cell)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("py") / "regimes"
    frame = timely.sweep(SWEEP, out=str(out), quick=True)
    return out, frame


def test_the_dataframe_equals_results_csv(swept):
    pd = pytest.importorskip("pandas", reason="sweep() returns a DataFrame when pandas is installed")
    out, frame = swept
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 15 and frame["network.n"].dtype == np.int64 and frame["mean"].dtype == np.float64
    assert_table_is_the_file(frame, out / "results.csv")
    # Without pandas: the same columns as numpy arrays.
    columns = timely.read_results(out, as_frame=False)
    assert isinstance(columns, dict) and all(isinstance(c, np.ndarray) for c in columns.values())
    assert_table_is_the_file(columns, out / "results.csv")
    for name in frame:
        assert columns[name].dtype == frame[name].dtype, name


def test_the_files_equal_the_programs(swept, tmp_path):
    out, _ = swept
    run_cli("sweep", SWEEP, "--quick", "--out", str(tmp_path / "cli"))
    for name in ("results.csv", "trials.csv", "fits.csv"):
        assert filecmp.cmp(out / name, tmp_path / "cli" / name, shallow=False), name
    assert (out / "staleness_vs_n.png").exists() and (out / "meta.json").exists()
    trials = timely.read_results(out, "trials")
    assert len(trials) == 15 * 4


def test_a_sweep_dict_is_the_sweep_file(swept, tmp_path):
    pd = pytest.importorskip("pandas", reason="compares DataFrames")
    tomllib = pytest.importorskip("tomllib", reason="tomllib reads the file into a dict (Python 3.11)")
    out, frame = swept
    with open(SWEEP, "rb") as f:
        definition = tomllib.load(f)
    again = timely.sweep(definition, out=str(tmp_path / "dict"), quick=True)
    pd.testing.assert_frame_equal(again, frame, check_exact=True)
    assert filecmp.cmp(out / "results.csv", tmp_path / "dict" / "results.csv", shallow=False)


def test_setups_in_a_dict(tmp_path):
    definition = {
        "network.n": 16, "run.horizon": 40, "run.warmup": 10, "run.trials": 2,
        "sweep": {"gossip.capacity": [1, 2],
                  "setup": [{"name": "push", "gossip.mode": "push"}, {"name": "exchange", "gossip.mode": "exchange"}]},
    }
    frame = timely.sweep(definition, out=str(tmp_path / "s"))
    assert list(frame["setup"]) == ["push", "push", "exchange", "exchange"]
    assert list(frame["gossip.capacity"]) == [1, 2, 1, 2]


def test_bad_sweeps_raise_value_error(tmp_path, swept):
    out, _ = swept
    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\n"network.nn" = [1, 2]\n')
    with pytest.raises(ValueError) as error:
        timely.sweep(str(bad), out=str(tmp_path / "b"))
    assert str(error.value) == cli_error("sweep", str(bad), "--out", str(tmp_path / "b"))
    # A finished sweep is not overwritten without force=True, as on the command line.
    with pytest.raises(ValueError) as error:
        timely.sweep(SWEEP, out=str(out), quick=True)
    assert str(error.value) == cli_error("sweep", SWEEP, "--quick", "--out", str(out))
    with pytest.raises(ValueError, match="no \\[sweep\\] table"):
        timely.sweep({"network.n": 8}, out=str(tmp_path / "c"))
    with pytest.raises(ValueError, match="no such table"):
        timely.read_results(out, "nonesuch")
