#include "sim/choices.hpp"

#include "sim/gossip_policy.hpp"
#include "sim/protocols.hpp"

namespace timely::sim {
namespace {

constexpr Choice<TopologyKind> topology_rows[] = {
    {TopologyKind::complete, "complete", "every user is a neighbour of every other"},
    {TopologyKind::ring, "ring", "cycle; each user gossips with its two neighbours"},
    {TopologyKind::torus, "torus", "torus with wrap-around in network.dimensions dimensions (n = side^d, side >= 3)"},
    {TopologyKind::random_regular, "random-regular", "connected random d-regular graph (network.degree)"},
    {TopologyKind::erdos_renyi, "erdos-renyi", "G(n, p), resampled until connected (network.p)"},
    {TopologyKind::star, "star", "user 0 is the hub of all others"},
    {TopologyKind::edges, "edges", "edge list read from network.edges_file"},
    {TopologyKind::grid, "grid", "square 2-D grid without wrap-around (n a square >= 4)"},
    {TopologyKind::hypercube, "hypercube", "hypercube of dimension log2 n (n a power of 2)"},
    {TopologyKind::generalized_ring, "generalized-ring",
     "cycle where each user's neighbours are the f nearest on each side (network.reach or network.reach_exponent)"},
    {TopologyKind::bipartite, "bipartite", "complete bipartite K_{L, n-L} (network.left = L)"},
    {TopologyKind::clustered, "clustered",
     "m clusters, each a star from its head plus network.inside among its members, nested network.levels deep "
     "(network.clusters, network.head_ring)"},
};
constexpr Choice<ClusterInside> cluster_inside_rows[] = {
    {ClusterInside::disconnected, "disconnected", "a cluster's members hear only from its head"},
    {ClusterInside::ring, "ring", "a cluster's members form a cycle"},
    {ClusterInside::complete, "complete", "every two members of a cluster are neighbours"},
};
constexpr Choice<SourceTargets> source_target_rows[] = {
    {SourceTargets::all, "all", "the source pushes to a uniformly chosen user"},
    {SourceTargets::heads, "heads", "the source pushes to a uniformly chosen top-level head of the clustered graph"},
};
constexpr Choice<GossipMode> gossip_mode_rows[] = {
    {GossipMode::push, "push", "the partner merges what the caller sends"},
    {GossipMode::pull, "pull", "the caller merges what the partner sends"},
    {GossipMode::exchange, "exchange", "push-pull: both merge; one contact counts once against capacity"},
};
// The gossip policies' rows come from their registry (sim/gossip_policy.hpp), in its order.
constexpr auto gossip_policy_rows = [] {
  std::array<Choice<GossipPolicyId>, gossip_policy_infos.size()> rows{};
  for (std::size_t k = 0; k < rows.size(); ++k)
    rows[k] = {GossipPolicyId{static_cast<std::uint8_t>(k)}, gossip_policy_infos[k].name, gossip_policy_infos[k].description};
  return rows;
}();
constexpr Choice<BusyPolicy> busy_policy_rows[] = {
    {BusyPolicy::queue, "queue", "a tick during a transfer waits for the uplink (FIFO)"},
    {BusyPolicy::drop, "drop", "a tick during a transfer is dropped"},
};
constexpr Choice<ChurnModel> churn_model_rows[] = {
    {ChurnModel::none, "none", "every user is always online"},
    {ChurnModel::markov, "markov", "exponential online and offline periods (churn.online_mean, churn.offline_mean)"},
    {ChurnModel::trace, "trace", "online intervals read from churn.trace_file"},
};
constexpr Choice<theory::Scaling> scaling_rows[] = {
    {theory::Scaling::constant, "constant", "capacity kappa"},
    {theory::Scaling::log, "log", "capacity kappa ln n"},
    {theory::Scaling::linear, "linear", "capacity kappa n"},
    {theory::Scaling::power, "power", "capacity kappa n^a, a = gossip.exponent"},
};
constexpr Choice<StalenessModel> staleness_model_rows[] = {
    {StalenessModel::users, "users", "every user is the source of its own versions"},
    {StalenessModel::source, "source", "an external source pushes versions to random users (age of gossip)"},
};
constexpr Choice<ModelKind> model_kind_rows[] = {
    {ModelKind::none, "none", "staleness only"},
    {ModelKind::linear, "linear", "linear regression, squared loss"},
    {ModelKind::logistic, "logistic", "multinomial logistic regression"},
    {ModelKind::mlp, "mlp", "multilayer perceptron (model.hidden)"},
    {ModelKind::quadratic, "quadratic", "f_i(x) = ||x - a_i||^2 / 2 per user, exact stationary theory"},
};
constexpr Choice<models::Activation> activation_rows[] = {
    {models::Activation::relu, "relu", "max(0, x)"},
    {models::Activation::tanh, "tanh", "hyperbolic tangent"},
};
constexpr Choice<models::Init> init_rows[] = {
    {models::Init::xavier, "xavier", "Glorot: variance 2 / (fan_in + fan_out)"},
    {models::Init::he, "he", "He: variance 2 / fan_in"},
};
constexpr Choice<DataSource> data_source_rows[] = {
    {DataSource::synthetic_regression, "synthetic-regression", "linear-Gaussian regression with known theta*"},
    {DataSource::synthetic_mixture, "synthetic-mixture", "Gaussian-mixture classification"},
    {DataSource::fashion_mnist, "fashion-mnist", "Fashion-MNIST from the dataset-fashion-mnist package"},
    {DataSource::synthetic_arithmetic, "synthetic-arithmetic",
     "one-hot questions (k, a, b), answer (a + (k+1) b) mod data.classes; SAPO's task kinds"},
};
constexpr Choice<RegressionTarget> regression_target_rows[] = {
    {RegressionTarget::linear, "linear", "y = W* x + b* + noise"},
    {RegressionTarget::teacher, "teacher", "y = a fixed random tanh teacher network of x, plus noise"},
};
constexpr Choice<models::PartitionKind> partition_rows[] = {
    {models::PartitionKind::iid, "iid", "a uniform random deal"},
    {models::PartitionKind::dirichlet, "dirichlet", "Dirichlet(data.alpha) label skew"},
    {models::PartitionKind::shards, "shards", "data.shards_per_user shards of sorted labels"},
};
constexpr Choice<LrSchedule> schedule_rows[] = {
    {LrSchedule::constant, "constant", "train.lr throughout"},
    {LrSchedule::inverse_time, "inverse-time", "lr / (1 + t / train.decay_time)"},
    {LrSchedule::step, "step", "lr * train.step_factor^floor(t / train.step_time)"},
};
constexpr Choice<MixingRule> mixing_rule_rows[] = {
    {MixingRule::average, "average", "the receiver takes the mean of its model and the received one"},
    {MixingRule::age_weighted, "age-weighted", "weights by model age (gossip learning)"},
    {MixingRule::variance_corrected, "variance-corrected", "average, then rescale each weight tensor's variance"},
    {MixingRule::fedavg, "fedavg", "alias of learning.protocol = \"fedavg\": a server averages sampled clients each round"},
};
constexpr Choice<VarianceTarget> variance_target_rows[] = {
    {VarianceTarget::contributing, "contributing", "mean variance of all contributing models"},
    {VarianceTarget::received, "received", "mean variance of the received models only"},
};

template <class E, std::size_t N>
ChoiceTable<E> table(std::string_view key, const Choice<E> (&rows)[N]) {
  return ChoiceTable<E>{key, std::span<const Choice<E>>(rows, N)};
}

template <class E, std::size_t N>
ChoiceTable<E> table(std::string_view key, const std::array<Choice<E>, N>& rows) {
  return ChoiceTable<E>{key, std::span<const Choice<E>>(rows.data(), N)};
}

template <class E>
ChoiceListing listing(const ChoiceTable<E>& t) {
  ChoiceListing out{t.key, {}};
  for (const auto& c : t.choices) out.names.emplace_back(c.name, c.description);
  return out;
}

}  // namespace

const ChoiceTable<TopologyKind>& topologies() {
  static const auto t = table("network.topology", topology_rows);
  return t;
}
const ChoiceTable<ClusterInside>& cluster_insides() {
  static const auto t = table("network.inside", cluster_inside_rows);
  return t;
}
const ChoiceTable<SourceTargets>& source_targets() {
  static const auto t = table("source.targets", source_target_rows);
  return t;
}
const ChoiceTable<GossipMode>& gossip_modes() {
  static const auto t = table("gossip.mode", gossip_mode_rows);
  return t;
}
const ChoiceTable<theory::Scaling>& capacity_scalings() {
  static const auto t = table("gossip.scaling", scaling_rows);
  return t;
}
const ChoiceTable<StalenessModel>& staleness_models() {
  static const auto t = table("staleness.model", staleness_model_rows);
  return t;
}
const ChoiceTable<ModelKind>& model_kinds() {
  static const auto t = table("model.kind", model_kind_rows);
  return t;
}
const ChoiceTable<models::Activation>& activations() {
  static const auto t = table("model.activation", activation_rows);
  return t;
}
const ChoiceTable<models::Init>& initialisations() {
  static const auto t = table("model.init", init_rows);
  return t;
}
const ChoiceTable<DataSource>& data_sources() {
  static const auto t = table("data.source", data_source_rows);
  return t;
}
const ChoiceTable<RegressionTarget>& regression_targets() {
  static const auto t = table("data.target", regression_target_rows);
  return t;
}
const ChoiceTable<models::PartitionKind>& partitions() {
  static const auto t = table("data.partition", partition_rows);
  return t;
}
const ChoiceTable<LrSchedule>& lr_schedules() {
  static const auto t = table("train.schedule", schedule_rows);
  return t;
}
const ChoiceTable<MixingRule>& mixing_rules() {
  static const auto t = table("mixing.rule", mixing_rule_rows);
  return t;
}
const ChoiceTable<BusyPolicy>& busy_policies() {
  static const auto t = table("gossip.busy", busy_policy_rows);
  return t;
}
const ChoiceTable<GossipPolicyId>& gossip_policies() {
  static const auto t = table("gossip.policy", gossip_policy_rows);
  return t;
}
const ChoiceTable<LearningProtocolId>& learning_protocols() {
  // The rows come from the protocol registry (sim/protocols.hpp), in its order.
  static const auto rows = [] {
    std::vector<Choice<LearningProtocolId>> out;
    const auto registry = learning_protocol_registry();
    for (std::size_t k = 0; k < registry.size(); ++k)
      out.push_back({LearningProtocolId{static_cast<std::uint8_t>(k)}, registry[k].name, registry[k].description});
    return out;
  }();
  static const ChoiceTable<LearningProtocolId> t{"learning.protocol", rows};
  return t;
}
const ChoiceTable<ChurnModel>& churn_models() {
  static const auto t = table("churn.model", churn_model_rows);
  return t;
}
const ChoiceTable<VarianceTarget>& variance_targets() {
  static const auto t = table("mixing.variance_target", variance_target_rows);
  return t;
}

std::vector<ChoiceListing> all_choices() {
  return {listing(topologies()),     listing(cluster_insides()), listing(source_targets()), listing(gossip_modes()),    listing(capacity_scalings()),
          listing(staleness_models()), listing(model_kinds()),   listing(activations()),
          listing(initialisations()), listing(data_sources()),   listing(partitions()),
          listing(lr_schedules()),    listing(mixing_rules()),   listing(variance_targets()),
          listing(regression_targets()), listing(busy_policies()), listing(churn_models()),
          listing(gossip_policies()), listing(learning_protocols())};
}

// The names, for code that prints a value: one mapping, the tables above.
std::string_view to_string(TopologyKind v) { return topologies().name(v); }
std::optional<TopologyKind> parse_topology(std::string_view t) { return topologies().parse(t); }
std::string_view to_string(ClusterInside v) { return cluster_insides().name(v); }
std::string_view to_string(SourceTargets v) { return source_targets().name(v); }
std::string_view to_string(GossipMode v) { return gossip_modes().name(v); }
std::optional<GossipMode> parse_gossip_mode(std::string_view t) { return gossip_modes().parse(t); }
std::string_view to_string(theory::Scaling v) { return capacity_scalings().name(v); }
std::optional<theory::Scaling> parse_scaling(std::string_view t) { return capacity_scalings().parse(t); }
std::string_view to_string(StalenessModel v) { return staleness_models().name(v); }
std::optional<StalenessModel> parse_staleness_model(std::string_view t) { return staleness_models().parse(t); }
std::string_view to_string(ModelKind v) { return model_kinds().name(v); }
std::optional<ModelKind> parse_model_kind(std::string_view t) { return model_kinds().parse(t); }
std::string_view to_string(models::Activation v) { return activations().name(v); }
std::optional<models::Activation> parse_activation(std::string_view t) { return activations().parse(t); }
std::string_view to_string(models::Init v) { return initialisations().name(v); }
std::optional<models::Init> parse_init(std::string_view t) { return initialisations().parse(t); }
std::string_view to_string(DataSource v) { return data_sources().name(v); }
std::optional<DataSource> parse_data_source(std::string_view t) { return data_sources().parse(t); }
std::string_view to_string(RegressionTarget v) { return regression_targets().name(v); }
std::optional<RegressionTarget> parse_regression_target(std::string_view t) { return regression_targets().parse(t); }
std::string_view to_string(models::PartitionKind v) { return partitions().name(v); }
std::optional<models::PartitionKind> parse_partition(std::string_view t) { return partitions().parse(t); }
std::string_view to_string(LrSchedule v) { return lr_schedules().name(v); }
std::optional<LrSchedule> parse_lr_schedule(std::string_view t) { return lr_schedules().parse(t); }
std::string_view to_string(MixingRule v) { return mixing_rules().name(v); }
std::optional<MixingRule> parse_mixing_rule(std::string_view t) { return mixing_rules().parse(t); }
std::string_view to_string(BusyPolicy v) { return busy_policies().name(v); }
std::optional<BusyPolicy> parse_busy_policy(std::string_view t) { return busy_policies().parse(t); }
std::string_view to_string(ChurnModel v) { return churn_models().name(v); }
std::optional<ChurnModel> parse_churn_model(std::string_view t) { return churn_models().parse(t); }
std::string_view to_string(VarianceTarget v) { return variance_targets().name(v); }
std::optional<VarianceTarget> parse_variance_target(std::string_view t) { return variance_targets().parse(t); }

}  // namespace timely::sim
