#include "sim/observer.hpp"

#include <algorithm>

#include "models/variance_correction.hpp"

namespace timely::sim {
Observer::Observer(const Scenario& s, const LearningData& d, const ModelBank& bank, Observed observed)
    : s_(s), d_(d), own_(observed == Observed::own) {
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
  namespace m = metric;
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
  // The loss (and accuracy, classifying) of a model on the first `count` samples of a set.
  const auto evaluate = [&](const Model& theta, const models::Dataset& set, Eigen::Index count,
                            std::optional<double>* accuracy) {
    if (regression) return net.evaluate_squared(theta, set.x.leftCols(count), set.targets.leftCols(count));
    const auto e = net.evaluate(theta, set.x.leftCols(count), set.labels.head(count));
    if (accuracy) *accuracy = e.accuracy;
    return e.loss;
  };
  if (!own_) {
    o[m::loss] = evaluate(mean, test, test_count_, &o[m::accuracy]);
    o[m::train_loss] = evaluate(mean, train, train_count_, nullptr);
  }
  double user_loss = 0.0, user_accuracy = 0.0, worst_user_loss = 0.0;
  for (std::uint32_t u : followed_) {
    std::optional<double> accuracy;
    const double loss = evaluate(model_of(u), test, test_count_, &accuracy);
    user_loss += loss;
    worst_user_loss = max_or_nan(worst_user_loss, loss);
    user_accuracy += accuracy.value_or(0.0);
  }
  o[m::user_loss] = user_loss / static_cast<double>(followed_.size());
  if (own_) {  // no average model: its metrics are the sampled users' own, averaged
    o[m::loss] = o[m::user_loss];
    if (!regression) o[m::accuracy] = user_accuracy / static_cast<double>(followed_.size());
    double train_loss = 0.0;
    for (std::uint32_t u : followed_) train_loss += evaluate(model_of(u), train, train_count_, nullptr);
    o[m::train_loss] = train_loss / static_cast<double>(followed_.size());
  }
  o[m::worst_user_loss] = worst_user_loss;
  if (!regression) o[m::user_accuracy] = user_accuracy / static_cast<double>(followed_.size());
  // Every user holds the server's model under FedAvg: no disagreement.
  o[m::consensus_distance] = federated ? 0.0 : (params.colwise() - mean).colwise().squaredNorm().sum() / n;
  if (d_.optimum) {
    const Vector& star = *d_.optimum;
    o[m::distance_to_optimum] = initial_mean_distance_ > 0.0 ? (mean - star).norm() / initial_mean_distance_ : 0.0;
    double worst = 0.0, squared = 0.0, worst_squared = 0.0;
    for (std::uint32_t u = 0; u < n; ++u) {
      const double now = federated ? (*server - star).norm() : (params.col(u) - star).norm();
      worst = max_or_nan(worst, initial_distance_[u] > 0.0 ? now / initial_distance_[u] : 0.0);
      squared += now * now;
      worst_squared = max_or_nan(worst_squared, now * now);
    }
    o[m::max_user_distance_to_optimum] = worst;
    o[m::user_error] = squared / n;
    o[m::worst_user_error] = worst_squared;
  }
  for (const models::Tensor& tensor : bank.layout().tensors()) {
    if (tensor.bias) continue;
    double variance = 0.0;
    for (std::uint32_t u = 0; u < n; ++u) variance += models::tensor_variance<float>(model_of(u), tensor);
    o.weight_variance.push_back(variance / n);
  }
  observe_own_metrics(o, ModelsView(t, n, static_cast<std::size_t>(params.rows()),
                                    federated ? server->data() : params.data(), federated,
                                    d_.optimum ? d_.optimum->data() : nullptr));
  return o;
}

void ObservationGrid::before(double t) {
  while (next_ <= t && next_ <= s_.run.horizon && !bank_.diverged()) {
    Observation o = observer_.observe(next_, bank_, server_);
    if (!finite(o)) {  // finite models whose metrics overflow: diverged at this grid time
      bank_.diverge(next_);
      return;
    }
    const auto& accuracy = o[metric::accuracy];
    const auto& distance = o[metric::distance_to_optimum];
    if (!reached_ && accuracy && *accuracy >= s_.learning.target_accuracy) reached_ = o.time;
    if (!reached_loss_ && s_.learning.target_loss && *o[metric::loss] <= *s_.learning.target_loss) reached_loss_ = o.time;
    if (!reached_distance_ && s_.learning.target_distance && distance && *distance <= *s_.learning.target_distance)
      reached_distance_ = o.time;
    if (bytes_sent_) o[metric::bytes_sent_per_user] = *bytes_sent_ / bank_.size();
    if (experience_) {  // empty where no update (or no external rollout) fell since the last observation
      const ExperienceCounts& c = *experience_;
      if (const auto updates = c.rewarded_updates - seen_.rewarded_updates)
        o[metric::reward] = (c.total_reward - seen_.total_reward) / static_cast<double>(updates);
      if (const auto used = c.external_used - seen_.external_used) {
        o[metric::experience_age] = (c.age_updates_total - seen_.age_updates_total) / static_cast<double>(used);
        o[metric::experience_divergence] = (c.divergence_total - seen_.divergence_total) / static_cast<double>(used);
      }
      seen_ = c;
    }
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
