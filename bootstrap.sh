#!/usr/bin/env bash
# timely's one entry point on a fresh Debian machine.
#   bash bootstrap.sh         install what is missing, build the program and the Python module (Release),
#                             run the main job (timely validate)
#   bash bootstrap.sh test    install what is missing, build everything (Release) and run the test suite
#                             (the MPI tests run mpirun -n 3 on this machine; the Python tests run pytest),
#                             then build the tests with AddressSanitizer and UndefinedBehaviorSanitizer
#                             (build-asan/) and run the suite again there
# Installing is idempotent: packages already present are not touched.
# Compiles go through ccache (installed below; CMakeLists.txt sets it up): rebuilding sources
# that did not change, in this tree or in another clone of it, is a cache look-up, so the
# second `bash bootstrap.sh test` on a machine spends its time in the tests, not the compiler.
# TIMELY_NATIVE=ON bash bootstrap.sh builds build/ for this machine's CPU (-march=native):
# about twice as fast for MLP learning, but model results then match only machines of the
# same instruction set (docs/performance.md). The default is portable.
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-run}

packages=(
  cmake ninja-build g++ pkg-config ccache
  libboost-dev libboost-random-dev libboost-math-dev libboost-iostreams-dev libboost-filesystem-dev
  libeigen3-dev libtbb-dev catch2 libcli11-dev libtomlplusplus-dev libfmt-dev nlohmann-json3-dev
  libbenchmark-dev gnuplot-nox libgnuplot-iostream-dev
  dataset-fashion-mnist
  openmpi-bin libopenmpi-dev libboost-mpi-dev libboost-serialization-dev
  python3-dev pybind11-dev python3-numpy python3-pandas python3-pytest python3-matplotlib
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs=$(nproc)
configure() { cmake -S . -G Ninja "$@" >/dev/null; }
native="-DTIMELY_NATIVE=${TIMELY_NATIVE:-OFF}"
# MPI runs (mpirun -n R timely sweep ...): on by default here, since the packages above are
# installed; TIMELY_MPI=OFF bash bootstrap.sh builds without them.
mpi="-DTIMELY_MPI=${TIMELY_MPI:-ON}"
# The Python module (import timely; docs/python.md): on by default, TIMELY_PYTHON=OFF
# leaves it out. Its interpreter is Debian's python3, which sees the packages above.
python="-DTIMELY_PYTHON=${TIMELY_PYTHON:-ON}"
[ -x /usr/bin/python3 ] && python+=" -DPython_EXECUTABLE=/usr/bin/python3"
# Runs "$@" and reports its wall time on stderr under the label $1.
timed() {
  local label=$1 start=$SECONDS
  shift
  "$@"
  echo "bootstrap: $label took $((SECONDS - start)) s" >&2
}

case "$mode" in
  run)
    configure -B build -DCMAKE_BUILD_TYPE=Release -DTIMELY_PIC_LIBRARIES=OFF "$native" "$mpi" $python
    # The program and the Python module: no tests, no benchmarks.
    targets=(timely)
    if cmake --build build --target help | grep "^timely_python_files:" >/dev/null; then targets+=(timely_python_files); fi
    cmake --build build -j "$jobs" --target "${targets[@]}"
    ./build/timely validate
    ;;
  test)
    # The libraries once, position-independent, for the program and the Python module alike
    # (CMakeLists.txt: TIMELY_PIC_LIBRARIES): half the library compiles of the run mode's two
    # sets, and the same bits; build/timely's event loops are then a few percent slower, so
    # time the program of `bash bootstrap.sh` (docs/performance.md).
    configure -B build -DCMAKE_BUILD_TYPE=Release -DTIMELY_PIC_LIBRARIES=ON "$native" "$mpi" $python
    timed "Release build" cmake --build build -j "$jobs"
    timed "Release tests" ctest --test-dir build --output-on-failure --no-tests=error -j "$jobs"

    # The same suite under AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer:
    # -O2 with line tables for the stacks, the tests and the program they run only.
    sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
    # The Python module stays out: the interpreter itself is not instrumented (python_skipped).
    configure -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIMELY_BUILD_BENCH=OFF "$mpi" -DTIMELY_PYTHON=OFF \
      -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
    timed "sanitizer build" cmake --build build-asan -j "$jobs" --target timely_tests
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    timed "sanitizer tests" ctest --test-dir build-asan --output-on-failure --no-tests=error -j "$jobs"
    ;;
  *)
    echo "bootstrap: unknown mode '$mode' (expected: run or test)" >&2
    exit 2
    ;;
esac
