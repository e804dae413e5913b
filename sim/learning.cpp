#include "sim/learning.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <queue>
#include <fmt/format.h>

#include "models/variance_correction.hpp"
#include "sim/input_error.hpp"
#include "sim/learning_bank.hpp"
#include "sim/mixer.hpp"
#include "sim/model_bank.hpp"
#include "sim/observer.hpp"
#include "sim/protocol_list.hpp"
#include "sim/quadratic.hpp"
#include "sim/user_clocks.hpp"

namespace timely::sim {
namespace {

using namespace engine;
using Vector = ModelBank::Vector;

// The neural models of one trial as a LearningBank (sim/learning_bank.hpp): the users'
// parameters and SGD (ModelBank), the mixing rules (Mixer), the metrics on the observation
// grid (Observer, ObservationGrid), and a server's model for FedAvg (McMahan et al. 2017):
// one initialised model that sampled clients start from, train, and send back for a
// weighted average. The clients train in the users' columns, which then hold the server's model.
class NeuralBank {
 public:
  // The users' models are initialised from rng (their own Xavier or He draws), which the
  // bank keeps for the mini-batch draws.
  NeuralBank(const Scenario& s, const LearningData& d, Rng& rng, Observed observed)
      : s_(s), d_(d), bank_(s, d, rng), observer_(s, d, bank_, observed),
        grid_(s, bank_, observer_, observed == Observed::server ? &global_ : nullptr), mixer_(s, bank_) {
    correction_.biases = s.learning.mixing.correct_biases;
    targets_.assign(bank_.layout().tensors().size(), 0.0);
  }

  std::uint32_t size() const { return bank_.size(); }
  bool diverged() const { return bank_.diverged(); }
  void train(std::uint32_t user, double t) { bank_.train(user, t); }

  // ---- gossip (sim/mixer.hpp) and the network layer's messages ----
  void mix_into(std::uint32_t receiver, std::uint32_t sender, double t) { mixer_.mix_into(receiver, sender, t); }
  void mix_both(std::uint32_t i, std::uint32_t j, double t) { mixer_.mix_both(i, j, t); }
  std::uint32_t snapshot(std::uint32_t user) { return bank_.snapshot(user); }
  void mix_message(std::uint32_t receiver, std::uint32_t id, double t) { mixer_.mix_message(receiver, id, t); }
  void release(std::uint32_t id) { bank_.release(id); }
  void combine(std::uint32_t u, std::span<const std::uint32_t> ids, std::span<const double> weights, double t) {
    if (bank_.diverged()) return;
    auto model = bank_.params().col(u);
    model.setZero();
    for (std::size_t k = 0; k < ids.size(); ++k) model += static_cast<float>(weights[k]) * bank_.message(ids[k]);
    bank_.check(model, t);  // weights rounded to float can carry a sum near FLT_MAX past it
  }
  double message_bytes() const { return bank_.message_bytes(); }
  void count_bytes(const double* bytes_sent) { grid_.count_bytes(bytes_sent); }

  // ---- a server's round: clients weighted by shard size ----
  void begin_round() {
    if (bank_.diverged()) return;
    // The server starts from one initialised model, as federated learning does: averaging
    // the users' independent initialisations would divide its weight variance by n.
    if (global_.size() == 0) global_ = bank_.params().col(0);
    sum_.setZero(global_.size());  // allocates on the first round only
    weight_ = 0.0;
  }
  void train_client(std::uint32_t c, double t) {
    if (bank_.diverged()) return;
    auto& params = bank_.params();
    params.col(c) = global_;
    bank_.train_model(params.col(c), c, t);
    add_client(c);
  }
  void add_client(std::uint32_t c) {
    if (bank_.diverged()) return;
    const double size = static_cast<double>(d_.partition.shards[c].size());
    sum_ += static_cast<float>(size) * bank_.params().col(c);
    weight_ += size;
  }
  void end_round(std::span<const std::uint32_t> clients, double t) {
    if (bank_.diverged()) return;
    global_ = sum_ / static_cast<float>(weight_);
    if (s_.learning.mixing.fedavg_variance_correction) correct_variance(clients);
    // A non-finite client makes the weighted sum non-finite, and the sum can overflow on its
    // own: checking the server's model covers the round.
    bank_.check(global_, t);
    for (const std::uint32_t c : clients) bank_.params().col(c) = global_;
  }

  // ---- a SAPO swarm's policies (sim/sapo.hpp) ----
  ModelBank& policies() { return bank_; }
  const LearningData& learning_data() const { return d_; }
  void count_experience(const ExperienceCounts* counts) { grid_.count_experience(counts); }

  // ---- metrics ----
  void before(double t) { grid_.before(t); }
  void start_window(double) {}
  void close(double t) { grid_.before(t); }
  void take(LearningTrialResult& result) { grid_.take(result); }

 private:
  // Target: the mean variance of the clients' tensors (the server holds no model of its own).
  void correct_variance(std::span<const std::uint32_t> clients) {
    std::fill(targets_.begin(), targets_.end(), 0.0);
    const auto m = static_cast<double>(clients.size());
    for (const std::uint32_t c : clients) {
      models::tensor_variances(bank_.params().col(c), bank_.layout(), correction_, own_variance_);
      for (std::size_t t = 0; t < own_variance_.size(); ++t) targets_[t] += own_variance_[t] / m;
    }
    models::correct_variance(global_, bank_.layout(), targets_, correction_);
  }

  const Scenario& s_;
  const LearningData& d_;
  ModelBank bank_;
  const Observer observer_;
  Vector global_;  // the server's model, empty before the first round
  ObservationGrid grid_;
  Mixer mixer_;
  Vector sum_;     // scratch: the weighted sum of the round's clients
  double weight_ = 0.0;
  models::CorrectionOptions correction_{};
  std::vector<double> targets_, own_variance_;
};
static_assert(LearningBank<NeuralBank> && PolicyBank<NeuralBank>);

}  // namespace

namespace {

// First observation time at which accuracy reaches `fraction` of the final accuracy.
std::optional<double> plateau_time(const std::vector<Observation>& observations, double fraction) {
  if (observations.empty() || !observations.back()[metric::accuracy]) return std::nullopt;
  const double level = fraction * *observations.back()[metric::accuracy];
  for (const Observation& o : observations)
    if (o[metric::accuracy] && *o[metric::accuracy] >= level) return o.time;
  return std::nullopt;
}

// The data of the single user of a protocol with pools_data (sim/protocols.hpp): the whole
// training set as one shard, the same data, architecture and optimum.
LearningData pooled_data(const LearningData& d) {
  LearningData pooled;
  pooled.data = d.data;
  pooled.architecture = d.architecture;
  pooled.optimum = d.optimum;
  pooled.partition.shards.resize(1);
  pooled.partition.shards[0].resize(d.data->train.size());
  std::iota(pooled.partition.shards[0].begin(), pooled.partition.shards[0].end(), 0u);
  return pooled;
}

// The task kinds of the data set: sapo.specialties for synthetic-arithmetic, 1 for the others.
std::uint32_t task_kinds(const Scenario& s) {
  return s.learning.data.source == DataSource::synthetic_arithmetic ? s.learning.sapo.specialties : 1;
}

}  // namespace

std::string learning_data_key(const Scenario& s) {
  const DataSpec& d = s.learning.data;
  // Fashion-MNIST does not depend on the seed; the synthetic sets are drawn from it.
  const std::uint64_t seed = d.source == DataSource::fashion_mnist ? 0 : s.run.seed;
  return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", to_string(d.source), d.dir, d.features, d.classes,
                     d.train_samples, d.test_samples, d.noise, d.separation, seed, to_string(d.target), d.teacher_hidden,
                     task_kinds(s));
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
      case DataSource::synthetic_arithmetic:
        // The keys' ranges keep the other sets valid; the questions' one-hot code can still be
        // too wide for the product of two of them.
        if (std::uint64_t features = std::uint64_t{task_kinds(s)} * l.data.classes * l.data.classes;
            features > models::arithmetic_max_features)
          throw InputError(fmt::format("data.classes, sapo.specialties: {} task kinds x {}^2 answers make {} one-hot "
                                       "features, at most {}",
                                       task_kinds(s), l.data.classes, features, models::arithmetic_max_features));
        *split = models::synthetic_arithmetic(static_cast<int>(task_kinds(s)), static_cast<int>(l.data.classes), train,
                                              test, rng);
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
                                 "synthetic-regression; logistic needs a classification set; mlp takes any)",
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
  // Users with specialties ask one kind of question each (docs/model.md §5).
  const std::uint32_t kinds = task_kinds(s);
  if (kinds > s.network.n)
    throw InputError(fmt::format("sapo.specialties: {} task kinds need at least as many users, network.n = {}", kinds,
                                 s.network.n));
  // The partition's randomness: the data stream, after the synthetic set's draws.
  models::Rng rng = make_rng(s.run.seed, Stream::data, 1);
  try {
    d.partition = models::make_specialty_partition(d.data->train, s.network.n, kinds, l.data.partition, l.data.alpha,
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
  // synthetic-arithmetic: the one-hot questions (k, a, b), modulus = data.classes.
  const int inputs = fashion ? models::fashion_mnist_features
                     : d.source == DataSource::synthetic_arithmetic
                         ? static_cast<int>(std::min<std::uint64_t>(std::uint64_t{task_kinds(s)} * d.classes * d.classes,
                                                                    std::numeric_limits<int>::max()))
                         : static_cast<int>(d.features);
  const int outputs = d.source == DataSource::synthetic_regression ? regression_outputs
                      : fashion                                    ? models::fashion_mnist_classes
                                                                   : static_cast<int>(d.classes);
  return model_architecture(s, inputs, outputs);
}

double model_message_bytes(std::size_t parameters) { return static_cast<double>(parameters) * sizeof(float); }

LearningTrialResult run_learning_trial(const Scenario& s, const Graph& graph, const LearningData& d,
                                       std::uint64_t index) {
  if (s.learning.model.kind == ModelKind::quadratic) return run_quadratic_trial(s, graph, *d.quadratic, index);
  // The users' own shards, or the pooled data when the protocol asks for it (built per trial,
  // only then; the bank keeps a reference to it).
  std::optional<LearningData> pooled;
  const auto make_bank = [&](Rng& rng, const LearningProtocolInfo& info) {
    return NeuralBank(s, info.pools_data ? pooled.emplace(pooled_data(d)) : d, rng, info.observed);
  };
  // The scenario's protocol (sim/protocol_list.hpp).
  LearningTrialResult result = run_protocol(s, graph, index, make_bank);
  if (d.data->train.classes > 0) {
    // The plateau delay (docs/model.md §4) against the single-user reference, run through its
    // protocol on its own engine, so that every protocol's trial is measured against the same
    // reference. A trial of that protocol is its own reference: its delay is 0.
    const double fraction = s.learning.observe.plateau_fraction;
    result.plateau_time = plateau_time(result.observations, fraction);
    if (learning_protocol_id(s) == protocol_id<SingleUser>) {
      result.baseline_plateau_time = result.plateau_time;
      result.baseline_diverged_at = result.diverged_at;
    } else if (learning_protocol(s).reports_experience) {
      // A swarm learns from rewards alone: a reference trained on the labels has no bearing on
      // its plateau, so it has none (and no plateau delay).
    } else {
      const LearningTrialResult reference =
          run_protocol_on<SingleUser>(s, graph, make_rng(s.run.seed, Stream::baseline, index), index, make_bank);
      result.baseline_plateau_time = plateau_time(reference.observations, fraction);
      result.baseline_diverged_at = reference.diverged_at;
    }
  }
  return result;
}

std::uint64_t learning_state_bytes(const Scenario& s, std::uint64_t parameters) {
  if (s.learning.model.kind == ModelKind::quadratic) return quadratic_state_bytes(s);
  const std::uint64_t users = learning_protocol(s).pools_data ? 1 : s.network.n;  // one user holds the pooled data
  return parameters * sizeof(float) * users * (s.learning.train.momentum > 0.0 ? 2 : 1);
}

std::uint64_t learning_state_bytes(const Scenario& s, const LearningData& d) {
  // The quadratic model has no architecture (no layout to ask): its state is sized by its keys.
  if (s.learning.model.kind == ModelKind::quadratic) return quadratic_state_bytes(s);
  return learning_state_bytes(s, models::Layout(d.architecture).parameters());
}

}  // namespace timely::sim
