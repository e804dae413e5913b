#pragma once
// Everything reported about one scenario's trials, with CIs across trials: used alike by
// `timely simulate`, sweep rows and validation checks.
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "analysis/statistics.hpp"
#include "sim/trial.hpp"

namespace timely::analysis {

inline constexpr std::array<double, 4> staleness_quantile_levels = {0.5, 0.9, 0.99, 0.999};

struct TrialSummary {
  Summary mean;           // time-averaged staleness per pair
  Summary max_mean;       // time-averaged worst observer, per source
  Summary max_all_mean;   // time-averaged worst over all tracked pairs
  std::uint32_t bound = 0;
  Summary exceed_per_source;  // fraction of time a source's worst observer is more than `bound` behind
  Summary exceed_all_pairs;   // fraction of time some tracked pair is more than `bound` behind
  std::array<std::size_t, staleness_quantile_levels.size()> quantiles{};  // of the pooled distribution
  std::uint64_t events = 0;
};

TrialSummary summarize_trials(const std::vector<sim::TrialResult>& trials, std::uint32_t bound);

// "p50", "p90", "p99", "p999"
std::string quantile_name(double level);

}  // namespace timely::analysis
