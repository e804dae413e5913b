#pragma once
// What a simulation of a scenario will cost, checked against the limits before anything runs.
#include <cstdint>
#include <vector>

#include "sim/scenario.hpp"

namespace timely::experiments {

// Limits on the work of one trial, checked before anything runs (docs/interface.md, "Limits").
struct RunLimits {
  double max_events = 1e10;  // clock events per trial; --max-events raises it
  // Threads that run trials, each trial holding its own state (0: every core).
  unsigned threads = 0;
};
// min(trials, threads), with threads = 0 meaning every core.
double concurrent_trials(unsigned threads, std::uint32_t trials);
inline constexpr double max_observations = 1e6;  // learning observations per trial (memory)
// Events weighted by the staleness span each integrates may reach this many times max_events.
inline constexpr double work_per_event_limit = 100.0;
// Learning: multiply-adds of gradients and evaluations may reach this many times max_events.
inline constexpr double learning_flops_per_event = 1e4;

// Expected events of one trial (every clock at its long-run rate) and learning observations.
double estimated_events(const sim::Scenario& scenario);
double estimated_observations(const sim::Scenario& scenario);
// Events times the steps of each: 1, plus the K tracked sources a users-model gossip merges,
// plus the expected staleness span integrated, (version rate / gossip rate) ln n.
double estimated_work(const sim::Scenario& scenario);

// What a simulation of the scenario needs: events and observations within the limits,
// memory (sim/cost.hpp's model of every structure, against experiments/memory_limit.hpp),
// the graph's construction, 32-bit version counters. Throws InputError naming the keys.
void check_resources(const sim::Scenario& scenario, const RunLimits& limits = {});
// A sweep prepares every point before the first trial (each point's graph and data set held
// at once) and runs trials of different points together: their memory must fit together.
void check_sweep_memory(const std::vector<const sim::Scenario*>& points, const RunLimits& limits);
// What `timely theory` (and Python's theory) builds before it computes: the graph, with the
// first-passage searches of its law, and the quadratic model's optima.
void check_theory_resources(const sim::Scenario& scenario, const RunLimits& limits = {});

}  // namespace timely::experiments
