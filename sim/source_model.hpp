#pragma once
// The source model (Yates' age of gossip; docs/model.md §1-2): one external source makes
// versions and pushes them to random users, who gossip among themselves. Its own event loop,
// in its own translation unit (the loops of every graph, mode and policy take a while to
// compile). Internal to sim/: run_trial calls it.
#include <cstdint>

#include "sim/scenario.hpp"
#include "sim/topology.hpp"
#include "sim/trial.hpp"

namespace timely::sim {

// Trial `index` of the source model; the same engine (run.seed, trial, index) as run_trial.
TrialResult run_source_trial(const Scenario& scenario, const Graph& graph, std::uint64_t index);

// What a trial holds: 4 bytes a user (the push its information descends from) and the table
// of pushes, at most about 1.5 n + 4096 entries of 16 bytes, which a growing vector may hold
// twice over.
double source_state_bytes(const Scenario& scenario);

}  // namespace timely::sim
