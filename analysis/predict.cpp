#include "analysis/predict.hpp"

#include <fmt/format.h>

#include "theory/age_of_gossip.hpp"
#include "theory/capacity.hpp"
#include "theory/rumour.hpp"
#include "theory/scaling_laws.hpp"
#include "theory/shs_solver.hpp"
#include "theory/users_model.hpp"

namespace timely::analysis {
namespace {

using sim::GossipMode;
using sim::TopologyKind;

// flow(i, j): rate at which information goes from i to j. Push: i picks j; pull: j picks
// i and takes i's knowledge; exchange: both.
Eigen::MatrixXd flow_matrix(const sim::Scenario& s, const sim::Graph& graph) {
  const Eigen::MatrixXd p = sim::partner_probabilities(graph) * s.gossip_rate();
  switch (s.gossip.mode) {
    case GossipMode::push: return p;
    case GossipMode::pull: return p.transpose();
    case GossipMode::exchange: return p + p.transpose();
  }
  return p;
}

// The topology's growth law at constant capacity, divided by g(n) when the capacity
// scales (staleness is inversely proportional to the gossip rate).
std::optional<std::string> law_for(const sim::Scenario& s) {
  const auto law = s.staleness.model == sim::StalenessModel::source
                       ? theory::source_scaling_law(sim::to_string(s.network.topology))
                       : theory::users_scaling_law(sim::to_string(s.network.topology));
  if (!law) return std::nullopt;
  std::string growth(law->law);
  const bool logarithmic = law->exponent == 0.0;
  switch (s.gossip.scaling) {
    case theory::Scaling::constant: break;
    case theory::Scaling::log: growth = logarithmic ? "1" : growth + " / ln n"; break;
    case theory::Scaling::linear: growth = growth + " / n"; break;
  }
  return fmt::format("Theta({}); {}", growth, law->reference);
}

Prediction without_exact(const sim::Scenario& s, std::string_view why) {
  Prediction p;
  p.law = law_for(s);
  if (p.law)
    p.method = fmt::format("asymptotic: {} on the {} (no exact value: {})", p.law->substr(0, p.law->find(';')),
                           sim::to_string(s.network.topology), why);
  else
    p.method = fmt::format("none: no exact value or known law for {} ({})", sim::to_string(s.network.topology), why);
  return p;
}

Prediction predict_source(const sim::Scenario& s, const sim::Graph& graph) {
  const std::uint32_t n = s.network.n;
  const theory::SourceRates rates{s.source.rate, s.source.push_rate};
  const double flow = information_flow(s);
  Prediction p;
  p.law = law_for(s);
  switch (s.network.topology) {
    case TopologyKind::complete:
      p.staleness = theory::source_age_complete(n, rates, flow);
      p.method = "exact: complete-graph recursion (Yates 2021; docs/model.md §3.2)";
      return p;
    case TopologyKind::ring:
      p.staleness = theory::source_age_ring(n, rates, flow);
      p.method = "exact: ring recursion (Yates 2021; docs/model.md §3.3)";
      return p;
    default: break;
  }
  if (n > exact_solver_max_users)
    return without_exact(s, fmt::format("the all-subsets solver stops at n = {}", exact_solver_max_users));
  const std::vector<double> push(n, s.source.push_rate / n);
  const std::vector<double> ages = theory::shs_source_ages(flow_matrix(s, graph), push, s.source.rate);
  double sum = 0.0;
  for (double a : ages) sum += a;
  p.staleness = sum / n;
  p.method = "exact: all-subsets SHS recursion on this graph (Yates 2021; docs/model.md §3.1)";
  return p;
}

Prediction predict_users(const sim::Scenario& s, const sim::Graph& graph) {
  const std::uint32_t n = s.network.n;
  const double r = s.update_rate();  // renewal updates enter through their long-run rate
  const double flow = information_flow(s);
  Prediction p;
  p.law = law_for(s);
  if (s.network.topology == TopologyKind::complete) {
    p.staleness = theory::users_staleness_complete(n, r, flow);
    p.method = s.gossip.mode == GossipMode::exchange
                   ? "exact: r H_{n-1} / (2 lambda), complete graph, exchange (derived in docs/model.md §3.5; "
                     "Mitra & Ulukus 2024 bound it above)"
                   : "exact: r H_{n-1} / lambda, complete graph (derived in docs/model.md §3.5; "
                     "Mitra & Ulukus 2024 bound it above)";
    return p;
  }
  if (s.network.topology == TopologyKind::ring) {
    if (n <= ring_interval_max_users) {
      p.staleness = theory::users_staleness_ring(n, r, flow);
      p.method = "exact: interval recursion on the ring with each user as the source (docs/model.md §3.1, §3.3)";
    } else {
      p.staleness = theory::users_staleness_ring_closed_form(n, r, flow);
      p.method = "exact: r n / (2 lambda) on the ring, the interval recursion's closed form (docs/model.md §3.3)";
    }
    return p;
  }
  const bool transitive = sim::is_vertex_transitive(graph);
  const std::uint32_t limit = transitive ? exact_solver_max_users : exact_solver_max_users_per_source;
  if (n > limit)
    return without_exact(s, fmt::format("the all-subsets solver stops at n = {} for this graph", limit));
  p.staleness = theory::users_staleness_mean(flow_matrix(s, graph), r, transitive);
  p.method = "exact: all-subsets recursion with each user as the source (docs/model.md §3.1)";
  return p;
}

}  // namespace

double information_flow(const sim::Scenario& s) {
  return s.gossip_rate() * (s.gossip.mode == GossipMode::exchange ? 2.0 : 1.0);
}

Prediction predict(const sim::Scenario& scenario, const sim::Graph& graph) {
  Prediction p = scenario.staleness.model == sim::StalenessModel::source ? predict_source(scenario, graph)
                                                                          : predict_users(scenario, graph);
  if (scenario.network.topology != TopologyKind::complete) return p;
  const std::uint32_t n = scenario.network.n;
  if (scenario.gossip.mode == GossipMode::push)
    p.rumour = Prediction::Rumour{theory::rumour_all_informed_time(n, scenario.gossip_rate()),
                                  theory::rumour_one_informed_time(n, scenario.gossip_rate())};
  if (scenario.staleness.model == sim::StalenessModel::users && scenario.gossip.mode != GossipMode::exchange) {
    const auto scaling = scenario.gossip.scaling;
    p.regime = Prediction::Regime{
        std::string(theory::regime_law(scaling)),
        theory::users_staleness_regime_asymptote(scaling, n, scenario.update_rate(), scenario.gossip.capacity),
        theory::bounded_staleness_capacity(n, scenario.update_rate())};
  }
  return p;
}

}  // namespace timely::analysis
