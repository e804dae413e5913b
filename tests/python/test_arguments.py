"""Every bad argument is ValueError or TypeError with one printable line naming the argument
or key at fault (issue 28; each case was found by tests/fuzz/fuzz.py's python family)."""
import fractions
import os
import sys

import numpy as np
import pytest

import timely

S = {"network.n": 6, "run.horizon": 10, "run.warmup": 0, "run.trials": 1}
W = dict(S, sweep={"network.n": [4, 6]})
# What os.fsdecode returns for a name that is not UTF-8: a lone surrogate.
BAD = os.fsdecode(b"bad\xff")


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A working directory holding res/ (a results directory), a sweep file and a
    scenario file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "results.csv").write_text("network.n,mean\n4,1.5\n6,2.5\n")
    (tmp_path / "res" / "trials.csv").write_text("network.n,trial\n4,0\n6,0\n")
    (tmp_path / "s.toml").write_text("[network]\nn = 6\n[run]\nhorizon = 10\nwarmup = 0\ntrials = 1\n")
    (tmp_path / "sw.toml").write_text("[network]\nn = 6\n[run]\nhorizon = 5\nwarmup = 0\ntrials = 1\n"
                                      '[sweep]\n"network.n" = [4, 6]\n')
    return tmp_path


def damaged(directory, table, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, f"{table}.csv"), "wb") as f:
        f.write(data)
    return directory


def assert_one_line_naming(error, named):
    message = str(error.value)
    assert type(error.value) in (ValueError, TypeError), f"{type(error.value).__name__}: {message}"
    assert "\n" not in message and "\r" not in message, repr(message)
    assert message.isprintable(), repr(message)
    message.encode("utf-8")  # no lone surrogate
    assert message.startswith(f"{named}: "), f"{message!r} does not start with {named!r}"


class Custom:
    def __repr__(self):
        return "line one\nline two \udcff"


deep = []
deep.append(deep)

CASES = [
    # set= that is neither a dict nor "key=value" strings
    ("theory set=2**31", lambda: timely.theory(S, set=2**31), "set"),
    ("theory set=b''", lambda: timely.theory(S, set=b"network.n=6"), "set"),
    ("simulate set=[object]", lambda: timely.simulate(S, set=[Custom()]), "set"),
    ("simulate set=['\\udcff=6']", lambda: timely.simulate(S, set=["\udcff=6"]), "\\udcff"),
    ("simulate set={'\\udcff': 6}", lambda: timely.simulate(S, set={"\udcff": 6}), "\\udcff"),
    ("simulate set={'network.n\\n': b'6'}", lambda: timely.simulate(S, set={"network.n\n": b"6"}), "network.n\\n"),
    # paths
    ("read_results(5)", lambda: timely.read_results(5), "directory"),
    ("read_results(None)", lambda: timely.read_results(None), "directory"),
    ("read_results('\\udcff')", lambda: timely.read_results("\udcff"), "directory"),
    ("read_results('a\\nb')", lambda: timely.read_results("a\nb"), "directory"),
    ("read_results(b'\\xff')", lambda: timely.read_results(b"\xff"), "directory"),
    ("read_results('\\x00')", lambda: timely.read_results("\x00"), "directory"),
    ("read_results table='a\\nb'", lambda: timely.read_results("res", table="a\nb"), "table"),
    ("read_results table=5", lambda: timely.read_results("res", table=5), "table"),
    ("read_results table='../res/results'", lambda: timely.read_results("res", table="../res/results"), "table"),
    ("read_results table='\\udcff'", lambda: timely.read_results("res", table="\udcff"), "table"),
    ("read_results as_frame='x'", lambda: timely.read_results("res", as_frame="x"), "as_frame"),
    ("read_results as_frame=array", lambda: timely.read_results("res", as_frame=np.array([1, 2])), "as_frame"),
    ("simulate(b'bad\\xff.toml')", lambda: timely.simulate(b"bad\xff.toml"), "scenario"),
    ("simulate(['s.toml'])", lambda: timely.simulate(["s.toml"]), "scenario"),
    ("sweep out=5", lambda: timely.sweep(W, out=5), "out"),
    ("sweep out=b'\\xff'", lambda: timely.sweep(W, out=b"\xff"), "out"),
    ("sweep out=[]", lambda: timely.sweep(W, out=[]), "out"),
    ("sweep(b'\\xff.toml')", lambda: timely.sweep(b"\xff.toml"), "sweep"),
    ("sweep(5)", lambda: timely.sweep(5), "sweep"),
    ("validate out=5", lambda: timely.validate(out=5), "out"),
    ("validate out=b'\\xff'", lambda: timely.validate(out=b"\xff"), "out"),
    # name= whatever the sweep is
    ("sweep file name=[]", lambda: timely.sweep("sw.toml", name=[]), "name"),
    ("sweep file name='a\\nb'", lambda: timely.sweep("sw.toml", name="a\nb"), "name"),
    ("sweep dict name=5", lambda: timely.sweep(W, name=5), "name"),
    # numbers too large for a double
    ("simulate max_events=10**400", lambda: timely.simulate(S, max_events=10**400), "max_events"),
    ("simulate max_events=Fraction", lambda: timely.simulate(S, max_events=fractions.Fraction(10**400, 3)),
     "max_events"),
    ("sweep max_events=10**400", lambda: timely.sweep(W, max_events=10**400), "max_events"),
    ("theory Fraction value", lambda: timely.theory({**S, "gossip.latency": fractions.Fraction(10**400, 3)}),
     "gossip.latency"),
    ("theory Fraction in a list", lambda: timely.theory({**S, "gossip.latency": [fractions.Fraction(10**400, 3)]}),
     "gossip.latency"),
    ("sweep Fraction axis", lambda: timely.sweep({**S, "sweep": {"gossip.latency": [fractions.Fraction(10**400, 3)]}}),
     "sweep.gossip.latency"),
    ("simulate seed=2**64", lambda: timely.simulate(S, seed=2**64), "seed"),
    ("simulate seed=-1", lambda: timely.simulate(S, seed=-1), "seed"),
    # keys and values whose text needs escaping
    ("theory key with a newline", lambda: timely.theory({**S, "network.n\n": b"6"}), "network.n\\n"),
    ("theory key with ESC", lambda: timely.theory({**S, "network.n\x1b": b"6"}), "network.n\\x1b"),
    ("theory table key with a newline", lambda: timely.theory({"network": {"n\n": b"6"}}), "network.n\\n"),
    ("theory key \\udcff", lambda: timely.theory({**S, "network.\udcff": 6}), "network.\\udcff"),
    ("theory value \\udcff", lambda: timely.theory({**S, "network.topology": BAD}), "network.topology"),
    ("theory value in a list \\udcff", lambda: timely.theory({**S, "gossip.latency": [BAD]}), "gossip.latency"),
    ("theory inline table key \\udcff", lambda: timely.theory({**S, "gossip.latency": {"\udcff": 1}}),
     "gossip.latency.\\udcff"),
    ("theory undotted key with a newline", lambda: timely.theory({**S, "a\nb": 6}), "a\\nb"),
    ("theory value of a custom type", lambda: timely.theory({**S, "network.n": Custom()}), "network.n"),
    ("theory value that holds itself", lambda: timely.theory({**S, "network.n": deep}), "network.n"),
    ("theory 0-d array", lambda: timely.theory({**S, "network.n": np.array(6.5)}), "network.n"),
    ("sweep axis value \\udcff", lambda: timely.sweep({**S, "sweep": {"network.topology": ["ring", BAD]}}),
     "sweep.network.topology"),
    ("sweep axis of a wrong type", lambda: timely.sweep({**S, "sweep": {"network.n": {"from": 4, "to": 8, "x": b""}}}),
     "sweep.network.n.x"),
    ("theory empty table", lambda: timely.theory({**S, "": {"x": b"6"}}), "scenario"),
    ("theory empty name", lambda: timely.theory({**S, "network": {"": b"6"}}), "scenario"),
    ("theory key 'network.'", lambda: timely.theory({**S, "network.": b"6"}), "scenario"),
    ("theory nested key not a string", lambda: timely.theory({**S, "network": {5: 6}}), "scenario"),
    ("simulate set={'': b'6'}", lambda: timely.simulate(S, set={"": b"6"}), "set"),
    ("simulate set={5: 6}", lambda: timely.simulate(S, set={5: 6}), "set"),
    ("simulate set={('network', 'n'): 6}", lambda: timely.simulate(S, set={("network", "n"): 6}), "set"),
    ("sweep({1: 2})", lambda: timely.sweep({1: 2}), "sweep"),
    ("sweep({Custom: 2})", lambda: timely.sweep({Custom(): 2}), "sweep"),
    ("theory({1: 2})", lambda: timely.theory({1: 2}), "scenario"),
    # flags and counts
    ("sweep resume=Custom", lambda: timely.sweep(W, resume=Custom()), "resume"),
    ("simulate threads=2**70", lambda: timely.simulate(S, threads=2**70), "threads"),
    ("simulate trials='4'", lambda: timely.simulate(S, trials="4"), "trials"),
    ("simulate progress=5", lambda: timely.simulate(S, progress=5), "progress"),
]


@pytest.mark.parametrize("label, call, named", CASES, ids=[c[0] for c in CASES])
def test_a_bad_argument_is_one_line_naming_it(here, label, call, named):
    with pytest.raises((ValueError, TypeError)) as error:
        call()
    assert_one_line_naming(error, named)


@pytest.mark.parametrize("as_frame", [False, None])
@pytest.mark.parametrize("data, table", [
    (b"network.n,mean\n4,1.5\n6,\xff\n", "results"),         # not UTF-8
    (b"network.n,trial\n4,0\n1,\"2\n", "trials"),            # a torn quoted row
    (b"network.n,trial\n4,0\n1,\"2\n3,4\n", "trials"),
    (b"network.n,mean\n4," + b"9" * 200000 + b"\n", "results"),  # beyond csv's field limit
    (b"", "results"),                                        # empty
    (b"a,b\n1,2,3,4\n5\n", "results"),                       # ragged rows
    (b"a,b\n1,\x00\n", "results"),                           # a NUL
])
def test_a_damaged_table_is_a_value_error_naming_the_file(here, data, table, as_frame):
    if as_frame is None:
        pytest.importorskip("pandas")
    directory = damaged(str(here / ("dir\udcff" if table == "trials" else "dir\n")), table, data)
    try:
        timely.read_results(directory, table, as_frame=as_frame)
    except (ValueError, TypeError) as e:
        message = str(e)
        assert type(e) is ValueError, f"{type(e).__name__}: {message}"
        assert "\n" not in message and message.isprintable(), repr(message)
        message.encode("utf-8")
        assert f"{table}.csv" in message, message
    # or a table: a damaged file that is still a table (ragged rows, a NUL) may be read


def test_a_line_that_is_not_utf8_is_named(here):
    damaged("res", "results", b"network.n,mean\n4,1.5\n6,\xff\n")
    with pytest.raises(ValueError) as error:
        timely.read_results("res", as_frame=False)
    assert "res/results.csv" in str(error.value) and "line 3" in str(error.value), str(error.value)


def test_as_frame_true_without_pandas_is_a_value_error(here, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    with pytest.raises(ValueError) as error:
        timely.read_results("res", as_frame=True)
    assert_one_line_naming(error, "as_frame")
    assert list(timely.read_results("res")) == ["network.n", "mean"]  # as_frame=None: numpy columns


def test_paths_may_be_bytes_or_path_like(here):
    import pathlib
    expected = timely.read_results("res", as_frame=False)
    for directory in (b"res", pathlib.Path("res"), pathlib.PurePath("res")):
        got = timely.read_results(directory, as_frame=False)
        assert list(got) == list(expected) and all((got[k] == expected[k]).all() for k in got)
    assert timely.theory(b"s.toml") == timely.theory("s.toml")
    frame = timely.sweep(W, out=b"out-bytes", progress=False, as_frame=False)
    assert list(frame["network.n"]) == [4, 6] and os.path.isfile("out-bytes/results.csv")
    frame = timely.sweep(b"sw.toml", out="out-file", progress=False, as_frame=False)
    assert list(frame["network.n"]) == [4, 6]


def test_a_directory_whose_name_is_not_utf8_is_read(here):
    # read_results does not pass the name to the engine: os.fsdecode's names work.
    directory = damaged(os.fsdecode(b"res\xff"), "results", b"a,b\n1,2\n")
    assert list(timely.read_results(directory, as_frame=False)["b"]) == [2]
    assert list(timely.read_results(os.fsencode(directory), as_frame=False)["b"]) == [2]
    try:
        import pandas  # noqa: F401
    except ImportError:
        return
    assert list(timely.read_results(directory, as_frame=True)["b"]) == [2]


@pytest.mark.parametrize("as_frame", [False, None])
def test_a_torn_quoted_row_is_a_value_error_naming_the_file(here, as_frame):
    if as_frame is None:
        pytest.importorskip("pandas")
    damaged("res", "trials", b'network.n,trial\n4,0\n1,"2\n')
    with pytest.raises(ValueError) as error:
        timely.read_results("res", "trials", as_frame=as_frame)
    assert type(error.value) is ValueError and str(error.value).startswith("res/trials.csv: "), str(error.value)
    assert "\n" not in str(error.value)
