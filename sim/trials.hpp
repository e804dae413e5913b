#pragma once
// Independent trials in parallel. Each trial's randomness comes from (seed, trial index),
// results are written to their own slot and reduced in trial order, so the outcome is
// bit-identical for every thread count.
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/learning.hpp"
#include "sim/trial.hpp"

namespace timely::sim {

// Called after each finished trial with the number finished so far (from worker threads;
// may be empty).
using TrialProgress = std::function<void(std::uint32_t done)>;

// The threads that run trials for a `--threads` value: every core for 0, else at most the
// cores this process may use (more cannot run at once; the results never depend on it).
int trial_threads(unsigned threads);

// Runs run_one(trial) for trial = 0..trials-1 on at most `threads` threads (0 = every core).
void for_each_trial(std::uint32_t trials, unsigned threads, const TrialProgress& progress,
                    const std::function<void(std::uint32_t trial)>& run_one);

std::vector<TrialResult> run_trials(const Scenario& scenario, const Graph& graph, unsigned threads,
                                    const TrialProgress& progress = {});

std::vector<LearningTrialResult> run_learning_trials(const Scenario& scenario, const Graph& graph,
                                                     const LearningData& data, unsigned threads,
                                                     const TrialProgress& progress = {});

}  // namespace timely::sim
