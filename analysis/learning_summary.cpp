#include "analysis/learning_summary.hpp"

#include <algorithm>

namespace timely::analysis {
namespace {

std::optional<Summary> maybe(const std::vector<double>& xs) {
  if (xs.empty()) return std::nullopt;
  return summarize(xs);
}

}  // namespace

LearningSummary summarize_learning(const std::vector<sim::LearningTrialResult>& trials) {
  LearningSummary out;
  for (const auto& trial : trials) {
    out.updates += trial.local_updates;
    out.gossips += trial.gossips;
    out.rounds += trial.rounds;
    if (trial.heterogeneity) out.heterogeneity = *trial.heterogeneity;
    if (!trial.diverged_at) continue;
    ++out.diverged;
    out.diverged_at = std::min(out.diverged_at.value_or(*trial.diverged_at), *trial.diverged_at);
  }
  if (!trials.empty() && trials.front().round_counts) {
    std::vector<double> completed, abandoned, per_round, age, interrupted, lost, updates, overlap;
    for (const auto& trial : trials) {
      const sim::RoundCounts& m = *trial.round_counts;
      completed.push_back(static_cast<double>(trial.rounds));
      abandoned.push_back(static_cast<double>(m.rounds_abandoned));
      per_round.push_back(m.aggregations > 0 ? static_cast<double>(m.models_aggregated) / m.aggregations : 0.0);
      age.push_back(m.trainings_started > 0 ? m.model_age_total / m.trainings_started : 0.0);
      interrupted.push_back(static_cast<double>(m.trainings_interrupted));
      lost.push_back(static_cast<double>(m.trainings_lost));
      updates.push_back(static_cast<double>(trial.local_updates));
      if (m.sample_overlaps > 0) overlap.push_back(m.sample_overlap_total / static_cast<double>(m.sample_overlaps));
    }
    out.rounds_summary = RoundsSummary{summarize(completed),   summarize(abandoned), summarize(per_round),
                                       summarize(age),         summarize(interrupted), summarize(lost),
                                       summarize(updates), maybe(overlap)};
  }
  if (!trials.empty() && trials.front().experience) {
    std::vector<double> total, per_update, zero, external, age, learner, time, divergence;
    ExperienceSummary e;
    e.age_histogram.assign(sim::ExperienceCounts::age_bins, 0.0);
    for (const auto& trial : trials) {
      const sim::ExperienceCounts& c = *trial.experience;
      const auto ratio = [](double x, std::uint64_t count) { return count ? x / static_cast<double>(count) : 0.0; };
      total.push_back(c.total_reward);
      per_update.push_back(ratio(c.total_reward, c.rewarded_updates));
      zero.push_back(ratio(static_cast<double>(c.zero_advantage), c.rollouts_generated));
      external.push_back(ratio(static_cast<double>(c.external_used), c.rewarded_updates));
      if (c.external_used == 0) continue;
      age.push_back(ratio(c.age_updates_total, c.external_used));
      learner.push_back(ratio(c.learner_age_total, c.external_used));
      time.push_back(ratio(c.age_time_total, c.external_used));
      divergence.push_back(ratio(c.divergence_total, c.external_used));
      for (std::size_t b = 0; b < c.age_histogram.size(); ++b)
        e.age_histogram[b] += ratio(static_cast<double>(c.age_histogram[b]), c.external_used);
    }
    for (double& share : e.age_histogram) share = age.empty() ? 0.0 : share / static_cast<double>(age.size());
    if (age.empty()) e.age_histogram.clear();
    e.total_reward = summarize(total);
    e.reward_per_update = summarize(per_update);
    e.zero_advantage = summarize(zero);
    e.external_per_step = summarize(external);
    e.age_updates = maybe(age);
    e.learner_age = maybe(learner);
    e.age_time = maybe(time);
    e.divergence = maybe(divergence);
    out.experience = std::move(e);
  }
  if (out.diverged > 0) return out;
  std::array<std::vector<double>, sim::learning_metric_count> final;
  std::vector<double> ttt, plateau, baseline, delay, ttl, ttd;
  std::vector<double> stationary_error, stationary_worst, stationary_consensus;
  for (const auto& trial : trials) {
    if (trial.stationary) {
      stationary_error.push_back(trial.stationary->error);
      stationary_worst.push_back(trial.stationary->worst_error);
      stationary_consensus.push_back(trial.stationary->consensus);
    }
    const sim::Observation& last = trial.observations.back();
    for (std::size_t m = 0; m < sim::learning_metric_count; ++m)
      if (last[m]) final[m].push_back(*last[m]);
    if (trial.time_to_loss) ttl.push_back(*trial.time_to_loss);
    if (trial.time_to_distance) ttd.push_back(*trial.time_to_distance);
    if (trial.time_to_target) ttt.push_back(*trial.time_to_target);
    if (trial.plateau_time) plateau.push_back(*trial.plateau_time);
    if (trial.baseline_plateau_time) baseline.push_back(*trial.baseline_plateau_time);
    if (trial.plateau_time && trial.baseline_plateau_time) delay.push_back(*trial.plateau_time - *trial.baseline_plateau_time);
    if (out.weight_variance.empty()) out.weight_variance.assign(last.weight_variance.size(), 0.0);
    for (std::size_t k = 0; k < last.weight_variance.size(); ++k)
      out.weight_variance[k] += last.weight_variance[k] / static_cast<double>(trials.size());
  }
  for (std::size_t m = 0; m < sim::learning_metric_count; ++m) out.final[m] = maybe(final[m]);
  out.time_to_target = maybe(ttt);
  out.reached = ttt.size();
  out.time_to_loss = maybe(ttl);
  out.reached_loss = ttl.size();
  out.time_to_distance = maybe(ttd);
  out.reached_distance = ttd.size();
  out.plateau_time = maybe(plateau);
  out.baseline_plateau_time = maybe(baseline);
  out.plateau_delay = maybe(delay);
  out.stationary_error = maybe(stationary_error);
  out.stationary_worst_error = maybe(stationary_worst);
  out.stationary_consensus = maybe(stationary_consensus);
  return out;
}

std::vector<CurvePoint> learning_curve(const std::vector<sim::LearningTrialResult>& trials) {
  std::vector<CurvePoint> curve;
  std::size_t points = trials.front().observations.size();
  for (const auto& t : trials) points = std::min(points, t.observations.size());
  for (std::size_t k = 0; k < points; ++k) {
    std::array<std::vector<double>, sim::learning_metric_count> values;
    CurvePoint p;
    p.time = trials.front().observations[k].time;
    for (const auto& t : trials) {
      const sim::Observation& o = t.observations[k];
      for (std::size_t m = 0; m < sim::learning_metric_count; ++m)
        if (o[m]) values[m].push_back(*o[m]);
      if (p.weight_variance.empty()) p.weight_variance.assign(o.weight_variance.size(), 0.0);
      for (std::size_t w = 0; w < o.weight_variance.size(); ++w)
        p.weight_variance[w] += o.weight_variance[w] / static_cast<double>(trials.size());
    }
    for (std::size_t m = 0; m < sim::learning_metric_count; ++m) p.values[m] = maybe(values[m]);
    curve.push_back(std::move(p));
  }
  return curve;
}

}  // namespace timely::analysis
