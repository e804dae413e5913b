#pragma once
// What theory says a scenario's mean staleness is: the exact value whenever one is
// computable, else the asymptotic law, labelled by the method used (MODEL.md section 3).
#include <optional>
#include <string>

#include "sim/scenario.hpp"
#include "sim/topology.hpp"

namespace timely::analysis {

struct Prediction {
  std::optional<double> staleness;  // expected time-averaged staleness per pair (or per user)
  std::string method;               // "exact: ...", "asymptotic: ..." or "none: ..."
  std::optional<std::string> law;   // growth in n, where a scaling law is known
};

// Largest networks on which the all-subsets recursion (2^n states) is run.
inline constexpr std::uint32_t exact_solver_max_users = 20;
inline constexpr std::uint32_t exact_solver_max_users_per_source = 16;  // users model, n recursions
inline constexpr std::uint32_t ring_interval_max_users = 20000;          // O(n^2) interval recursion

Prediction predict(const sim::Scenario& scenario, const sim::Graph& graph);

// Rate at which one user's information reaches others per unit time on a homogeneous
// network: lambda for push or pull, 2 lambda for exchange (both directions per contact).
double information_flow(const sim::Scenario& scenario);

}  // namespace timely::analysis
