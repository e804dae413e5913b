#include "analysis/predict.hpp"

#include "analysis/first_passage.hpp"
#include "sim/gossip_policy.hpp"

#include <Eigen/Eigenvalues>
#include <numeric>
#include <fmt/format.h>

#include "theory/latency.hpp"
#include "theory/age_of_gossip.hpp"
#include "theory/capacity.hpp"
#include "theory/rumour.hpp"
#include "theory/scaling_laws.hpp"
#include "theory/shs_solver.hpp"
#include "theory/users_model.hpp"
#include "sim/protocols.hpp"
#include "sim/quadratic.hpp"
#include "sim/user_clocks.hpp"
#include "theory/quadratic.hpp"

namespace timely::analysis {
namespace {

using sim::GossipMode;
using sim::TopologyKind;

// contact(i, j): rate at which user i's gossip clock picks j, for each user's own rate
// (docs/model.md §1). The diagonal is 0.
Eigen::MatrixXd contact_matrix(const sim::Graph& graph, const std::vector<double>& gossip_rates) {
  Eigen::MatrixXd contact = sim::partner_probabilities(graph);
  for (Eigen::Index i = 0; i < contact.rows(); ++i) contact.row(i) *= gossip_rates[static_cast<std::size_t>(i)];
  contact.diagonal().setZero();
  return contact;
}

// flow(i, j): rate at which information goes from i to j. Push: i picks j; pull: j picks
// i and takes i's knowledge; exchange: both.
Eigen::MatrixXd flow_matrix(const sim::Scenario& s, const Eigen::MatrixXd& contact) {
  switch (s.gossip.mode) {
    case GossipMode::push: return contact;
    case GossipMode::pull: return contact.transpose();
    case GossipMode::exchange: return contact + contact.transpose();
  }
  return contact;
}

// Every user at the scenario's gossip rate.
Eigen::MatrixXd flow_matrix(const sim::Scenario& s, const sim::Graph& graph) {
  return flow_matrix(s, contact_matrix(graph, std::vector<double>(s.network.n, s.gossip_rate())));
}

// A growth at constant capacity, divided by g(n) when the capacity scales (staleness is
// inversely proportional to the gossip rate). `logarithmic`: log n divided by ln n is 1.
std::string scaled_growth(std::string growth, bool logarithmic, const sim::Scenario& s) {
  switch (s.gossip.scaling) {
    case theory::Scaling::constant: break;
    case theory::Scaling::log: growth = logarithmic ? "1" : growth + " / ln n"; break;
    case theory::Scaling::linear: growth = growth + " / n"; break;
    case theory::Scaling::power: growth = fmt::format("{} / n^{:g}", growth, s.gossip.exponent); break;
  }
  return growth;
}

// The topology's growth law at constant capacity, divided by g(n) when the capacity scales.
// The clustered graph has a law only where the source pushes to its heads (the paper's
// setting, docs/model.md §3.11); elsewhere the generic path (m*) applies.
std::optional<std::string> law_for(const sim::Scenario& s) {
  const bool source = s.staleness.model == sim::StalenessModel::source;
  // The source model's laws with the topology's shape (torus dimension, generalized ring's f).
  const auto law = source && s.source.targets == sim::SourceTargets::heads
                       ? theory::clustered_source_law(s.network.clusters_growth(), s.network.levels,
                                                      sim::to_string(s.network.inside), s.network.head_ring)
                       : theory::staleness_law(source, sim::to_string(s.network.topology), s.network.dimensions,
                                               s.network.reach_exponent.value_or(0.0));
  if (!law) return std::nullopt;
  return fmt::format("{}({}); {}", law->upper_bound ? "O" : "Theta",
                     scaled_growth(std::string(law->law), law->exponent == 0.0, s), law->reference);
}

// Source model on a graph with no exact value and no topology law (docs/model.md §3.10):
// Maranzatto & Michelen (arXiv 2409.12710) prove the version age of user v is
// Theta_Delta(m*(v)) on any graph of maximum degree Delta, so the mean staleness is
// Theta(mean m*) for bounded degree. Only the source model: their source pushes to every
// user, whereas in the users model information starts at one user and must cross the graph
// (on the ring Theta(n), not Theta(m*) = Theta(sqrt n)).
void first_passage_law(const sim::Scenario& s, const sim::Graph& graph, std::string_view why, Prediction& p) {
  const FirstPassageScale fp = first_passage_scale(graph, s.run.seed);
  p.m_star = fp.mean;
  const std::string over = fp.sampled ? fmt::format("mean over {} sampled users", fp.users) : "mean over every user";
  p.law = fmt::format("Theta({}); m* = {:.4g} ({}, max {}; max degree {}), the first-passage scale "
                      "min{{m : m |B_m(v)| >= n}} of Maranzatto & Michelen, arXiv 2409.12710: Theta for bounded "
                      "degree, no constant (docs/model.md §3.10)",
                      scaled_growth("m*", false, s), fp.mean, over, fp.max, fp.max_degree);
  p.method = fmt::format("asymptotic: {}, m* = {:.4g}, on the {} (no exact value: {}; the law has no constant)",
                         p.law->substr(0, p.law->find(';')), fp.mean, sim::to_string(s.network.topology), why);
}

Prediction without_exact(const sim::Scenario& s, const sim::Graph& graph, std::string_view why) {
  Prediction p;
  p.law = law_for(s);
  if (p.law) {
    p.method = fmt::format("asymptotic: {} on the {} (no exact value: {})", p.law->substr(0, p.law->find(';')),
                           sim::to_string(s.network.topology), why);
    // The first-passage scale beside the topology's own law: Theta(m*) holds there too on a
    // graph of bounded degree, and a sweep can calibrate either.
    if (s.staleness.model == sim::StalenessModel::source) {
      const FirstPassageScale fp = first_passage_scale(graph, s.run.seed);
      p.m_star = fp.mean;
      *p.law += fmt::format("; and Theta({}), m* = {:.4g} (max degree {}; Maranzatto & Michelen, arXiv 2409.12710, "
                            "docs/model.md §3.10)",
                            scaled_growth("m*", false, s), fp.mean, fp.max_degree);
    }
  } else if (s.staleness.model == sim::StalenessModel::source)
    first_passage_law(s, graph, why, p);
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
      p.freshness = theory::source_freshness_complete(n, rates, flow);
      p.method = "exact: complete-graph recursion (Yates 2021; docs/model.md §3.2)";
      return p;
    case TopologyKind::ring:
      p.staleness = theory::source_age_ring(n, rates, flow);
      p.freshness = theory::source_freshness_ring(n, rates, flow);
      p.method = "exact: ring recursion (Yates 2021; docs/model.md §3.3)";
      return p;
    default: break;
  }
  if (n > exact_solver_max_users)
    return without_exact(s, graph, fmt::format("the all-subsets solver stops at n = {}", exact_solver_max_users));
  // The source's pushes, uniform over every user, or over the clustered graph's top heads.
  std::vector<double> push(n, s.source.push_rate / n);
  if (s.source.targets == sim::SourceTargets::heads) {
    const std::vector<std::uint32_t> heads = sim::clustered_heads(s.network);
    push.assign(n, 0.0);
    for (const std::uint32_t h : heads) push[h] = s.source.push_rate / static_cast<double>(heads.size());
  }
  const Eigen::MatrixXd flows = flow_matrix(s, graph);
  const std::vector<double> ages = theory::shs_source_ages(flows, push, s.source.rate);
  const std::vector<double> fresh = theory::shs_source_freshness(flows, push, s.source.rate);
  p.staleness = std::accumulate(ages.begin(), ages.end(), 0.0) / n;
  p.freshness = std::accumulate(fresh.begin(), fresh.end(), 0.0) / n;
  p.method = s.source.targets == sim::SourceTargets::heads
                 ? "exact: all-subsets SHS recursion on this graph, the source pushing to the top heads (Yates 2021; "
                   "docs/model.md §3.1, §3.11)"
                 : "exact: all-subsets SHS recursion on this graph (Yates 2021; docs/model.md §3.1)";
  return p;
}

Prediction predict_heterogeneous(const sim::Scenario& s, const sim::Graph& graph) {
  const std::uint32_t n = s.network.n;
  const sim::UserClocks clocks = sim::user_clocks(s);
  const bool exact = n <= exact_solver_max_users_per_source;
  const bool complete = s.network.topology == TopologyKind::complete;
  const double flow_factor = s.gossip.mode == GossipMode::exchange ? 2.0 : 1.0;
  // Once, not per source: it scans every user (per source it made theory O(n K), minutes at
  // n = 4e5 with every user tracked; issue 28's fuzzer).
  const double min_gossip = clocks.min_gossip_rate();
  const Eigen::MatrixXd flow = exact ? flow_matrix(s, contact_matrix(graph, clocks.gossip_rate)) : Eigen::MatrixXd();
  Prediction p;
  double sum = 0.0;
  for (const std::uint32_t k : sim::heterogeneous_tracked(s)) {
    Prediction::Source source{k, clocks.long_run_rate(k), clocks.gossip_rate[k], std::nullopt, std::nullopt};
    if (exact) {
      // E[S_ik] = r_k E[age of k's information at i]: updates are independent of gossip
      // (docs/model.md §3.1 with user k as the source).
      const std::vector<double> per_observer = theory::users_staleness_from(flow, k, source.update_rate);
      double total = 0.0;
      for (double v : per_observer) total += v;
      source.exact = total / (n - 1);
      sum += *source.exact;
    }
    // docs/model.md §3.5: every pair's delivery stream is at least as fast as with every user
    // at the slowest rate, and knowledge is monotone in deliveries.
    if (complete)
      source.bound = theory::users_staleness_heterogeneous_bound(n, source.update_rate, flow_factor * min_gossip);
    p.sources.push_back(source);
  }
  if (exact) {
    p.staleness = sum / static_cast<double>(p.sources.size());
    p.method = "exact: all-subsets recursion with each tracked user as the source, per-user rates (docs/model.md §3.1, §3.5)";
  } else if (complete) {
    p.method = fmt::format("bound: r_k H_(n-1) / min_j lambda_j per source (Mitra & Ulukus 2024; docs/model.md §3.5); "
                           "no exact value: the all-subsets solver stops at n = {} for per-user rates",
                           exact_solver_max_users_per_source);
  } else {
    p.method = fmt::format("none: per-user rates on the {} (the all-subsets solver stops at n = {})",
                           sim::to_string(s.network.topology), exact_solver_max_users_per_source);
  }
  return p;
}

Prediction predict_users(const sim::Scenario& s, const sim::Graph& graph) {
  if (s.heterogeneous()) return predict_heterogeneous(s, graph);
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
    return without_exact(s, graph, fmt::format("the all-subsets solver stops at n = {} for this graph", limit));
  p.staleness = theory::users_staleness_mean(flow_matrix(s, graph), r, transitive);
  p.method = "exact: all-subsets recursion with each user as the source (docs/model.md §3.1)";
  return p;
}

// Largest network on which the quadratic model's moment equations are solved directly
// (n^2 unknowns per dimension, docs/model.md §6.3).
constexpr std::uint32_t quadratic_direct_max_users = 20;

theory::QuadraticMixing quadratic_mixing(GossipMode mode) {
  switch (mode) {
    case GossipMode::pull: return theory::QuadraticMixing::pull;
    case GossipMode::exchange: return theory::QuadraticMixing::exchange;
    case GossipMode::push: break;
  }
  return theory::QuadraticMixing::push;
}

Prediction::Learning predict_quadratic(const sim::Scenario& s, const sim::Graph& graph) {
  Prediction::Learning l;
  const sim::QuadraticProblem problem = sim::make_quadratic_problem(s);
  l.heterogeneity = problem.heterogeneity;
  const auto& train = s.learning.train;
  const double rho = sim::quadratic_contraction(train.lr, train.steps);
  const sim::UserClocks clocks = sim::user_clocks(s);
  const auto none = [&](std::string_view why) {
    l.method = fmt::format("none: no exact stationary error for {} (docs/model.md §6)", why);
    return l;
  };
  if (train.schedule != sim::LrSchedule::constant) return none("a step-size schedule");
  if (!(std::abs(rho) < 1.0)) return none(fmt::format("rho = (1 - lr)^steps = {:g} outside (-1, 1)", rho));
  const auto finish = [&](double error_normalized, double consensus_normalized) {
    l.error_normalized = error_normalized;
    l.consensus_normalized = consensus_normalized;
    l.error = error_normalized * l.heterogeneity;
    l.consensus = consensus_normalized * l.heterogeneity;
  };
  // The protocols other than gossip (docs/model.md §6.7, derived there); a protocol without
  // a derivation has no exact value.
  const sim::LearningProtocolId protocol = sim::learning_protocol_id(s);
  if (protocol == sim::local_protocol) {  // every user settles at its own optimum, whatever its clock
    finish(1.0, 1.0);
    l.method = "exact: without communication each x_i -> a_i, so error = consensus = zeta^2 (docs/model.md §6.7)";
    return l;
  }
  if (protocol == sim::fedavg_protocol) {
    // The round's error is independent of its length unless per-user clocks make the length
    // depend on who was sampled; then the time average weighs rounds unevenly.
    if (s.heterogeneous()) return none("FedAvg's rounds with per-user clocks (their length depends on the sample)");
    const double n = s.network.n;
    const double m = std::max(1.0, std::round(s.learning.mixing.fedavg_fraction * n));
    finish(n > 1.0 ? (1.0 - rho) / (1.0 + rho) * (n - m) / (m * (n - 1.0)) : 0.0, 0.0);
    l.method = "exact: FedAvg's rounds e <- rho e + (1 - rho) b_S, error = (1-rho)/(1+rho) (n-m)/(m(n-1)) zeta^2 "
               "(derived in docs/model.md §6.7)";
    return l;
  }
  if (protocol == sim::single_user_protocol) {  // one user on the mean objective: x -> a_bar
    finish(0.0, 0.0);
    l.method = "exact: one user on the mean objective, e <- rho e each update, so E||x - a_bar||^2 = "
               "||a_bar||^2 E[rho^(2N(t))] -> 0 (derived in docs/model.md §6.7)";
    return l;
  }
  if (!(protocol == sim::gossip_protocol))
    return none(fmt::format("learning.protocol = {}", sim::learning_protocol(s).name));
  if (clocks.renewal()) return none("renewal update clocks (updates.delay > 0)");
  if (s.network.topology == TopologyKind::complete && !s.heterogeneous()) {
    const auto q = theory::quadratic_stationary_complete(s.network.n, s.updates.rate, s.gossip_rate(), rho,
                                                         quadratic_mixing(s.gossip.mode));
    finish(q.error, q.consensus);
    l.method = "exact: stationary moments on the complete graph, reduced by symmetry (derived in docs/model.md §6.2)";
    return l;
  }
  if (s.network.n > quadratic_direct_max_users)
    return none(fmt::format("this graph or per-user clocks at n > {} (the direct moment solver's limit)",
                            quadratic_direct_max_users));
  // Small network: the full moment equations (docs/model.md §6.3), whose dimensions decouple.
  const Eigen::MatrixXd contact = contact_matrix(graph, clocks.gossip_rate);
  double error = 0.0, consensus = 0.0;
  const std::uint32_t n = problem.users;
  std::vector<double> optima(n);
  const auto add = [&](double weight) {
    const auto m = theory::quadratic_stationary_general(contact, clocks.update_rate, rho, quadratic_mixing(s.gossip.mode), optima);
    error += weight * m.error;
    consensus += weight * m.consensus;
  };
  if (problem.dimension <= n) {
    for (std::uint32_t k = 0; k < problem.dimension; ++k) {  // one solve per dimension
      for (std::uint32_t i = 0; i < n; ++i) optima[i] = problem.optimum(i)[k];
      add(1.0);
    }
  } else {
    // More dimensions than users: each dimension's moments are a quadratic form b_k^T Q b_k in
    // its centred optima b_k (the process is linear in b_k, and at b_k = 0 it stays at 0), so
    // their sum is trace(Q G) with G = sum_k b_k b_k^T = sum_j lambda_j v_j v_j^T, that is
    // sum_j lambda_j v_j^T Q v_j: one solve per eigenvector of G, at most n, whatever the
    // dimension (ring n = 20, d = 1e5 took minutes as 1e5 solves).
    Eigen::MatrixXd centred(n, problem.dimension);
    for (std::uint32_t i = 0; i < n; ++i)
      for (std::uint32_t k = 0; k < problem.dimension; ++k) centred(i, k) = problem.optimum(i)[k];
    centred.rowwise() -= centred.colwise().mean();
    const Eigen::MatrixXd gram = centred * centred.transpose();
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(gram);
    for (Eigen::Index j = 0; j < eigen.eigenvalues().size(); ++j) {
      const double lambda = eigen.eigenvalues()(j);
      if (!(lambda > 1e-14 * gram.trace())) continue;  // the direction of the mean, and rounding
      for (std::uint32_t i = 0; i < n; ++i) optima[i] = eigen.eigenvectors()(i, j);
      add(lambda);
    }
  }
  l.error = error;
  l.consensus = consensus;
  if (l.heterogeneity > 0.0) {
    l.error_normalized = error / l.heterogeneity;
    l.consensus_normalized = consensus / l.heterogeneity;
  }
  l.method = "exact: the full stationary moment equations on this graph (docs/model.md §6.3)";
  return l;
}

}  // namespace

double information_flow(const sim::Scenario& s) {
  return s.gossip_rate() * (s.gossip.mode == GossipMode::exchange ? 2.0 : 1.0);
}

// The network layer (docs/model.md §7). Loss alone is an exact thinning (§7.2): the
// staleness is that of the capacity kappa (1 - p) for push, kappa (1 - p)^2 for pull, and
// kappa (1 - p)(2 - p)/2 for exchange (whose useful direction gets through with probability
// 1 - p or (1 - p)^2, by who called); the quadratic model's stationary error thins likewise
// for push and pull. Exponential latency has the chain of §7.5; nothing else is exact.
Prediction predict_networked(const sim::Scenario& s, const sim::Graph& graph) {
  const bool loss_only = s.gossip.latency == 0.0 && !s.gossip.latency_law && s.gossip.bandwidth == 0.0 &&
                         s.churn.model == sim::ChurnModel::none;
  const bool thins = loss_only && !s.heterogeneous();
  // Exponential latency, push, complete graph, small n: the first-passage chain (§7.5).
  const bool exponential = s.gossip.latency_law && s.gossip.latency_law->kind == sim::DistributionKind::exponential;
  if (exponential && s.gossip.bandwidth == 0.0 && s.churn.model == sim::ChurnModel::none &&
      s.gossip.mode == GossipMode::push && s.network.topology == TopologyKind::complete && !s.heterogeneous() &&
      s.staleness.model == sim::StalenessModel::users && s.network.n <= theory::latency_exact_max_users) {
    if (const auto v = theory::users_staleness_push_exponential_latency(
            s.network.n, s.update_rate(), s.gossip_rate(), s.gossip.latency_law->a, s.gossip.loss)) {
      Prediction p;
      p.staleness = v;
      p.method = "exact: first-passage chain of a version with its messages in flight, exponential latency "
                 "(docs/model.md §7.5)";
      if (s.learning.model.kind == sim::ModelKind::quadratic) {
        p.learning = Prediction::Learning{};
        p.learning->method = "none: no exact stationary error with latency (docs/model.md §7.5)";
      }
      return p;
    }
  }
  if (!thins) {
    Prediction p;
    p.method = loss_only ? "none: per-user clocks with loss (docs/model.md §7.2 thins a homogeneous capacity)"
                         : "none: no exact theory with latency, a bandwidth limit or churn (docs/model.md §7.6: "
                           "checked against a reference simulator)";
    if (s.learning.model.kind == sim::ModelKind::quadratic) {
      p.learning = Prediction::Learning{};
      p.learning->method = p.method;
    }
    return p;
  }
  const double q = 1.0 - s.gossip.loss;
  const double kept = s.gossip.mode == GossipMode::push   ? q
                      : s.gossip.mode == GossipMode::pull ? q * q
                                                          : q * (1.0 + q) / 2.0;
  sim::Scenario thinned = s;
  thinned.gossip.loss = 0.0;
  thinned.gossip.capacity *= kept;
  Prediction p = predict(thinned, graph);
  const std::string how = fmt::format("thinning by loss: capacity {:g} x {:g} (docs/model.md §7.2); ", s.gossip.capacity, kept);
  p.method = how + p.method;
  if (p.learning && s.gossip.mode == GossipMode::exchange) {
    // A contact whose reply is lost mixes one way only: not an exchange at a lower rate.
    p.learning->error.reset();
    p.learning->error_normalized.reset();
    p.learning->consensus.reset();
    p.learning->consensus_normalized.reset();
    p.learning->method = "none: exchange with loss mixes one way when the reply is lost (docs/model.md §7.2)";
  } else if (p.learning) {
    p.learning->method = how + p.learning->method;
  }
  p.rumour.reset();  // rumour spreading runs without the network layer
  return p;
}

Prediction without_gossip(const sim::Scenario& scenario, std::optional<Prediction::Learning> learning) {
  Prediction p;
  p.method = fmt::format("none: {} has no gossip", sim::learning_protocol(scenario).title);
  p.learning = std::move(learning);
  return p;
}

Prediction predict(const sim::Scenario& scenario, const sim::Graph& graph) {
  // A protocol without gossip (FedAvg, local training, the single user, MoDeST, D-PSGD) has no
  // staleness to predict; the quadratic model's learning theory stays.
  if (scenario.learning.enabled() && !sim::learning_protocol(scenario).measures_staleness)
    return without_gossip(scenario, scenario.learning.model.kind == sim::ModelKind::quadratic
                                        ? std::optional(predict_quadratic(scenario, graph))
                                        : std::nullopt);
  // Every formula below is for uniform (blind) gossip; another policy has its own theory
  // (sim/gossip_policy.hpp) or none.
  if (const auto& policy = sim::policy_info(scenario.gossip.policy); !policy.has_theory) {
    Prediction p;
    if (const auto own = policy.theory ? policy.theory(scenario) : std::nullopt; own && !scenario.learning.enabled()) {
      p.staleness = own->staleness;
      p.method = std::string(own->method);
      if (!own->law.empty()) p.law = std::string(own->law);
      return p;
    }
    p.method = fmt::format("none: no exact value or known law for gossip.policy = {}", policy.name);
    if (scenario.learning.model.kind == sim::ModelKind::quadratic) {
      p.learning = Prediction::Learning{};
      p.learning->method = p.method;
    }
    return p;
  }
  if (scenario.networked()) return predict_networked(scenario, graph);
  Prediction p = scenario.staleness.model == sim::StalenessModel::source ? predict_source(scenario, graph)
                                                                          : predict_users(scenario, graph);
  // Age in time (docs/model.md §2): uniform gossip never looks at versions, so the contacts
  // are independent of the source's Poisson versions and E[version age] = lambda_e E[age in
  // time] for every user; Yates' recursion for the age in time is the version-age recursion
  // with lambda_e = 1 (docs/model.md §3.1).
  if (scenario.staleness.model == sim::StalenessModel::source && p.staleness && p.method.starts_with("exact"))
    p.age_time = *p.staleness / scenario.source.rate;
  if (scenario.learning.model.kind == sim::ModelKind::quadratic) p.learning = predict_quadratic(scenario, graph);
  if (scenario.network.topology != TopologyKind::complete || scenario.heterogeneous()) return p;
  const std::uint32_t n = scenario.network.n;
  if (scenario.gossip.mode == GossipMode::push)
    p.rumour = Prediction::Rumour{theory::rumour_all_informed_time(n, scenario.gossip_rate()),
                                  theory::rumour_one_informed_time(n, scenario.gossip_rate())};
  if (scenario.staleness.model == sim::StalenessModel::users && scenario.gossip.mode != GossipMode::exchange) {
    const auto scaling = scenario.gossip.scaling;
    p.regime = Prediction::Regime{
        std::string(theory::regime_law(scaling)),
        theory::users_staleness_regime_asymptote(scaling, n, scenario.update_rate(), scenario.gossip.capacity,
                                                 scenario.gossip.exponent),
        theory::bounded_staleness_capacity(n, scenario.update_rate())};
  }
  return p;
}

}  // namespace timely::analysis
