"""timely.simulate and timely.theory give what the program gives: the same JSON object bit
for bit, the same per-trial values and learning curves as its CSV files, and the same
one-line messages for bad input, as ValueError."""
import csv
import json

import numpy as np
import pytest

import timely
from conftest import as_json, assert_same, cli_error, cli_json, run_cli, without_timings


def test_simulate_equals_the_programs_json_bit_for_bit():
    r = timely.simulate({"network.n": 100}, trials=4)
    expected = cli_json("simulate", "--set", "network.n=100", "--trials", "4", "--json")
    assert_same(as_json(r), without_timings(expected))
    assert r["wall_seconds"] > 0 and r["events_per_second"] > 0


def test_per_trial_values_are_trials_csv_at_full_precision(tmp_path):
    scenario = "examples/network-churn.toml"
    r = timely.simulate(scenario, trials=3, seed=7, set={"run.horizon": 200})
    run_cli("simulate", scenario, "--trials", "3", "--seed", "7", "--set", "run.horizon=200", "--out", str(tmp_path))
    with open(tmp_path / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    per_trial = r["per_trial"]
    assert list(per_trial) == list(rows[0])  # every column of trials.csv, in its order
    for name, column in per_trial.items():
        assert isinstance(column, np.ndarray) and len(column) == 3
        integer = name in ("trial", "events", "messages_sent", "messages_lost")
        assert column.dtype == (np.int64 if integer else np.float64), name
        for value, row in zip(column, rows):
            if integer:
                assert value == int(row[name]), name
            else:  # 17 significant digits: the text gives back the double
                assert float(value).hex() == float(row[name]).hex(), name


def test_learning_curves_are_learning_csv(tmp_path):
    scenario = "examples/learning-linear-regression.toml"
    settings = {"run.horizon": 100, "network.n": 16}
    r = timely.simulate(scenario, trials=2, set=settings)
    args = ["simulate", scenario, "--trials", "2", "--set", "run.horizon=100", "--set", "network.n=16"]
    assert_same(as_json(r), without_timings(cli_json(*args, "--json")))
    run_cli(*args, "--out", str(tmp_path))
    with open(tmp_path / "learning.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    curves = r["learning_curves"]
    # A regression has no accuracy: learning.csv leaves those cells empty, the arrays leave
    # the columns out.
    assert "accuracy" not in curves and all(row["accuracy"] == "" for row in rows)
    assert set(curves) == {name for name in rows[0] if any(row[name] != "" for row in rows)}
    for name, column in curves.items():
        assert column.dtype == (np.int64 if name == "trial" else np.float64), name
        assert len(column) == len(rows) > 2
        for value, row in zip(column, rows):
            text = str(int(value)) if column.dtype == np.int64 else f"{value:.10g}"
            assert text == row[name], f"{name}: {text} against {row[name]}"
    assert r["learning"]["status"] == "completed"


def test_a_scenario_file_a_dict_of_dotted_keys_and_a_dict_of_tables_agree():
    tomllib = pytest.importorskip("tomllib", reason="tomllib reads the file into a dict (Python 3.11)")
    path = "examples/age-of-gossip-ring.toml"
    with open(path, "rb") as f:
        tables = tomllib.load(f)
    dotted = {f"{table}.{key}": value for table, entries in tables.items() for key, value in entries.items()}
    settings = {"run.trials": 2, "network.n": 40}
    from_file = without_timings(timely.simulate(path, set=settings))
    for scenario in (tables, dotted):
        assert_same(without_timings(timely.simulate(scenario, set=settings)), from_file)
    # --set strings and keyword arguments are the same keys.
    same = timely.simulate(path, set=["run.trials=2", "network.n=40"])
    assert_same(without_timings(same), from_file)
    assert_same(without_timings(timely.simulate(path, trials=2, set={"network.n": 40})), from_file)


def test_theory_equals_the_programs_json():
    for settings in ({"network.n": 1000}, {"network.topology": "ring", "network.n": 50, "staleness.model": "source"}):
        args = [a for key, value in settings.items() for a in ("--set", f"{key}={value}")]
        assert_same(timely.theory(settings), cli_json("theory", *args, "--json"))


@pytest.mark.parametrize("settings", [
    {"network.n": -3},
    {"network.n": 1.5},
    {"netwrk.n": 5},
    {"network.topology": "moebius"},
    {"run.warmup": 2000},
    {"gossip.scaling": "cubic"},
])
def test_bad_input_raises_value_error_with_the_programs_message(settings, tmp_path):
    # set= is --set.
    args = [a for key, value in settings.items() for a in ("--set", f"{key}={value}")]
    with pytest.raises(ValueError) as error:
        timely.simulate(set=settings)
    assert str(error.value) == cli_error("simulate", *args)
    # A scenario dict is a scenario file.
    ((key, value),) = settings.items()
    table, name = key.split(".")
    file = tmp_path / "bad.toml"
    file.write_text(f"[{table}]\n{name} = {json.dumps(value)}\n")
    with pytest.raises(ValueError) as error:
        timely.simulate(settings)
    assert str(error.value) == cli_error("simulate", str(file))


def test_bad_files_and_arguments_raise_and_the_interpreter_goes_on(tmp_path):
    with pytest.raises(ValueError) as error:
        timely.simulate("no-such-scenario.toml")
    assert str(error.value) == cli_error("simulate", "no-such-scenario.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[network]\nn = = 3\n")
    with pytest.raises(ValueError) as error:
        timely.simulate(str(bad))
    assert str(error.value) == cli_error("simulate", str(bad))
    with pytest.raises(ValueError, match="threads"):
        timely.simulate(threads=0)
    with pytest.raises(TypeError, match="trials"):
        timely.simulate(trials="4")
    with pytest.raises(TypeError, match="scenario"):
        timely.simulate(42)
    with pytest.raises(ValueError, match="run.seed"):
        timely.simulate(seed=-1)
    with pytest.raises(ValueError, match="network.n: None"):
        timely.simulate({"network.n": None})
    # Still alive and still right.
    assert timely.simulate({"network.n": 10}, trials=1)["trials"] == 1


def test_keys_are_the_programs():
    names = [k["name"] for k in timely.keys()]
    assert list(cli_json("simulate", "--json", "--trials", "1", "--set", "network.n=4")["scenario"]) == names


def test_dict_values_reach_the_engine_unchanged():
    text = 'a "quoted" \\ back\tslash, DEL \x7f, é, 😀'
    settings = {"network.n": np.int64(12), "gossip.capacity": np.float64(0.1 + 0.2),
                "churn.offline_updates": np.bool_(False), "data.dir": text, "run.trials": 1,
                "run.seed": 2**64 - 1, "model.hidden": [7, 5]}
    scenario = timely.simulate(settings)["scenario"]
    assert scenario["network.n"] == 12 and scenario["gossip.capacity"].hex() == (0.1 + 0.2).hex()
    assert scenario["churn.offline_updates"] is False and scenario["data.dir"] == text
    assert scenario["run.seed"] == 2**64 - 1 and scenario["model.hidden"] == [7, 5]
    # A distribution table, as a dict or as the inline TOML table --set takes.
    law = {"dist": "uniform", "low": 0.5, "high": 1.5}
    as_dict = timely.simulate({"updates.rate": law, "network.n": 10, "run.trials": 1})
    as_text = timely.simulate(set={"network.n": 10, "run.trials": 1,
                                   "updates.rate": '{ dist = "uniform", low = 0.5, high = 1.5 }'})
    assert as_dict["scenario"]["updates.rate"] == as_text["scenario"]["updates.rate"]
    assert_same(without_timings(as_dict), without_timings(as_text))


def test_the_single_user_reference_runs_as_a_protocol_and_reports_as_the_program_does():
    # One user on all the data (docs/model.md §4): no staleness, the trial its own plateau
    # reference; the quadratic model's stationary theory is 0 (§6.7).
    for settings in ({"model.kind": "logistic", "data.source": "synthetic-mixture", "network.n": 8, "run.horizon": 20,
                      "run.warmup": 0, "observe.every": 2, "learning.protocol": "single-user"},
                     {"model.kind": "quadratic", "network.n": 8, "run.horizon": 40, "run.warmup": 20,
                      "learning.protocol": "single-user"}):
        r = timely.simulate(set=settings, trials=2)
        args = [a for key, value in settings.items() for a in ("--set", f"{key}={value}")]
        assert_same(as_json(r), without_timings(cli_json("simulate", *args, "--trials", "2", "--json")))
        assert r["staleness"] is None and r["learning"]["gossips"] == 0
        assert r["theory"]["method"] == "none: single-user training on the pooled data has no gossip"
        if settings["model.kind"] == "quadratic":
            assert r["theory"]["learning"]["error"] == 0.0
        else:
            assert r["learning"]["plateau"]["delay"]["mean"] == 0.0
    with pytest.raises(ValueError) as error:
        timely.simulate(set={"model.kind": "quadratic", "learning.protocol": "single-user", "gossip.loss": 0.1})
    assert str(error.value).startswith("gossip.loss: ")


SAPO = {"model.kind": "logistic", "learning.protocol": "sapo", "network.n": 6, "data.features": 6,
        "data.classes": 4, "data.train_samples": 600, "data.test_samples": 200, "run.horizon": 30, "run.warmup": 0,
        "observe.every": 10, "sapo.questions": 4, "sapo.answers": 4, "train.lr": 0.2}


def test_a_sapo_swarm_reports_its_reward_and_the_age_of_its_experience():
    r = timely.simulate(SAPO, trials=2)
    expected = cli_json("simulate", *[a for k, v in SAPO.items() for a in ("--set", f"{k}={v}")],
                        "--trials", "2", "--json")
    assert_same(as_json(r), without_timings(expected))
    learning = r["learning"]
    assert learning["total_reward"]["mean"] > 0
    age = learning["experience_age"]
    assert age["generator_updates"]["mean"] >= 1  # a tick generates, then trains
    assert age["divergence"]["mean"] >= 0
    assert abs(sum(age["histogram"]) - 1) < 1e-9
    assert "reward" in r["learning_curves"]
    assert r["communication"]["messages_sent"]["mean"] > 0


@pytest.mark.parametrize("key, value, named", [
    ("sapo.local", 9, "sapo.local: expected an integer in [0, sapo.questions = 4]"),
    ("sapo.share_fanout", 6, "sapo.share_fanout: expected an integer in [0, network.n - 1 = 5]"),
    ("sapo.clip_low", 1.5, "sapo.clip_low"),
])
def test_bad_sapo_values_raise_value_error_naming_the_key(key, value, named):
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        timely.simulate({**SAPO, key: value})
