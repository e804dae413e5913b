// The topologies the gossip-age literature studies (docs/model.md §1): each graph's shape
// against an adjacency written here independently of sim's builders, and the simulator on it
// against the all-subsets recursion (docs/model.md §3.1) within a 99.9% CI, for push and pull,
// in the source and the users model.
#include <catch2/catch.hpp>

#include <bit>
#include <functional>
#include <set>

#include "experiments/scenario_checks.hpp"
#include "sim/trials.hpp"
#include "tests/statistical.hpp"
#include "theory/shs_solver.hpp"

using namespace timely;
using sim::GossipMode;
using sim::Scenario;
using sim::StalenessModel;
using sim::TopologyKind;

namespace {

using Adjacent = std::function<bool(std::uint32_t, std::uint32_t)>;

// The graph's neighbour sets against `adjacent(i, j)` for every pair.
void require_shape(const sim::Graph& graph, std::uint32_t n, const Adjacent& adjacent) {
  REQUIRE(sim::graph_size(graph) == n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto row = sim::neighbours(graph, i);
    const std::set<std::uint32_t> got(row.begin(), row.end());
    REQUIRE(got.size() == row.size());  // no multi-edges
    for (std::uint32_t j = 0; j < n; ++j) {
      INFO("users " << i << " and " << j);
      CHECK(got.count(j) == (i != j && adjacent(i, j) ? 1u : 0u));
    }
  }
}

// Information flow of uniform gossip at rate 1 from the independent adjacency: push carries
// i's version to j at 1 / deg(i), pull at 1 / deg(j) (j asks i).
Eigen::MatrixXd flow_of(std::uint32_t n, const Adjacent& adjacent, GossipMode mode) {
  std::vector<double> degree(n, 0.0);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t j = 0; j < n; ++j) degree[i] += i != j && adjacent(i, j);
  Eigen::MatrixXd flow = Eigen::MatrixXd::Zero(n, n);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t j = 0; j < n; ++j)
      if (i != j && adjacent(i, j)) flow(i, j) = 1.0 / (mode == GossipMode::push ? degree[i] : degree[j]);
  return flow;
}

Scenario literature(std::uint32_t n, TopologyKind topology) {
  Scenario s;
  s.network.n = n;
  s.network.topology = topology;
  s.run.trials = 16;
  s.run.seed = 2409;
  return s;
}

// Source and users model, push and pull, against the all-subsets recursion.
void require_theory(Scenario s, const Adjacent& adjacent) {
  const std::uint32_t n = s.network.n;
  experiments::validate(s);
  const sim::Graph graph = sim::scenario_graph(s);
  require_shape(graph, n, adjacent);
  for (const GossipMode mode : {GossipMode::push, GossipMode::pull}) {
    INFO((mode == GossipMode::push ? "push" : "pull"));
    const Eigen::MatrixXd flow = flow_of(n, adjacent, mode);
    s.gossip.mode = mode;
    s.staleness.model = StalenessModel::source;
    s.run.horizon = 20000;
    const auto ages = theory::shs_source_ages(flow, std::vector<double>(n, 1.0 / n), 1.0);
    double mean = 0.0;
    for (double a : ages) mean += a / n;
    testing::require_agreement(sim::run_trials(s, graph, 0), mean, 0.02);
    s.staleness.model = StalenessModel::users;
    s.run.horizon = 4000;
    testing::require_agreement(sim::run_trials(s, graph, 0), theory::users_staleness_mean(flow, 1.0), 0.02);
  }
}

}  // namespace

TEST_CASE("the 3x3 grid without wrap-around against the all-subsets recursion", "[sim][theory][topology]") {
  require_theory(literature(9, TopologyKind::grid), [](std::uint32_t i, std::uint32_t j) {
    const int dx = static_cast<int>(i / 3) - static_cast<int>(j / 3), dy = static_cast<int>(i % 3) - static_cast<int>(j % 3);
    return std::abs(dx) + std::abs(dy) == 1;
  });
}

TEST_CASE("the 3-cube against the all-subsets recursion", "[sim][theory][topology]") {
  require_theory(literature(8, TopologyKind::hypercube),
                 [](std::uint32_t i, std::uint32_t j) { return std::popcount(i ^ j) == 1; });
}

TEST_CASE("the generalized ring, f = 2 and f = n^0.5, against the all-subsets recursion", "[sim][theory][topology]") {
  const auto circulant = [](std::uint32_t n, std::uint32_t f) {
    return [n, f](std::uint32_t i, std::uint32_t j) {
      const std::uint32_t d = i > j ? i - j : j - i;
      return std::min(d, n - d) <= f;
    };
  };
  Scenario s = literature(11, TopologyKind::generalized_ring);
  s.network.reach = 2;
  require_theory(s, circulant(11, 2));
  s = literature(9, TopologyKind::generalized_ring);
  s.network.reach_exponent = 0.5;  // f = 3
  require_theory(s, circulant(9, 3));
}

TEST_CASE("the complete bipartite graph K_{4,6} against the all-subsets recursion", "[sim][theory][topology]") {
  Scenario s = literature(10, TopologyKind::bipartite);
  s.network.left = 4;
  require_theory(s, [](std::uint32_t i, std::uint32_t j) { return (i < 4) != (j < 4); });
}

TEST_CASE("the torus in 3 and 4 dimensions has its lattice's neighbours", "[sim][topology]") {
  // n = 27 is past the all-subsets solver; the shape is checked, and the theory test of the
  // 2-D torus (simulation_theory_test.cpp) covers the lattice's gossip.
  for (const std::uint32_t d : {3u, 4u}) {
    Scenario s = literature(d == 3 ? 64 : 81, TopologyKind::torus);
    s.network.dimensions = d;
    const std::uint32_t side = d == 3 ? 4 : 3;
    experiments::validate(s);
    require_shape(sim::scenario_graph(s), s.network.n, [&](std::uint32_t i, std::uint32_t j) {
      int steps = 0;
      for (std::uint32_t k = 0, a = i, b = j; k < d; ++k, a /= side, b /= side) {
        const std::uint32_t x = a % side, y = b % side, gap = x > y ? x - y : y - x;
        if (gap == 0) continue;
        if (gap != 1 && gap != side - 1) return false;
        ++steps;
      }
      return steps == 1;
    });
  }
}
