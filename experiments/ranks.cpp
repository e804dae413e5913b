#include "experiments/ranks.hpp"

#include <cstdlib>
#include <fmt/format.h>
#include <memory>
#include <vector>

#include "sim/input_error.hpp"

#if TIMELY_MPI
#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#endif

namespace timely::experiments::ranks {
namespace {

int the_rank = 0, the_size = 1;

#if TIMELY_MPI
std::unique_ptr<boost::mpi::environment> environment;
std::unique_ptr<boost::mpi::communicator> world;

// Set by the launchers that start MPI processes: Open MPI's mpirun, PMIx and PMI (srun under
// Slurm, MPICH's Hydra). A process started by hand has none of them and never calls MPI_Init,
// which would otherwise start a one-process MPI "singleton" on every run.
bool launched_by_mpi() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
    if (std::getenv(variable) != nullptr) return true;
  return false;
}
#endif

}  // namespace

Session::Session([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
#if TIMELY_MPI
  if (!launched_by_mpi()) return;
  // Only the main thread calls MPI (units.cpp): the worker threads compute and hand their
  // results to it, so MPI's "funneled" level is all a run needs.
  environment = std::make_unique<boost::mpi::environment>(argc, argv, boost::mpi::threading::funneled, true);
  world = std::make_unique<boost::mpi::communicator>();
  the_rank = world->rank();
  the_size = world->size();
#endif
}

Session::~Session() {
#if TIMELY_MPI
  world.reset();
  environment.reset();  // MPI_Finalize
#endif
}

int rank() { return the_rank; }
int size() { return the_size; }

bool built_with_mpi() {
#if TIMELY_MPI
  return true;
#else
  return false;
#endif
}

AgreedInputError::AgreedInputError(const std::string& message) : InputError(message) {}

void agree(const std::function<void()>& step) {
  if (!distributed()) {
    step();
    return;
  }
#if TIMELY_MPI
  // Each rank's outcome: empty, or the exit status (2: bad input, 1: failure) and the message.
  std::string outcome;
  try {
    step();
  } catch (const InputError& e) {
    outcome = std::string("2") + e.what();
  } catch (const std::exception& e) {
    outcome = std::string("1") + e.what();
  }
  std::vector<std::string> all;
  boost::mpi::all_gather(*world, outcome, all);
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r].empty()) continue;
    const int status = all[r][0] - '0';
    if (!root()) throw QuietExit{status};
    const std::string message = r == 0 ? all[r].substr(1) : fmt::format("rank {}: {}", r, all[r].substr(1));
    if (status == 2) throw AgreedInputError(message);
    throw AgreedFailure(message);
  }
#endif
}

void barrier() {
#if TIMELY_MPI
  if (distributed()) world->barrier();
#endif
}

void broadcast([[maybe_unused]] std::string& bytes) {
#if TIMELY_MPI
  if (distributed()) boost::mpi::broadcast(*world, bytes, 0);
#endif
}

void abort([[maybe_unused]] int status) {
#if TIMELY_MPI
  if (distributed()) environment->abort(status);
#endif
  std::exit(status);
}

#if TIMELY_MPI
boost::mpi::communicator& communicator() { return *world; }
#endif

}  // namespace timely::experiments::ranks
