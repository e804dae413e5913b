#!/usr/bin/env python3
"""A call's overhead: timely.simulate against the program (`timely simulate --json`, started
as a process and its JSON parsed, as a script without the module would do) on small runs.

    PYTHONPATH=build/python python3 bench/python_overhead.py [--binary build/timely] [--repeats 30]

Prints the median wall time per call of each way, the engine's own time (the run's
wall_seconds), and what is left: set-up, conversion to Python objects, and for the program
the process start and the JSON text. Calls alternate, so load on the machine hits both."""
import argparse
import json
import statistics
import subprocess
import time

import timely

RUNS = {
    "n=100, 4 trials": ({"network.n": 100, "run.trials": 4}, ["--set", "network.n=100", "--trials", "4"]),
    "n=10, 1 trial, horizon 10": ({"network.n": 10, "run.trials": 1, "run.horizon": 10, "run.warmup": 1},
                                  ["--set", "network.n=10", "--trials", "1", "--set", "run.horizon=10",
                                   "--set", "run.warmup=1"]),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default="build/timely")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(f"{'run':28} {'module ms':>10} {'engine ms':>10} {'program ms':>11} {'engine ms':>10}")
    for label, (scenario, cli_args) in RUNS.items():
        module, module_engine, program, program_engine = [], [], [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            r = timely.simulate(scenario, progress=False)
            module.append(time.perf_counter() - start)
            module_engine.append(r["wall_seconds"])
            start = time.perf_counter()
            out = subprocess.run([args.binary, "simulate", *cli_args, "--json"], capture_output=True, check=True).stdout
            j = json.loads(out)
            program.append(time.perf_counter() - start)
            program_engine.append(j["wall_seconds"])
            assert j["staleness"]["mean"] == r["staleness"]["mean"]
        ms = lambda xs: 1e3 * statistics.median(xs)
        print(f"{label:28} {ms(module):10.2f} {ms(module_engine):10.2f} {ms(program):11.2f} {ms(program_engine):10.2f}")


if __name__ == "__main__":
    main()
