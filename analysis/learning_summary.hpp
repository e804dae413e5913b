#pragma once
// Learning results across trials (docs/model.md §4): the final observation's metrics and
// the time to the target accuracy, each with a 95% CI, and the mean learning curve.
#include <optional>
#include <vector>

#include "analysis/statistics.hpp"
#include "sim/learning.hpp"

namespace timely::analysis {

// A run in which any trial diverged is reported as diverged: `diverged` counts those trials,
// `diverged_at` is the earliest time, and no metric is summarised (every summary is empty),
// since averaging the finite trials alone would hide the failure.
struct LearningSummary {
  std::optional<Summary> accuracy, user_accuracy, distance, max_user_distance;
  std::optional<Summary> loss, user_loss, train_loss, consensus;
  // The worst sampled user's test loss; the mean and largest squared distance of the users'
  // models to a known optimum (sim::Observation::user_error, worst_user_error).
  std::optional<Summary> worst_user_loss, user_error, worst_user_error;
  // With the network layer: payload bytes sent per user (mean over users) by the final
  // observation (sim::Observation::bytes_sent_per_user); empty without it.
  std::optional<Summary> bytes_sent_per_user;
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
};

LearningSummary summarize_learning(const std::vector<sim::LearningTrialResult>& trials);

// Mean over trials at each observation time (trials share the grid).
struct CurvePoint {
  double time;
  Summary loss;
  std::optional<Summary> accuracy;
  Summary consensus;
  std::vector<double> weight_variance;  // mean over trials, per weight tensor
  std::optional<Summary> bytes_sent_per_user;  // with the network layer: bytes sent so far, mean over users
};
std::vector<CurvePoint> learning_curve(const std::vector<sim::LearningTrialResult>& trials);

}  // namespace timely::analysis
