#include "sim/learning.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <fmt/format.h>

#include "models/variance_correction.hpp"
#include "sim/learning_clocks.hpp"
#include "sim/network.hpp"
#include "sim/protocols.hpp"
#include "sim/input_error.hpp"
#include "sim/quadratic.hpp"
#include "sim/user_clocks.hpp"

namespace timely::sim {
namespace {

using namespace engine;
using Params = Eigen::MatrixXf;  // one column per user
using Vector = Eigen::VectorXf;
using Net = models::Network<float>;

// The larger of a and b, NaN if either is NaN (std::max(a, NaN) drops the NaN), so a
// non-finite value reaches the observation's finiteness check.
double max_or_nan(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return std::max(a, b);
}

// No entry is infinite or NaN. A float is non-finite exactly when its exponent bits are all
// ones, that is when (bits & 0x7f800000) + 0x00800000 carries into bit 31: an integer
// OR-reduction that the compiler vectorises with no dependency chain (Eigen's allFinite is
// a scalar loop, and a float sum a latency-bound chain, each costing a third or more of a
// gossip's mix).
bool all_finite(const float* x, Eigen::Index size) {
  std::uint32_t carry = 0;
  for (Eigen::Index k = 0; k < size; ++k) carry |= (std::bit_cast<std::uint32_t>(x[k]) & 0x7f800000u) + 0x00800000u;
  return (carry & 0x80000000u) == 0;
}

bool finite(const std::optional<double>& x) { return !x || std::isfinite(*x); }

// Every field of an observation is finite (a stored observation always is).
bool finite(const Observation& o) {
  if (!std::isfinite(o.time) || !std::isfinite(o.loss) || !finite(o.accuracy) || !std::isfinite(o.user_loss) ||
      !std::isfinite(o.worst_user_loss) || !finite(o.user_accuracy) || !std::isfinite(o.train_loss) ||
      !std::isfinite(o.consensus_distance) ||
      !finite(o.distance_to_optimum) || !finite(o.max_user_distance_to_optimum) || !finite(o.user_error) ||
      !finite(o.worst_user_error))
    return false;
  return std::all_of(o.weight_variance.begin(), o.weight_variance.end(), [](double v) { return std::isfinite(v); });
}

double learning_rate(const TrainSpec& t, double time) {
  switch (t.schedule) {
    case LrSchedule::inverse_time: return t.lr / (1.0 + time / t.decay_time);
    case LrSchedule::step: return t.lr * std::pow(t.step_factor, std::floor(time / t.step_time));
    case LrSchedule::constant: break;
  }
  return t.lr;
}

// The learning state of one trial: a model per user, SGD on each user's shard, and the
// metrics of docs/model.md §4 on the observation grid.
//
// Divergence (LearningTrialResult::diverged_at): every write of parameters that can leave
// the finite range is checked, so "not diverged" implies "every parameter is finite": a
// user's column after its local update, the receiver's (both, for a variance-corrected
// exchange) after an age-weighted or variance-corrected mix, the server's average after a
// FedAvg round. The plain average of two finite models is always finite, so it is not
// checked. Non-finite entries cannot become finite again under SGD
// steps or averaging, so one check after the tau steps of an update suffices. Metrics of
// finite models can still overflow (a float squared norm, a loss), so ObservationGrid checks
// every field of an observation before storing it and flags divergence at its time
// otherwise. Once diverged, no model arithmetic runs (train, mix and fedavg_round return
// at once), but train still draws its mini-batch indices: the trial's engine is shared with
// the clocks, and the clocks' draws, hence the staleness, must not depend on the model.
class Learners {
 public:
  Learners(const Scenario& s, const LearningData& d, Rng& rng)
      : s_(s), d_(d), rng_(rng), net_(d.architecture, static_cast<int>(s.learning.train.batch)),
        layout_(net_.layout()), n_(static_cast<std::uint32_t>(d.partition.shards.size())),
        params_(static_cast<Eigen::Index>(layout_.parameters()), n_), ages_(n_, 0.0),
        batch_x_(d.data->train.features(), s.learning.train.batch), batch_labels_(s.learning.train.batch),
        grad_(static_cast<Eigen::Index>(layout_.parameters())) {
    const bool regression = d.data->train.classes == 0;
    if (regression) batch_targets_.resize(d.data->train.targets.rows(), s.learning.train.batch);
    if (s.learning.train.momentum > 0.0) velocity_ = Params::Zero(params_.rows(), n_);
    correction_.biases = s.learning.mixing.correct_biases;
    targets_.assign(layout_.tensors().size(), 0.0);
    // Every user is initialised independently (its own draw of Xavier or He).
    for (std::uint32_t u = 0; u < n_; ++u) {
      Vector column(params_.rows());
      net_.initialize(column, s.learning.model.init, rng_);
      params_.col(u) = column;
    }
    // Users whose own test metrics are followed, and the evaluation subsets.
    const std::uint32_t followed = std::min(s.learning.observe.users, n_);
    for (std::uint32_t k = 0; k < followed; ++k) followed_.push_back(static_cast<std::uint32_t>((std::uint64_t{k} * n_) / followed));
    const auto& test = d.data->test;
    test_count_ = s.learning.observe.test_samples == 0 ? static_cast<Eigen::Index>(test.size())
                                                       : std::min<Eigen::Index>(s.learning.observe.test_samples, test.size());
    train_count_ = std::min<Eigen::Index>(2000, static_cast<Eigen::Index>(d.data->train.size()));
    if (d.optimum) {
      initial_distance_.resize(n_);
      for (std::uint32_t u = 0; u < n_; ++u) initial_distance_[u] = (params_.col(u) - *d.optimum).norm();
      initial_mean_distance_ = (params_.rowwise().mean() - *d.optimum).norm();
    }
  }

  std::uint32_t size() const { return n_; }

  // The simulated time of the first non-finite parameter or metric, if any.
  const std::optional<double>& diverged_at() const { return diverged_at_; }
  bool diverged() const { return diverged_; }
  void diverge(double t) {
    if (diverged_) return;
    diverged_ = true;
    diverged_at_ = t;
  }

  // tau mini-batch SGD steps of user u on its own shard; the model's age grows by the samples used.
  void train(std::uint32_t u, double t) {
    if (diverged_) {
      skip_training(u);
      return;
    }
    train_column(params_.col(u), u, t, velocity_.size() ? &velocity_ : nullptr);
    check(params_.col(u), t);
  }

  // Receiver r mixes in the sender's model (docs/model.md §4).
  void mix_into(std::uint32_t receiver, std::uint32_t sender, double t) {
    mix_from(receiver, params_.col(sender), ages_[sender], t);
  }

  // ---- messages of the network layer (docs/model.md §7): a copy of a user's model and age ----
  std::uint32_t snapshot(std::uint32_t user) {
    const auto width = static_cast<std::size_t>(params_.rows());
    const std::uint32_t id = messages_.acquire(width);
    Eigen::Map<Vector>(messages_.data(id), params_.rows()) = params_.col(user);
    if (id >= message_ages_.size()) message_ages_.resize(id + 1);
    message_ages_[id] = ages_[user];
    return id;
  }
  void mix_message(std::uint32_t receiver, std::uint32_t id, double t) {
    mix_from(receiver, Eigen::Map<const Vector>(messages_.data(id), params_.rows()), message_ages_[id], t);
  }
  void release(std::uint32_t id) { messages_.release(id); }
  // The payload of one message: the model's parameters, as floats.
  double message_bytes() const { return static_cast<double>(params_.rows()) * sizeof(float); }

  template <class Sender>
  void mix_from(std::uint32_t receiver, const Sender& sender, double sender_age, double t) {
    if (diverged_) return;
    if (s_.learning.mixing.rule == MixingRule::variance_corrected) {
      target_for(receiver, sender, targets_);
      params_.col(receiver) = 0.5f * (params_.col(receiver) + sender);
      models::correct_variance(params_.col(receiver), layout_, targets_, correction_);
      check(params_.col(receiver), t);
      return;
    }
    double w = 0.5;
    if (s_.learning.mixing.rule == MixingRule::age_weighted) {
      const double total = ages_[receiver] + sender_age;
      w = total > 0.0 ? sender_age / total : 0.5;
      ages_[receiver] = max_or_nan(ages_[receiver], sender_age);
    }
    params_.col(receiver) = (1.0f - static_cast<float>(w)) * params_.col(receiver) + static_cast<float>(w) * sender;
    // The plain average of finite floats is finite (0.5 a + 0.5 b is at most FLT_MAX in
    // magnitude before rounding, so also after): no check. Other weights, each rounded to
    // float, can round a combination of values near FLT_MAX past it.
    if (s_.learning.mixing.rule != MixingRule::average) check(params_.col(receiver), t);
  }

  // Exchange: both end with the same mixture (with variance correction, each rescaled to
  // its own target when the target counts received models only).
  void mix_both(std::uint32_t i, std::uint32_t j, double t) {
    if (diverged_) return;
    if (s_.learning.mixing.rule == MixingRule::variance_corrected) {
      target_for(i, params_.col(j), targets_);
      std::vector<double>& other = other_targets_;
      target_for(j, params_.col(i), other);
      params_.col(i) = 0.5f * (params_.col(i) + params_.col(j));
      params_.col(j) = params_.col(i);
      models::correct_variance(params_.col(i), layout_, targets_, correction_);
      models::correct_variance(params_.col(j), layout_, other, correction_);
      check(params_.col(i), t);
      check(params_.col(j), t);
      return;
    }
    mix_into(i, j, t);  // checks i; j becomes a copy
    params_.col(j) = params_.col(i);
    ages_[j] = ages_[i];
  }

  // One FedAvg round: sampled clients start from the global model, train, and the server
  // averages them weighted by shard size (McMahan et al. 2017). Returns the number of clients
  // trained, each one local update.
  std::uint32_t fedavg_round(double t) {
    const std::uint32_t m = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::lround(s_.learning.mixing.fedavg_fraction * n_)));
    // After divergence nothing else reads the engine (FedAvg measures no staleness).
    if (diverged_) return m;
    // The server starts from one initialised model, as federated learning does: averaging
    // the users' independent initialisations would divide its weight variance by n.
    if (global_.size() == 0) global_ = params_.col(0);
    chosen_.resize(n_);
    std::iota(chosen_.begin(), chosen_.end(), 0u);
    fedavg_sum_.setZero(global_.size());  // allocates on the first round only
    double weight = 0.0;
    for (std::uint32_t k = 0; k < m; ++k) {
      boost::random::uniform_int_distribution<std::uint32_t> pick(k, n_ - 1);
      std::swap(chosen_[k], chosen_[pick(rng_)]);
      const std::uint32_t c = chosen_[k];
      params_.col(c) = global_;
      train_column(params_.col(c), c, t, nullptr);
      const double size = static_cast<double>(d_.partition.shards[c].size());
      fedavg_sum_ += static_cast<float>(size) * params_.col(c);
      weight += size;
    }
    global_ = fedavg_sum_ / static_cast<float>(weight);
    if (s_.learning.mixing.fedavg_variance_correction) {
      // Target: the mean variance of the clients' tensors (the server holds no model of its own).
      std::fill(targets_.begin(), targets_.end(), 0.0);
      for (std::uint32_t k = 0; k < m; ++k) {
        models::tensor_variances(params_.col(chosen_[k]), layout_, correction_, own_variance_);
        for (std::size_t t = 0; t < own_variance_.size(); ++t) targets_[t] += own_variance_[t] / m;
      }
      models::correct_variance(global_, layout_, targets_, correction_);
    }
    // A non-finite client makes the weighted sum non-finite, and the sum can overflow on its
    // own: checking the server's model covers the round.
    check(global_, t);
    for (std::uint32_t k = 0; k < m; ++k) params_.col(chosen_[k]) = global_;
    return m;
  }

  Observation observe(double t) {
    Observation o;
    o.time = t;
    const bool federated = global_.size() > 0;
    const Vector mean = federated ? global_ : Vector(params_.rowwise().mean());
    const auto& test = d_.data->test;
    const auto& train = d_.data->train;
    const bool regression = train.classes == 0;
    // User u's model in place (a view, never a copy of its parameters): the server's under FedAvg.
    using Model = Eigen::Ref<const Vector>;
    const auto model_of = [&](std::uint32_t u) { return federated ? Model(global_) : Model(params_.col(u)); };
    const auto evaluate = [&](const Model& theta, const models::Dataset& set, Eigen::Index count, double& loss,
                              std::optional<double>& accuracy) {
      if (regression) {
        loss = net_.evaluate_squared(theta, set.x.leftCols(count), set.targets.leftCols(count));
      } else {
        const auto e = net_.evaluate(theta, set.x.leftCols(count), set.labels.head(count));
        loss = e.loss;
        accuracy = e.accuracy;
      }
    };
    evaluate(mean, test, test_count_, o.loss, o.accuracy);
    std::optional<double> ignored;
    evaluate(mean, train, train_count_, o.train_loss, ignored);
    double user_loss = 0.0, user_accuracy = 0.0, worst_user_loss = 0.0;
    for (std::uint32_t u : followed_) {
      double loss = 0.0;
      std::optional<double> accuracy;
      evaluate(model_of(u), test, test_count_, loss, accuracy);
      user_loss += loss;
      worst_user_loss = max_or_nan(worst_user_loss, loss);
      user_accuracy += accuracy.value_or(0.0);
    }
    o.user_loss = user_loss / static_cast<double>(followed_.size());
    o.worst_user_loss = worst_user_loss;
    if (!regression) o.user_accuracy = user_accuracy / static_cast<double>(followed_.size());
    if (!federated) o.consensus_distance = (params_.colwise() - mean).colwise().squaredNorm().sum() / n_;
    if (d_.optimum) {
      const Vector& star = *d_.optimum;
      o.distance_to_optimum = initial_mean_distance_ > 0.0 ? (mean - star).norm() / initial_mean_distance_ : 0.0;
      double worst = 0.0, squared = 0.0, worst_squared = 0.0;
      for (std::uint32_t u = 0; u < n_; ++u) {
        const double now = federated ? (global_ - star).norm() : (params_.col(u) - star).norm();
        worst = max_or_nan(worst, initial_distance_[u] > 0.0 ? now / initial_distance_[u] : 0.0);
        squared += now * now;
        worst_squared = max_or_nan(worst_squared, now * now);
      }
      o.max_user_distance_to_optimum = worst;
      o.user_error = squared / n_;
      o.worst_user_error = worst_squared;
    }
    for (const models::Tensor& tensor : layout_.tensors()) {
      if (tensor.bias) continue;
      double variance = 0.0;
      for (std::uint32_t u = 0; u < n_; ++u)
        variance += models::tensor_variance<float>(model_of(u), tensor);
      o.weight_variance.push_back(variance / n_);
    }
    return o;
  }

 private:
  // Flags divergence at t if the model just written holds a non-finite entry.
  void check(const Eigen::Ref<const Vector>& theta, double t) {
    if (!all_finite(theta.data(), theta.size())) diverge(t);
  }

  // The engine draws of train_column, without the arithmetic (see the class comment).
  void skip_training(std::uint32_t u) {
    boost::random::uniform_int_distribution<std::size_t> pick(0, d_.partition.shards[u].size() - 1);
    const auto draws = static_cast<std::uint64_t>(s_.learning.train.steps) * s_.learning.train.batch;
    for (std::uint64_t k = 0; k < draws; ++k) static_cast<void>(pick(rng_));
  }

  // Variance targets of the receiver's corrected average: the mean over both models, or the
  // sender's alone (docs/model.md §4, both choices seen in public code).
  template <class Sender>
  void target_for(std::uint32_t receiver, const Sender& sender, std::vector<double>& out) {
    models::tensor_variances(sender, layout_, correction_, out);
    if (s_.learning.mixing.variance_target == VarianceTarget::received) return;
    models::tensor_variances(params_.col(receiver), layout_, correction_, own_variance_);
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = 0.5 * (out[k] + own_variance_[k]);
  }

  template <class Column>
  void train_column(Column theta, std::uint32_t u, double t, Params* velocity) {
    const auto& shard = d_.partition.shards[u];
    const auto& train = d_.data->train;
    const auto batch = static_cast<Eigen::Index>(s_.learning.train.batch);
    boost::random::uniform_int_distribution<std::size_t> pick(0, shard.size() - 1);
    const float lr = static_cast<float>(learning_rate(s_.learning.train, t));
    for (std::uint32_t step = 0; step < s_.learning.train.steps; ++step) {
      // A mini-batch drawn uniformly (with replacement) from the user's shard.
      for (Eigen::Index k = 0; k < batch; ++k) {
        const std::uint32_t sample = shard[pick(rng_)];
        batch_x_.col(k) = train.x.col(sample);
        if (train.classes > 0) batch_labels_[k] = train.labels[sample];
        else batch_targets_.col(k) = train.targets.col(sample);
      }
      if (velocity) {
        if (train.classes > 0) net_.loss_gradient(theta, batch_x_, batch_labels_, &grad_);
        else net_.loss_gradient(theta, batch_x_, batch_targets_, &grad_);
        auto v = velocity->col(u);
        v = static_cast<float>(s_.learning.train.momentum) * v + grad_;
        theta -= lr * v;
      } else if (train.classes > 0) {
        net_.sgd_step(theta, batch_x_, batch_labels_, lr);  // the gradient applied in place, never stored
      } else {
        net_.sgd_step(theta, batch_x_, batch_targets_, lr);
      }
      ages_[u] += static_cast<double>(batch);
    }
  }

  const Scenario& s_;
  const LearningData& d_;
  Rng& rng_;
  Net net_;
  const models::Layout& layout_;
  std::uint32_t n_;
  Params params_;
  Params velocity_;
  std::vector<double> ages_;
  Eigen::MatrixXf batch_x_, batch_targets_;
  Eigen::VectorXi batch_labels_;
  Vector grad_;
  Vector global_;      // FedAvg's server model
  Vector fedavg_sum_;  // FedAvg's scratch: the weighted sum of the clients' models
  std::vector<std::uint32_t> chosen_;
  models::CorrectionOptions correction_{};
  std::vector<double> targets_, other_targets_, own_variance_;
  std::vector<std::uint32_t> followed_;
  Eigen::Index test_count_ = 0, train_count_ = 0;
  engine::MessagePool<float> messages_;  // models in flight (network layer)
  std::vector<double> message_ages_;
  std::vector<double> initial_distance_;
  double initial_mean_distance_ = 0.0;
  std::optional<double> diverged_at_;
  bool diverged_ = false;  // diverged_at_.has_value(), kept apart for the hot paths
};

// Observations on the grid 0, every, 2 every, ... up to the horizon, taken before the first
// event after each grid time (the state is piecewise constant), plus the times to target:
// the first grid time whose accuracy reaches target.accuracy, whose test loss is at most
// target.loss, and whose relative distance to the optimum is at most target.distance.
class ObservationGrid {
 public:
  ObservationGrid(const Scenario& s, Learners& learners) : s_(s), learners_(learners) {}
  void before(double t) {
    while (next_ <= t && next_ <= s_.run.horizon && !learners_.diverged()) {
      Observation o = learners_.observe(next_);
      if (!finite(o)) {  // finite models whose metrics overflow: diverged at this grid time
        learners_.diverge(next_);
        return;
      }
      if (!reached_ && o.accuracy && *o.accuracy >= s_.learning.target_accuracy) reached_ = o.time;
      if (!reached_loss_ && s_.learning.target_loss && o.loss <= *s_.learning.target_loss) reached_loss_ = o.time;
      if (!reached_distance_ && s_.learning.target_distance && o.distance_to_optimum &&
          *o.distance_to_optimum <= *s_.learning.target_distance)
        reached_distance_ = o.time;
      if (bytes_sent_) o.bytes_sent_per_user = *bytes_sent_ / learners_.size();
      observations_.push_back(std::move(o));
      next_ = s_.learning.observe.every * static_cast<double>(observations_.size());
    }
  }
  // The network layer's running count of bytes sent, read at each observation.
  void count_bytes(const double* bytes_sent) { bytes_sent_ = bytes_sent; }
  std::vector<Observation> take() { return std::move(observations_); }
  std::optional<double> time_to_target() const { return reached_; }
  std::optional<double> time_to_loss() const { return reached_loss_; }
  std::optional<double> time_to_distance() const { return reached_distance_; }

 private:
  const Scenario& s_;
  Learners& learners_;
  const double* bytes_sent_ = nullptr;
  double next_ = 0.0;
  std::vector<Observation> observations_;
  std::optional<double> reached_, reached_loss_, reached_distance_;
};

// Decentralised learning: the users model's clocks and vector clocks drive training and mixing
// (LearningClocks), the learners hold the models and the grid observes them.
struct GridLearners {
  Learners& learners;
  ObservationGrid& grid;
  void train(std::uint32_t user, double t) { learners.train(user, t); }
  void mix_into(std::uint32_t receiver, std::uint32_t sender, double t) { learners.mix_into(receiver, sender, t); }
  void mix_both(std::uint32_t i, std::uint32_t j, double t) { learners.mix_both(i, j, t); }
  std::uint32_t snapshot(std::uint32_t user) { return learners.snapshot(user); }
  void mix_message(std::uint32_t receiver, std::uint32_t id, double t) { learners.mix_message(receiver, id, t); }
  void release(std::uint32_t id) { learners.release(id); }
  double message_bytes() const { return learners.message_bytes(); }
  void count_bytes(const double* bytes_sent) { grid.count_bytes(bytes_sent); }
  void before(double t) { grid.before(t); }
  void start_window(double) {}
  void close(double t) { grid.before(t); }
};

// The grid's results and the divergence time, common to every protocol's trial.
void take_grid(LearningTrialResult& result, ObservationGrid& grid, const Learners& learners) {
  result.observations = grid.take();
  result.time_to_target = grid.time_to_target();
  result.time_to_loss = grid.time_to_loss();
  result.time_to_distance = grid.time_to_distance();
  result.diverged_at = learners.diverged_at();
}

template <class G, GossipMode Mode>
LearningTrialResult gossip_learning_on(const Scenario& s, const G& graph, const LearningData& d, std::uint64_t index,
                                       Rng& rng) {
  Learners learners(s, d, rng);
  ObservationGrid grid(s, learners);
  GridLearners learner{learners, grid};
  LearningClocks<G, Mode, GridLearners> m(s, graph, learner, rng);
  Window window(s.run.warmup, s.run.horizon);
  LearningTrialResult result;
  std::optional<NetworkOutcome> network;
  const std::uint64_t events = run_clocks<Mode>(m, s, index, rng, window, learner.message_bytes(), network);
  m.close(window.horizon());
  result.staleness = users_result(m.staleness(), window, events, network);
  result.local_updates = m.updates();
  result.gossips = m.gossips();
  take_grid(result, grid, learners);
  return result;
}

}  // namespace

// FedAvg: rounds every 1/updates.rate time units (a round is one local update of each
// sampled client); the gossip clocks play no part.
LearningTrialResult run_fedavg(const Scenario& s, const Graph&, const LearningData& d, std::uint64_t index) {
  Rng rng = make_rng(s.run.seed, Stream::trial, index);
  Learners learners(s, d, rng);
  ObservationGrid grid(s, learners);
  LearningTrialResult result;
  const double period = 1.0 / s.updates.rate;
  for (std::uint64_t k = 1;; ++k) {
    const double t = period * static_cast<double>(k);
    if (t > s.run.horizon) break;
    grid.before(t);
    result.local_updates += learners.fedavg_round(t);
    ++result.rounds;
  }
  grid.before(s.run.horizon);
  take_grid(result, grid, learners);
  return result;
}

// Local training: every user trains on its own shard at the ticks of its own update clock
// (c_i + Exp(mu_i), per-user or the scenario's), and no model ever leaves its user. No gossip
// runs, so no staleness is measured: with no gossip the users model's staleness only grows.
LearningTrialResult run_local_learning(const Scenario& s, const Graph&, const LearningData& d, std::uint64_t index) {
  Rng rng = make_rng(s.run.seed, Stream::trial, index);
  Learners learners(s, d, rng);
  ObservationGrid grid(s, learners);
  const std::uint32_t n = learners.size();
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
    learners.train(u, t);
    ++result.local_updates;
    next.emplace(t + delay[u] + unit(rng) / rate[u], u);
  }
  grid.before(s.run.horizon);
  take_grid(result, grid, learners);
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
  if (observations.empty() || !observations.back().accuracy) return std::nullopt;
  const double level = fraction * *observations.back().accuracy;
  for (const Observation& o : observations)
    if (o.accuracy && *o.accuracy >= level) return o.time;
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
  Learners learner(s, single, rng);
  ObservationGrid grid(s, learner);
  boost::random::exponential_distribution<double> gap(s.update_rate());
  for (double t = gap(rng); t <= s.run.horizon; t += gap(rng)) {
    grid.before(t);
    learner.train(0, t);
    if (learner.diverged()) break;  // nothing more to observe; the baseline has no clocks to keep
  }
  grid.before(s.run.horizon);
  return {grid.take(), learner.diverged_at()};
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
  try {
    switch (l.data.source) {
      case DataSource::synthetic_regression:
        if (l.data.target == RegressionTarget::teacher)
          *split = models::synthetic_teacher_regression(
              static_cast<int>(l.data.features), 1, static_cast<int>(l.data.teacher_hidden),
              l.data.train_samples ? l.data.train_samples : 20000, l.data.test_samples ? l.data.test_samples : 5000,
              l.data.noise, rng);
        else
          *split = models::synthetic_regression(static_cast<int>(l.data.features), 1, l.data.train_samples ? l.data.train_samples : 20000,
                                                l.data.test_samples ? l.data.test_samples : 5000, l.data.noise, rng);
        break;
      case DataSource::synthetic_mixture:
        *split = models::synthetic_mixture(static_cast<int>(l.data.features), static_cast<int>(l.data.classes),
                                           l.data.train_samples ? l.data.train_samples : 20000,
                                           l.data.test_samples ? l.data.test_samples : 5000, l.data.separation, rng);
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
  d.architecture.inputs = d.data->train.features();
  d.architecture.outputs = regression ? static_cast<int>(d.data->train.targets.rows()) : d.data->train.classes;
  d.architecture.loss = regression ? models::Loss::squared : models::Loss::softmax_cross_entropy;
  d.architecture.activation = l.model.activation;
  if (l.model.kind == ModelKind::mlp) d.architecture.hidden = l.model.hidden;
  return d;
}

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
