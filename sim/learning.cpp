#include "sim/learning.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <fmt/format.h>

#include "models/variance_correction.hpp"
#include "sim/input_error.hpp"
#include "sim/learning_clocks.hpp"
#include "sim/message_layer.hpp"
#include "sim/mixer.hpp"
#include "sim/model_bank.hpp"
#include "sim/observer.hpp"
#include "sim/protocols.hpp"
#include "sim/quadratic.hpp"
#include "sim/user_clocks.hpp"

namespace timely::sim {
namespace {

using namespace engine;
using Vector = ModelBank::Vector;

// FedAvg's server (McMahan et al. 2017): one initialised model that sampled clients start
// from, train, and send back for a weighted average. It trains the clients in the users'
// model bank, whose columns then hold the server's model.
class FedAvgServer {
 public:
  FedAvgServer(const Scenario& s, const LearningData& d, ModelBank& bank) : s_(s), d_(d), bank_(bank) {
    correction_.biases = s.learning.mixing.correct_biases;
    targets_.assign(bank.layout().tensors().size(), 0.0);
  }
  // The server's model, empty before the first round.
  const Vector* model() const { return &global_; }

  // One round: sampled clients start from the global model, train, and the server averages
  // them weighted by shard size. Returns the number of clients trained, each one local update.
  std::uint32_t round(double t) {
    const std::uint32_t n = bank_.size();
    const std::uint32_t m = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::lround(s_.learning.mixing.fedavg_fraction * n)));
    // After divergence nothing else reads the engine (FedAvg measures no staleness).
    if (bank_.diverged()) return m;
    auto& params = bank_.params();
    // The server starts from one initialised model, as federated learning does: averaging
    // the users' independent initialisations would divide its weight variance by n.
    if (global_.size() == 0) global_ = params.col(0);
    chosen_.resize(n);
    std::iota(chosen_.begin(), chosen_.end(), 0u);
    sum_.setZero(global_.size());  // allocates on the first round only
    double weight = 0.0;
    for (std::uint32_t k = 0; k < m; ++k) {
      boost::random::uniform_int_distribution<std::uint32_t> pick(k, n - 1);
      std::swap(chosen_[k], chosen_[pick(bank_.rng())]);
      const std::uint32_t c = chosen_[k];
      params.col(c) = global_;
      bank_.train_model(params.col(c), c, t);
      const double size = static_cast<double>(d_.partition.shards[c].size());
      sum_ += static_cast<float>(size) * params.col(c);
      weight += size;
    }
    global_ = sum_ / static_cast<float>(weight);
    if (s_.learning.mixing.fedavg_variance_correction) correct_variance(m);
    // A non-finite client makes the weighted sum non-finite, and the sum can overflow on its
    // own: checking the server's model covers the round.
    bank_.check(global_, t);
    for (std::uint32_t k = 0; k < m; ++k) params.col(chosen_[k]) = global_;
    return m;
  }

 private:
  // Target: the mean variance of the m clients' tensors (the server holds no model of its own).
  void correct_variance(std::uint32_t m) {
    std::fill(targets_.begin(), targets_.end(), 0.0);
    for (std::uint32_t k = 0; k < m; ++k) {
      models::tensor_variances(bank_.params().col(chosen_[k]), bank_.layout(), correction_, own_variance_);
      for (std::size_t t = 0; t < own_variance_.size(); ++t) targets_[t] += own_variance_[t] / m;
    }
    models::correct_variance(global_, bank_.layout(), targets_, correction_);
  }

  const Scenario& s_;
  const LearningData& d_;
  ModelBank& bank_;
  Vector global_;  // the server's model
  Vector sum_;     // scratch: the weighted sum of the clients' models
  std::vector<std::uint32_t> chosen_;
  models::CorrectionOptions correction_{};
  std::vector<double> targets_, own_variance_;
};

// Gossip learning: the users model's clocks and vector clocks drive training and mixing
// (LearningClocks); the bank holds the models, the mixer mixes them and the grid observes.
struct GossipLearner {
  ModelBank& bank;
  Mixer& mixer;
  ObservationGrid& grid;
  void train(std::uint32_t user, double t) { bank.train(user, t); }
  void mix_into(std::uint32_t receiver, std::uint32_t sender, double t) { mixer.mix_into(receiver, sender, t); }
  void mix_both(std::uint32_t i, std::uint32_t j, double t) { mixer.mix_both(i, j, t); }
  std::uint32_t snapshot(std::uint32_t user) { return bank.snapshot(user); }
  void mix_message(std::uint32_t receiver, std::uint32_t id, double t) { mixer.mix_message(receiver, id, t); }
  void release(std::uint32_t id) { bank.release(id); }
  double message_bytes() const { return bank.message_bytes(); }
  void count_bytes(const double* bytes_sent) { grid.count_bytes(bytes_sent); }
  void before(double t) { grid.before(t); }
  void start_window(double) {}
  void close(double t) { grid.before(t); }
};

template <class G, GossipMode Mode>
LearningTrialResult gossip_learning_on(const Scenario& s, const G& graph, const LearningData& d, std::uint64_t index,
                                       Rng& rng) {
  ModelBank bank(s, d, rng);
  const Observer observer(s, d, bank);
  ObservationGrid grid(s, bank, observer);
  Mixer mixer(s, bank);
  GossipLearner learner{bank, mixer, grid};
  LearningClocks<G, Mode, GossipLearner> m(s, graph, learner, rng);
  Window window(s.run.warmup, s.run.horizon);
  LearningTrialResult result;
  std::optional<NetworkOutcome> network;
  const std::uint64_t events = run_clocks<Mode>(m, s, index, rng, window, learner.message_bytes(), network);
  m.close(window.horizon());
  result.staleness = users_result(m.staleness(), window, events, network);
  result.local_updates = m.updates();
  result.gossips = m.gossips();
  grid.take(result);
  return result;
}

}  // namespace

// FedAvg: rounds every 1/updates.rate time units (a round is one local update of each
// sampled client); the gossip clocks play no part.
LearningTrialResult run_fedavg(const Scenario& s, const Graph&, const LearningData& d, std::uint64_t index) {
  Rng rng = make_rng(s.run.seed, Stream::trial, index);
  ModelBank bank(s, d, rng);
  const Observer observer(s, d, bank);
  FedAvgServer server(s, d, bank);
  ObservationGrid grid(s, bank, observer, server.model());
  LearningTrialResult result;
  const double period = 1.0 / s.updates.rate;
  for (std::uint64_t k = 1;; ++k) {
    const double t = period * static_cast<double>(k);
    if (t > s.run.horizon) break;
    grid.before(t);
    result.local_updates += server.round(t);
    ++result.rounds;
  }
  grid.before(s.run.horizon);
  grid.take(result);
  return result;
}

// Local training: every user trains on its own shard at the ticks of its own update clock
// (c_i + Exp(mu_i), per-user or the scenario's), and no model ever leaves its user. No gossip
// runs, so no staleness is measured: with no gossip the users model's staleness only grows.
LearningTrialResult run_local_learning(const Scenario& s, const Graph&, const LearningData& d, std::uint64_t index) {
  Rng rng = make_rng(s.run.seed, Stream::trial, index);
  ModelBank bank(s, d, rng);
  const Observer observer(s, d, bank);
  ObservationGrid grid(s, bank, observer);
  const std::uint32_t n = bank.size();
  std::vector<double> delay(n, s.updates.delay), rate(n, s.updates.rate);
  if (s.heterogeneous()) {
    const UserClocks clocks = user_clocks(s);
    delay = clocks.update_delay;
    rate = clocks.update_rate;
  }
  boost::random::exponential_distribution<double> unit(1.0);
  using Tick = std::pair<double, std::uint32_t>;  // (time, user), earliest first
  std::vector<Tick> ticks;
  ticks.reserve(n);
  for (std::uint32_t u = 0; u < n; ++u) ticks.emplace_back(delay[u] + unit(rng) / rate[u], u);
  std::priority_queue<Tick, std::vector<Tick>, std::greater<>> next(std::greater<>{}, std::move(ticks));
  LearningTrialResult result;
  while (next.top().first <= s.run.horizon) {
    const auto [t, u] = next.top();
    next.pop();
    grid.before(t);
    bank.train(u, t);
    ++result.local_updates;
    next.emplace(t + delay[u] + unit(rng) / rate[u], u);
  }
  grid.before(s.run.horizon);
  grid.take(result);
  return result;
}

LearningTrialResult run_gossip_learning(const Scenario& s, const Graph& graph, const LearningData& d,
                                        std::uint64_t index) {
  if (s.learning.model.kind == ModelKind::quadratic) return run_quadratic_trial(s, graph, *d.quadratic, index);
  return dispatch(s, graph, index, [&](const auto& g, auto mode, Rng& rng) {
    return gossip_learning_on<std::decay_t<decltype(g)>, decltype(mode)::value>(s, g, d, index, rng);
  });
}

namespace {

// First observation time at which accuracy reaches `fraction` of the final accuracy.
std::optional<double> plateau_time(const std::vector<Observation>& observations, double fraction) {
  if (observations.empty() || !observations.back()[metric::accuracy]) return std::nullopt;
  const double level = fraction * *observations.back()[metric::accuracy];
  for (const Observation& o : observations)
    if (o[metric::accuracy] && *o[metric::accuracy] >= level) return o.time;
  return std::nullopt;
}

// One user training on the union of all shards, on the same update clock (Poisson at the
// long-run rate r), the same SGD settings and observation grid: the reference for the
// plateau delay.
// Observations end before a divergence, as in the trial itself.
struct Baseline {
  std::vector<Observation> observations;
  std::optional<double> diverged_at;
};
Baseline single_user_baseline(const Scenario& s, const LearningData& d, std::uint64_t index) {
  LearningData single;
  single.data = d.data;
  single.architecture = d.architecture;
  single.optimum = d.optimum;
  single.partition.shards.resize(1);
  single.partition.shards[0].resize(d.data->train.size());
  std::iota(single.partition.shards[0].begin(), single.partition.shards[0].end(), 0u);
  Rng rng = make_rng(s.run.seed, Stream::baseline, index);
  ModelBank learner(s, single, rng);
  const Observer observer(s, single, learner);
  ObservationGrid grid(s, learner, observer);
  boost::random::exponential_distribution<double> gap(s.update_rate());
  for (double t = gap(rng); t <= s.run.horizon; t += gap(rng)) {
    grid.before(t);
    learner.train(0, t);
    if (learner.diverged()) break;  // nothing more to observe; the baseline has no clocks to keep
  }
  grid.before(s.run.horizon);
  LearningTrialResult result;
  grid.take(result);
  return {std::move(result.observations), result.diverged_at};
}

}  // namespace

std::string learning_data_key(const Scenario& s) {
  const DataSpec& d = s.learning.data;
  // Fashion-MNIST does not depend on the seed; the synthetic sets are drawn from it.
  const std::uint64_t seed = d.source == DataSource::fashion_mnist ? 0 : s.run.seed;
  return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", to_string(d.source), d.dir, d.features, d.classes,
                     d.train_samples, d.test_samples, d.noise, d.separation, seed, to_string(d.target), d.teacher_hidden);
}

std::shared_ptr<const models::Split> load_learning_data(const Scenario& s) {
  const LearningSpec& l = s.learning;
  // The quadratic model has no data set (data.source is ignored): an empty one.
  if (l.model.kind == ModelKind::quadratic) return std::make_shared<const models::Split>();
  models::Rng rng = make_rng(s.run.seed, Stream::data, 0);
  auto split = std::make_shared<models::Split>();
  const std::uint32_t train = l.data.train_samples ? l.data.train_samples : synthetic_train_samples;
  const std::uint32_t test = l.data.test_samples ? l.data.test_samples : synthetic_test_samples;
  try {
    switch (l.data.source) {
      case DataSource::synthetic_regression:
        if (l.data.target == RegressionTarget::teacher)
          *split = models::synthetic_teacher_regression(
              static_cast<int>(l.data.features), regression_outputs, static_cast<int>(l.data.teacher_hidden), train,
              test, l.data.noise, rng);
        else
          *split = models::synthetic_regression(static_cast<int>(l.data.features), regression_outputs, train, test,
                                                l.data.noise, rng);
        break;
      case DataSource::synthetic_mixture:
        *split = models::synthetic_mixture(static_cast<int>(l.data.features), static_cast<int>(l.data.classes), train,
                                           test, l.data.separation, rng);
        break;
      case DataSource::fashion_mnist:
        *split = models::load_fashion_mnist(l.data.dir, l.data.train_samples, l.data.test_samples);
        break;
    }
  } catch (const models::DatasetError& e) {
    throw InputError(fmt::format("data.source: {}", e.what()));
  }
  return split;
}

LearningData prepare_learning(const Scenario& s) { return prepare_learning(s, load_learning_data(s)); }

LearningData prepare_learning(const Scenario& s, std::shared_ptr<const models::Split> data) {
  models::pin_product_blocking();  // before the optimum's products, and before any trial's threads
  const LearningSpec& l = s.learning;
  if (l.model.kind == ModelKind::quadratic) {  // the optima instead of a data set (sim/quadratic.hpp)
    LearningData d;
    d.data = std::make_shared<const models::Split>();
    d.quadratic = std::make_shared<const QuadraticProblem>(make_quadratic_problem(s));
    return d;
  }
  const bool regression = l.data.source == DataSource::synthetic_regression;
  // mlp fits either kind of set (squared loss on regression, cross-entropy on classification).
  if ((l.model.kind == ModelKind::linear && !regression) || (l.model.kind == ModelKind::logistic && regression))
    throw InputError(fmt::format("model.kind: \"{}\" does not fit data.source = \"{}\" (linear needs "
                                 "synthetic-regression; logistic needs synthetic-mixture or fashion-mnist; mlp takes any)",
                                 to_string(l.model.kind), to_string(l.data.source)));
  if (!regression && l.data.spread > 0.0)
    throw InputError(fmt::format("data.spread: per-user laws need data.source = \"synthetic-regression\" (or "
                                 "model.kind = \"quadratic\"), got {} with data.source = \"{}\"",
                                 l.data.spread, to_string(l.data.source)));
  LearningData d;
  d.data = std::move(data);
  if (s.network.n > d.data->train.size())
    throw InputError(fmt::format("network.n: {} users need at least as many training samples, have {}", s.network.n,
                                 d.data->train.size()));
  // The partition's randomness: the data stream, after the synthetic set's draws.
  models::Rng rng = make_rng(s.run.seed, Stream::data, 1);
  try {
    d.partition = models::make_partition(d.data->train, s.network.n, l.data.partition, l.data.alpha,
                                         l.data.shards_per_user, rng);
  } catch (const std::invalid_argument& e) {
    throw InputError(fmt::format("data.partition: {}", e.what()));
  }
  // Users with their own regression laws (docs/model.md §5), drawn after the partition from
  // the data stream; the shared, seed-keyed set is left alone and this run gets its own copy.
  if (regression && l.data.spread > 0.0) {
    auto own = std::make_shared<models::Split>(*d.data);
    models::Rng users_rng = make_rng(s.run.seed, Stream::data, 2);
    models::spread_regression(*own, d.partition.shards, l.data.spread, users_rng);
    d.data = std::move(own);
  }
  // The global optimum of a linear model: the generating (W*, b*) when every user follows the
  // linear law, else the exact least-squares minimiser of the users' summed losses.
  if (l.model.kind == ModelKind::linear) {
    if (l.data.target == RegressionTarget::linear && l.data.spread == 0.0) {
      d.optimum = d.data->train.optimum;
    } else {
      try {
        d.optimum = models::global_least_squares(d.data->train, d.partition.shards);
      } catch (const std::invalid_argument& e) {
        throw InputError(fmt::format("data.train_samples: {}", e.what()));
      }
    }
  }
  d.architecture = model_architecture(
      s, d.data->train.features(), regression ? static_cast<int>(d.data->train.targets.rows()) : d.data->train.classes);
  return d;
}

models::Architecture model_architecture(const Scenario& s, int inputs, int outputs) {
  models::Architecture a;
  a.inputs = inputs;
  a.outputs = outputs;
  const bool regression = s.learning.data.source == DataSource::synthetic_regression;
  a.loss = regression ? models::Loss::squared : models::Loss::softmax_cross_entropy;
  a.activation = s.learning.model.activation;
  if (s.learning.model.kind == ModelKind::mlp) a.hidden = s.learning.model.hidden;
  return a;
}

models::Architecture planned_architecture(const Scenario& s) {
  const DataSpec& d = s.learning.data;
  const bool fashion = d.source == DataSource::fashion_mnist;
  const int inputs = fashion ? models::fashion_mnist_features : static_cast<int>(d.features);
  const int outputs = d.source == DataSource::synthetic_regression ? regression_outputs
                      : fashion                                    ? models::fashion_mnist_classes
                                                                   : static_cast<int>(d.classes);
  return model_architecture(s, inputs, outputs);
}

double model_message_bytes(std::size_t parameters) { return static_cast<double>(parameters) * sizeof(float); }

LearningTrialResult run_learning_trial(const Scenario& s, const Graph& graph, const LearningData& d,
                                       std::uint64_t index) {
  LearningTrialResult result = learning_protocol(s).run(s, graph, d, index);
  if (d.data && d.data->train.classes > 0) {
    const double fraction = s.learning.observe.plateau_fraction;
    result.plateau_time = plateau_time(result.observations, fraction);
    const Baseline baseline = single_user_baseline(s, d, index);
    result.baseline_plateau_time = plateau_time(baseline.observations, fraction);
    result.baseline_diverged_at = baseline.diverged_at;
  }
  return result;
}

std::uint64_t learning_state_bytes(const Scenario& s, const LearningData& d) {
  if (s.learning.model.kind == ModelKind::quadratic) return quadratic_state_bytes(s);
  const std::uint64_t per_user = models::Layout(d.architecture).parameters() * sizeof(float);
  return per_user * s.network.n * (s.learning.train.momentum > 0.0 ? 2 : 1);
}

}  // namespace timely::sim
