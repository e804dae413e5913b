#include "experiments/scenario_checks.hpp"

#include <fmt/format.h>

#include "sim/gossip_policy.hpp"
#include "sim/input_error.hpp"
#include "sim/protocols.hpp"

namespace timely::experiments {

using sim::Scenario;

namespace {

void validate_network(const Scenario& s) {
  const auto& c = s.churn;
  if (c.model == sim::ChurnModel::trace && c.trace_file.empty())
    throw InputError("churn.trace_file: required when churn.model = \"trace\" (a path to a churn trace CSV file)");
  if (c.model != sim::ChurnModel::trace && !c.trace_file.empty())
    throw InputError(fmt::format("churn.trace_file: only read when churn.model = \"trace\", but churn.model = \"{}\" "
                                 "(set churn.model = \"trace\" or drop churn.trace_file)",
                                 sim::to_string(c.model)));
  // The trace is sized by its largest user id, which has at least one interval.
  if (c.trace && c.trace->users() > s.network.n)
    throw InputError(fmt::format("churn.trace_file: '{}' names user {}, but network.n = {} (users are 0..{})",
                                 c.trace->path, c.trace->users() - 1, s.network.n, s.network.n - 1));
  if (!s.networked()) return;
  if (s.staleness.model == sim::StalenessModel::source)
    throw InputError(fmt::format("{}: gossip.latency, gossip.bandwidth, gossip.loss and churn apply to the users model; "
                                 "staleness.model = \"source\" is Yates' idealised process (set staleness.model = "
                                 "\"users\" or keep these keys at their defaults)",
                                 s.first_network_key()));
}

// A protocol's own keys (MoDeST's, docs/model.md §4.1; SAPO's, §4.3) are read only by it: the
// first of them given under another protocol (`key`, null when all are at their defaults) is
// refused, naming it.
void refuse_unless_protocol(const Scenario& s, sim::LearningProtocolId reader, const char* key) {
  if (!key || (s.learning.enabled() && sim::learning_protocol_id(s) == reader)) return;
  throw InputError(fmt::format("{}: read only by learning.protocol = \"{}\" (remove the key or set the protocol)", key,
                               sim::learning_protocol_registry()[reader.index].name));
}

const char* changed_modest_key(const sim::ModestSpec& m) {
  const sim::ModestSpec d;
  return m.sample != d.sample                     ? "modest.sample"
         : m.aggregators != d.aggregators           ? "modest.aggregators"
         : m.success_fraction != d.success_fraction ? "modest.success_fraction"
         : m.min_models != d.min_models             ? "modest.min_models"
         : m.timeout != d.timeout                   ? "modest.timeout"
         : m.ping_timeout != d.ping_timeout         ? "modest.ping_timeout"
                                                    : nullptr;
}

const char* changed_sapo_key(const sim::SapoSpec& m) {
  const sim::SapoSpec d;
  return m.questions != d.questions         ? "sapo.questions"
         : m.answers != d.answers           ? "sapo.answers"
         : m.local != d.local               ? "sapo.local"
         : m.external != d.external         ? "sapo.external"
         : m.share_fanout != d.share_fanout ? "sapo.share_fanout"
         : m.clip_low != d.clip_low         ? "sapo.clip_low"
         : m.clip_high != d.clip_high       ? "sapo.clip_high"
         : m.specialties != d.specialties   ? "sapo.specialties"
         : m.keep != d.keep                 ? "sapo.keep"
                                            : nullptr;
}

// A topology's own keys are read only by it: given with another topology, refused naming it.
void check_topology_keys(const Scenario& s) {
  const sim::NetworkSpec& n = s.network;
  const auto read_by = [&](bool given, const char* key, sim::TopologyKind reader) {
    if (given && n.topology != reader)
      throw InputError(fmt::format("{}: read only by network.topology = \"{}\", but network.topology = \"{}\" (remove "
                                   "the key or set the topology)",
                                   key, sim::to_string(reader), sim::to_string(n.topology)));
  };
  read_by(n.dimensions != 2, "network.dimensions", sim::TopologyKind::torus);
  read_by(n.reach.has_value(), "network.reach", sim::TopologyKind::generalized_ring);
  read_by(n.reach_exponent.has_value(), "network.reach_exponent", sim::TopologyKind::generalized_ring);
  read_by(n.left.has_value(), "network.left", sim::TopologyKind::bipartite);
  if (n.reach && n.reach_exponent)
    throw InputError("network.reach_exponent: network.reach already gives the generalized ring's f; keep one of the two");
  read_by(n.clusters.has_value(), "network.clusters", sim::TopologyKind::clustered);
  read_by(n.clusters_exponent.has_value(), "network.clusters_exponent", sim::TopologyKind::clustered);
  read_by(n.levels != 1, "network.levels", sim::TopologyKind::clustered);
  read_by(n.inside != sim::ClusterInside::ring, "network.inside", sim::TopologyKind::clustered);
  read_by(n.head_ring, "network.head_ring", sim::TopologyKind::clustered);
  if (n.clusters && n.clusters_exponent)
    throw InputError("network.clusters_exponent: network.clusters already gives the clustered graph's m; keep one of the "
                     "two");
}

// The source's pushes to the clustered graph's heads, and the clusters that only the source
// joins (docs/model.md §1): information crosses between such clusters through the source's
// pushes alone, so they need the source model, and a source that reaches every cluster
// (both targets do: every top head is a target).
void check_clustered_source(const Scenario& s) {
  const bool source_model = s.staleness.model == sim::StalenessModel::source && !s.learning.enabled();
  if (s.source.targets == sim::SourceTargets::heads) {
    if (s.network.topology != sim::TopologyKind::clustered)
      throw InputError(fmt::format("source.targets: \"heads\" pushes to the clustered graph's heads, but "
                                   "network.topology = \"{}\" (set network.topology = \"clustered\" or source.targets "
                                   "= \"all\")",
                                   sim::to_string(s.network.topology)));
    if (!source_model)
      throw InputError(fmt::format("source.targets: read only by the source model (staleness.model = \"source\", "
                                   "no learning), but {} (remove the key or set staleness.model = \"source\")",
                                   s.learning.enabled() ? "this run trains models" : "staleness.model = \"users\""));
  }
  if (s.network.clusters_apart() && !source_model)
    throw InputError(fmt::format("network.head_ring: with network.clusters = {} clusters and no ring among their heads "
                                 "the clustered graph is disconnected, and {} has no source to join the clusters (set "
                                 "network.head_ring = true, network.clusters = 1 or staleness.model = \"source\")",
                                 s.network.cluster_count(),
                                 s.learning.enabled() ? "a learning run" : "staleness.model = \"users\""));
}

}  // namespace

void validate(const Scenario& s) {
  if (!s.run.warmup_auto && !(s.run.warmup < s.run.horizon))
    throw InputError(fmt::format("run.warmup: expected a value in [0, run.horizon = {}), got {}", s.run.horizon,
                                 s.run.warmup));
  if (s.staleness.tracked > s.network.n)
    throw InputError(fmt::format("staleness.tracked: expected 0 (all) or at most network.n = {}, got {}", s.network.n,
                                 s.staleness.tracked));
  if (s.network.topology == sim::TopologyKind::edges && s.network.edges_file.empty())
    throw InputError("network.edges_file: required when network.topology = \"edges\" (a path to an edge list)");
  if (const auto& t = s.users.table) {
    if (t->rows != s.network.n)
      throw InputError(fmt::format("users.file: '{}' has {} user rows, expected one per user (network.n = {})", t->path,
                                   t->rows, s.network.n));
    const auto both = [&](const std::vector<double>& column, const auto& law, std::string_view key, std::string_view name) {
      if (!column.empty() && law)
        throw InputError(fmt::format("{}: a distribution and users.file column {} both give it; keep one", key, name));
    };
    both(t->update_rate, s.updates.rate_law, "updates.rate", "update_rate");
    both(t->update_delay, s.updates.delay_law, "updates.delay", "update_delay");
    both(t->gossip_capacity, s.gossip.capacity_law, "gossip.capacity", "gossip_capacity");
  }
  if (s.heterogeneous() && s.staleness.model == sim::StalenessModel::source)
    throw InputError(fmt::format("{}: per-user clocks need staleness.model = \"users\" (the source model takes numbers)",
                                 s.first_per_user_key()));
  // The gossip policy's loops and requirements (sim/gossip_policy.hpp).
  sim::check_gossip_policy(s);
  // The learning protocol's own requirements (sim/protocols.hpp), e.g. FedAvg's server
  // rounds take neither per-user clocks nor the network layer.
  if (s.learning.enabled()) sim::learning_protocol(s).check(s);
  else if (s.learning.protocol != sim::gossip_protocol)
    throw InputError(fmt::format("learning.protocol: \"{}\" trains models, but model.kind = \"none\" (staleness only); "
                                 "set model.kind (logistic, mlp{})",
                                 sim::learning_protocol_registry()[s.learning.protocol.index].name,
                                 s.learning.protocol == sim::sapo_protocol ? "" : ", linear, quadratic"));
  check_topology_keys(s);
  check_clustered_source(s);
  refuse_unless_protocol(s, sim::modest_protocol, changed_modest_key(s.learning.modest));
  refuse_unless_protocol(s, sim::sapo_protocol, changed_sapo_key(s.learning.sapo));
  validate_network(s);
}

}  // namespace timely::experiments
