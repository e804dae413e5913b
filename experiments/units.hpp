#pragma once
// Work units (one trial of one scenario or sweep point) run on every thread of every rank.
// One process alone runs them on its threads as it always did. Under MPI (ranks.hpp), rank 0
// hands unit indices out on request, in index order, a few at a time, so ranks that finish
// early take more (points differ in cost by orders of magnitude); the other ranks send each
// result back as bytes, and rank 0 alone sees `finished`. A unit's randomness is its own
// (seed, trial), so where it ran never changes a bit of its result.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sim/learning.hpp"
#include "sim/trial.hpp"
#include "sim/trials.hpp"

namespace timely::experiments {

struct UnitWork {
  std::size_t count = 0;
  unsigned threads = 0;  // threads per rank; 0 = every core the rank may use
  // Computes unit i and keeps its result (any rank, any thread).
  std::function<void(std::size_t unit)> run;
  // Rank 0: unit i's result is in place. Called one at a time, in completion order.
  std::function<void(std::size_t unit)> finished;
  // "sweep point 3 (network.n=16), trial 2": names a unit in the message of a failed run.
  std::function<std::string(std::size_t unit)> describe;
  // Distributed runs only: unit i's result as bytes, and released (ranks > 0); and unit i's
  // result taken from those bytes (rank 0).
  std::function<std::string(std::size_t unit)> save;
  std::function<void(std::size_t unit, const std::string& bytes)> load;
};

// Runs every unit once. Collective under MPI: every rank calls it with the same count. A unit
// that throws stops the run: no rank is handed another unit, those already handed out finish,
// and rank 0 throws ranks::AgreedFailure naming the rank and the unit (the other ranks throw
// ranks::QuietExit). One process alone: no other unit starts, and the unit's exception
// itself reaches the caller.
void run_units(const UnitWork& work);

// The trials of one scenario (sim/trials.hpp) on the ranks of the run; collective under MPI.
// Every rank gets the results in trial order when `everywhere` is true; otherwise rank 0 does
// and the others get an empty vector. `progress` is called on rank 0.
std::vector<sim::TrialResult> trials_on_ranks(const sim::Scenario& scenario, const sim::Graph& graph, unsigned threads,
                                              const sim::TrialProgress& progress = {}, bool everywhere = false);
std::vector<sim::LearningTrialResult> learning_trials_on_ranks(const sim::Scenario& scenario, const sim::Graph& graph,
                                                               const sim::LearningData& data, unsigned threads,
                                                               const sim::TrialProgress& progress = {},
                                                               bool everywhere = false);

}  // namespace timely::experiments
