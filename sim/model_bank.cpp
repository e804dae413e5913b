#include "sim/model_bank.hpp"

#include <bit>
#include <boost/random/uniform_int_distribution.hpp>

namespace timely::sim {
namespace {

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

}  // namespace

double learning_rate(const TrainSpec& t, double time) {
  switch (t.schedule) {
    case LrSchedule::inverse_time: return t.lr / (1.0 + time / t.decay_time);
    case LrSchedule::step: return t.lr * std::pow(t.step_factor, std::floor(time / t.step_time));
    case LrSchedule::constant: break;
  }
  return t.lr;
}

ModelBank::ModelBank(const Scenario& s, const LearningData& d, Rng& rng)
    : s_(s), d_(d), rng_(rng), net_(d.architecture, static_cast<int>(s.learning.train.batch)),
      layout_(net_.layout()), n_(static_cast<std::uint32_t>(d.partition.shards.size())),
      params_(static_cast<Eigen::Index>(layout_.parameters()), n_), ages_(n_, 0.0),
      batch_x_(d.data->train.features(), s.learning.train.batch), batch_labels_(s.learning.train.batch),
      grad_(static_cast<Eigen::Index>(layout_.parameters())) {
  const bool regression = d.data->train.classes == 0;
  if (regression) batch_targets_.resize(d.data->train.targets.rows(), s.learning.train.batch);
  if (s.learning.train.momentum > 0.0) velocity_ = Params::Zero(params_.rows(), n_);
  for (std::uint32_t u = 0; u < n_; ++u) {
    Vector column(params_.rows());
    net_.initialize(column, s.learning.model.init, rng_);
    params_.col(u) = column;
  }
}

void ModelBank::check(const Eigen::Ref<const Vector>& theta, double t) {
  if (!all_finite(theta.data(), theta.size())) diverge(t);
}

void ModelBank::train(std::uint32_t u, double t) {
  if (diverged_) {
    skip_training(u);
    return;
  }
  train_column(params_.col(u), u, t, velocity_.size() ? &velocity_ : nullptr);
  check(params_.col(u), t);
}

std::uint32_t ModelBank::snapshot(std::uint32_t user) {
  const auto width = static_cast<std::size_t>(params_.rows());
  const std::uint32_t id = messages_.acquire(width);
  Eigen::Map<Vector>(messages_.data(id), params_.rows()) = params_.col(user);
  if (id >= message_ages_.size()) message_ages_.resize(id + 1);
  message_ages_[id] = ages_[user];
  return id;
}

void ModelBank::skip_training(std::uint32_t u) {
  boost::random::uniform_int_distribution<std::size_t> pick(0, d_.partition.shards[u].size() - 1);
  const auto draws = static_cast<std::uint64_t>(s_.learning.train.steps) * s_.learning.train.batch;
  for (std::uint64_t k = 0; k < draws; ++k) static_cast<void>(pick(rng_));
}

void ModelBank::train_column(Eigen::Ref<Vector> theta, std::uint32_t u, double t, Params* velocity) {
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

}  // namespace timely::sim
