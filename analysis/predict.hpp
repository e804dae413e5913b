#pragma once
// What theory says a scenario's mean staleness is: the exact value whenever one is
// computable, else the asymptotic law, labelled by the method used (docs/model.md §3).
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario.hpp"
#include "sim/topology.hpp"

namespace timely::analysis {

struct Prediction {
  std::optional<double> staleness;  // expected time-averaged staleness per pair (or per user)
  std::string method;               // "exact: ...", "asymptotic: ..." or "none: ..."
  std::optional<std::string> law;   // growth in n, where a scaling law is known
  // Source model beyond exact theory on a graph with no topology law: the mean over users of
  // the first-passage scale m*(v) of the Theta(m*) law (docs/model.md §3.10).
  std::optional<double> m_star;
  // Source model with an exact staleness: the exact mean age in time t - u_i (docs/model.md §2).
  std::optional<double> age_time;
  // Source model, exact cases: the binary freshness, mean over users (docs/model.md §3.1).
  std::optional<double> freshness;

  // Users model on the complete graph (docs/model.md §3.6): the capacity regime's large-n law.
  struct Regime {
    std::string law;                   // e.g. "r/kappa"
    double asymptote;                  // the law's value at this n
    double bounded_staleness_capacity; // (n-1) r, needed for a guaranteed bound
  };
  std::optional<Regime> regime;

  // Complete graph, push (docs/model.md §3.7): expected rumour-spreading times at this capacity.
  struct Rumour {
    double all_informed;  // 2 (n-1) H_{n-1} / (n lambda)
    double one_informed;  // H_{n-1} / lambda
  };
  std::optional<Rumour> rumour;

  // Heterogeneous users (docs/model.md §1, §3.5): each tracked source's exact mean staleness
  // over its observers (all-subsets recursion, small n) and, on the complete graph, the
  // bound r_k H_{n-1} / min_j flow_j of Mitra & Ulukus.
  struct Source {
    std::uint32_t user;
    double update_rate;  // r_k, long-run
    double gossip_rate;  // lambda_k
    std::optional<double> exact, bound;
  };
  std::vector<Source> sources;

  // model.kind = quadratic (docs/model.md §6): the stationary per-user error and consensus
  // distance, as values for this run's optima and divided by their heterogeneity zeta^2.
  // Empty numbers where no exact value exists; `method` says which case applies.
  struct Learning {
    std::optional<double> error, error_normalized, consensus, consensus_normalized;
    double heterogeneity = 0.0;  // zeta^2 of the optima drawn for this run
    std::string method;
  };
  std::optional<Learning> learning;
};

// Largest networks on which the all-subsets recursion (2^n states) is run.
inline constexpr std::uint32_t exact_solver_max_users = 20;
inline constexpr std::uint32_t exact_solver_max_users_per_source = 16;  // users model, n recursions
inline constexpr std::uint32_t ring_interval_max_users = 20000;          // O(n^2) interval recursion

// The prediction of a protocol without gossip (FedAvg, local training, the single user, MoDeST,
// D-PSGD): no staleness, "none: <its title> has no gossip", and the learning theory given.
Prediction without_gossip(const sim::Scenario& scenario, std::optional<Prediction::Learning> learning);

Prediction predict(const sim::Scenario& scenario, const sim::Graph& graph);

// Rate at which one user's information reaches others per unit time on a homogeneous
// network: lambda for push or pull, 2 lambda for exchange (both directions per contact).
double information_flow(const sim::Scenario& scenario);

}  // namespace timely::analysis
