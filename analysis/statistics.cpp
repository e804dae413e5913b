#include "analysis/statistics.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace timely::analysis {

double student_t_critical(double level, std::size_t dof) {
  if (dof == 0) throw std::invalid_argument("student_t_critical: needs at least one degree of freedom");
  const boost::math::students_t dist(static_cast<double>(dof));
  return boost::math::quantile(dist, 0.5 + level / 2.0);
}

Summary summarize(std::span<const double> samples, double level) {
  Summary s;
  s.count = samples.size();
  if (s.count == 0) return s;
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(s.count);
  if (s.count < 2) return s;
  double squares = 0.0;
  for (double x : samples) squares += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(squares / static_cast<double>(s.count - 1));
  s.ci_half_width = student_t_critical(level, s.count - 1) * s.sd / std::sqrt(static_cast<double>(s.count));
  return s;
}

std::size_t weighted_quantile(std::span<const double> weights, double p) {
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (!(total > 0.0)) throw std::invalid_argument("weighted_quantile: the weights sum to zero");
  double cumulative = 0.0;
  for (std::size_t a = 0; a < weights.size(); ++a) {
    cumulative += weights[a];
    if (cumulative >= p * total) return a;
  }
  return weights.size() - 1;
}

double weighted_mean(std::span<const double> weights) {
  double total = 0.0, moment = 0.0;
  for (std::size_t a = 0; a < weights.size(); ++a) {
    total += weights[a];
    moment += static_cast<double>(a) * weights[a];
  }
  if (!(total > 0.0)) throw std::invalid_argument("weighted_mean: the weights sum to zero");
  return moment / total;
}

double weighted_fraction_above(std::span<const double> weights, std::size_t bound) {
  double total = 0.0, above = 0.0;
  for (std::size_t a = 0; a < weights.size(); ++a) {
    total += weights[a];
    if (a > bound) above += weights[a];
  }
  if (!(total > 0.0)) throw std::invalid_argument("weighted_fraction_above: the weights sum to zero");
  return above / total;
}

void accumulate_histogram(std::vector<double>& into, std::span<const double> add) {
  if (into.size() < add.size()) into.resize(add.size(), 0.0);
  for (std::size_t a = 0; a < add.size(); ++a) into[a] += add[a];
}

}  // namespace timely::analysis
