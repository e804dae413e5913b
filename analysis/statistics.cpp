#include "analysis/statistics.hpp"

#include <algorithm>
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
  // On the samples divided by the largest magnitude: the plain sum and sum of squares
  // overflow for finite samples beyond about 1e154 (a sum of squares) or 1e308 / count (a
  // sum), and gave an infinite CI or mean for a finite set of samples.
  // The scale is a power of two, so dividing by it is exact: below the extremes the results
  // are bit for bit those of the plain formulas.
  double largest = 0.0;
  for (double x : samples) largest = std::max(largest, std::abs(x));
  double scale = 1.0;  // all zero, or not finite (reported as it is)
  if (largest > 0.0 && std::isfinite(largest)) {
    int exponent = 0;
    std::frexp(largest, &exponent);  // largest < 2^exponent
    scale = std::ldexp(1.0, exponent - 1);  // 2^(exponent-1) is finite even for the largest double
  }
  double mean = 0.0;
  for (double x : samples) mean += x / scale;
  mean /= static_cast<double>(s.count);
  s.mean = mean * scale;
  if (s.count < 2) return s;
  double squares = 0.0;
  for (double x : samples) squares += (x / scale - mean) * (x / scale - mean);
  const double sd = std::sqrt(squares / static_cast<double>(s.count - 1));  // <= sqrt(count) in units of scale
  s.sd = sd * scale;
  // The half-width from the scaled sd, so it overflows only where it truly exceeds the
  // largest double (then it is left empty: no interval can be written).
  const double half = student_t_critical(level, s.count - 1) * sd / std::sqrt(static_cast<double>(s.count)) * scale;
  if (std::isfinite(half)) s.ci_half_width = half;
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
