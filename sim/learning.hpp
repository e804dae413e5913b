#pragma once
// Learning on the event engine (docs/model.md §4-5): every user holds a model and a data
// shard; a local-update tick runs tau mini-batch SGD steps on the shard, a gossip tick mixes
// models by the configured rule in the configured mode, and staleness is measured in the
// same run. FedAvg is the baseline: a server (the centre of a star) averages sampled
// clients each round.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/dataset.hpp"
#include "models/mlp.hpp"
#include "models/partition.hpp"
#include "sim/learning_metrics.hpp"
#include "sim/scenario.hpp"
#include "sim/topology.hpp"
#include "sim/trial.hpp"

namespace timely::sim {

struct QuadraticProblem;  // sim/quadratic.hpp

// Prepared once per run and shared read-only by every trial.
struct LearningData {
  std::shared_ptr<const models::Split> data;  // shared: sweep points over the same data load it once
  models::Partition partition;  // sample indices of each user
  models::Architecture architecture;
  // model.kind = quadratic: the users' optima (the data set above is then empty).
  std::shared_ptr<const QuadraticProblem> quadratic;
  // Regression with a linear model: the global optimum theta* whose distance is observed
  // (docs/model.md §5): the generating (W*, b*) of the linear law, or the exact least-squares
  // minimiser of the users' summed losses (data.target = teacher or data.spread > 0). Empty
  // for the other models.
  std::optional<Eigen::VectorXf> optimum;
};

// Samples of the synthetic sets when data.train_samples or data.test_samples is 0, and the
// targets of the synthetic regression.
inline constexpr std::uint32_t synthetic_train_samples = 20000;
inline constexpr std::uint32_t synthetic_test_samples = 5000;
inline constexpr int regression_outputs = 1;

// The scenario's model on data of `inputs` features and `outputs` targets or classes (the
// loss follows data.source; hidden layers for model.kind = mlp).
models::Architecture model_architecture(const Scenario& scenario, int inputs, int outputs);
// The same from the keys alone, before the data is loaded: a synthetic set's features and
// classes are keys, Fashion-MNIST's are its standard shape (models/dataset.hpp). For
// estimates (sim/cost.hpp); the run takes the shape of the data it loaded.
models::Architecture planned_architecture(const Scenario& scenario);
// The payload of one model message: the model's parameters, as floats. The learners send
// exactly this; sim/cost.hpp estimates with it.
double model_message_bytes(std::size_t parameters);

// Loads or generates the data (randomness from the stream (seed, data)), partitions it and
// derives the architecture. Throws InputError naming the key or file.
LearningData prepare_learning(const Scenario& scenario);
// The same with the data already loaded (see load_learning_data).
LearningData prepare_learning(const Scenario& scenario, std::shared_ptr<const models::Split> data);
// Loads or generates the scenario's data set alone. Throws InputError.
std::shared_ptr<const models::Split> load_learning_data(const Scenario& scenario);
// Scenarios with equal keys read the same data: the cache key for load_learning_data.
std::string learning_data_key(const Scenario& scenario);

// Exact time averages over the window [run.warmup, run.horizon], integrated event by event
// (model.kind = quadratic): the mean over users of ||x_i - a_bar||^2, its maximum over users,
// and the consensus distance (1/n) sum_i ||x_i - xbar||^2.
struct StationaryErrors {
  double error = 0.0, worst_error = 0.0, consensus = 0.0;
};

// What a round protocol's rounds counted over the whole run (MoDeST and D-PSGD, docs/model.md
// §4.1-4.2; LearningProtocolInfo::reports_rounds).
struct RoundCounts {
  std::uint64_t rounds_abandoned = 0;       // aggregations that never happened (too few models)
  std::uint64_t aggregations = 0;           // averagings: one per MoDeST round, n per D-PSGD round
  std::uint64_t models_aggregated = 0;      // models averaged by them
  std::uint64_t trainings_started = 0;      // models received by a sample's trainers
  std::uint64_t trainings_interrupted = 0;  // a newer round's model arrived during training
  std::uint64_t trainings_lost = 0;         // the trainer went offline while training
  double model_age_total = 0.0;             // over trainings started: time since their model was made
  // The bytes the models take are counted with the messages, in staleness.communication
  // (sim/round_traffic.hpp), as the network layer counts gossip's.
  // MoDeST (docs/model.md §4.1): over the accepted trainers of completed rounds, the share of
  // round k+1's sample that a trainer's view and its aggregator's derive alike, summed, and
  // how many were compared (0 for D-PSGD, which has no sample).
  double sample_overlap_total = 0.0;
  std::uint64_t sample_overlaps = 0;
};

// What a SAPO swarm's users did with their experience (docs/model.md §4.3). The swarm keeps
// one count from time 0, which the observations read, and one over the window
// [run.warmup, run.horizon], which is the trial's.
struct ExperienceCounts {
  // Each local update's reward: the mean over the answers it generated (questions x answers)
  // of the verifiable 0/1 reward; summed over users and updates (SAPO's total reward).
  double total_reward = 0.0;
  std::uint64_t rewarded_updates = 0;  // local updates that generated rollouts
  std::uint64_t rollouts_generated = 0, rollouts_received = 0;
  std::uint64_t zero_advantage = 0;    // generated rollouts whose answers were all rewarded alike
  std::uint64_t local_used = 0, external_used = 0;  // rollouts in training batches
  // Over the external rollouts used: the generator's local updates between generating it and
  // its use (its version staleness), the learner's updates since it arrived, the time since it
  // was generated, and KL(generator's answer distribution at generation || learner's at use) on
  // its question, in nats.
  double age_updates_total = 0.0, learner_age_total = 0.0, age_time_total = 0.0, divergence_total = 0.0;
  // The generator's updates since generation, binned 0, 1, 2, 3, 4-7, 8-15, 16-31, >= 32.
  static constexpr std::size_t age_bins = 8;
  std::array<std::uint64_t, age_bins> age_histogram{};
  static constexpr std::size_t age_bin(std::uint64_t updates) {
    return updates < 4 ? static_cast<std::size_t>(updates)
                       : std::min<std::size_t>(age_bins - 1, static_cast<std::size_t>(std::bit_width(updates)) + 1);
  }
};

struct LearningTrialResult {
  std::vector<Observation> observations;  // at 0, every, 2 every, ... <= horizon; all fields finite
  std::optional<double> time_to_target;   // first observation whose accuracy reaches the target
  // First observation whose distance_to_optimum is at most target.distance (quadratic, and
  // regression with a linear model).
  std::optional<double> time_to_distance;
  // First observation whose test loss (average model) is at most target.loss.
  std::optional<double> time_to_loss;
  // model.kind = quadratic: the stationary errors (empty if the trial diverged) and the
  // realized heterogeneity zeta^2 = (1/n) sum_i ||a_i - a_bar||^2 (a run constant).
  std::optional<StationaryErrors> stationary;
  std::optional<double> heterogeneity;
  TrialResult staleness;                  // measured in the same run (empty for FedAvg)
  // Plateau delay (docs/model.md §4): the first time accuracy reaches
  // observe.plateau_fraction of its final value, here and for one user training on all the
  // data on the same clock; the delay is their difference. Classification only.
  std::optional<double> plateau_time, baseline_plateau_time;
  std::uint64_t local_updates = 0, gossips = 0, rounds = 0;
  std::optional<RoundCounts> round_counts;  // the round protocols (modest, dpsgd)
  std::optional<ExperienceCounts> experience;  // SAPO's swarms
  // Divergence: the simulated time of the first non-finite parameter or metric; empty if the
  // run stayed finite. Parameters are checked after every write that can overflow (a
  // user's after its local update, the receiver's after an age-weighted or variance-corrected
  // mix, the server's after a FedAvg round; a plain average of finite models is finite),
  // and every observation's fields before it is stored (metrics of finite models, such as a
  // float loss or consensus distance, can overflow first; divergence is then the grid time),
  // so no stored observation holds a NaN or inf.
  // From diverged_at on, no model arithmetic runs (no training, mixing or evaluation), but
  // the clocks run to the horizon, drawing from the engine exactly what a finite run draws:
  // `staleness`, local_updates, gossips and rounds cover the whole run and are bit-identical
  // to those of the same scenario and seed at any learning rate. `observations` end with the
  // last grid time before diverged_at, and time_to_target and plateau_time come from those.
  std::optional<double> diverged_at;
  // The same for the single-user baseline, whose observations (and baseline_plateau_time)
  // likewise end before it.
  std::optional<double> baseline_diverged_at;
};

LearningTrialResult run_learning_trial(const Scenario& scenario, const Graph& graph, const LearningData& data,
                                       std::uint64_t index);

// Bytes a learning trial allocates: one model per user (and a momentum buffer if used), of
// `parameters` floats each (sim/cost.hpp estimates it from the planned architecture before
// the data are loaded).
std::uint64_t learning_state_bytes(const Scenario& scenario, std::uint64_t parameters);
std::uint64_t learning_state_bytes(const Scenario& scenario, const LearningData& data);

}  // namespace timely::sim
