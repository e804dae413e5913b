#include "sim/alias_table.hpp"

#include <boost/math/distributions/chi_squared.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "sim/random.hpp"

using timely::sim::AliasTable;
using timely::sim::make_rng;
using timely::sim::Stream;

namespace {

// Pearson's statistic over the categories with positive expected count.
double chi_squared_statistic(const std::vector<double>& observed, const std::vector<double>& expected) {
  double stat = 0.0;
  for (std::size_t k = 0; k < observed.size(); ++k)
    if (expected[k] > 0.0) stat += (observed[k] - expected[k]) * (observed[k] - expected[k]) / expected[k];
  return stat;
}

double chi_squared_critical(double degrees_of_freedom) {
  return boost::math::quantile(boost::math::chi_squared(degrees_of_freedom), 0.999);
}

}  // namespace

TEST_CASE("alias table draws follow the weights (chi-squared at 0.999, 10^6 draws)", "[alias]") {
  const std::vector<double> weights{5.0, 0.0, 1.0, 2.5, 0.0, 10.0, 0.25, 3.0, 7.0, 0.5};
  const AliasTable table(weights);
  REQUIRE(table.size() == weights.size());
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);

  auto rng = make_rng(20240501, Stream::trial, 0);
  const int draws = 1'000'000;
  std::vector<double> observed(weights.size(), 0.0);
  for (int t = 0; t < draws; ++t) observed[table.sample(rng)] += 1.0;

  std::vector<double> expected(weights.size());
  int positive = 0;
  for (std::size_t k = 0; k < weights.size(); ++k) {
    expected[k] = draws * weights[k] / total;
    positive += weights[k] > 0.0;
  }
  CHECK(chi_squared_statistic(observed, expected) < chi_squared_critical(positive - 1));
}

TEST_CASE("alias table never draws a zero-weight entry", "[alias]") {
  const std::vector<double> weights{0.0, 1.0, 0.0, 0.0, 3.0, 0.0, 1e-9, 0.0};
  const AliasTable table(weights);
  auto rng = make_rng(7, Stream::trial, 1);
  for (int t = 0; t < 1'000'000; ++t) {
    const std::uint32_t k = table.sample(rng);
    REQUIRE(weights[k] > 0.0);
  }
}

TEST_CASE("alias table probabilities reconstructed from the table equal the normalized weights",
          "[alias]") {
  // Uneven magnitudes and many columns exercise the small/large work lists.
  std::vector<double> weights;
  for (int k = 0; k < 1000; ++k) weights.push_back(k % 7 == 0 ? 0.0 : std::pow(1.01, k % 97) * (1 + k % 13));
  weights.push_back(1e6);
  const AliasTable table(weights);
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  for (std::uint32_t k = 0; k < weights.size(); ++k)
    CHECK(std::abs(table.probability(k) - weights[k] / total) <= 1e-12);

  const AliasTable single(std::vector<double>{4.0});
  CHECK(single.probability(0) == 1.0);
  auto rng = make_rng(1, Stream::trial, 0);
  CHECK(single.sample(rng) == 0);
}

TEST_CASE("alias table of huge weights does not overflow", "[alias]") {
  const std::vector<double> weights{1e308, 1e308, 5e307};
  const AliasTable table(weights);
  CHECK(std::abs(table.probability(0) - 0.4) <= 1e-12);
  CHECK(std::abs(table.probability(2) - 0.2) <= 1e-12);
}

TEST_CASE("alias table rejects empty, negative, non-finite and all-zero weights", "[alias]") {
  const auto build = [](std::vector<double> w) { return AliasTable(w); };
  CHECK_THROWS_AS(build({}), std::invalid_argument);
  CHECK_THROWS_AS(build({1.0, -0.5}), std::invalid_argument);
  CHECK_THROWS_AS(build({1.0, std::numeric_limits<double>::quiet_NaN()}), std::invalid_argument);
  CHECK_THROWS_AS(build({1.0, std::numeric_limits<double>::infinity()}), std::invalid_argument);
  CHECK_THROWS_AS(build({0.0, 0.0, 0.0}), std::invalid_argument);
}

TEST_CASE("alias table draws are pinned for a fixed seed", "[alias]") {
  // Boost distributions are specified exactly, so these draws must not change across
  // platforms or library versions; a change here changes every simulation result.
  const AliasTable table(std::vector<double>{1.0, 2.0, 3.0, 4.0});
  auto rng = make_rng(12345, Stream::trial, 0);
  const std::vector<std::uint32_t> expected{3, 2, 3, 2, 3, 1, 2, 1, 2, 2, 1, 0};
  std::vector<std::uint32_t> drawn;
  for (std::size_t t = 0; t < expected.size(); ++t) drawn.push_back(table.sample(rng));
  CHECK(drawn == expected);
}
