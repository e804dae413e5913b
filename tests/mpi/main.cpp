// The MPI tests: one Catch2 program that every rank of `mpirun -n 3` runs. Each test case is
// collective, so the ranks run them in the same order; a rank's failed check fails its exit
// status, and mpirun's.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "experiments/ranks.hpp"

int main(int argc, char** argv) {
  const timely::experiments::ranks::Session ranks(argc, argv);
  return Catch::Session().run(argc, argv);
}
