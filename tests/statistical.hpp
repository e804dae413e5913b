#pragma once
// Helpers for tests that compare simulated means with theory. The tolerance is the
// half-width of a 99.9% Student-t confidence interval across independent trials, so a
// correct simulator fails about once in a thousand seeds; the seeds are fixed, so runs are
// reproducible. Each test also bounds the relative CI width, so that the comparison has
// the power to catch a real bias of a few parts per thousand.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "analysis/statistics.hpp"
#include "sim/trial.hpp"

namespace timely::testing {

inline constexpr double agreement_level = 0.999;

struct Agreement {
  double mean, half_width;
};

inline Agreement mean_staleness(const std::vector<sim::TrialResult>& trials) {
  std::vector<double> means;
  for (const auto& t : trials) means.push_back(t.mean_staleness);
  const auto s = analysis::summarize(means, agreement_level);
  return {s.mean, *s.ci_half_width};
}

inline void require_agreement(const std::vector<sim::TrialResult>& trials, double theory,
                              double max_relative_width) {
  const Agreement a = mean_staleness(trials);
  INFO("simulated " << a.mean << " +- " << a.half_width << " (99.9% CI), theory " << theory);
  CHECK(a.half_width < max_relative_width * theory);
  CHECK(std::abs(a.mean - theory) <= a.half_width);
}

// A mean and its 99.9% half-width from independent samples.
inline Agreement estimate(const std::vector<double>& samples) {
  const auto s = analysis::summarize(samples, agreement_level);
  return {s.mean, *s.ci_half_width};
}

// Two independent estimates of one mean (the engine's and a naive reference's): their
// difference within the combined 99.9% half-widths, and those small enough against the mean
// to see a bias of `power`.
inline void check_agreement(const std::string& what, const std::vector<double>& engine, const std::vector<double>& naive,
                            double power = 0.05) {
  const Agreement e = estimate(engine), r = estimate(naive);
  const double tolerance = std::hypot(e.half_width, r.half_width);
  INFO(what << ": engine " << e.mean << " +- " << e.half_width << ", naive " << r.mean << " +- " << r.half_width
            << " (99.9% CI), tolerance " << tolerance);
  CHECK(std::abs(e.mean - r.mean) <= tolerance);
  CHECK(tolerance < power * r.mean);
}

}  // namespace timely::testing
