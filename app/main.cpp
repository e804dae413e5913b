#include <csignal>
#include <iostream>

#include "app/cli.hpp"
#include "experiments/ranks.hpp"

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a write fails with EFBIG instead of the default
  // SIGXFSZ killing the process without a word (status 153) and leaving a temporary file or
  // a results.csv cut mid-row: the file writers (experiments/files.hpp) then remove the
  // temporary or cut the file back to whole rows, and the run ends with exit 1 and one line.
  std::signal(SIGXFSZ, SIG_IGN);
  // Joins an MPI run when mpirun or srun started this process (experiments/ranks.hpp).
  const timely::experiments::ranks::Session ranks(argc, argv);
  return timely::cli::run(argc, argv, std::cout, std::cerr);
}
