#pragma once
// Independent trials in parallel. Each trial's randomness comes from (seed, trial index),
// results are written to their own slot and reduced in trial order, so the outcome is
// bit-identical for every thread count.
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/trial.hpp"

namespace timely::sim {

// Called after each finished trial with the number finished so far (from worker threads,
// serialised by the caller's own means; may be empty).
using TrialProgress = std::function<void(std::uint32_t done)>;

// threads = 0: use every core TBB sees.
std::vector<TrialResult> run_trials(const Scenario& scenario, const Graph& graph, unsigned threads,
                                    const TrialProgress& progress = {});

}  // namespace timely::sim
