#pragma once
// Learning protocols (docs/model.md §4): how the users' models learn together. A protocol is
// one type and one row of LearningProtocols (sim/protocol_list.hpp); this header is the
// registry's light face: each row's name for learning.protocol, title, one-line help,
// whether its runs measure staleness, and the checks it makes of a scenario.
// run_learning_trial (sim/learning.hpp) runs the scenario's protocol on the scenario's model
// (each protocol is compiled once per model), and the protocol's run owns its event loop,
// so a protocol costs no call per event.
#include <cstdint>
#include <span>
#include <string_view>

#include "sim/scenario.hpp"

namespace timely::sim {

// How a protocol's trials report the users' models.
enum class Observed : std::uint8_t {
  users,   // each user's own model; the average model is their mean
  server,  // once a round has run, the server's model is the average model and every user's
  // Each user's own model, and no average model: the users' policies of a SAPO swarm, whose
  // parameter mean no user holds. The average model's metrics (accuracy, loss, training loss)
  // are then the mean of the sampled users' own.
  own,
};

// What a report calls the model whose test accuracy and loss it shows: "the average model"
// (Observed::users, and a server's, which is then every user's), or "the users' own models"
// (Observed::own: no average model exists).
constexpr std::string_view observed_model(Observed observed) {
  return observed == Observed::own ? "the users' own models" : "the average model";
}

// What the registry says of a protocol beside its run.
struct LearningProtocolInfo {
  std::string_view name;         // the value of learning.protocol
  std::string_view title;        // how reports name it ("none: FedAvg has no gossip")
  std::string_view description;  // one line, for --help, errors and the docs
  bool measures_staleness;       // its trials fill LearningTrialResult::staleness
  Observed observed;             // what its observations measure
  // The bank its run gets holds one user with every user's data pooled (the neural models:
  // the whole training set; the quadratic model: the mean objective, optimum a_bar) instead
  // of the n users with their own shards. Honoured where the bank is built (run_protocol's
  // make_bank), so that a protocol whose reference is centralised needs no model of its own.
  bool pools_data = false;
  // Its trials count their rounds (LearningTrialResult::round_counts): reported as `protocol`
  // in --json and as the rounds columns of results.csv.
  bool reports_rounds = false;
  // Its trials count what they did with shared experience (LearningTrialResult::experience,
  // SAPO): reported as learning.total_reward and learning.experience_age in --json, and
  // as the experience columns of results.csv.
  bool reports_experience = false;
};

struct LearningProtocol : LearningProtocolInfo {
  // Throws InputError naming the key and what it accepts when the scenario does not fit.
  void (*check)(const Scenario&);
};

// The rows, in LearningProtocolId order; the first, gossip, is the default.
std::span<const LearningProtocol> learning_protocol_registry();
// sim/protocol_list.hpp checks these against the list's order.
inline constexpr LearningProtocolId gossip_protocol{0}, fedavg_protocol{1}, local_protocol{2}, single_user_protocol{3},
    modest_protocol{4}, dpsgd_protocol{5}, sapo_protocol{6};

// The scenario's protocol: learning.protocol, or fedavg when mixing.rule = "fedavg", the
// documented alias kept from before protocols existed.
LearningProtocolId learning_protocol_id(const Scenario& scenario);
const LearningProtocol& learning_protocol(const Scenario& scenario);

}  // namespace timely::sim
