#include "sim/alias_table.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace timely::sim {

void build_alias(std::span<const double> weights, std::span<double> prob,
                 std::span<std::uint32_t> alias) {
  const std::size_t n = weights.size();
  if (n == 0) throw std::invalid_argument("alias table: no weights");
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("alias table: more than 2^32 - 1 weights");
  if (prob.size() != n || alias.size() != n)
    throw std::invalid_argument("alias table: output spans differ in length from the weights");
  double max_w = 0.0;
  std::uint32_t argmax = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const double w = weights[k];
    if (!std::isfinite(w) || w < 0.0)
      throw std::invalid_argument("alias table: weight " + std::to_string(k) +
                                  " is negative or not finite");
    if (w > max_w) {
      max_w = w;
      argmax = static_cast<std::uint32_t>(k);
    }
  }
  if (max_w == 0.0) throw std::invalid_argument("alias table: all weights are zero");

  // Divide by the largest weight first so that the sum cannot overflow.
  double sum = 0.0;
  for (const double w : weights) sum += w / max_w;
  const double scale = static_cast<double>(n) / sum;

  std::vector<std::uint32_t> small;
  std::vector<std::uint32_t> large;
  small.reserve(n);
  large.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    prob[k] = weights[k] / max_w * scale;  // scaled: mean 1
    alias[k] = static_cast<std::uint32_t>(k);
    (prob[k] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(k));
  }
  while (!small.empty() && !large.empty()) {
    const std::uint32_t s = small.back();
    small.pop_back();
    const std::uint32_t l = large.back();
    alias[s] = l;  // prob[s] stays: the chance of keeping column s
    prob[l] = (prob[l] + prob[s]) - 1.0;  // Vose's stable update
    if (prob[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What remains is 1 up to rounding. A zero weight cannot be left here: the remaining
  // entries sum to their count up to rounding, so a 0 would need an error of about 1.
  for (const std::uint32_t l : large) prob[l] = 1.0;
  // Guard it anyway: a zero-weight leftover points to a positive entry.
  for (const std::uint32_t s : small) {
    if (weights[s] > 0.0) {
      prob[s] = 1.0;
    } else {
      prob[s] = 0.0;
      alias[s] = argmax;
    }
  }
}

double alias_probability(std::span<const double> prob, std::span<const std::uint32_t> alias,
                         std::uint32_t k) {
  if (k >= prob.size()) throw std::out_of_range("alias table: index out of range");
  double p = prob[k];
  for (std::size_t j = 0; j < prob.size(); ++j)
    if (alias[j] == k && j != k) p += 1.0 - prob[j];
  return p / static_cast<double>(prob.size());
}

AliasTable::AliasTable(std::span<const double> weights)
    : prob_(weights.size()), alias_(weights.size()) {
  build_alias(weights, prob_, alias_);
}

}  // namespace timely::sim
