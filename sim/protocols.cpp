#include "sim/protocols.hpp"

#include <array>
#include <fmt/format.h>

#include "sim/input_error.hpp"
#include "sim/modest_views.hpp"
#include "sim/protocol_list.hpp"

namespace timely::sim {
namespace {

// How the scenario chose a protocol other than gossip, for its errors.
std::string chosen_by(const Scenario& s, std::string_view name) {
  if (s.learning.mixing.rule == MixingRule::fedavg) return "mixing.rule = \"fedavg\"";
  return fmt::format("learning.protocol = \"{}\"", name);
}

}  // namespace

void FedAvg::check(const Scenario& s) {
  const bool aliased = s.learning.mixing.rule == MixingRule::fedavg;
  if (aliased && !(s.learning.protocol == gossip_protocol || s.learning.protocol == fedavg_protocol))
    throw InputError(fmt::format("learning.protocol: mixing.rule = \"fedavg\" is an alias of learning.protocol = "
                                 "\"fedavg\", but learning.protocol = \"{}\" (keep one of the two)",
                                 learning_protocol_registry()[s.learning.protocol.index].name));
  // Latency, bandwidth and per-user clocks time its rounds (docs/model.md §6.7); a lost model or
  // an offline client would keep the server waiting for ever.
  if (s.gossip.loss > 0.0 || s.churn.model != ChurnModel::none)
    throw InputError(fmt::format("{}: {} waits for every client's model each round, which loss or an offline client "
                                 "would stop (keep it at its default; gossip.latency and gossip.bandwidth apply)",
                                 s.gossip.loss > 0.0 ? "gossip.loss" : "churn.model", chosen_by(s, "fedavg")));
  if (s.gossip.busy == BusyPolicy::drop && s.networked())
    throw InputError(fmt::format("gossip.busy: {} queues the server's transfers on its uplink; expected \"queue\"",
                                 chosen_by(s, "fedavg")));
}

void LocalTraining::check(const Scenario& s) {
  if (s.learning.mixing.rule != MixingRule::average)
    throw InputError(fmt::format("mixing.rule: learning.protocol = \"local\" mixes no models; keep mixing.rule at "
                                 "\"average\", got \"{}\"",
                                 to_string(s.learning.mixing.rule)));
  if (s.networked())
    throw InputError(fmt::format("{}: gossip.latency, gossip.bandwidth, gossip.loss and churn apply to gossip; "
                                 "learning.protocol = \"local\" sends no messages (keep these keys at their defaults)",
                                 s.first_network_key()));
}

void SingleUser::check(const Scenario& s) {
  // One user on a clock at the long-run rate: per-user laws have no user to apply to.
  if (s.heterogeneous())
    throw InputError(fmt::format("{}: per-user clocks do not apply to learning.protocol = \"single-user\" (its one "
                                 "user's Poisson clock runs at the long-run rate 1/(updates.delay + 1/updates.rate) of "
                                 "plain numbers)",
                                 s.first_per_user_key()));
  if (s.learning.mixing.rule != MixingRule::average)
    throw InputError(fmt::format("mixing.rule: learning.protocol = \"single-user\" mixes no models; keep mixing.rule "
                                 "at \"average\", got \"{}\"",
                                 to_string(s.learning.mixing.rule)));
  if (s.networked())
    throw InputError(fmt::format("{}: gossip.latency, gossip.bandwidth, gossip.loss and churn apply to gossip; "
                                 "learning.protocol = \"single-user\" sends no messages (keep these keys at their "
                                 "defaults)",
                                 s.first_network_key()));
}

void Modest::check(const Scenario& s) {
  const ModestSpec& m = s.learning.modest;
  if (m.sample > s.network.n)
    throw InputError(fmt::format("modest.sample: expected an integer in [1, network.n = {}], got {}", s.network.n, m.sample));
  if (s.churn.model != ChurnModel::none && s.network.n > modest::Views::max_users)
    throw InputError(fmt::format("network.n: learning.protocol = \"modest\" under churn keeps every user's view of every "
                                 "user (n^2 entries, docs/model.md §4.1); expected at most {}, got {}",
                                 modest::Views::max_users, s.network.n));
  // A trainer's aggregators are the first users of round k+1's sample to answer.
  if (m.aggregators > m.sample)
    throw InputError(fmt::format("modest.aggregators: expected an integer in [1, modest.sample = {}], got {}", m.sample,
                                 m.aggregators));
  if (m.min_models > m.sample)
    throw InputError(fmt::format("modest.min_models: expected an integer in [1, modest.sample = {}], got {}", m.sample,
                                 m.min_models));
  if (s.learning.mixing.rule != MixingRule::average)
    throw InputError(fmt::format("mixing.rule: learning.protocol = \"modest\" averages each round's models; keep "
                                 "mixing.rule at \"average\", got \"{}\"",
                                 to_string(s.learning.mixing.rule)));
  if (s.gossip.busy == BusyPolicy::drop)
    throw InputError("gossip.busy: learning.protocol = \"modest\" queues its transfers on the sender's uplink; "
                     "expected \"queue\"");
  if (s.gossip.mode != GossipMode::push || s.gossip.policy != GossipPolicyId{})
    throw InputError(std::string(s.gossip.mode != GossipMode::push ? "gossip.mode" : "gossip.policy") +
                     ": learning.protocol = \"modest\" runs no gossip (keep it at its default)");
}

void Dpsgd::check(const Scenario& s) {
  if (s.learning.mixing.rule != MixingRule::average)
    throw InputError(fmt::format("mixing.rule: learning.protocol = \"dpsgd\" takes the Metropolis-Hastings average of "
                                 "each neighbourhood; keep mixing.rule at \"average\", got \"{}\"",
                                 to_string(s.learning.mixing.rule)));
  if (s.churn.model != ChurnModel::none)
    throw InputError("churn.model: learning.protocol = \"dpsgd\" runs synchronous rounds that wait for every user, "
                     "which an offline user would stop; expected \"none\"");
  if (s.gossip.loss > 0.0)
    throw InputError("gossip.loss: learning.protocol = \"dpsgd\" runs synchronous rounds that wait for every model; "
                     "expected 0");
  if (s.gossip.busy == BusyPolicy::drop)
    throw InputError("gossip.busy: learning.protocol = \"dpsgd\" queues a user's transfers on its uplink; expected \"queue\"");
  if (s.gossip.mode != GossipMode::push || s.gossip.policy != GossipPolicyId{})
    throw InputError(std::string(s.gossip.mode != GossipMode::push ? "gossip.mode" : "gossip.policy") +
                     ": learning.protocol = \"dpsgd\" runs no gossip (keep it at its default)");
}

void Sapo::check(const Scenario& s) {
  const SapoSpec& m = s.learning.sapo;
  // A policy samples answers among classes: a softmax model on a classification task.
  if (s.learning.model.kind != ModelKind::logistic && s.learning.model.kind != ModelKind::mlp)
    throw InputError(fmt::format("model.kind: learning.protocol = \"sapo\" trains policies that sample answers among "
                                 "classes; expected \"logistic\" or \"mlp\", got \"{}\"",
                                 to_string(s.learning.model.kind)));
  if (s.learning.data.source == DataSource::synthetic_regression)
    throw InputError("data.source: learning.protocol = \"sapo\" needs questions with verifiable answers; expected "
                     "\"fashion-mnist\", \"synthetic-mixture\" or \"synthetic-arithmetic\", got \"synthetic-regression\"");
  if (m.specialties > 1 && s.learning.data.source != DataSource::synthetic_arithmetic)
    throw InputError(fmt::format("sapo.specialties: task kinds are those of data.source = \"synthetic-arithmetic\"; "
                                 "expected 1 with data.source = \"{}\", got {}",
                                 to_string(s.learning.data.source), m.specialties));
  if (m.local > m.questions)
    throw InputError(fmt::format("sapo.local: expected an integer in [0, sapo.questions = {}], got {}", m.questions,
                                 m.local));
  if (m.local + m.external == 0)
    throw InputError("sapo.external: a batch needs some rollouts; expected sapo.local + sapo.external >= 1, got 0 + 0");
  if (m.share_fanout && *m.share_fanout > s.network.n - 1)
    throw InputError(fmt::format("sapo.share_fanout: expected an integer in [0, network.n - 1 = {}], got {}",
                                 s.network.n - 1, *m.share_fanout));
  if (s.learning.train.momentum > 0.0)
    throw InputError(fmt::format("train.momentum: learning.protocol = \"sapo\" takes plain GRPO steps; expected 0, "
                                 "got {}",
                                 s.learning.train.momentum));
  if (s.learning.mixing.rule != MixingRule::average)
    throw InputError(fmt::format("mixing.rule: learning.protocol = \"sapo\" shares rollouts and mixes no models; keep "
                                 "mixing.rule at \"average\", got \"{}\"",
                                 to_string(s.learning.mixing.rule)));
  if (s.gossip.busy == BusyPolicy::drop)
    throw InputError("gossip.busy: learning.protocol = \"sapo\" queues its rollouts on the sender's uplink; expected "
                     "\"queue\"");
  if (s.gossip.mode != GossipMode::push || s.gossip.policy != GossipPolicyId{})
    throw InputError(std::string(s.gossip.mode != GossipMode::push ? "gossip.mode" : "gossip.policy") +
                     ": learning.protocol = \"sapo\" sends rollouts to sapo.share_fanout neighbours and runs no gossip "
                     "(keep it at its default)");
}

namespace {

template <class... P>
constexpr auto protocol_rows(ProtocolList<P...>) {
  return std::array<LearningProtocol, sizeof...(P)>{LearningProtocol{P::info, &P::check}...};
}
constexpr auto registry = protocol_rows(LearningProtocols{});

}  // namespace

std::span<const LearningProtocol> learning_protocol_registry() { return registry; }

LearningProtocolId learning_protocol_id(const Scenario& s) {
  return s.learning.mixing.rule == MixingRule::fedavg ? fedavg_protocol : s.learning.protocol;
}

const LearningProtocol& learning_protocol(const Scenario& s) { return registry[learning_protocol_id(s).index]; }

}  // namespace timely::sim
