#include <iostream>

#include "app/cli.hpp"
#include "experiments/ranks.hpp"

int main(int argc, char** argv) {
  // Joins an MPI run when mpirun or srun started this process (experiments/ranks.hpp).
  const timely::experiments::ranks::Session ranks(argc, argv);
  return timely::cli::run(argc, argv, std::cout, std::cerr);
}
