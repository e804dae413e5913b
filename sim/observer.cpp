#include "sim/observer.hpp"

#include <algorithm>

#include "models/variance_correction.hpp"

namespace timely::sim {
namespace {

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

}  // namespace

Observer::Observer(const Scenario& s, const LearningData& d, const ModelBank& bank) : s_(s), d_(d) {
  const std::uint32_t n = bank.size();
  const std::uint32_t followed = std::min(s.learning.observe.users, n);
  for (std::uint32_t k = 0; k < followed; ++k) followed_.push_back(static_cast<std::uint32_t>((std::uint64_t{k} * n) / followed));
  const auto& test = d.data->test;
  test_count_ = s.learning.observe.test_samples == 0 ? static_cast<Eigen::Index>(test.size())
                                                     : std::min<Eigen::Index>(s.learning.observe.test_samples, test.size());
  train_count_ = std::min<Eigen::Index>(2000, static_cast<Eigen::Index>(d.data->train.size()));
  if (d.optimum) {
    const auto& params = bank.params();
    initial_distance_.resize(n);
    for (std::uint32_t u = 0; u < n; ++u) initial_distance_[u] = (params.col(u) - *d.optimum).norm();
    initial_mean_distance_ = (params.rowwise().mean() - *d.optimum).norm();
  }
}

Observation Observer::observe(double t, ModelBank& bank, const Vector* server) const {
  Observation o;
  o.time = t;
  const auto& params = bank.params();
  const std::uint32_t n = bank.size();
  auto& net = bank.net();
  // FedAvg's server holds no model before its first round: the users' models are observed then.
  const bool federated = server && server->size() > 0;
  const Vector mean = federated ? *server : Vector(params.rowwise().mean());
  const auto& test = d_.data->test;
  const auto& train = d_.data->train;
  const bool regression = train.classes == 0;
  // User u's model in place (a view, never a copy of its parameters): the server's under FedAvg.
  using Model = Eigen::Ref<const Vector>;
  const auto model_of = [&](std::uint32_t u) { return federated ? Model(*server) : Model(params.col(u)); };
  const auto evaluate = [&](const Model& theta, const models::Dataset& set, Eigen::Index count, double& loss,
                            std::optional<double>& accuracy) {
    if (regression) {
      loss = net.evaluate_squared(theta, set.x.leftCols(count), set.targets.leftCols(count));
    } else {
      const auto e = net.evaluate(theta, set.x.leftCols(count), set.labels.head(count));
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
  if (!federated) o.consensus_distance = (params.colwise() - mean).colwise().squaredNorm().sum() / n;
  if (d_.optimum) {
    const Vector& star = *d_.optimum;
    o.distance_to_optimum = initial_mean_distance_ > 0.0 ? (mean - star).norm() / initial_mean_distance_ : 0.0;
    double worst = 0.0, squared = 0.0, worst_squared = 0.0;
    for (std::uint32_t u = 0; u < n; ++u) {
      const double now = federated ? (*server - star).norm() : (params.col(u) - star).norm();
      worst = max_or_nan(worst, initial_distance_[u] > 0.0 ? now / initial_distance_[u] : 0.0);
      squared += now * now;
      worst_squared = max_or_nan(worst_squared, now * now);
    }
    o.max_user_distance_to_optimum = worst;
    o.user_error = squared / n;
    o.worst_user_error = worst_squared;
  }
  for (const models::Tensor& tensor : bank.layout().tensors()) {
    if (tensor.bias) continue;
    double variance = 0.0;
    for (std::uint32_t u = 0; u < n; ++u) variance += models::tensor_variance<float>(model_of(u), tensor);
    o.weight_variance.push_back(variance / n);
  }
  return o;
}

void ObservationGrid::before(double t) {
  while (next_ <= t && next_ <= s_.run.horizon && !bank_.diverged()) {
    Observation o = observer_.observe(next_, bank_, server_);
    if (!finite(o)) {  // finite models whose metrics overflow: diverged at this grid time
      bank_.diverge(next_);
      return;
    }
    if (!reached_ && o.accuracy && *o.accuracy >= s_.learning.target_accuracy) reached_ = o.time;
    if (!reached_loss_ && s_.learning.target_loss && o.loss <= *s_.learning.target_loss) reached_loss_ = o.time;
    if (!reached_distance_ && s_.learning.target_distance && o.distance_to_optimum &&
        *o.distance_to_optimum <= *s_.learning.target_distance)
      reached_distance_ = o.time;
    if (bytes_sent_) o.bytes_sent_per_user = *bytes_sent_ / bank_.size();
    observations_.push_back(std::move(o));
    next_ = s_.learning.observe.every * static_cast<double>(observations_.size());
  }
}

void ObservationGrid::take(LearningTrialResult& result) {
  result.observations = std::move(observations_);
  result.time_to_target = reached_;
  result.time_to_loss = reached_loss_;
  result.time_to_distance = reached_distance_;
  result.diverged_at = bank_.diverged_at();
}

}  // namespace timely::sim
