#pragma once
// What a scenario costs to simulate, estimated from its keys before anything runs: events,
// the steps of each, messages in flight and their bytes, model sizes, learning arithmetic.
// experiments/scenario_resources.cpp checks these against the run's limits. Each estimate
// takes its quantities from the code that spends them: a message's bytes from the learners
// (sim/learning.hpp, sim/quadratic.hpp) or the scenario (Scenario::staleness_message_bytes),
// a model's parameters from its layout (models/mlp.hpp), a data set's shape from its loader
// (sim/learning.hpp, models/dataset.hpp), per-user rates from sim/user_clocks.hpp.
#include <string_view>
#include <vector>

#include "sim/scenario.hpp"

namespace timely::sim::cost {

// The users' clock rates as the estimates need them: means, and the extremes that bound a
// version's count and spread. Heterogeneous users are resolved (O(n) draws): resolve once
// and pass the result to the estimates below.
struct ClockRates {
  double mean_update = 0.0, max_update = 0.0, mean_gossip = 0.0, min_gossip = 0.0;
};
ClockRates clock_rates(const Scenario& scenario);

// ---- the staleness engine, per trial -----------------------------------------------------
// Versions of the fastest source over the run (its counter is 32 bits).
double versions(const Scenario& scenario, const ClockRates& rates);
// Events: every clock at its long-run rate (each user's gossip and update clocks, or the
// users' gossip and the source's two clocks), plus the network layer's.
double events(const Scenario& scenario, const ClockRates& rates);
// A SAPO swarm (sim/sapo.hpp): the users each rollout goes to (sapo.share_fanout, or every
// neighbour: n - 1 on the complete graph, which bounds the others), the rollouts it sends per
// unit time (an event each when it arrives), and the bytes of the pools that hold what
// arrived in a learner's last sapo.keep updates (16 bytes an entry).
double sapo_fanout(const Scenario& scenario);
double sapo_message_rate(const Scenario& scenario, const ClockRates& rates);
double sapo_pool_bytes(const Scenario& scenario);
// The pools and the rollouts in flight to them (32 bytes each, for min(horizon, mean latency)).
double sapo_memory_bytes(const Scenario& scenario, const ClockRates& rates);
// Events times the steps of each (1, plus the K tracked sources a users-model gossip merges),
// plus, for each new version of a tracked source, the staleness span its histogram integrates:
// (version rate / gossip rate) ln n, at most the versions made in the run.
double work(const Scenario& scenario, const ClockRates& rates);

// ---- the network layer (docs/model.md §7) -----------------------------------------------
// Messages a gossip tick sends: push its state; pull a request and the reply; exchange an
// opening and the reply.
double messages_per_tick(const Scenario& scenario);
// Bytes of one message on the uplink, as the engine sends it: the staleness message, or the
// model's parameters.
double message_bytes(const Scenario& scenario);
// Time one message holds its sender's uplink (0 with unlimited bandwidth).
double transfer_time(const Scenario& scenario);
// Events per unit time the network layer adds to the clocks': each message's arrival (and
// the end of its transfer over a finite uplink), and every Markov churn transition.
double network_event_rate(const Scenario& scenario, double mean_gossip);

// Messages in flight each hold a copy of their sender's state from the start of their
// transfer to their arrival: by Little's law about (send rate) x (time in flight) copies at
// once, and a queue that grows when ticks outpace a slow uplink.
struct MessageMemory {
  double in_flight = 0.0;   // messages at once
  double backlog = 0.0;     // sends queued for the uplink by the end of the run (busy = queue)
  double copy_bytes = 0.0;  // of the state each message holds
  double bytes = 0.0;       // all of it, with each message's and queued send's bookkeeping
};
MessageMemory message_memory(const Scenario& scenario, const ClockRates& rates);

// ---- learning (docs/model.md §4-6), per trial ---------------------------------------------
// Observations of the metrics (0 without learning).
double observations(const Scenario& scenario);
// Parameters of the scenario's model (linear, logistic or MLP).
double model_parameters(const Scenario& scenario);
// Test samples one evaluation uses.
double evaluation_samples(const Scenario& scenario);
// Training: every local update computes train.steps mini-batch gradients; every observation
// evaluates the average model and observe.users users' models on the test samples. Each
// sample costs a few multiply-adds per parameter, and a fixed 1000 operations besides (batch
// gathering, the loss, the step), so tiny models are not free.
struct LearningWork {
  double gradients = 0.0, evaluations = 0.0;  // samples
  double operations = 0.0;
};
LearningWork learning_work(const Scenario& scenario, const ClockRates& rates);
// The quadratic model (docs/model.md §6): every event costs O(d) arithmetic plus O(log n) for
// the worst-error tree, and every observation O(n d).
double quadratic_operations(const Scenario& scenario, double events_per_trial);
// A synthetic data set: its samples (training and test), the bytes of their features as
// floats, and the operations of drawing a teacher network's targets (the teacher's hidden
// layer for every sample).
double synthetic_samples(const Scenario& scenario);
double synthetic_data_bytes(const Scenario& scenario);
double teacher_operations(const Scenario& scenario);

// ---- memory: one model of everything a run allocates ---------------------------------------
// Each part is sized by the code that allocates it (named beside each part in sim/cost.cpp),
// with the keys that set it. `shared` parts exist once per process (the graph, a synthetic
// data set); `per_trial` ones once for every trial running at the same time.
struct MemoryPart {
  std::string_view what;  // e.g. "the network layer's per-user state"
  std::string_view keys;  // the keys that lower it
  double bytes = 0.0;
};
struct Memory {
  std::vector<MemoryPart> shared, per_trial;
  double total(double concurrent_trials) const;
  double per_trial_bytes() const;  // one trial's parts
  // The part contributing most to total(concurrent_trials).
  MemoryPart largest(double concurrent_trials) const;
};
// Without `rates`, the parts that need the clocks' rates (messages in flight, a swarm's
// pools) are left out: per-user clock laws are resolved to compute the rates (O(n) memory
// themselves), so a first check runs before that.
Memory memory(const Scenario& scenario, const ClockRates* rates);

}  // namespace timely::sim::cost
