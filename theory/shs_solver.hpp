#pragma once
// Exact mean ages on a small arbitrary graph by Yates' all-subsets SHS recursion
// (docs/model.md §3.1; Yates, arXiv 2102.02893), and the users model on the same graph
// (docs/model.md §2 "users"; Mitra & Ulukus, arXiv 2404.19749) as that recursion with one
// user playing the source.
//
// Flow matrix convention: flow(i, j) for i != j is the rate at which information flows from
// user i to user j (push by i to j, or pull of i by j, or both for exchange). The diagonal is
// ignored. Entries must be finite and >= 0.

#include <Eigen/Dense>

#include <cstddef>
#include <vector>

namespace timely::theory {

// 2^n doubles of memory (32 MiB at n = 22); beyond this the recursion is not practical.
constexpr std::size_t shs_max_users = 22;

// Mean version age v_{{i}} of every user i (docs/model.md §3.1). source_push[j] is the rate at which the
// external source pushes its newest version into user j; version_rate is lambda_e.
// Time O(2^n * n * out-degree), memory O(2^n). Throws std::invalid_argument if
// n = 0 or n > shs_max_users, on negative/non-finite rates, and if some set of users is never
// reached by information ("graph not connected to the source").
std::vector<double> shs_source_ages(const Eigen::MatrixXd& flow, const std::vector<double>& source_push,
                                    double version_rate);

// Binary freshness F_{{i}} of every user i: the long-run fraction of time it holds the source's
// current version (docs/model.md §3.1; the freshness of arXiv 2107.14218). Same arguments, cost
// and errors as shs_source_ages.
std::vector<double> shs_source_freshness(const Eigen::MatrixXd& flow, const std::vector<double>& source_push,
                                         double version_rate);

// Users model: E[S_ik] for every observer i of source user k (size n, 0 at index k). User k
// makes versions at rate update_rate; its pushes into observer j are flow(k, j); the recursion
// runs over subsets of the n-1 observers. Renewal updates (c + Exp(mu)): pass
// update_rate = renewal_rate(mu, c); E[S] = r E[age] because gossip is independent of updates.
// n >= 2, k < n.
std::vector<double> users_staleness_from(const Eigen::MatrixXd& flow, std::size_t k, double update_rate);

// Mean of E[S_ik] over all ordered pairs i != k: n recursions.
double users_staleness_mean(const Eigen::MatrixXd& flow, double update_rate);

// Same, with a fast path: if vertex_transitive is true the caller guarantees that every user
// looks the same (ring, complete graph, torus with uniform rates), so the mean over observers of
// source 0 is the answer and one recursion suffices. With false it is the n-recursion version.
double users_staleness_mean(const Eigen::MatrixXd& flow, double update_rate, bool vertex_transitive);

}  // namespace timely::theory
