#include "analysis/trial_summary.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace timely::analysis {

TrialSummary summarize_trials(const std::vector<sim::TrialResult>& trials, std::uint32_t bound) {
  TrialSummary s;
  s.bound = bound;
  std::vector<double> mean, worst, worst_all, exceed_source, exceed_all, pooled;
  for (const auto& t : trials) {
    mean.push_back(t.mean_staleness);
    worst.push_back(t.max_mean);
    worst_all.push_back(t.max_all_mean);
    exceed_source.push_back(weighted_fraction_above(t.worst_time, bound));
    exceed_all.push_back(weighted_fraction_above(t.max_all_time, bound));
    accumulate_histogram(pooled, t.staleness_time);
    s.events += t.events;
  }
  s.mean = summarize(mean);
  s.max_mean = summarize(worst);
  s.max_all_mean = summarize(worst_all);
  s.exceed_per_source = summarize(exceed_source);
  s.exceed_all_pairs = summarize(exceed_all);
  for (std::size_t q = 0; q < staleness_quantile_levels.size(); ++q)
    s.quantiles[q] = weighted_quantile(pooled, staleness_quantile_levels[q]);
  return s;
}

std::string quantile_name(double level) {
  std::string digits = fmt::format("{:g}", level * 100.0);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  return "p" + digits;
}

}  // namespace timely::analysis
