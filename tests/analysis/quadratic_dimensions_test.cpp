// The quadratic model's exact stationary error on a small non-complete graph with more
// dimensions than users (analysis/predict.cpp): summed over the eigenvectors of the optima's
// Gram matrix, it equals the sum of one solve per dimension, and d = 1e5 takes a moment.
#include <catch2/catch.hpp>

#include <chrono>

#include "analysis/predict.hpp"
#include "sim/quadratic.hpp"
#include "sim/trial.hpp"
#include "sim/user_clocks.hpp"
#include "tests/quadratic_problem.hpp"
#include "theory/quadratic.hpp"

namespace {

timely::sim::Scenario ring_quadratic(std::uint32_t n, std::uint32_t dimension) {
  timely::sim::Scenario s;
  timely::tests::use_small_quadratic(s);
  s.network.n = n;
  s.network.topology = timely::sim::TopologyKind::ring;
  s.gossip.mode = timely::sim::GossipMode::exchange;
  s.learning.data.features = dimension;
  return s;
}

}  // namespace

TEST_CASE("more dimensions than users: the quadratic theory's eigen-sum equals one solve per dimension", "[quadratic][theory]") {
  const auto s = ring_quadratic(6, 25);
  const auto graph = timely::sim::scenario_graph(s);
  const auto p = timely::analysis::predict(s, graph);
  REQUIRE(p.learning);
  REQUIRE(p.learning->error);
  REQUIRE(p.learning->method.starts_with("exact: the full stationary moment equations"));

  // The independent sum: one solve per dimension, straight from the theory module.
  const auto problem = timely::sim::make_quadratic_problem(s);
  const auto clocks = timely::sim::user_clocks(s);
  const double rho = timely::sim::quadratic_contraction(s.learning.train.lr, s.learning.train.steps);
  Eigen::MatrixXd contact = Eigen::MatrixXd::Zero(6, 6);
  for (std::uint32_t i = 0; i < 6; ++i) {  // ring: each user picks each of its two neighbours at half its rate
    contact(i, (i + 1) % 6) = 0.5 * clocks.gossip_rate[i];
    contact(i, (i + 5) % 6) = 0.5 * clocks.gossip_rate[i];
  }
  double error = 0.0, consensus = 0.0;
  std::vector<double> optima(6);
  for (std::uint32_t k = 0; k < problem.dimension; ++k) {
    for (std::uint32_t i = 0; i < 6; ++i) optima[i] = problem.optimum(i)[k];
    const auto m = timely::theory::quadratic_stationary_general(contact, clocks.update_rate, rho,
                                                                timely::theory::QuadraticMixing::exchange, optima);
    error += m.error;
    consensus += m.consensus;
  }
  CHECK(*p.learning->error == Approx(error).epsilon(1e-9));
  CHECK(*p.learning->consensus == Approx(consensus).epsilon(1e-9));

  // Ring of 20 users in 1e5 dimensions: at most 20 solves.
  const auto big = ring_quadratic(20, 100000);
  const auto start = std::chrono::steady_clock::now();
  const auto q = timely::analysis::predict(big, timely::sim::scenario_graph(big));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(q.learning);
  CHECK(q.learning->error);
  CHECK(seconds < 30.0);
}
