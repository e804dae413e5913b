#!/usr/bin/env bash
# timely's local updates against the bare Eigen loops doing the same SGD steps, measured in
# one run (issue 12): 5 repetitions each, randomly interleaved so that a noisy spell of the
# machine hits both sides alike. timely_learning_bench itself prints the medians (steps/s;
# one SGD step per local update), the ratios timely/bare for logistic regression and the
# 784-128-64-10 MLP against the goal of 0.8, and apart from them the gossip mixes/s and the
# cost of one observation (ms).
# Needs Fashion-MNIST for timely's side (/usr/share/datasets/fashion-mnist); the bare loops
# use synthetic data of the same shape.
# Usage: bench/compare_learning.sh [build-dir]   (default: build, the README's build directory; extra args in BENCH_ARGS)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bin=$build/bench/timely_learning_bench
[ -x "$bin" ] || { echo "compare_learning.sh: $bin not built (cmake --build $build --target timely_learning_bench)" >&2; exit 1; }
exec "$bin" --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
  --benchmark_display_aggregates_only=true ${BENCH_ARGS:-}
