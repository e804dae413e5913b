#include "experiments/ranks.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sched.h>
#include <thread>
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
#include <mpi.h>
#endif

namespace timely::experiments::ranks {
namespace {

int the_rank = 0, the_size = 1;

#if !TIMELY_MPI
// The number of processes an MPI launcher says it started (1 when none did).
int launcher_processes() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* value = std::getenv(variable)) return std::max(1, std::atoi(value));
  return 1;
}
#endif

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

#if TIMELY_MPI
// mpirun binds each rank to one core when it starts two or fewer, and TBB then runs one
// thread per rank: `mpirun -n 1 timely sweep` would use one core of many. Rank 0 says so when
// the ranks on its machine may use fewer cores than the machine has.
void warn_if_bound_narrowly() {
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
  int local_ranks = 1;
  MPI_Comm_size(local, &local_ranks);
  MPI_Comm_free(&local);
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (the_rank != 0 || sched_getaffinity(0, sizeof mask, &mask) != 0) return;
  const int usable = CPU_COUNT(&mask);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  // One core each while the machine has spare ones: mpirun's default, not a scheduler's
  // allocation (Slurm's --cpus-per-task gives each rank its cores).
  if (usable == 1 && local_ranks < cores)
    std::cerr << fmt::format(
        "timely: note: each of the {} rank(s) on this machine may use 1 of its {} cores (mpirun binds ranks to "
        "cores); pass --bind-to none, or --map-by socket:PE=N, to give each rank's threads more\n",
        local_ranks, cores);
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
  warn_if_bound_narrowly();
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

void refuse_launch_without_mpi() {
#if !TIMELY_MPI
  // Each process would run the whole command alone, and all but one would find the output
  // directory locked: say what is wrong instead.
  if (const int processes = launcher_processes(); processes > 1)
    throw InputError(fmt::format("started by an MPI launcher as {} processes, but this timely was built without MPI "
                                 "(install Open MPI and Boost.MPI and reconfigure with -DTIMELY_MPI=ON, or run one "
                                 "process)",
                                 processes));
#endif
}

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
  } catch (...) {
    outcome = "1unknown exception";
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

namespace {
bool in_step = true;
}

void done_together() { in_step = false; }
bool in_step_with_others() { return distributed() && in_step; }

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
