#pragma once
// The quadratic model (model.kind = "quadratic", docs/model.md §6): user i minimises
// f_i(x) = ||x - a_i||^2 / 2 in d = data.features dimensions. The optima a_i ~ N(0, spread^2 I_d)
// (data.spread) are drawn once per run from the data stream, so every trial shares them;
// every user starts at x_i(0) = 0. A local update (the user's update clock) is tau = train.steps
// full-gradient steps of size eta = train.lr:
//
//     x_i <- rho x_i + (1 - rho) a_i,     rho = (1 - eta)^tau
//
// Every learning protocol (learning.protocol, sim/protocol_list.hpp) runs it. Under gossip a
// contact averages the two models in the gossip mode's direction (push: the partner takes
// (x_i + x_j)/2; pull: the caller does; exchange: both); only mixing.rule = "average" is
// accepted. The clocks are the event engine's (any topology, Poisson or renewal updates),
// and staleness is measured in the same run, as for the other learning models. Under FedAvg
// the server's model x becomes a_S + rho (x - a_S) each round, a_S the mean optimum of the
// round's clients (each weighs 1), and every user holds the server's model; under local
// training each user updates on its own clock and never mixes (x_i -> a_i). A protocol that
// pools the data (single-user) runs one user whose objective is the users' mean: optimum
// a_bar, x <- rho x + (1 - rho) a_bar at each update (x -> a_bar).
//
// Besides the observation grid, a trial integrates exactly, event by event, the time averages
// over [run.warmup, run.horizon] of the mean error (1/n) sum_i ||x_i - a_bar||^2, the worst
// user's error max_i ||x_i - a_bar||^2 and the consensus distance (1/n) sum_i ||x_i - xbar||^2
// (LearningTrialResult::stationary).
//
// Keys that describe data sets or networks (data.source, data.partition, data.classes,
// data.train_samples, data.test_samples, data.noise, data.separation, data.alpha,
// data.shards_per_user, data.dir, model.hidden, model.activation, model.init, train.batch,
// observe.users, observe.test_samples, observe.plateau_fraction, target.accuracy) are ignored.
#include <cstdint>
#include <vector>

#include "sim/learning.hpp"
#include "sim/scenario.hpp"
#include "sim/topology.hpp"

namespace timely::sim {

// The users' optima, prepared once per run and shared read-only by every trial.
struct QuadraticProblem {
  std::uint32_t users = 0, dimension = 0;
  std::vector<double> optima;  // a_i, user-major: a_i[k] = optima[i * dimension + k]
  std::vector<double> mean;    // a_bar, the minimiser of the mean objective
  double heterogeneity = 0.0;  // zeta^2 = (1/n) sum_i ||a_i - a_bar||^2, a run constant
  const double* optimum(std::uint32_t i) const { return optima.data() + static_cast<std::size_t>(i) * dimension; }
};

// Refuses (InputError naming the key) what the quadratic model does not support:
// mixing.rule other than "average" (or "fedavg", the protocol's alias), train.momentum > 0,
// mixing.fedavg_variance_correction = true.
void check_quadratic_scenario(const Scenario& scenario);

// Draws the optima from the stream (run.seed, data, 0): standard normal vectors, user by user,
// scaled by data.spread. Checks the scenario first (check_quadratic_scenario).
QuadraticProblem make_quadratic_problem(const Scenario& scenario);

// The per-update contraction rho = (1 - lr)^tau at the step size lr (train.schedule gives lr at
// each update's time; constant by default).
double quadratic_contraction(double lr, std::uint32_t steps);

// One trial of the scenario's protocol on the engine of trial `index`: observations
// (docs/interface.md), the stationary errors, the heterogeneity and, under gossip, the
// staleness of the same run.
LearningTrialResult run_quadratic_trial(const Scenario& scenario, const Graph& graph, const QuadraticProblem& problem,
                                        std::uint64_t index);

// The payload of one message: a user's point in `dimension` coordinates, as doubles. The
// trial sends exactly this; sim/cost.hpp estimates with it.
double quadratic_message_bytes(std::uint32_t dimension);

// Bytes one trial allocates (models, per-user errors, the worst-error tree), and the shared
// problem's.
std::uint64_t quadratic_state_bytes(const Scenario& scenario);
std::uint64_t quadratic_problem_bytes(const Scenario& scenario);

}  // namespace timely::sim
