#include "sim/cost.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "models/dataset.hpp"
#include "models/mlp.hpp"
#include "sim/learning.hpp"
#include "sim/message_layer.hpp"
#include "sim/gossip_policy.hpp"
#include "sim/protocols.hpp"
#include "sim/quadratic.hpp"
#include "sim/topology.hpp"
#include "sim/trial.hpp"
#include "sim/user_clocks.hpp"

namespace timely::sim::cost {

// The gossip policy's contacts replace the capacity rate where it spends otherwise (fanout,
// burst): every estimate below counts contacts through mean_gossip and min_gossip.
ClockRates with_policy_contacts(const Scenario& s, ClockRates c) {
  const double contacts = policy_contact_rate(s, c.mean_update, c.mean_gossip);
  if (contacts != c.mean_gossip) c.mean_gossip = c.min_gossip = contacts;
  return c;
}

ClockRates clock_rates(const Scenario& s) {
  ClockRates c{s.update_rate(), s.update_rate(), s.gossip_rate(), s.gossip_rate()};
  if (!s.heterogeneous() || (s.users.table && s.users.table->rows != s.network.n)) return with_policy_contacts(s, c);
  const UserClocks clocks = user_clocks(s);
  c = {0.0, 0.0, 0.0, clocks.min_gossip_rate()};
  for (std::uint32_t i = 0; i < s.network.n; ++i) {
    c.mean_update += clocks.long_run_rate(i);
    c.max_update = std::max(c.max_update, clocks.long_run_rate(i));
    c.mean_gossip += clocks.gossip_rate[i];
  }
  c.mean_update /= s.network.n;
  c.mean_gossip /= s.network.n;
  return with_policy_contacts(s, c);
}

double versions(const Scenario& s, const ClockRates& c) {
  return s.run.horizon * (s.staleness.model == StalenessModel::source ? s.source.rate : c.max_update);
}

bool swarm(const Scenario& s) { return s.learning.enabled() && learning_protocol(s).reports_experience; }

double sapo_fanout(const Scenario& s) {
  const double all = s.network.degree_bound();
  return std::min(all, s.learning.sapo.share_fanout ? static_cast<double>(*s.learning.sapo.share_fanout) : all);
}

double sapo_message_rate(const Scenario& s, const ClockRates& c) {
  return s.network.n * c.mean_update * s.learning.sapo.questions * sapo_fanout(s);
}

double sapo_pool_bytes(const Scenario& s) {
  return 16.0 * s.network.n * s.learning.sapo.keep * s.learning.sapo.questions * sapo_fanout(s);
}

double sapo_memory_bytes(const Scenario& s, const ClockRates& rates) {
  const double latency = s.gossip.latency_law ? s.gossip.latency_law->mean() : s.gossip.latency;
  return sapo_pool_bytes(s) + sapo_message_rate(s, rates) * std::min(s.run.horizon, latency) * 32.0;
}

double events(const Scenario& s, const ClockRates& c) {
  const double n = s.network.n;
  // A swarm's events are its users' updates and its rollouts' arrivals; it has no gossip.
  if (swarm(s)) return s.run.horizon * (n * c.mean_update + sapo_message_rate(s, c));
  const double rate = s.staleness.model == StalenessModel::source
                          ? n * c.mean_gossip + s.source.rate + s.source.push_rate
                          : n * (c.mean_gossip + c.mean_update) + network_event_rate(s, c.mean_gossip);
  return s.run.horizon * rate;
}

double work(const Scenario& s, const ClockRates& c) {
  if (swarm(s)) return events(s, c);  // no views to merge: its work is its learning, estimated apart
  const bool source = s.staleness.model == StalenessModel::source;
  const double version_rate = source ? s.source.rate : c.mean_update;
  // Each new version of a tracked source closes its histogram's epoch, integrating the span of
  // versions between the newest and the oldest view (sim/version_histogram.hpp): about (rate of
  // versions / gossip rate) ln n of them, and never more than the versions made so far.
  const double span = std::min(version_rate / c.min_gossip * std::log(static_cast<double>(s.network.n)),
                               version_rate * s.run.horizon + 1.0);
  const double versions = s.run.horizon * version_rate * (source ? 1.0 : s.tracked_sources());
  // A gossip of the users model also merges the views of all K tracked sources.
  const double merged = source ? 0.0 : s.tracked_sources();
  return events(s, c) * (1.0 + merged) + versions * span;
}

// ---- the network layer -------------------------------------------------------------------

double messages_per_tick(const Scenario& s) { return s.gossip.mode == GossipMode::push ? 1.0 : 2.0; }

double message_bytes(const Scenario& s) {
  if (!s.learning.enabled()) return s.staleness_message_bytes();
  if (s.learning.model.kind == ModelKind::quadratic) return quadratic_message_bytes(s.learning.data.features);
  return model_message_bytes(models::parameter_count(planned_architecture(s)));
}

double transfer_time(const Scenario& s) {
  return s.gossip.bandwidth > 0.0 ? message_bytes(s) / s.gossip.bandwidth : 0.0;
}

// A trace's transitions are bounded by its file, and not counted.
double network_event_rate(const Scenario& s, double mean_gossip) {
  if (!s.networked()) return 0.0;
  const double n = s.network.n;
  double rate = n * mean_gossip * messages_per_tick(s) * (transfer_time(s) > 0.0 ? 2.0 : 1.0);
  if (s.churn.model == ChurnModel::markov) rate += n * 2.0 / (s.churn.online_mean + s.churn.offline_mean);
  return rate;
}

MessageMemory message_memory(const Scenario& s, const ClockRates& rates) {
  MessageMemory m;
  const double n = s.network.n, transfer = transfer_time(s);
  double sends = n * rates.mean_gossip * messages_per_tick(s);
  if (transfer > 0.0 && sends > n / transfer) {  // each uplink finishes at most 1 / transfer per unit time
    if (s.gossip.busy == BusyPolicy::queue) m.backlog = (sends - n / transfer) * s.run.horizon;
    sends = n / transfer;
  }
  const double latency = s.gossip.latency_law ? s.gossip.latency_law->mean() : s.gossip.latency;
  m.in_flight = sends * std::min(s.run.horizon, transfer + latency);
  // A learning message holds a copy of the model (its payload); a staleness message the
  // sender's K 32-bit versions (UsersModel::snapshot, sim/event_engine.hpp).
  m.copy_bytes = s.learning.enabled() ? message_bytes(s) : sizeof(std::uint32_t) * static_cast<double>(s.tracked_sources());
  constexpr double per_message = 64.0, per_queued = 32.0;  // bookkeeping besides the copy
  m.bytes = m.in_flight * (m.copy_bytes + per_message) + m.backlog * per_queued;
  return m;
}

// ---- learning ----------------------------------------------------------------------------

double observations(const Scenario& s) {
  return s.learning.enabled() ? std::floor(s.run.horizon / s.learning.observe.every) + 1.0 : 0.0;
}

double model_parameters(const Scenario& s) {
  return static_cast<double>(models::parameter_count(planned_architecture(s)));
}

double evaluation_samples(const Scenario& s) {
  const auto& d = s.learning.data;
  const double test = d.test_samples                          ? d.test_samples
                      : d.source == DataSource::fashion_mnist ? static_cast<double>(models::fashion_mnist_test_samples)
                                                              : synthetic_test_samples;
  return s.learning.observe.test_samples ? std::min<double>(s.learning.observe.test_samples, test) : test;
}

LearningWork learning_work(const Scenario& s, const ClockRates& rates) {
  LearningWork w;
  // A protocol that pools the data trains one user (sim/protocol_list.hpp: SingleUser).
  const double users = learning_protocol(s).pools_data ? 1.0 : static_cast<double>(s.network.n);
  // A swarm's update evaluates its sapo.questions and takes train.steps steps on at most
  // sapo.local + sapo.external of them (an answer group shares its question's pass).
  const double samples = swarm(s) ? s.learning.sapo.questions + s.learning.train.steps * static_cast<double>(
                                                                    s.learning.sapo.local + s.learning.sapo.external)
                                  : s.learning.train.steps * static_cast<double>(s.learning.train.batch);
  w.gradients = s.run.horizon * users * rates.mean_update * samples;
  w.evaluations = observations(s) * (s.learning.observe.users + 1.0) * evaluation_samples(s);
  w.operations = (model_parameters(s) + 1000.0) * (6.0 * w.gradients + 2.0 * w.evaluations);
  return w;
}

double quadratic_operations(const Scenario& s, double events_per_trial) {
  const double n = s.network.n, d = s.learning.data.features;
  const double per_event = 8.0 * d + 2.0 * std::log2(n) + 20.0;
  return events_per_trial * per_event + observations(s) * 6.0 * n * d;
}

double synthetic_samples(const Scenario& s) {
  const auto& d = s.learning.data;
  return (d.train_samples ? d.train_samples : static_cast<double>(synthetic_train_samples)) +
         (d.test_samples ? d.test_samples : static_cast<double>(synthetic_test_samples));
}

double synthetic_data_bytes(const Scenario& s) {
  // The features of the planned model's input: data.features, or the arithmetic questions' one-hot code.
  return synthetic_samples(s) * planned_architecture(s).inputs * sizeof(float);
}

double teacher_operations(const Scenario& s) {
  const auto& d = s.learning.data;
  return synthetic_samples(s) * d.teacher_hidden * (d.features + 1.0);
}

// ---- memory ------------------------------------------------------------------------------

double Memory::per_trial_bytes() const {
  double bytes = 0.0;
  for (const MemoryPart& p : per_trial) bytes += p.bytes;
  return bytes;
}

double Memory::total(double concurrent) const {
  double bytes = concurrent * per_trial_bytes();
  for (const MemoryPart& p : shared) bytes += p.bytes;
  return bytes;
}

MemoryPart Memory::largest(double concurrent) const {
  MemoryPart most;
  for (const MemoryPart& p : shared)
    if (p.bytes > most.bytes) most = p;
  for (const MemoryPart& p : per_trial)
    if (concurrent * p.bytes > most.bytes) most = MemoryPart{p.what, p.keys, concurrent * p.bytes};
  return most;
}

Memory memory(const Scenario& s, const ClockRates* rates) {
  Memory m;
  const double n = s.network.n;
  const auto add = [](std::vector<MemoryPart>& to, std::string_view what, std::string_view keys, double bytes) {
    if (bytes > 0.0) to.push_back(MemoryPart{what, keys, bytes});
  };
  // sim/topology.cpp: the edge list and CSR, or the stub slots.
  add(m.shared, "building the graph", "network.n, network.topology, network.p, network.degree", graph_build_bytes(s.network));
  if (s.learning.enabled()) {
    if (s.learning.model.kind == ModelKind::quadratic) {
      // sim/quadratic.hpp: the iterates, and the optima drawn once for the run.
      add(m.per_trial, "the quadratic model's iterates", "network.n, data.features", static_cast<double>(quadratic_state_bytes(s)));
      add(m.shared, "the quadratic model's optima", "network.n, data.features", static_cast<double>(quadratic_problem_bytes(s)));
    } else {
      add(m.per_trial, "the users' models", "network.n, model.hidden, data.features",
          static_cast<double>(learning_state_bytes(s, static_cast<std::uint64_t>(model_parameters(s)))));
      if (s.learning.data.source != DataSource::fashion_mnist)
        add(m.shared, "the synthetic data set", "data.train_samples, data.test_samples, data.features", synthetic_data_bytes(s));
    }
  }
  // sim/trial.cpp: the source model's records, or the users model's views (learning's too).
  add(m.per_trial, "the users' views", "network.n, staleness.tracked", static_cast<double>(trial_state_bytes(s)));
  if (s.heterogeneous()) {
    // sim/user_clocks.hpp and sim/event_engine.hpp (run_heterogeneous): every user's three
    // rates, a copy of the gossip rates and the alias table over them (12 bytes a user, and
    // its construction's work lists).
    add(m.per_trial, "the per-user clock laws", "network.n, users.file, updates.rate, gossip.capacity", 64.0 * n);
  }
  if (s.networked()) {
    add(m.per_trial, "the network layer's per-user state", "network.n, churn.model", engine::network_layer_bytes(s));
    if (rates) add(m.per_trial, "messages in flight", "gossip.latency, gossip.bandwidth, network.n", message_memory(s, *rates).bytes);
  }
  if (rates && swarm(s))
    add(m.per_trial, "the swarm's pools of rollouts", "sapo.share_fanout, sapo.keep, network.n", sapo_memory_bytes(s, *rates));
  return m;
}

}  // namespace timely::sim::cost
