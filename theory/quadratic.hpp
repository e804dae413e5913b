#pragma once
// Exact stationary theory of gossip learning on quadratic objectives (docs/model.md §6; derived
// here; the system model is that of Mitra & Ulukus, arXiv 2404.19749, and the averaging step that
// of randomized gossip, Boyd, Ghosh, Prabhakar & Shah 2006).
//
// User i holds x_i in R^d and minimises f_i(x) = ||x - a_i||^2 / 2. On a tick of its Poisson update
// clock (rate mu_i) it makes tau gradient steps of size eta: x_i <- rho x_i + (1 - rho) a_i with
// rho = (1 - eta)^tau, |rho| < 1. On a tick of its Poisson gossip clock it picks a partner j and
// the receiver(s) replace their model by the plain average (x_i + x_j)/2:
//   push: j receives;  pull: i receives;  exchange: both receive.
// With a_bar = mean of the a_i, b_i = a_i - a_bar and zeta^2 = (1/n) sum_i ||b_i||^2, the
// long-run (t -> infinity) means are
//   error            = (1/n) sum_i E||x_i - a_bar||^2   (each user's own model),
//   consensus        = (1/n) sum_i E||x_i - xbar||^2    (xbar = mean of the x_i),
//   mean_model_error = E||xbar - a_bar||^2 = error - consensus.
// They do not depend on the initial models.

#include <Eigen/Dense>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace timely::theory {

enum class QuadraticMixing { push, pull, exchange };

// Stationary values divided by zeta^2 (docs/model.md §6.2): on the complete graph with equal
// rates each one is exactly a constant times zeta^2, whatever the optima a_i are.
struct QuadraticStationary {
  double error;             // (1/n) sum_i E||x_i - a_bar||^2 / zeta^2
  double consensus;         // (1/n) sum_i E||x_i - xbar||^2 / zeta^2
  double mean_model_error;  // E||xbar - a_bar||^2 / zeta^2
};

// Complete graph, every user with update rate mu = update_rate and gossip rate
// lambda = gossip_rate (partner uniform among the n-1 others). Closed form of docs/model.md §6.2,
// O(1), any n >= 2 (n = 10^6 and beyond included). Push and pull give the same values on the
// complete graph (§6.2). gossip_rate = 0 is allowed (no gossip: error = consensus = 1).
// Throws std::invalid_argument for n < 2, update_rate not positive and finite, gossip_rate
// negative or not finite, rho outside (-1, 1), or an unknown mode.
QuadraticStationary quadratic_stationary_complete(std::uint64_t n, double update_rate, double gossip_rate,
                                                  double rho, QuadraticMixing mode);

// The same stationary values, not normalised, for one dimension and given optima.
struct QuadraticMoments {
  double error;             // (1/n) sum_i E[(x_i - a_bar)^2]
  double consensus;         // (1/n) sum_i E[(x_i - xbar)^2]
  double mean_model_error;  // E[(xbar - a_bar)^2]
};

// Largest n the brute-force solver accepts: it factorises a dense n^2 x n^2 matrix.
constexpr std::size_t quadratic_general_max_users = 40;

// Brute-force reference on any small graph (docs/model.md §6.3): solves the full stationary
// first-moment (n unknowns) and second-moment (n^2 unknowns) equations of the process built
// event by event, with dense Eigen LU. contact(i, j) is the rate at which user i's gossip clock
// picks user j (i != j; the diagonal must be 0), update_rates[i] = mu_i > 0, optima[i] = a_i
// (one dimension; any vector, its mean is subtracted). Returns the actual values for these
// optima, not normalised. Valid for Poisson clocks and averaging only.
// Throws std::invalid_argument for n < 2 or n > quadratic_general_max_users, a non-square
// contact matrix or sizes that disagree, negative, non-finite or diagonal contact rates,
// update rates not positive and finite, non-finite optima, rho outside (-1, 1), or an unknown mode.
QuadraticMoments quadratic_stationary_general(const Eigen::MatrixXd& contact, const std::vector<double>& update_rates,
                                              double rho, QuadraticMixing mode, const std::vector<double>& optima);

}  // namespace timely::theory
