#pragma once
// The metrics of learning, described once (docs/model.md §4). Every metric a learning trial
// observes is one row of `learning_metrics` below, and everything downstream follows from the
// rows: the observation's storage and its divergence check (sim/), the MPI bytes of a trial
// (experiments/result_bytes.cpp), the summaries across trials (analysis/learning_summary),
// results.csv, trials.csv, learning_curves.csv, learning.csv, `--json`, the text report and
// the Python module (experiments/columns.cpp, experiments/simulation.cpp). A new metric is
// one row whose `observe` computes it from the models (docs/extending.md).
#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace timely::sim {

// What a metric's own computation sees at one observation: every user's model (under FedAvg
// the server's, which is then every user's), as doubles, and the optimum where one is known
// (the linear regression's theta*, the quadratic model's a_bar). Built by the observers for
// the neural models (floats, a column per user) and the quadratic model (doubles, a row per
// user); outside the event loop, so a copy per call is fine.
class ModelsView {
 public:
  ModelsView(double time, std::uint32_t users, std::size_t dimension, const float* models, bool shared,
             const float* optimum)
      : time_(time), users_(users), dimension_(dimension), floats_(models), shared_(shared), float_optimum_(optimum) {}
  ModelsView(double time, std::uint32_t users, std::size_t dimension, const double* models, const double* optimum)
      : time_(time), users_(users), dimension_(dimension), doubles_(models), double_optimum_(optimum) {}

  double time() const { return time_; }
  std::uint32_t users() const { return users_; }
  std::size_t dimension() const { return dimension_; }
  // User u's parameters.
  Eigen::VectorXd model(std::uint32_t u) const;
  // The average of the users' models.
  Eigen::VectorXd average() const;
  std::optional<Eigen::VectorXd> optimum() const;

 private:
  double time_;
  std::uint32_t users_;
  std::size_t dimension_;
  const float* floats_ = nullptr;
  bool shared_ = false;  // one model (the server's) for every user
  const float* float_optimum_ = nullptr;
  const double* doubles_ = nullptr;
  const double* double_optimum_ = nullptr;
};

// What a metric measures, which decides where it is reported.
enum class MetricScope : std::uint8_t {
  model,    // the models themselves: every learning run
  network,  // what the network layer counted: only in runs with it (Scenario::networked)
  experience,  // what a SAPO swarm did with its rollouts: only in its runs
};

// The columns a metric has in learning_curves.csv (its value at each grid time, over trials).
enum class CurveColumns : std::uint8_t { none, mean, mean_ci };

struct LearningMetric {
  std::string_view name;     // learning.csv's column (one row per trial and observation); Python's key
  std::string_view results;  // results.csv's column of the final value and its "_ci95"; "" = JSON only
  std::string_view json;     // its key under "learning.final" in `--json`
  std::string_view description;  // what it is, for the text report and the docs
  MetricScope scope;
  bool per_trial;       // the final value of each trial in trials.csv (under `results`)
  CurveColumns curve;   // learning_curves.csv
  // The metric at one observation, or empty where it does not apply. Null for the built-in
  // metrics, which the observers (sim/observer.cpp, sim/quadratic.cpp) compute together,
  // since they share passes over the test set and the models.
  std::optional<double> (*observe)(const ModelsView&);
};

namespace metric_rows {
using enum MetricScope;
using enum CurveColumns;

// In results.csv's order. Every value of a stored observation is finite (the divergence check,
// sim/model_bank.hpp); a metric that does not apply to a run is empty in every file.
inline constexpr auto rows = std::to_array<LearningMetric>({
    {"accuracy", "final_accuracy", "test_accuracy", "test accuracy, average model", model, true, mean_ci, nullptr},
    {"user_accuracy", "", "user_test_accuracy", "test accuracy, mean over sampled users", model, false, none, nullptr},
    // Cross-entropy, or half the squared error of a regression; the quadratic model's F(xbar) - F(a_bar).
    {"loss", "final_loss", "loss", "test loss, average model", model, true, mean_ci, nullptr},
    {"user_loss", "user_loss", "user_loss", "test loss, mean over sampled users", model, false, none, nullptr},
    {"train_loss", "", "train_loss", "training loss, average model", model, false, none, nullptr},
    // (1/n) sum_i ||theta_i - mean||^2.
    {"consensus_distance", "consensus_distance", "consensus_distance", "consensus distance", model, false, mean, nullptr},
    // ||mean - theta*|| / ||mean(0) - theta*||, and max_i ||theta_i - theta*|| / ||theta_i(0) - theta*||.
    {"distance_to_optimum", "distance_to_optimum", "relative_distance_to_optimum",
     "distance to the optimum relative to the start, average model", model, false, none, nullptr},
    {"max_user_distance_to_optimum", "", "max_user_relative_distance_to_optimum",
     "distance to the optimum relative to the start, worst user", model, false, none, nullptr},
    {"worst_user_loss", "worst_user_loss", "worst_user_loss", "test loss, worst sampled user", model, false, none,
     nullptr},
    // Mean over users of ||theta_i - opt||^2, and its largest (quadratic: opt = a_bar).
    {"user_error", "user_error", "user_error", "squared distance to the optimum, mean over users", model, false, none,
     nullptr},
    {"worst_user_error", "worst_user_error", "worst_user_error", "squared distance to the optimum, worst user", model,
     false, none, nullptr},
    // Payload bytes sent so far (docs/model.md §7.4), mean over users.
    {"bytes_sent_per_user", "", "bytes_sent_per_user", "bytes sent per user", network, false, mean_ci, nullptr},
    // SAPO (docs/model.md §4.3), over the local updates since the previous observation: the
    // mean reward of the answers they generated, and over the external rollouts they trained
    // on, the generator's updates since generating one and the divergence KL(generator || learner).
    {"reward", "final_reward", "reward", "reward of the answers generated since the last observation", experience,
     true, mean_ci, nullptr},
    {"experience_age", "", "experience_age", "generator's updates since an external rollout used was made", experience,
     false, mean, nullptr},
    {"experience_divergence", "", "experience_divergence",
     "KL(generator || learner) on the external rollouts used, nats", experience, false, mean, nullptr},
});
}  // namespace metric_rows
inline constexpr const auto& learning_metrics = metric_rows::rows;
inline constexpr std::size_t learning_metric_count = learning_metrics.size();

// A metric's index in learning_metrics, by name (at compile time: a misspelt name does not compile).
consteval std::size_t metric_index(std::string_view name) {
  for (std::size_t m = 0; m < learning_metrics.size(); ++m)
    if (learning_metrics[m].name == name) return m;
  throw "no learning metric of this name";
}

// The built-in metrics, for the observers that compute them.
namespace metric {
inline constexpr std::size_t accuracy = metric_index("accuracy"), user_accuracy = metric_index("user_accuracy"),
                             loss = metric_index("loss"), user_loss = metric_index("user_loss"),
                             train_loss = metric_index("train_loss"),
                             consensus_distance = metric_index("consensus_distance"),
                             distance_to_optimum = metric_index("distance_to_optimum"),
                             max_user_distance_to_optimum = metric_index("max_user_distance_to_optimum"),
                             worst_user_loss = metric_index("worst_user_loss"), user_error = metric_index("user_error"),
                             worst_user_error = metric_index("worst_user_error"),
                             bytes_sent_per_user = metric_index("bytes_sent_per_user"), reward = metric_index("reward"),
                             experience_age = metric_index("experience_age"),
                             experience_divergence = metric_index("experience_divergence");
}  // namespace metric

using MetricValues = std::array<std::optional<double>, learning_metric_count>;

struct Observation {
  double time = 0.0;
  MetricValues values;                  // by index in learning_metrics; empty where a metric does not apply
  std::vector<double> weight_variance;  // per weight tensor (W1, W2, ...), mean over users
  std::optional<double>& operator[](std::size_t m) { return values[m]; }
  const std::optional<double>& operator[](std::size_t m) const { return values[m]; }
  // A metric every observation has (throws std::bad_optional_access otherwise).
  double at(std::size_t m) const { return values[m].value(); }
};

// Fills the metrics that carry their own computation.
void observe_own_metrics(Observation& o, const ModelsView& models);
// Every value of the observation is finite (a stored observation always is).
bool finite(const Observation& o);

}  // namespace timely::sim
