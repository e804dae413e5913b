"""Runs from Python: TBB threads with the GIL released (other Python threads go on), the
same bits for every thread count and from concurrent calls, progress to a callback, and
Ctrl-C (or a callback's exception) stopping a run cleanly, a sweep resumably."""
import filecmp
import os
import signal
import subprocess
import sys
import threading
import time
import _thread

import pytest

import timely
from conftest import as_json, assert_same, cli_json, without_timings

SMALL = {"network.n": 100, "run.horizon": 300}
# Trials of about 20 ms each: stopping it midway is far quicker than running it out.
LONG = {"network.n": 100, "run.trials": 4000}


def test_a_python_thread_keeps_running_during_a_simulation():
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.005)

    counter = threading.Thread(target=count)
    counter.start()
    calls = []  # (start, end) of each call: at least half a second in all, on any machine
    while sum(end - start for start, end in calls) < 0.5:
        start = time.monotonic()
        assert timely.simulate({"network.n": 200}, trials=16)["trials"] == 16
        calls.append((start, time.monotonic()))
    stop.set()
    counter.join()
    during = [t for t in ticks if any(start < t < end for start, end in calls)]
    # Holding the GIL during the runs would allow no tick at all inside them.
    assert len(during) >= 10, f"{len(during)} ticks in {len(calls)} calls"


def test_threads_and_concurrent_calls_give_the_same_bits():
    one = without_timings(timely.simulate(SMALL, trials=6, threads=1))
    two = without_timings(timely.simulate(SMALL, trials=6, threads=2))
    two.pop("threads"), one.pop("threads")
    assert_same(one, two)
    seeds = [3, 4, 5]
    alone = [without_timings(timely.simulate(SMALL, trials=3, seed=s)) for s in seeds]
    together = [None] * len(seeds)

    def run(i):
        together[i] = without_timings(timely.simulate(SMALL, trials=3, seed=seeds[i]))

    workers = [threading.Thread(target=run, args=(i,)) for i in range(len(seeds))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for a, b in zip(alone, together):
        assert_same(a, b)


def test_progress_goes_to_a_callback():
    reports = []
    timely.simulate(SMALL, trials=8, progress=lambda *report: reports.append(report))
    assert reports and all(label == "simulate" for label, _, _ in reports)
    fractions = [fraction for _, fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert reports[-1][2] == "8/8"


def test_a_callbacks_exception_stops_the_run():
    class Enough(Exception):
        pass

    calls = []

    def callback(label, fraction, status):
        calls.append(fraction)
        raise Enough()

    # What the whole run would take, from a slice of it on every core.
    cores = os.cpu_count() or 1
    start = time.monotonic()
    timely.simulate({**LONG, "run.trials": 4 * cores}, progress=False)
    whole = (time.monotonic() - start) * LONG["run.trials"] / (4 * cores)
    start = time.monotonic()
    with pytest.raises(Enough):
        timely.simulate(LONG, progress=callback)
    took = time.monotonic() - start
    assert len(calls) == 1 and calls[0] < 1.0
    assert took < whole / 4, f"stopping took {took:.2f} s of a {whole:.1f} s run"


def test_ctrl_c_interrupts_a_long_run_and_the_module_goes_on():
    fractions = []
    threading.Timer(0.5, _thread.interrupt_main).start()
    with pytest.raises(KeyboardInterrupt):
        timely.simulate(LONG, progress=lambda label, fraction, status: fractions.append(fraction))
    # The run stopped early: the last progress reported (after the trials in progress
    # stopped) is far from the end.
    assert fractions and fractions[-1] < 0.5, fractions[-3:]
    assert timely.simulate(SMALL, trials=2)["trials"] == 2


def test_ctrl_c_stops_a_trial_midway():
    ring = {"network.topology": "ring", "network.n": 2000, "staleness.tracked": 16, "run.warmup": 10,
            "run.trials": 1, "run.horizon": 100_000}
    # What the whole trial would take, from 1/64 of its horizon (the engine's own time).
    whole = timely.simulate({**ring, "run.horizon": ring["run.horizon"] / 64}, progress=False)["wall_seconds"] * 64
    threading.Timer(0.3, _thread.interrupt_main).start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        timely.simulate(ring, progress=False)
    took = time.monotonic() - start
    assert took < 0.3 + whole / 4, f"stopping took {took:.2f} s of a {whole:.1f} s trial"
    # The same trial, not stopped, is the program's (the checkpoints change no bit).
    short = {**ring, "run.horizon": 500}
    assert_same(as_json(timely.simulate(short, progress=False)),
                without_timings(cli_json("simulate", *[a for k, v in short.items() for a in ("--set", f"{k}={v}")],
                                         "--json")))


def test_a_real_sigint_ends_the_interpreter_as_ctrl_c_does():
    script = ("import timely, sys\n"
              "last = [0.0]\n"
              "print('running', flush=True)\n"
              "try:\n"
              f"    timely.simulate({LONG!r}, progress=lambda label, f, status: last.__setitem__(0, f))\n"
              "    print('finished', flush=True)\n"
              "finally:\n"
              "    print('last', last[0], flush=True)\n")
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "running"
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert "finished" not in out and "KeyboardInterrupt" in err, (out, err)
    assert p.returncode == -signal.SIGINT
    last = float(out.split("last")[1])
    assert last < 0.5, f"the run got to {last} before it stopped"


def test_an_interrupted_sweep_resumes_to_the_same_files(tmp_path):
    definition = {"network.topology": "ring", "run.trials": 3, "run.horizon": 2000, "run.warmup": 50,
                  "sweep": {"network.n": [40, 60, 80, 100, 120, 140, 160, 180]}}
    whole = tmp_path / "whole"
    timely.sweep(definition, out=str(whole), progress=False)

    class Stop(Exception):
        pass

    def stop_midway(label, fraction, status):
        if fraction > 0.3:
            raise Stop()

    part = tmp_path / "part"
    with pytest.raises(Stop):
        timely.sweep(definition, out=str(part), progress=stop_midway, threads=1)
    with open(part / "results.csv") as f:
        written = len(f.readlines()) - 1
    assert 0 < written < 8, f"{written} of 8 points were written before the stop"
    timely.sweep(definition, out=str(part), resume=True, progress=False)
    for name in ("results.csv", "trials.csv", "fits.csv"):
        assert filecmp.cmp(whole / name, part / name, shallow=False), name
