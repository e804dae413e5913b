#!/usr/bin/env bash
# timely's local updates against the bare Eigen loops doing the same SGD steps, measured in
# one run (issue 12): 5 repetitions each; prints the medians (steps/s; one SGD step per local
# update) and the ratios timely/bare for logistic regression and the 784-128-64-10 MLP.
# Needs Fashion-MNIST for timely's side (/usr/share/datasets/fashion-mnist); the bare loops
# use synthetic data of the same shape.
# Usage: bench/compare_learning.sh [build-dir]   (default: build, the README's build directory; extra args in BENCH_ARGS)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bin=$build/bench/timely_learning_bench
[ -x "$bin" ] || { echo "compare_learning.sh: $bin not built (cmake --build $build --target timely_learning_bench)" >&2; exit 1; }
json=$(mktemp)
trap 'rm -f "$json"' EXIT
"$bin" --benchmark_filter='BM_bare_|BM_learning_local_updates' --benchmark_repetitions=5 \
  --benchmark_format=json ${BENCH_ARGS:-} >"$json"
python3 "$here/compare.py" "$json" local_updates_per_second,steps_per_second \
  timely_logistic=BM_learning_local_updates bare_logistic=BM_bare_logistic_steps \
  timely_mlp=BM_learning_local_updates_mlp bare_mlp=BM_bare_mlp_steps \
  --ratio timely_logistic/bare_logistic --ratio timely_mlp/bare_mlp
