#!/usr/bin/env bash
# The engine's speed against its two references, measured in one run (issue 12): the
# source-model complete-graph benchmarks of timely_bench, 5 repetitions each, randomly
# interleaved so that a noisy spell of the machine hits every loop alike. timely_bench
# itself prints the median events/s of each and the ratios engine/minimal and
# engine/tightest (goal: >= 0.8).
# Usage: bench/compare_engine.sh [build-dir]   (default: build, the README's build directory; extra args in BENCH_ARGS)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bin=$build/bench/timely_bench
[ -x "$bin" ] || { echo "compare_engine.sh: $bin not built (cmake --build $build --target timely_bench)" >&2; exit 1; }
exec "$bin" --benchmark_filter='source_complete' --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
  --benchmark_display_aggregates_only=true ${BENCH_ARGS:-}
