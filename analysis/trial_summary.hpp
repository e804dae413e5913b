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
  // Binary freshness (arXiv 2107.14218): the fraction of time an observer holds its source's
  // current version (staleness 0), mean over pairs.
  Summary freshness;
  // Source model: the age in time t - u_i (Yates' age of gossip), mean over users; empty in the
  // users model.
  std::optional<Summary> age_time;
  std::array<std::size_t, staleness_quantile_levels.size()> quantiles{};  // of the pooled distribution
  std::uint64_t events = 0;
  // The gossip policy's spending: contacts per user per unit time over [0, horizon]
  // (TrialResult::gossip_sends / (n horizon)); uniform gossip spends kappa g(n) on average.
  Summary sends_per_user;
};

// `users` (n) and `horizon` scale the spending to a rate per user.
TrialSummary summarize_trials(const std::vector<sim::TrialResult>& trials, std::uint32_t bound, std::uint32_t users,
                              double horizon);

// What the network layer counted (sim::Communication, docs/model.md §7.4), each a mean
// across trials with its 95% CI, like the staleness summaries.
struct CommunicationSummary {
  std::size_t trials = 0;  // trials that carried communication counts
  Summary messages_sent, messages_delivered, messages_lost, requests_sent;
  Summary ticks_dropped, ticks_offline;
  Summary bytes_sent, bytes_received;    // totals over users
  Summary bytes_sent_per_user_mean;      // bytes_sent / n
  Summary bytes_sent_per_user_max, bytes_received_per_user_max;  // the most loaded user's
  Summary queued;                        // sends that waited for a busy uplink
  // queueing_delay / queued: the mean wait of a send that waited. A trial in which no send
  // waited has no such mean and is left out (as a trial that never reached a target is left
  // out of the time to target); empty when no trial queued anything, not 0, since an
  // unmeasured wait is not a zero wait. `queueing_trials` counts the trials summarised.
  std::optional<Summary> queueing_delay_mean;
  std::size_t queueing_trials = 0;
  // latency_total / messages_delivered: mean time from the start of a transfer to its
  // arrival. Likewise over the trials that delivered a message; empty when none did.
  std::optional<Summary> latency_mean;
};

// Empty when no trial has communication counts (the network layer was off). Trials without
// them are skipped. `users` is n, for bytes_sent_per_user_mean.
std::optional<CommunicationSummary> summarize_communication(const std::vector<sim::TrialResult>& trials,
                                                            std::uint32_t users);

// Churn (sim::Availability): time-averaged fraction of users online and the staleness over
// online observers, across trials. The latter leaves out a trial in which no observer was
// online during the window (it has none), and is empty if no trial had one.
struct AvailabilitySummary {
  std::size_t trials = 0;
  Summary online_fraction;
  std::optional<Summary> mean_staleness_online;
};

// Empty when no trial has availability (churn.model = none).
std::optional<AvailabilitySummary> summarize_availability(const std::vector<sim::TrialResult>& trials);

// "p50", "p90", "p99", "p999"
std::string quantile_name(double level);

}  // namespace timely::analysis
