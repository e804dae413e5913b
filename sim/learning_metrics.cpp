#include "sim/learning_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace timely::sim {

Eigen::VectorXd ModelsView::model(std::uint32_t u) const {
  const auto d = static_cast<Eigen::Index>(dimension_);
  if (floats_) {
    const float* at = floats_ + (shared_ ? 0 : static_cast<std::size_t>(u) * dimension_);
    return Eigen::Map<const Eigen::VectorXf>(at, d).cast<double>();
  }
  return Eigen::Map<const Eigen::VectorXd>(doubles_ + static_cast<std::size_t>(u) * dimension_, d);
}

Eigen::VectorXd ModelsView::average() const {
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(dimension_));
  for (std::uint32_t u = 0; u < users_; ++u) sum += model(u);
  return sum / static_cast<double>(users_);
}

std::optional<Eigen::VectorXd> ModelsView::optimum() const {
  const auto d = static_cast<Eigen::Index>(dimension_);
  if (float_optimum_) return Eigen::Map<const Eigen::VectorXf>(float_optimum_, d).cast<double>();
  if (double_optimum_) return Eigen::Map<const Eigen::VectorXd>(double_optimum_, d);
  return std::nullopt;
}

void observe_own_metrics(Observation& o, const ModelsView& models) {
  for (std::size_t m = 0; m < learning_metric_count; ++m)
    if (learning_metrics[m].observe) o[m] = learning_metrics[m].observe(models);
}

bool finite(const Observation& o) {
  if (!std::isfinite(o.time)) return false;
  const auto finite_value = [](const std::optional<double>& x) { return !x || std::isfinite(*x); };
  return std::all_of(o.values.begin(), o.values.end(), finite_value) &&
         std::all_of(o.weight_variance.begin(), o.weight_variance.end(), [](double v) { return std::isfinite(v); });
}

}  // namespace timely::sim
