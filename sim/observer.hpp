#pragma once
// The metrics of learning (docs/model.md §4): an Observer measures the users' models (or a
// FedAvg server's) at one time, and an ObservationGrid takes those measurements on the grid
// 0, every, 2 every, ... with the times to target. Internal to sim/.
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/model_bank.hpp"
#include "sim/protocols.hpp"  // Observed

namespace timely::sim {

class Observer {
 public:
  using Vector = ModelBank::Vector;
  // Picks the followed users and evaluation subsets, and records the initial distances to
  // the optimum of the bank's freshly initialised models.
  Observer(const Scenario& s, const LearningData& d, const ModelBank& bank, Observed observed = Observed::users);
  // The metrics at time t. `server`, if given and set, is FedAvg's model: it is then the
  // average model and every user's.
  Observation observe(double t, ModelBank& bank, const Vector* server) const;

 private:
  const Scenario& s_;
  const LearningData& d_;
  bool own_;  // Observed::own: no average model, its metrics are the sampled users' mean
  std::vector<std::uint32_t> followed_;
  Eigen::Index test_count_ = 0, train_count_ = 0;
  std::vector<double> initial_distance_;
  double initial_mean_distance_ = 0.0;
};

// Observations on the grid 0, every, 2 every, ... up to the horizon, taken before the first
// event after each grid time (the state is piecewise constant), plus the times to target:
// the first grid time whose accuracy reaches target.accuracy, whose test loss is at most
// target.loss, and whose relative distance to the optimum is at most target.distance.
class ObservationGrid {
 public:
  using Vector = ModelBank::Vector;
  ObservationGrid(const Scenario& s, ModelBank& bank, const Observer& observer, const Vector* server = nullptr)
      : s_(s), bank_(bank), observer_(observer), server_(server) {}
  void before(double t);
  // The network layer's running count of bytes sent, read at each observation.
  void count_bytes(const double* bytes_sent) { bytes_sent_ = bytes_sent; }
  // A SAPO swarm's running counts from time 0, read at each observation for the reward and the
  // age of experience since the previous one.
  void count_experience(const ExperienceCounts* counts) { experience_ = counts; }
  // Moves the observations, the times to target and the divergence time into result.
  void take(LearningTrialResult& result);

 private:
  const Scenario& s_;
  ModelBank& bank_;
  const Observer& observer_;
  const Vector* server_;
  const double* bytes_sent_ = nullptr;
  const ExperienceCounts* experience_ = nullptr;
  ExperienceCounts seen_;  // *experience_ at the previous observation
  double next_ = 0.0;
  std::vector<Observation> observations_;
  std::optional<double> reached_, reached_loss_, reached_distance_;
};

}  // namespace timely::sim
