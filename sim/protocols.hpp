#pragma once
// Learning protocols (docs/model.md §4): how the users' models learn together. A protocol is
// one row of the registry below, carrying its name for learning.protocol, a one-line help,
// the checks it makes of a scenario, whether its runs measure staleness, and its run.
// run_learning_trial looks the row up once per trial, and the row's run owns its event
// loop, so a protocol costs no call per event.
#include <cstdint>
#include <span>
#include <string_view>

#include "sim/scenario.hpp"
#include "sim/topology.hpp"

namespace timely::sim {

struct LearningData;         // sim/learning.hpp
struct LearningTrialResult;  // sim/learning.hpp

struct LearningProtocol {
  std::string_view name;         // the value of learning.protocol
  std::string_view title;        // how reports name it ("none: FedAvg has no gossip")
  std::string_view description;  // one line, for --help, errors and the docs
  // Throws InputError naming the key and what it accepts when the scenario does not fit.
  void (*check)(const Scenario&);
  bool measures_staleness;  // its trials fill LearningTrialResult::staleness
  // One trial, without the single-user baseline (run_learning_trial adds it).
  LearningTrialResult (*run)(const Scenario&, const Graph&, const LearningData&, std::uint64_t index);
};

// The rows, in LearningProtocolId order; the first, gossip, is the default.
std::span<const LearningProtocol> learning_protocol_registry();
inline constexpr LearningProtocolId gossip_protocol{0}, fedavg_protocol{1}, local_protocol{2};

// The scenario's protocol: learning.protocol, or fedavg when mixing.rule = "fedavg", the
// documented alias kept from before protocols existed.
LearningProtocolId learning_protocol_id(const Scenario& scenario);
const LearningProtocol& learning_protocol(const Scenario& scenario);

// The protocols' runs (sim/learning.cpp).
LearningTrialResult run_gossip_learning(const Scenario&, const Graph&, const LearningData&, std::uint64_t index);
LearningTrialResult run_fedavg(const Scenario&, const Graph&, const LearningData&, std::uint64_t index);
LearningTrialResult run_local_learning(const Scenario&, const Graph&, const LearningData&, std::uint64_t index);

}  // namespace timely::sim
