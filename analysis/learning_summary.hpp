#pragma once
// Learning results across trials (docs/model.md §4): the final observation's metrics and
// the time to the target accuracy, each with a 95% CI, and the mean learning curve.
#include <array>
#include <optional>
#include <vector>

#include "analysis/statistics.hpp"
#include "sim/learning.hpp"

namespace timely::analysis {

// A run in which any trial diverged is reported as diverged: `diverged` counts those trials,
// `diverged_at` is the earliest time, and no metric is summarised (every summary is empty),
// since averaging the finite trials alone would hide the failure.
// A round protocol's rounds across trials (sim::RoundCounts, docs/model.md §4.1-4.2), each a mean with
// its 95% CI over trials.
struct RoundsSummary {
  Summary rounds_completed, rounds_abandoned;
  Summary models_per_aggregation;  // models per averaging (MoDeST: per round; D-PSGD: a neighbourhood)
  Summary model_age;               // time since a trainer's starting model was made
  Summary trainings_interrupted, trainings_lost;
  Summary local_updates;           // training resources: every local update made, aggregated or not
  // MoDeST: the mean share of round k+1's sample that a trainer's view and its aggregator's
  // derive alike, over the trials that compared any (none for D-PSGD, which has no sample).
  std::optional<Summary> sample_overlap;
};

// A SAPO swarm's use of shared experience across trials (sim::ExperienceCounts, docs/model.md
// §4.3): each a mean with its 95% CI over trials.
struct ExperienceSummary {
  Summary total_reward;       // over users and local updates in the window: SAPO's measure
  Summary reward_per_update;  // its mean per local update
  Summary zero_advantage;     // share of generated rollouts whose answers were all rewarded alike
  Summary external_per_step;  // external rollouts per training batch (local updates)
  // Over the external rollouts trained on (empty where a trial used none): the generator's
  // updates since it made one, the learner's since it arrived, the time since it was made,
  // KL(generator || learner) on its question.
  std::optional<Summary> age_updates, learner_age, age_time, divergence;
  // Share of the external rollouts used per bin of the generator's updates since (0, 1, 2, 3,
  // 4-7, 8-15, 16-31, >= 32), mean over trials.
  std::vector<double> age_histogram;
};

struct LearningSummary {
  // The final observation's metrics across trials, by index in sim::learning_metrics; empty
  // where a metric does not apply (or no trial measured it).
  std::array<std::optional<Summary>, sim::learning_metric_count> final;
  std::size_t diverged = 0;
  std::optional<double> diverged_at;
  std::vector<double> weight_variance;   // final, mean over trials, per weight tensor
  std::optional<Summary> time_to_target;  // over the trials that reached it
  // Plateau time here, for one user on all the data, and their per-trial difference.
  std::optional<Summary> plateau_time, baseline_plateau_time, plateau_delay;
  std::size_t reached = 0;
  // Times to target.loss and target.distance over the trials that reached them, and how many did.
  std::optional<Summary> time_to_loss, time_to_distance;
  std::size_t reached_loss = 0, reached_distance = 0;
  std::uint64_t updates = 0, gossips = 0, rounds = 0;
  // model.kind = quadratic: the stationary errors (sim::StationaryErrors) across trials, and
  // the realized heterogeneity zeta^2 (a run constant).
  std::optional<Summary> stationary_error, stationary_worst_error, stationary_consensus;
  std::optional<double> heterogeneity;
  std::optional<RoundsSummary> rounds_summary;  // the round protocols (modest, dpsgd)
  std::optional<ExperienceSummary> experience;  // SAPO's swarms
};

LearningSummary summarize_learning(const std::vector<sim::LearningTrialResult>& trials);

// Mean over trials at each observation time (trials share the grid).
struct CurvePoint {
  double time;
  std::array<std::optional<Summary>, sim::learning_metric_count> values;  // by index in sim::learning_metrics
  std::vector<double> weight_variance;  // mean over trials, per weight tensor
};
std::vector<CurvePoint> learning_curve(const std::vector<sim::LearningTrialResult>& trials);

}  // namespace timely::analysis
