#pragma once
// What one simulation run computes: every scenario key of docs/interface.md, already validated.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include <string>
#include <vector>

#include "models/kinds.hpp"  // the enums alone: no network, data set or Eigen
#include "sim/graph_spec.hpp"
#include "sim/user_clocks.hpp"
#include "theory/capacity.hpp"

namespace timely::sim {

enum class GossipMode { push, pull, exchange };
enum class StalenessModel { users, source };

std::string_view to_string(GossipMode);
std::string_view to_string(StalenessModel);
std::optional<GossipMode> parse_gossip_mode(std::string_view);
std::optional<StalenessModel> parse_staleness_model(std::string_view);
std::string_view to_string(theory::Scaling);
std::optional<theory::Scaling> parse_scaling(std::string_view);

// What a user does with a gossip tick while its uplink is sending (docs/model.md §7).
enum class BusyPolicy { queue, drop };
std::string_view to_string(BusyPolicy);
std::optional<BusyPolicy> parse_busy_policy(std::string_view);

// Which gossip policy (sim/gossip_policy.hpp) decides who gossips when: its row in the
// registry, GossipPolicies; 0, the first, is uniform.
struct GossipPolicyId {
  std::uint8_t index = 0;
  friend bool operator==(GossipPolicyId, GossipPolicyId) = default;
};

struct GossipSpec {
  double capacity = 1.0;  // kappa
  theory::Scaling scaling = theory::Scaling::constant;
  double exponent = 0.5;  // a of the power scaling: capacity kappa n^a
  GossipMode mode = GossipMode::push;
  GossipPolicyId policy;
  std::optional<Distribution> capacity_law;  // kappa_i drawn per user instead of kappa
  // The links (docs/model.md §7); the defaults are today's instantaneous, lossless contacts.
  double latency = 0.0;                     // propagation delay of every message
  std::optional<Distribution> latency_law;  // drawn per message instead of `latency`
  double message_bytes = 0.0;  // payload of a staleness-only message; 0: the vector clock, 4 n bytes
  double bandwidth = 0.0;      // uplink bytes per time unit; 0: unlimited (no transfer time)
  std::optional<Distribution> bandwidth_law;  // each user's uplink drawn once per run instead (bandwidth: its mean)
  BusyPolicy busy = BusyPolicy::queue;
  double loss = 0.0;  // probability that a message is lost, in [0, 1)
  // The policies' own keys (docs/model.md §1.1); empty: not given, the policy's default
  // (Scenario's methods below). A key the scenario's policy does not read is refused.
  std::optional<std::uint32_t> fanout;           // fanout: users each update is pushed to
  std::optional<double> burst_rate, burst_time;  // burst: gossip rate, and for how long after news
  std::optional<double> asuman_delay;            // asuman: a user's timer per version of age
  std::optional<double> asuman_share;            // asuman: the budget's share spent by the timers' winners
};

// Online and offline periods of the users (docs/model.md §7).
enum class ChurnModel { none, markov, trace };
std::string_view to_string(ChurnModel);
std::optional<ChurnModel> parse_churn_model(std::string_view);

// A trace of online intervals: online[i] holds user i's [start, end) intervals, sorted and
// disjoint; a user without any is offline throughout (sim/churn.hpp reads the file).
struct ChurnTrace {
  std::string path;
  std::vector<std::vector<std::pair<double, double>>> online;
  std::uint32_t users() const { return static_cast<std::uint32_t>(online.size()); }
};

struct ChurnSpec {
  ChurnModel model = ChurnModel::none;
  double online_mean = 100.0;  // markov: mean online period
  double offline_mean = 10.0;  // markov: mean offline period
  std::string trace_file;
  std::shared_ptr<const ChurnTrace> trace;  // read when trace_file is set
  bool offline_updates = true;  // offline users keep making local updates
};

struct UpdateSpec {
  double rate = 1.0;   // mu
  double delay = 0.0;  // c: inter-update times are c + Exp(mu)
  std::optional<Distribution> rate_law, delay_law;  // mu_i, c_i drawn per user instead
};

// users.file: per-user clocks read from a file (sim/user_clocks.hpp).
struct UsersSpec {
  std::string file;
  std::shared_ptr<const UsersTable> table;  // read when the key is set
};

struct StalenessSpec {
  StalenessModel model = StalenessModel::users;
  std::uint32_t tracked = 0;  // K tracked sources in the users model; 0 = all
  std::uint32_t bound = 10;   // B in P(worst staleness > B)
};

// Whom the source model's pushes go to: every user, or the clustered graph's top-level heads.
enum class SourceTargets { all, heads };
std::string_view to_string(SourceTargets);

struct SourceSpec {
  double rate = 1.0;       // lambda_e
  double push_rate = 1.0;  // lambda_0, total over the targets
  SourceTargets targets = SourceTargets::all;
};

struct RunSpec {
  double horizon = 1000.0;
  double warmup = 100.0;
  // run.warmup = "auto": chosen from the run's theory before it runs (analysis/warmup.hpp),
  // which sets `warmup` and clears this; `warmup_chosen` then says the value was chosen.
  bool warmup_auto = false, warmup_chosen = false;
  std::uint32_t trials = 16;
  std::uint64_t seed = 1;
};

// ---- learning mode (docs/model.md §4-5); off while model.kind = none ---------------------

enum class ModelKind { none, linear, logistic, mlp, quadratic };
enum class DataSource { synthetic_regression, synthetic_mixture, fashion_mnist, synthetic_arithmetic };
enum class RegressionTarget { linear, teacher };  // data.target (docs/model.md §5)
enum class LrSchedule { constant, inverse_time, step };
enum class MixingRule { average, age_weighted, variance_corrected, fedavg };
enum class VarianceTarget { contributing, received };

std::string_view to_string(ModelKind);
std::optional<ModelKind> parse_model_kind(std::string_view);
std::string_view to_string(DataSource);
std::optional<DataSource> parse_data_source(std::string_view);
std::string_view to_string(RegressionTarget);
std::optional<RegressionTarget> parse_regression_target(std::string_view);
std::string_view to_string(LrSchedule);
std::optional<LrSchedule> parse_lr_schedule(std::string_view);
std::string_view to_string(MixingRule);
std::optional<MixingRule> parse_mixing_rule(std::string_view);
std::string_view to_string(VarianceTarget);
std::optional<VarianceTarget> parse_variance_target(std::string_view);
std::string_view to_string(models::Activation);
std::optional<models::Activation> parse_activation(std::string_view);
std::string_view to_string(models::Init);
std::optional<models::Init> parse_init(std::string_view);
std::string_view to_string(models::PartitionKind);
std::optional<models::PartitionKind> parse_partition(std::string_view);

struct ModelSpec {
  ModelKind kind = ModelKind::none;
  std::vector<int> hidden{128, 64};  // MLP widths
  models::Activation activation = models::Activation::relu;
  models::Init init = models::Init::xavier;
};

struct DataSpec {
  DataSource source = DataSource::synthetic_mixture;
  models::PartitionKind partition = models::PartitionKind::iid;
  double alpha = 0.5;                 // Dirichlet concentration
  std::uint32_t shards_per_user = 2;  // sorted-label shards
  std::uint32_t features = 20;        // synthetic sets
  std::uint32_t classes = 10;         // synthetic mixture
  std::uint32_t train_samples = 0;    // 0: 20000 synthetic, all of Fashion-MNIST
  std::uint32_t test_samples = 0;     // 0: 5000 synthetic, all of Fashion-MNIST
  double noise = 0.1;                 // regression noise sd
  double separation = 3.0;            // mixture: sd of the class means
  // Heterogeneity of the users' objectives: sd of each quadratic user's optimum a_i around
  // the mean (docs/model.md §6), and of each regression user's theta_i* around theta*.
  double spread = 0.0;
  RegressionTarget target = RegressionTarget::linear;  // synthetic regression: W* x + b*, or a teacher network
  std::uint32_t teacher_hidden = 32;                   // the teacher's tanh hidden width
  std::string dir = "/usr/share/datasets/fashion-mnist";
};

struct TrainSpec {
  std::uint32_t steps = 1;  // tau: SGD steps per local update
  std::uint32_t batch = 32;
  double lr = 0.05;
  LrSchedule schedule = LrSchedule::constant;
  double decay_time = 100.0;  // inverse-time: lr / (1 + t / decay_time)
  double step_time = 100.0;   // step: lr * step_factor^floor(t / step_time)
  double step_factor = 0.5;
  double momentum = 0.0;
};

struct MixingSpec {
  MixingRule rule = MixingRule::average;
  double fedavg_fraction = 0.1;  // clients sampled per FedAvg round
  // Variance correction (Tian et al., arXiv 2404.04616): the target variance is the mean
  // over the contributing models including the receiver, or over the received models only.
  VarianceTarget variance_target = VarianceTarget::contributing;
  bool correct_biases = false;
  bool fedavg_variance_correction = false;  // the FedAvg server corrects its average too
};

struct ObserveSpec {
  double every = 10.0;             // simulated time between observations
  std::uint32_t users = 8;         // users sampled for the mean-over-users metrics
  std::uint32_t test_samples = 0;  // test samples per evaluation (0 = the whole test set)
  double plateau_fraction = 0.5;   // plateau delay: first time accuracy >= fraction * final
};

// Which learning protocol (sim/protocols.hpp) runs a learning trial: its row in the registry;
// 0, the first, is gossip.
struct LearningProtocolId {
  std::uint8_t index = 0;
  friend bool operator==(LearningProtocolId, LearningProtocolId) = default;
};

// MoDeST's rounds (de Vos et al., arXiv 2302.13837; docs/model.md §4.1): the sample that
// trains each round, its aggregators and when they average.
struct ModestSpec {
  std::uint32_t sample = 10;       // s: users that train each round
  std::uint32_t aggregators = 1;   // a: users that average each round's models
  double success_fraction = 0.8;   // an aggregator averages once floor(s * this) models arrived
  std::uint32_t min_models = 3;    // ... or at its timeout if at least this many did; else abandoned
  double timeout = 2.0;            // an aggregator's wait after the round's first model arrived
  double ping_timeout = 0.1;       // how long a ping waits for an answer before the next user is tried
  bool operator==(const ModestSpec&) const = default;
};

// SAPO-style swarms (Gensyn, arXiv 2509.08721; docs/model.md §4.3): users keep their own
// policies and share rollouts (questions, sampled answers, rewards) instead of models.
struct SapoSpec {
  std::uint32_t questions = 8;   // rollouts a user generates (and shares) at each local update
  std::uint32_t answers = 8;     // answers sampled per question: one rollout's group
  std::uint32_t local = 4;       // own rollouts in a training batch (at most questions)
  std::uint32_t external = 4;    // received rollouts in a training batch
  std::optional<std::uint32_t> share_fanout;  // users each rollout is sent to; unset: every neighbour
  double clip_low = 0.2;         // GRPO's clipped ratio: [1 - clip_low, 1 + clip_high]
  double clip_high = 0.28;
  std::uint32_t specialties = 1;  // task kinds of data.source = "synthetic-arithmetic"; user u's is u mod this
  std::uint32_t keep = 1;         // the learner's updates a received rollout stays drawable for
  bool operator==(const SapoSpec&) const = default;
};

struct LearningSpec {
  LearningProtocolId protocol;
  ModestSpec modest;  // mixing.rule = "fedavg" overrides it (sim::learning_protocol)
  SapoSpec sapo;
  ModelSpec model;
  DataSpec data;
  TrainSpec train;
  MixingSpec mixing;
  ObserveSpec observe;
  double target_accuracy = 0.8;
  std::optional<double> target_loss;      // test loss of the average model whose first passage is reported
  std::optional<double> target_distance;  // relative distance to the optimum, likewise
  bool enabled() const { return model.kind != ModelKind::none; }
};

struct Scenario {
  NetworkSpec network;
  GossipSpec gossip;
  UpdateSpec updates;
  StalenessSpec staleness;
  SourceSpec source;
  RunSpec run;
  LearningSpec learning;
  UsersSpec users;
  ChurnSpec churn;

  // Some message is delayed, limited, lost or refused: the network layer runs (sim/message_layer.hpp);
  // otherwise contacts are instantaneous, exactly as without it.
  bool networked() const {
    return gossip.latency > 0.0 || gossip.latency_law || gossip.bandwidth > 0.0 || gossip.loss > 0.0 ||
           churn.model != ChurnModel::none;
  }
  // The first key of the network layer that is not at its default, for errors that refuse
  // the layer (call when networked()).
  std::string_view first_network_key() const {
    if (gossip.latency > 0.0 || gossip.latency_law) return "gossip.latency";
    if (gossip.bandwidth > 0.0) return "gossip.bandwidth";
    if (gossip.loss > 0.0) return "gossip.loss";
    return "churn.model";
  }
  // Bytes of one staleness-only message: gossip.message_bytes, or a vector clock of n 32-bit versions.
  double staleness_message_bytes() const {
    return gossip.message_bytes > 0.0 ? gossip.message_bytes : 4.0 * network.n;
  }

  // Some user's clocks differ from the scenario's numbers (docs/model.md §1).
  bool heterogeneous() const {
    return users.table || updates.rate_law || updates.delay_law || gossip.capacity_law;
  }
  // The first key that makes the clocks per-user, for errors that refuse them (call when
  // heterogeneous()).
  std::string_view first_per_user_key() const {
    return users.table ? "users.file" : updates.rate_law ? "updates.rate" : updates.delay_law ? "updates.delay"
                                                                                            : "gossip.capacity";
  }

  // lambda = kappa * g(n), each user's gossip rate (docs/model.md §1).
  double gossip_rate() const {
    return theory::gossip_capacity(gossip.capacity, gossip.scaling, network.n, gossip.exponent);
  }
  // Long-run update rate r = 1/(c + 1/mu) of a user (docs/model.md §1).
  double update_rate() const { return 1.0 / (updates.delay + 1.0 / updates.rate); }

  // The gossip policies' parameters, given or by default (docs/model.md §1.1).
  // fanout: f = gossip.fanout, or the capacity law's f = round(kappa g(n) / r) in [1, n-1], so
  // that a user pushes kappa g(n) times per unit time on average, as uniform gossip does.
  std::uint32_t fanout_users() const {
    if (gossip.fanout) return *gossip.fanout;
    const double f = std::round(gossip_rate() / update_rate());
    return static_cast<std::uint32_t>(std::clamp(f, 1.0, static_cast<double>(network.n - 1)));
  }
  // burst: the whole budget B = n kappa g(n) while bursting, the rate the paper's users get.
  double burst_rate() const { return gossip.burst_rate.value_or(gossip_rate() * network.n); }
  // burst: the rate nu at which a user gets something new, at most: the users model's own
  // updates, r; in the source model new versions reach a user at most min(lambda_e, lambda_0).
  double news_rate() const {
    return staleness.model == StalenessModel::source && !learning.enabled() ? std::min(source.rate, source.push_rate)
                                                                             : update_rate();
  }
  // burst: 2 kappa g(n) / (nu R): each burst pushes 2 kappa g(n) / nu times on average. In the
  // source model a user's burst must push more than once, or news dies out (at half this, the
  // mean age grew from 15 to 118 over n = 100 to 10^4; at this, it stays near 2 with 0.7 of
  // the budget spent, docs/model.md §1.1).
  double burst_time() const { return gossip.burst_time.value_or(2.0 * gossip_rate() / (news_rate() * burst_rate())); }
  // asuman: a timer of 0.1 / lambda_e per version of age, short beside the time between
  // source updates; the winners spend the whole budget.
  double asuman_delay() const { return gossip.asuman_delay.value_or(0.1 / source.rate); }
  double asuman_share() const { return gossip.asuman_share.value_or(1.0); }
  // K: sources whose staleness is measured (users model).
  std::uint32_t tracked_sources() const {
    return staleness.tracked == 0 ? network.n : staleness.tracked;
  }
};

}  // namespace timely::sim
