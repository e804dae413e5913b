// The clustered topology (Buyukates, Bastopcu & Ulukus, arXiv 2109.08669; docs/model.md §1,
// §3.11): the graph and its weights against edge lists written here by hand, the source
// pushing to every user or to the top heads (source.targets) against the all-subsets
// recursion within a 99.9% CI, push and pull, and the law of the paper's table.
#include <catch2/catch.hpp>

#include <map>
#include <tuple>

#include "analysis/predict.hpp"
#include "experiments/scenario_checks.hpp"
#include "sim/input_error.hpp"
#include "sim/trials.hpp"
#include "tests/statistical.hpp"
#include "theory/scaling_laws.hpp"
#include "theory/shs_solver.hpp"

using namespace timely;
using sim::ClusterInside;
using sim::GossipMode;
using sim::Scenario;
using sim::SourceTargets;
using sim::StalenessModel;
using sim::TopologyKind;

namespace {

// Weighted edges, each undirected edge once: {u, v, weight}.
using Edges = std::vector<std::tuple<std::uint32_t, std::uint32_t, double>>;
using Weights = std::map<std::pair<std::uint32_t, std::uint32_t>, double>;

Weights symmetric(const Edges& edges) {
  Weights w;
  for (const auto& [u, v, x] : edges) {
    REQUIRE(w.count({u, v}) == 0);  // every edge listed once
    w[{u, v}] = x;
    w[{v, u}] = x;
  }
  return w;
}

// A star from `head` (weight 1/k) and the inside graph among `members`, written out.
void add_cluster(Edges& e, std::uint32_t head, const std::vector<std::uint32_t>& members, ClusterInside inside) {
  const double k = static_cast<double>(members.size());
  for (const std::uint32_t m : members) e.emplace_back(head, m, 1.0 / k);
  if (inside == ClusterInside::ring) {
    if (members.size() == 2) e.emplace_back(members[0], members[1], 0.5);
    if (members.size() >= 3)
      for (std::size_t i = 0; i < members.size(); ++i) e.emplace_back(members[i], members[(i + 1) % members.size()], 0.5);
  }
  if (inside == ClusterInside::complete)
    for (std::size_t i = 0; i < members.size(); ++i)
      for (std::size_t j = i + 1; j < members.size(); ++j) e.emplace_back(members[i], members[j], 1.0 / (k - 1.0));
}

// n = 13, m = 3, one level: clusters {0..4}, {5..8}, {9..12} (the first one user larger),
// heads 0, 5, 9.
Edges thirteen_in_three(ClusterInside inside, bool head_ring) {
  Edges e;
  add_cluster(e, 0, {1, 2, 3, 4}, inside);
  add_cluster(e, 5, {6, 7, 8}, inside);
  add_cluster(e, 9, {10, 11, 12}, inside);
  if (head_ring) {
    e.emplace_back(0, 5, 0.5);
    e.emplace_back(5, 9, 0.5);
    e.emplace_back(9, 0, 0.5);
  }
  return e;
}

// n = 13, m = 1, two levels: k' = round(sqrt 13) = 4 sub-ranges {0..3}, {4..6}, {7..9},
// {10..12}; their heads 0, 4, 7, 10 form the top cluster under 0.
Edges thirteen_in_two_levels(ClusterInside inside) {
  Edges e;
  add_cluster(e, 0, {1, 2, 3}, inside);
  add_cluster(e, 4, {5, 6}, inside);
  add_cluster(e, 7, {8, 9}, inside);
  add_cluster(e, 10, {11, 12}, inside);
  add_cluster(e, 0, {4, 7, 10}, inside);
  return e;
}

// n = 16, m = 2, two levels, heads in a ring: each cluster of 8 splits into round(sqrt 8) = 3
// sub-ranges of 3, 3, 2; the two top heads 0 and 8 share one edge.
Edges sixteen_two_levels_ring() {
  Edges e;
  for (const std::uint32_t a : {0u, 8u}) {
    add_cluster(e, a, {a + 1, a + 2}, ClusterInside::ring);
    add_cluster(e, a + 3, {a + 4, a + 5}, ClusterInside::ring);
    add_cluster(e, a + 6, {a + 7}, ClusterInside::ring);
    add_cluster(e, a, {a + 3, a + 6}, ClusterInside::ring);
  }
  e.emplace_back(0, 8, 0.5);
  return e;
}

Scenario clustered(std::uint32_t n, std::uint32_t m, std::uint32_t levels, ClusterInside inside, bool head_ring) {
  Scenario s;
  s.network.n = n;
  s.network.topology = TopologyKind::clustered;
  s.network.clusters = m;
  s.network.levels = levels;
  s.network.inside = inside;
  s.network.head_ring = head_ring;
  s.staleness.model = StalenessModel::source;
  s.run.trials = 16;
  s.run.seed = 2109;
  return s;
}

// The built graph's rows against the hand-written weights.
void require_weights(const sim::Graph& graph, std::uint32_t n, const Weights& expected) {
  REQUIRE(std::holds_alternative<sim::CsrGraph>(graph));
  const auto& g = std::get<sim::CsrGraph>(graph);
  REQUIRE(g.size() == n);
  REQUIRE(g.weighted());
  Weights got;
  for (std::uint32_t i = 0; i < n; ++i) {
    REQUIRE(g.degree(i) >= 1);
    for (std::uint64_t k = g.offsets[i]; k < g.offsets[i + 1]; ++k) {
      REQUIRE(got.count({i, g.targets[k]}) == 0);  // no multi-edges
      got[{i, g.targets[k]}] = g.weights[k];
    }
  }
  REQUIRE(got.size() == expected.size());
  for (const auto& [edge, w] : expected) {
    INFO("edge " << edge.first << " - " << edge.second);
    REQUIRE(got.count(edge) == 1);
    CHECK(got.at(edge) == Approx(w).epsilon(1e-14));
  }
}

// Information flow from the hand-written weights at gossip rate 1: i picks j with
// w_ij / sum_l w_il; push carries i's version to j, pull j's to i.
Eigen::MatrixXd flow_of(std::uint32_t n, const Weights& w, GossipMode mode) {
  Eigen::MatrixXd pick = Eigen::MatrixXd::Zero(n, n);
  std::vector<double> total(n, 0.0);
  for (const auto& [edge, x] : w) total[edge.first] += x;
  for (const auto& [edge, x] : w) pick(edge.first, edge.second) = x / total[edge.first];
  return mode == GossipMode::push ? Eigen::MatrixXd(pick) : Eigen::MatrixXd(pick.transpose());
}

// Push and pull, source pushes to every user and to the top heads, against the recursion on
// the hand-written weights; the users model as well where the graph is connected.
void require_theory(Scenario s, const Edges& edges, const std::vector<std::uint32_t>& heads) {
  const std::uint32_t n = s.network.n;
  const Weights w = symmetric(edges);
  const sim::Graph graph = sim::scenario_graph(s);
  require_weights(graph, n, w);
  CHECK(sim::clustered_heads(s.network) == heads);
  for (const GossipMode mode : {GossipMode::push, GossipMode::pull}) {
    INFO((mode == GossipMode::push ? "push" : "pull"));
    const Eigen::MatrixXd flow = flow_of(n, w, mode);
    s.gossip.mode = mode;
    s.staleness.model = StalenessModel::source;
    s.run.horizon = 20000;
    for (const SourceTargets targets : {SourceTargets::all, SourceTargets::heads}) {
      INFO("source.targets = " << sim::to_string(targets));
      s.source.targets = targets;
      experiments::validate(s);
      std::vector<double> push(n, targets == SourceTargets::all ? 1.0 / n : 0.0);
      if (targets == SourceTargets::heads)
        for (const std::uint32_t h : heads) push[h] = 1.0 / static_cast<double>(heads.size());
      const auto ages = theory::shs_source_ages(flow, push, 1.0);
      double mean = 0.0;
      for (double a : ages) mean += a / n;
      testing::require_agreement(sim::run_trials(s, graph, 0), mean, 0.02);
      const analysis::Prediction p = analysis::predict(s, graph);  // the same value through predict
      REQUIRE(p.staleness);
      CHECK(*p.staleness == Approx(mean).epsilon(1e-9));
    }
    s.source.targets = SourceTargets::all;
    if (s.network.clusters_apart()) continue;
    s.staleness.model = StalenessModel::users;
    s.run.horizon = 4000;
    experiments::validate(s);
    testing::require_agreement(sim::run_trials(s, graph, 0), theory::users_staleness_mean(flow, 1.0), 0.02);
  }
}

}  // namespace

TEST_CASE("the clustered graph and its weights match hand-written edge lists", "[topology]") {
  for (const ClusterInside inside : {ClusterInside::disconnected, ClusterInside::ring, ClusterInside::complete})
    for (const bool ring : {false, true}) {
      INFO("inside " << sim::to_string(inside) << ", head ring " << ring);
      const Scenario s = clustered(13, 3, 1, inside, ring);
      require_weights(sim::scenario_graph(s), 13, symmetric(thirteen_in_three(inside, ring)));
      CHECK(sim::clustered_heads(s.network) == std::vector<std::uint32_t>{0, 5, 9});
    }
  for (const ClusterInside inside : {ClusterInside::disconnected, ClusterInside::ring, ClusterInside::complete}) {
    INFO("two levels, inside " << sim::to_string(inside));
    require_weights(sim::scenario_graph(clustered(13, 1, 2, inside, false)), 13,
                    symmetric(thirteen_in_two_levels(inside)));
  }
  require_weights(sim::scenario_graph(clustered(16, 2, 2, ClusterInside::ring, true)), 16,
                  symmetric(sixteen_two_levels_ring()));
  // The default m = round(sqrt n), and m = round(n^c).
  Scenario s = clustered(100, 1, 1, ClusterInside::ring, false);
  s.network.clusters.reset();
  CHECK(sim::clustered_heads(s.network).size() == 10);
  s.network.clusters_exponent = 1.0 / 3.0;
  CHECK(sim::clustered_heads(s.network) == std::vector<std::uint32_t>{0, 20, 40, 60, 80});
  CHECK(sim::describe(sim::scenario_graph(s)) == "csr n=100 edges=190 (clustered, weighted)");
}

TEST_CASE("the clustered graph, one level, against the all-subsets recursion", "[sim][theory][topology]") {
  SECTION("ring inside, clusters apart") {
    require_theory(clustered(13, 3, 1, ClusterInside::ring, false), thirteen_in_three(ClusterInside::ring, false),
                   {0, 5, 9});
  }
  SECTION("disconnected inside, heads in a ring") {
    require_theory(clustered(13, 3, 1, ClusterInside::disconnected, true),
                   thirteen_in_three(ClusterInside::disconnected, true), {0, 5, 9});
  }
  SECTION("disconnected inside, clusters apart") {
    require_theory(clustered(13, 3, 1, ClusterInside::disconnected, false),
                   thirteen_in_three(ClusterInside::disconnected, false), {0, 5, 9});
  }
}

TEST_CASE("the clustered graph, two levels, against the all-subsets recursion", "[sim][theory][topology]") {
  require_theory(clustered(13, 1, 2, ClusterInside::ring, false), thirteen_in_two_levels(ClusterInside::ring), {0});
}

TEST_CASE("the clustered laws are the paper's table", "[theory][topology]") {
  const auto law = [](double c, unsigned levels, std::string_view inside, bool ring) {
    const auto l = theory::clustered_source_law(c, levels, inside, ring);
    REQUIRE(l);
    return l->law;
  };
  // Heads unconnected: disconnected (c = 1/2), ring (c = 1/3), complete (fixed m).
  CHECK(law(0.5, 1, "disconnected", false) == "sqrt n");
  CHECK(law(1.0 / 3.0, 1, "ring", false) == "n^(1/3)");
  CHECK(law(0.0, 1, "complete", false) == "log n");
  // Heads in a ring: disconnected (c = 2/3), ring (c = 1/2), complete (fixed m).
  CHECK(law(2.0 / 3.0, 1, "disconnected", true) == "n^(1/3)");
  CHECK(law(0.5, 1, "ring", true) == "n^(1/4)");
  CHECK(law(0.0, 1, "complete", true) == "log n");
  // h levels of rings: levels = h - 1 and the heads' ring, c = 1/h: n^(1/(2h)).
  for (unsigned h = 2; h <= 6; ++h) {
    const auto l = theory::clustered_source_law(1.0 / h, h - 1, "ring", true);
    REQUIRE(l);
    CHECK(l->exponent == Approx(1.0 / (2.0 * h)));
    CHECK(l->law == "n^(1/" + std::to_string(2 * h) + ")");
  }
  // Off the optimum the larger term wins: the heads' m = n^0.8 without a ring.
  CHECK(theory::clustered_source_law(0.8, 1, "ring", false)->law == "n^(4/5)");
  CHECK(theory::clustered_source_law(0.37, 1, "complete", false)->law == "n^0.37");
  CHECK_FALSE(theory::clustered_source_law(0.5, 1, "star", false));

  // predict: the law with the heads as targets; the generic m* path with every user.
  Scenario s = clustered(400, 1, 1, ClusterInside::ring, true);
  s.network.clusters.reset();  // m = round(sqrt n): c = 1/2
  s.source.targets = SourceTargets::heads;
  const sim::Graph graph = sim::scenario_graph(s);
  analysis::Prediction p = analysis::predict(s, graph);
  REQUIRE(p.law);
  CHECK(p.law->rfind("Theta(n^(1/4))", 0) == 0);
  s.source.targets = SourceTargets::all;
  p = analysis::predict(s, graph);
  REQUIRE(p.law);
  CHECK(p.law->rfind("Theta(m*)", 0) == 0);
}

TEST_CASE("the clustered keys and source.targets are refused where they do not apply", "[topology]") {
  const auto refused = [](const Scenario& s, const std::string& starts) {
    try {
      experiments::validate(s);
      (void)sim::scenario_graph(s);
      FAIL("accepted");
    } catch (const InputError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).rfind(starts, 0) == 0);
    }
  };
  Scenario s;
  s.network.levels = 2;
  refused(s, "network.levels: read only by network.topology = \"clustered\"");
  s = Scenario{};
  s.network.head_ring = true;
  refused(s, "network.head_ring: read only by");
  s = Scenario{};
  s.network.inside = ClusterInside::complete;
  refused(s, "network.inside: read only by");
  s = Scenario{};
  s.network.clusters_exponent = 0.5;
  refused(s, "network.clusters_exponent: read only by");
  s = Scenario{};
  s.source.targets = SourceTargets::heads;
  s.staleness.model = StalenessModel::source;
  refused(s, "source.targets: \"heads\" pushes to the clustered graph's heads");

  s = clustered(100, 60, 1, ClusterInside::ring, false);
  refused(s, "network.clusters: expected at most floor(n / 2^levels) = 50");
  s = clustered(100, 20, 3, ClusterInside::ring, false);
  refused(s, "network.clusters: expected at most floor(n / 2^levels) = 12");
  s = clustered(100, 2, 7, ClusterInside::ring, false);
  refused(s, "network.levels: expected 2^levels <= network.n");
  s = clustered(100, 2, 1, ClusterInside::ring, false);
  s.network.clusters_exponent = 0.5;
  refused(s, "network.clusters_exponent: network.clusters already gives");
  s.network.clusters.reset();
  s.network.clusters_exponent = 1.0;
  refused(s, "network.clusters_exponent: m = round(n^c) = 100");
  s = clustered(100, 1, 1, ClusterInside::ring, false);
  s.network.clusters.reset();
  s.network.levels = 4;  // round(sqrt 100) = 10 > floor(100 / 16)
  refused(s, "network.clusters: the default m = round(sqrt n) = 10");

  // Clusters joined only by the source need the source model.
  s = clustered(20, 4, 1, ClusterInside::ring, false);
  s.staleness.model = StalenessModel::users;
  refused(s, "network.head_ring: with network.clusters = 4 clusters and no ring among their heads");
  s.network.head_ring = true;
  CHECK_NOTHROW(experiments::validate(s));
  s.network.head_ring = false;
  s.network.clusters = 1;
  CHECK_NOTHROW(experiments::validate(s));
  s.source.targets = SourceTargets::heads;
  refused(s, "source.targets: read only by the source model");
}
