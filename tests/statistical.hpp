#pragma once
// Helpers for tests that compare simulated means with theory. The tolerance is the
// half-width of a 99.9% Student-t confidence interval across independent trials, so a
// correct simulator fails about once in a thousand seeds; the seeds are fixed, so runs are
// reproducible. Each test also bounds the relative CI width, so that the comparison has
// the power to catch a real bias of a few parts per thousand.
#include <catch2/catch.hpp>
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

}  // namespace timely::testing
