#pragma once
// The processes of an MPI run. `mpirun -n R timely ...` (or `srun`) starts R copies of the
// program; they read the same command line and files, rank 0 writes every output and the
// other ranks only run work units (units.hpp) and stay silent. Started without an MPI
// launcher, or in a build without MPI, the program is one process alone (rank 0 of 1) and
// never touches MPI, so a run is exactly what it was before MPI support.
#include <functional>
#include <stdexcept>
#include <string>

#include "sim/input_error.hpp"

#if TIMELY_MPI
namespace boost::mpi {
class communicator;
}
#endif

namespace timely::experiments::ranks {

// Joins the MPI run when the build has MPI and an MPI launcher started the process (its
// environment says so); otherwise does nothing. Call once, first thing in main; the run
// ends (MPI_Finalize) when the returned object is destroyed.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

int rank();
int size();
inline bool root() { return rank() == 0; }
inline bool distributed() { return size() > 1; }
bool built_with_mpi();

// Throws InputError when an MPI launcher started several copies of a build without MPI.
void refuse_launch_without_mpi();

// Thrown on ranks other than 0 when the run stops for an error that rank 0 reports: they exit
// with `status` and print nothing, so the user reads one line, not one per rank.
struct QuietExit {
  int status;
};

// Errors every rank knows about (from agree() or a unit pool), so the run can end normally:
// rank 0 prints the message and exits 2 (bad input) or 1 (failure), the others exit quietly.
// Any other error on a distributed run means the ranks may be out of step: the program
// prints it and aborts the whole run (abort()), rather than leave the others waiting.
struct Agreed {};
struct AgreedInputError : InputError, Agreed {
  explicit AgreedInputError(const std::string& message);
};
struct AgreedFailure : std::runtime_error, Agreed {
  using std::runtime_error::runtime_error;
};

// Runs `step` on every rank, then agrees on its outcome: if it threw InputError on some
// rank, rank 0 throws AgreedInputError with the lowest such rank's message (prefixed "rank R: "
// when it was not rank 0's own) and the other ranks throw QuietExit{2}; any other exception
// becomes AgreedFailure (status 1) the same way. Collective: every
// rank must call it at the same point. One process alone: just runs `step`.
void agree(const std::function<void()>& step);

// This rank has passed its last collective step (the others have returned or are about to):
// from here on an error is reported as by one process, without aborting the run. True from
// the start until done_together() is called, on a distributed run.
void done_together();
bool in_step_with_others();

// Rank 0's `bytes` on every rank (one process alone: unchanged).
void broadcast(std::string& bytes);

// Ends every rank of the run with `status` (MPI_Abort), or this process alone.
[[noreturn]] void abort(int status);

#if TIMELY_MPI
// The run's communicator (distributed runs only).
boost::mpi::communicator& communicator();
#endif

}  // namespace timely::experiments::ranks
