#!/bin/bash
# A timely sweep as a Slurm batch job: one MPI rank per node, each running its trials on
# the node's cores with TBB threads (docs/mpi.md).
#   sbatch examples/slurm-sweep.sh examples/sweep-vanishing-variance-full.toml out/vv
# Submitting the same command again continues the sweep where a time limit or a failure
# stopped it (--resume keeps every finished point), on any number of nodes.
#SBATCH --job-name=timely-sweep
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=32
#SBATCH --time=12:00:00
#SBATCH --output=timely-sweep-%j.log
set -euo pipefail
sweep=${1:?usage: sbatch examples/slurm-sweep.sh SWEEP.toml [OUT_DIR]}
out=${2:-out/$(basename "$sweep" .toml)}
# The output directory and the inputs must be on a filesystem every node sees (home or
# scratch on most clusters); rank 0 writes, the others only compute.
# srun starts the ranks through PMIx; where the cluster's Slurm lacks it, use
#   mpirun ./build/timely sweep ...   (Open MPI reads the allocation from Slurm).
timely=${TIMELY:-./build/timely}
# --kill-on-bad-exit: a rank that dies (out of memory, say) ends the job step, as mpirun does,
# instead of leaving rank 0 waiting for it until the time limit. --cpus-per-task again:
# srun does not inherit it from the allocation on some Slurm versions (22.05 to 23.02).
srun --mpi=pmix --kill-on-bad-exit=1 ${SLURM_CPUS_PER_TASK:+--cpus-per-task="$SLURM_CPUS_PER_TASK"} \
  "$timely" sweep "$sweep" --out "$out" --resume ${SLURM_CPUS_PER_TASK:+--threads "$SLURM_CPUS_PER_TASK"}
