#include "analysis/trial_summary.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace timely::analysis {

TrialSummary summarize_trials(const std::vector<sim::TrialResult>& trials, std::uint32_t bound, std::uint32_t users,
                              double horizon) {
  TrialSummary s;
  s.bound = bound;
  std::vector<double> mean, worst, worst_all, exceed_source, exceed_all, pooled, sends, fresh, age_time;
  for (const auto& t : trials) {
    mean.push_back(t.mean_staleness);
    worst.push_back(t.max_mean);
    worst_all.push_back(t.max_all_mean);
    exceed_source.push_back(weighted_fraction_above(t.worst_time, bound));
    exceed_all.push_back(weighted_fraction_above(t.max_all_time, bound));
    fresh.push_back(1.0 - weighted_fraction_above(t.staleness_time, 0));
    if (t.mean_age_time) age_time.push_back(*t.mean_age_time);
    accumulate_histogram(pooled, t.staleness_time);
    s.events += t.events;
    sends.push_back(static_cast<double>(t.gossip_sends) / (static_cast<double>(users) * horizon));
  }
  s.sends_per_user = summarize(sends);
  s.mean = summarize(mean);
  s.max_mean = summarize(worst);
  s.max_all_mean = summarize(worst_all);
  s.exceed_per_source = summarize(exceed_source);
  s.exceed_all_pairs = summarize(exceed_all);
  s.freshness = summarize(fresh);
  // Every trial of a source-model scenario has it, or none does.
  if (!age_time.empty() && age_time.size() == trials.size()) s.age_time = summarize(age_time);
  for (std::size_t q = 0; q < staleness_quantile_levels.size(); ++q)
    s.quantiles[q] = weighted_quantile(pooled, staleness_quantile_levels[q]);
  return s;
}

std::optional<CommunicationSummary> summarize_communication(const std::vector<sim::TrialResult>& trials,
                                                            std::uint32_t users) {
  std::vector<double> sent, delivered, lost, requests, dropped, offline, bytes_sent, bytes_received, per_user_mean,
      per_user_max, received_max, queued, queueing, latency;
  for (const auto& t : trials) {
    if (!t.communication) continue;
    const sim::Communication& c = *t.communication;
    sent.push_back(static_cast<double>(c.messages_sent));
    delivered.push_back(static_cast<double>(c.messages_delivered));
    lost.push_back(static_cast<double>(c.messages_lost));
    requests.push_back(static_cast<double>(c.requests_sent));
    dropped.push_back(static_cast<double>(c.ticks_dropped));
    offline.push_back(static_cast<double>(c.ticks_offline));
    bytes_sent.push_back(c.bytes_sent);
    bytes_received.push_back(c.bytes_received);
    per_user_mean.push_back(users > 0 ? c.bytes_sent / static_cast<double>(users) : 0.0);
    per_user_max.push_back(c.bytes_sent_per_user_max);
    received_max.push_back(c.bytes_received_per_user_max);
    queued.push_back(static_cast<double>(c.queued));
    if (c.queued > 0) queueing.push_back(c.queueing_delay / static_cast<double>(c.queued));
    if (c.messages_delivered > 0) latency.push_back(c.latency_total / static_cast<double>(c.messages_delivered));
  }
  if (sent.empty()) return std::nullopt;
  CommunicationSummary s;
  s.trials = sent.size();
  s.messages_sent = summarize(sent);
  s.messages_delivered = summarize(delivered);
  s.messages_lost = summarize(lost);
  s.requests_sent = summarize(requests);
  s.ticks_dropped = summarize(dropped);
  s.ticks_offline = summarize(offline);
  s.bytes_sent = summarize(bytes_sent);
  s.bytes_received = summarize(bytes_received);
  s.bytes_sent_per_user_mean = summarize(per_user_mean);
  s.bytes_sent_per_user_max = summarize(per_user_max);
  s.bytes_received_per_user_max = summarize(received_max);
  s.queued = summarize(queued);
  if (!queueing.empty()) s.queueing_delay_mean = summarize(queueing);
  s.queueing_trials = queueing.size();
  if (!latency.empty()) s.latency_mean = summarize(latency);
  return s;
}

std::optional<AvailabilitySummary> summarize_availability(const std::vector<sim::TrialResult>& trials) {
  std::vector<double> online, staleness;
  for (const auto& t : trials) {
    if (!t.availability) continue;
    online.push_back(t.availability->online_fraction);
    if (t.availability->mean_staleness_online) staleness.push_back(*t.availability->mean_staleness_online);
  }
  if (online.empty()) return std::nullopt;
  AvailabilitySummary s;
  s.trials = online.size();
  s.online_fraction = summarize(online);
  if (!staleness.empty()) s.mean_staleness_online = summarize(staleness);
  return s;
}

std::string quantile_name(double level) {
  std::string digits = fmt::format("{:g}", level * 100.0);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  return "p" + digits;
}

}  // namespace timely::analysis
