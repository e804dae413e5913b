#pragma once
// The users' models of one learning trial (docs/model.md §4): a parameter column per user,
// SGD on each user's shard, copies of models for the network layer's messages, and the
// divergence checks. The mixer (sim/mixer.hpp), the observer (sim/observer.hpp) and the
// FedAvg server work on it; the protocols (sim/protocols.hpp) compose them. Internal to sim/.
//
// Divergence (LearningTrialResult::diverged_at): every write of parameters that can leave the
// finite range is checked, so "not diverged" implies "every parameter is finite": a user's
// column after its local update, the receiver's (both, for a variance-corrected exchange)
// after an age-weighted or variance-corrected mix, the server's average after a FedAvg
// round. The plain average of two finite models is always finite, so it is not checked.
// Non-finite entries cannot become finite again under SGD steps or averaging, so one check
// after the tau steps of an update suffices. Metrics of finite models can still overflow (a
// float squared norm, a loss), so ObservationGrid checks every field of an observation before
// storing it and flags divergence at its time otherwise. Once diverged, no model arithmetic
// runs, but train still draws its mini-batch indices: the trial's engine is shared with the
// clocks, and the clocks' draws, hence the staleness, must not depend on the model.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "sim/learning.hpp"
#include "sim/random.hpp"
#include "sim/users_model.hpp"

namespace timely::sim {

// The larger of a and b, NaN if either is NaN (std::max(a, NaN) drops the NaN), so a
// non-finite value reaches the observation's finiteness check.
inline double max_or_nan(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return std::max(a, b);
}

// The step size at simulated time t under train.schedule.
double learning_rate(const TrainSpec& train, double t);

class ModelBank {
 public:
  using Params = Eigen::MatrixXf;  // one column per user
  using Vector = Eigen::VectorXf;

  // Every user's model initialised independently (its own draw of Xavier or He) from rng,
  // which the bank keeps for the mini-batch draws.
  ModelBank(const Scenario& s, const LearningData& d, Rng& rng);

  std::uint32_t size() const { return n_; }
  const models::Layout& layout() const { return layout_; }
  models::Network<float>& net() { return net_; }
  Params& params() { return params_; }
  const Params& params() const { return params_; }
  // Samples each model has trained on (age-weighted mixing, docs/model.md §4).
  std::vector<double>& ages() { return ages_; }
  Rng& rng() { return rng_; }

  // The simulated time of the first non-finite parameter or metric, if any.
  const std::optional<double>& diverged_at() const { return diverged_at_; }
  bool diverged() const { return diverged_; }
  void diverge(double t) {
    if (diverged_) return;
    diverged_ = true;
    diverged_at_ = t;
  }
  // Flags divergence at t if the model just written holds a non-finite entry.
  void check(const Eigen::Ref<const Vector>& theta, double t);

  // tau mini-batch SGD steps of user u on its own shard; the model's age grows by the samples used.
  void train(std::uint32_t u, double t);
  // The same steps on a model theta that user u's shard trains without momentum (a FedAvg
  // client starting from the server's model); unchecked, the caller checks what it keeps.
  void train_model(Eigen::Ref<Vector> theta, std::uint32_t u, double t) { train_column(theta, u, t, nullptr); }

  // ---- messages of the network layer (docs/model.md §7): a copy of a user's model and age ----
  std::uint32_t snapshot(std::uint32_t user);
  Eigen::Map<const Vector> message(std::uint32_t id) {
    return Eigen::Map<const Vector>(messages_.data(id), params_.rows());
  }
  double message_age(std::uint32_t id) const { return message_ages_[id]; }
  void release(std::uint32_t id) { messages_.release(id); }
  // The payload of one message: the model's parameters, as floats.
  double message_bytes() const { return model_message_bytes(static_cast<std::size_t>(params_.rows())); }

 private:
  void train_column(Eigen::Ref<Vector> theta, std::uint32_t u, double t, Params* velocity);
  // The engine draws of train_column, without the arithmetic (see the file comment).
  void skip_training(std::uint32_t u);

  const Scenario& s_;
  const LearningData& d_;
  Rng& rng_;
  models::Network<float> net_;
  const models::Layout& layout_;
  std::uint32_t n_;
  Params params_;
  Params velocity_;
  std::vector<double> ages_;
  Eigen::MatrixXf batch_x_, batch_targets_;
  Eigen::VectorXi batch_labels_;
  Vector grad_;
  engine::MessagePool<float> messages_;  // models in flight (network layer)
  std::vector<double> message_ages_;
  std::optional<double> diverged_at_;
  bool diverged_ = false;  // diverged_at_.has_value(), kept apart for the hot paths
};

}  // namespace timely::sim
