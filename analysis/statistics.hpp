#pragma once
// Summaries across independent trials.
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace timely::analysis {

struct Summary {
  std::size_t count = 0;
  double mean = 0.0;
  double sd = 0.0;                      // sample standard deviation (n - 1)
  std::optional<double> ci_half_width;  // empty for fewer than two samples
};

// Mean and the half-width of the two-sided `level` confidence interval of the mean from
// Student's t with count - 1 degrees of freedom (independent, identically distributed samples).
Summary summarize(std::span<const double> samples, double level = 0.95);

// Two-sided Student t quantile t_{(1+level)/2, dof}.
double student_t_critical(double level, std::size_t dof);

// Smallest value a with F(a) >= p for a distribution on {0, 1, 2, ...} given by
// non-negative weights (e.g. time spent at each staleness). Requires a positive total.
std::size_t weighted_quantile(std::span<const double> weights, double p);

// Mean of the same distribution.
double weighted_mean(std::span<const double> weights);

// Fraction of the total weight on values strictly above `bound`: for a distribution of
// time over staleness values, the fraction of time the staleness exceeded the bound.
double weighted_fraction_above(std::span<const double> weights, std::size_t bound);

// Element-wise sum of histograms of possibly different lengths.
void accumulate_histogram(std::vector<double>& into, std::span<const double> add);

}  // namespace timely::analysis
