#!/usr/bin/env bash
# timely's one entry point on a fresh Debian machine.
#   bash bootstrap.sh         install what is missing, build (Release), run the main job (timely validate)
#   bash bootstrap.sh test    install what is missing, build, run the whole test suite
# Installing is idempotent: packages already present are not touched.
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-run}

packages=(
  cmake ninja-build g++ pkg-config
  libboost-dev libboost-random-dev libboost-math-dev libboost-iostreams-dev libboost-filesystem-dev
  libeigen3-dev libtbb-dev catch2 libcli11-dev libtomlplusplus-dev libfmt-dev nlohmann-json3-dev
  libbenchmark-dev gnuplot-nox libgnuplot-iostream-dev
  dataset-fashion-mnist
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
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"

case "$mode" in
  run)
    ./build/timely validate
    ;;
  test)
    ctest --test-dir build --output-on-failure -j "$jobs"
    ;;
  *)
    echo "bootstrap: unknown mode '$mode' (expected: run or test)" >&2
    exit 2
    ;;
esac
