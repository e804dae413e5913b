#!/usr/bin/env bash
# How a sweep scales over MPI ranks (issue 13), all measured in one run: the wall time of one
# sweep on 1, 2, ... ranks with one thread each, and the overhead of MPI on one rank against
# a build without MPI. Every configuration runs REPS times, interleaved (each repetition
# runs every configuration once, in a shuffled order), so a noisy spell of the machine hits
# all alike; the table gives medians. Each run's results.csv must equal the first's.
# Usage: bench/mpi_scaling.sh [SWEEP.toml]      (default: bench/mpi-scaling.toml)
#   BUILD=dir    the MPI build (default: build, the README's build directory)
#   NOMPI=file   a timely built without MPI (default: build-nompi/timely, configured with
#                -DTIMELY_MPI=OFF and built here if missing)
#   RANKS="1 2"  rank counts to time (one thread per rank)
#   REPS=3       repetitions of every configuration
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
sweep=${1:-$here/mpi-scaling.toml}
timely=${BUILD:-$root/build}/timely
nompi=${NOMPI:-$root/build-nompi/timely}
ranks=(${RANKS:-1 2})
reps=${REPS:-3}
[ -x "$timely" ] || { echo "mpi_scaling.sh: $timely not built (bash bootstrap.sh)" >&2; exit 1; }
if [ ! -x "$nompi" ]; then
  echo "mpi_scaling.sh: building timely without MPI in $(dirname "$nompi")" >&2
  cmake -S "$root" -B "$(dirname "$nompi")" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTIMELY_MPI=OFF \
    -DTIMELY_BUILD_TESTS=OFF -DTIMELY_BUILD_BENCH=OFF > /dev/null
  cmake --build "$(dirname "$nompi")" --target timely > /dev/null
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cores=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# configuration name -> command (the sweep and its --out are appended)
declare -A command
names=(no-mpi-build mpi-build-alone)
command[no-mpi-build]="$nompi"
command[mpi-build-alone]="$timely"  # started without a launcher: never calls MPI
for r in "${ranks[@]}"; do
  bind="--bind-to core"  # one thread per rank: each on its own core, while there are cores
  [ "$r" -le "$cores" ] || bind="--oversubscribe --bind-to none"
  names+=("mpirun-n$r")
  command[mpirun-n$r]="mpirun -n $r $bind $timely"
done

calc() { awk "BEGIN { print $1 }"; }
declare -A times
reference=""
for rep in $(seq 1 "$reps"); do
  for name in $(printf '%s\n' "${names[@]}" | shuf); do
    out=$work/$name-$rep
    start=$EPOCHREALTIME
    ${command[$name]} sweep "$sweep" --out "$out" --threads 1 > /dev/null 2> "$work/err"
    end=$EPOCHREALTIME
    times[$name]+="$(calc "$end - $start") "
    [ -n "$reference" ] || reference=$out/results.csv
    cmp -s "$reference" "$out/results.csv" || { echo "mpi_scaling.sh: $name gave other results" >&2; exit 1; }
  done
done

median() { printf '%s\n' $1 | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
units=$(awk -F, 'NR == 1 {for (i = 1; i <= NF; ++i) if ($i == "trials") c = i} NR > 1 {n += $c} END {print n}' "$reference")
echo "MPI scaling of $(basename "$sweep") ($units trials), one thread per rank, $cores cores,"
echo "medians of $reps interleaved runs; every run's results.csv identical:"
printf '  %-18s %9s %10s %11s\n' configuration "wall s" speed-up efficiency
base=$(median "${times[no-mpi-build]}")
one=$(median "${times[mpirun-n1]:-${times[mpi-build-alone]}}")
for name in "${names[@]}"; do
  t=$(median "${times[$name]}")
  case $name in
    mpirun-n*)
      r=${name#mpirun-n}
      printf '  %-18s %9.2f %10.2f %11.3f\n' "$name" "$t" "$(calc "$one / $t")" "$(calc "$one / ($r * $t)")"
      ;;
    *) printf '  %-18s %9.2f\n' "$name" "$t" ;;
  esac
done
if [ -n "${times[mpirun-n1]:-}" ]; then
  ratio=$(calc "$one / $base")
  verdict=$(calc "($ratio <= 1.05) ? 1 : 0")
  printf 'MPI build on one rank (mpirun -n 1) / build without MPI: %.3f (goal <= 1.05: %s)\n' "$ratio" \
    "$([ "$verdict" = 1 ] && echo met || echo NOT met)"
fi
echo "speed-up and efficiency are against mpirun -n 1: efficiency = T(1) / (R T(R))"
