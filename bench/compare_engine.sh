#!/usr/bin/env bash
# The engine's speed against its two references, measured in one run (issue 12): the
# source-model complete-graph benchmarks of timely_bench, 5 repetitions each; prints the
# median events/s of each and the ratios engine/minimal and engine/tightest.
# Usage: bench/compare_engine.sh [build-dir]   (default: build, the README's build directory; extra args in BENCH_ARGS)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bin=$build/bench/timely_bench
[ -x "$bin" ] || { echo "compare_engine.sh: $bin not built (cmake --build $build --target timely_bench)" >&2; exit 1; }
json=$(mktemp)
trap 'rm -f "$json"' EXIT
"$bin" --benchmark_filter='source_complete' --benchmark_repetitions=5 \
  --benchmark_format=json ${BENCH_ARGS:-} >"$json"
python3 "$here/compare.py" "$json" events_per_second \
  engine=BM_engine_source_complete minimal=BM_minimal_loop_source_complete \
  tightest=BM_tightest_loop_source_complete \
  --ratio engine/minimal --ratio engine/tightest
