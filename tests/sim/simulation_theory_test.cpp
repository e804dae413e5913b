// The simulator against exact theory (docs/model.md §3), each within a 99.9% CI.
#include <catch2/catch.hpp>

#include "analysis/statistics.hpp"
#include "analysis/trial_summary.hpp"
#include "sim/random.hpp"
#include "sim/trials.hpp"
#include "tests/statistical.hpp"
#include "theory/age_of_gossip.hpp"
#include "theory/harmonic.hpp"
#include "theory/shs_solver.hpp"
#include "theory/users_model.hpp"
#include "tests/paths.hpp"

using namespace timely;
using sim::GossipMode;
using sim::Scenario;
using sim::StalenessModel;
using sim::TopologyKind;

namespace {

Scenario base(std::uint32_t n, TopologyKind topology, StalenessModel model) {
  Scenario s;
  s.network.n = n;
  s.network.topology = topology;
  s.staleness.model = model;
  s.run.trials = 16;
  s.run.seed = 20261123;
  return s;
}

std::vector<sim::TrialResult> run(const Scenario& s) {
  return sim::run_trials(s, sim::scenario_graph(s), 0);
}

}  // namespace

TEST_CASE("source model on the complete graph matches Yates' recursion", "[sim][theory]") {
  Scenario s = base(64, TopologyKind::complete, StalenessModel::source);
  s.source = {1.0, 1.0};
  s.run.horizon = 20000;
  const double theory = theory::source_age_complete(64, {1.0, 1.0}, 1.0);
  testing::require_agreement(run(s), theory, 0.02);
}

TEST_CASE("source model on the complete graph with exchange gossip doubles the flow", "[sim][theory]") {
  Scenario s = base(32, TopologyKind::complete, StalenessModel::source);
  s.gossip.mode = GossipMode::exchange;
  s.source = {2.0, 0.5};
  s.run.horizon = 10000;
  const double theory = theory::source_age_complete(32, {2.0, 0.5}, 2.0);
  testing::require_agreement(run(s), theory, 0.02);
}

TEST_CASE("source model on the ring matches Yates' ring recursion", "[sim][theory]") {
  Scenario s = base(40, TopologyKind::ring, StalenessModel::source);
  s.run.horizon = 20000;
  const double theory = theory::source_age_ring(40, {1.0, 1.0}, 1.0);
  testing::require_agreement(run(s), theory, 0.02);
}

TEST_CASE("source model on the 4x4 torus matches the all-subsets SHS solver", "[sim][theory]") {
  Scenario s = base(16, TopologyKind::torus, StalenessModel::source);
  s.run.horizon = 20000;
  // Independent of sim's graph code: build the torus flow matrix here (each user pushes
  // lambda/4 to each of its four neighbours).
  Eigen::MatrixXd flow = Eigen::MatrixXd::Zero(16, 16);
  for (int x = 0; x < 4; ++x)
    for (int y = 0; y < 4; ++y) {
      const int i = 4 * x + y;
      for (const auto [dx, dy] : {std::pair{1, 0}, {3, 0}, {0, 1}, {0, 3}}) flow(i, 4 * ((x + dx) % 4) + (y + dy) % 4) = 0.25;
    }
  const auto ages = theory::shs_source_ages(flow, std::vector<double>(16, 1.0 / 16), 1.0);
  testing::require_agreement(run(s), ages[0], 0.02);
}

TEST_CASE("users model on the complete graph: r H_{n-1} / lambda for push and pull", "[sim][theory]") {
  for (GossipMode mode : {GossipMode::push, GossipMode::pull}) {
    Scenario s = base(50, TopologyKind::complete, StalenessModel::users);
    s.gossip.mode = mode;
    s.gossip.capacity = 2.0;
    s.updates.rate = 1.5;
    s.run.horizon = 2000;
    testing::require_agreement(run(s), 1.5 * theory::harmonic(49) / 2.0, 0.01);
  }
}

TEST_CASE("users model on the complete graph: exchange halves the staleness", "[sim][theory]") {
  Scenario s = base(50, TopologyKind::complete, StalenessModel::users);
  s.gossip.mode = GossipMode::exchange;
  s.run.horizon = 2000;
  testing::require_agreement(run(s), theory::harmonic(49) / 2.0, 0.01);
}

TEST_CASE("users model with renewal updates c + Exp(mu) uses r = 1/(c + 1/mu)", "[sim][theory]") {
  Scenario s = base(50, TopologyKind::complete, StalenessModel::users);
  s.updates.rate = 2.0;
  s.updates.delay = 0.75;  // r = 1/(0.75 + 0.5) = 0.8
  s.run.horizon = 2000;
  testing::require_agreement(run(s), 0.8 * theory::harmonic(49), 0.01);
}

TEST_CASE("users model with K tracked sources estimates the same mean", "[sim][theory]") {
  Scenario s = base(400, TopologyKind::complete, StalenessModel::users);
  s.staleness.tracked = 16;
  s.run.horizon = 1000;
  testing::require_agreement(run(s), theory::harmonic(399), 0.02);
}

TEST_CASE("users model on the ring matches the interval recursion", "[sim][theory]") {
  Scenario s = base(24, TopologyKind::ring, StalenessModel::users);
  s.run.horizon = 4000;
  testing::require_agreement(run(s), theory::users_staleness_ring(24, 1.0, 1.0), 0.02);
}

TEST_CASE("users model on an edge-list graph (Petersen) matches the all-subsets recursion", "[sim][theory]") {
  Scenario s = base(10, TopologyKind::edges, StalenessModel::users);
  s.network.edges_file = std::string(TIMELY_SOURCE_DIR) + "/examples/petersen.edges";
  s.gossip.mode = GossipMode::exchange;
  s.run.horizon = 4000;
  const sim::Graph graph = sim::scenario_graph(s);
  // Exchange on a 3-regular graph: information crosses each edge at 2 * lambda / 3 each way.
  const Eigen::MatrixXd flow = sim::partner_probabilities(graph) * 2.0;
  testing::require_agreement(sim::run_trials(s, graph, 0), theory::users_staleness_mean(flow, 1.0), 0.02);
}

TEST_CASE("rumour spreading by push on the complete graph takes 2(n-1)H_{n-1}/(n lambda) and H_{n-1}/lambda",
          "[sim][theory]") {
  Scenario s = base(60, TopologyKind::complete, StalenessModel::users);
  s.gossip.capacity = 2.0;
  const sim::Graph graph = sim::scenario_graph(s);
  std::vector<double> all, one;
  for (std::uint64_t trial = 0; trial < 4000; ++trial) {
    const auto r = sim::rumour_trial(s, graph, trial);
    all.push_back(r.all_informed);
    one.push_back(r.one_informed);
  }
  const auto a = analysis::summarize(all, testing::agreement_level), o = analysis::summarize(one, testing::agreement_level);
  const double h = theory::harmonic(59);
  CHECK(std::abs(a.mean - 2.0 * 59 * h / (60 * 2.0)) <= *a.ci_half_width);
  CHECK(std::abs(o.mean - h / 2.0) <= *o.ci_half_width);
  CHECK(*o.ci_half_width < 0.05 * h / 2.0);
}

TEST_CASE("binary freshness: a user the source alone feeds is fresh lambda_0 / (lambda_e + lambda_0) of the time",
          "[sim][theory][freshness]") {
  // Gossip at the smallest capacity is negligible: each user is a two-state chain, stale at
  // each source update (rate lambda_e = 1) and fresh at each push to it (rate 0.5 / n = 0.05).
  Scenario s = base(10, TopologyKind::complete, StalenessModel::source);
  s.source = {1.0, 0.5};
  s.gossip.capacity = 1e-9;
  s.run.horizon = 40000;
  std::vector<double> fresh;
  for (const auto& t : run(s)) fresh.push_back(1.0 - analysis::weighted_fraction_above(t.staleness_time, 0));
  const auto a = testing::estimate(fresh);
  const double theory = 0.05 / 1.05;
  INFO("freshness " << a.mean << " +- " << a.half_width << ", theory " << theory);
  CHECK(std::abs(a.mean - theory) <= a.half_width);
  CHECK(a.half_width < 0.02 * theory);
  // The summary reports the same per-trial fractions.
  const auto summary = analysis::summarize_trials(run(s), 10, 10, s.run.horizon);
  CHECK(summary.freshness.mean == Approx(a.mean).epsilon(1e-12));
}

TEST_CASE("age in time and binary freshness match their exact recursions (source model)",
          "[sim][theory][freshness][age_time]") {
  // An irregular graph by pull, and the complete graph by exchange; lambda_e != 1 so that the
  // age in time (t - u_i) and the version age differ.
  struct Case {
    TopologyKind topology;
    GossipMode mode;
  };
  for (const Case c : {Case{TopologyKind::random_regular, GossipMode::pull}, Case{TopologyKind::complete, GossipMode::exchange},
                       Case{TopologyKind::ring, GossipMode::push}}) {
    Scenario s = base(10, c.topology, StalenessModel::source);
    s.network.degree = 3;
    s.gossip.mode = c.mode;
    s.source = {2.0, 1.5};
    s.run.horizon = 3000;
    s.run.warmup = 20;
    const auto graph = sim::scenario_graph(s);
    const auto trials = sim::run_trials(s, graph, 0);
    const double flow = c.mode == GossipMode::exchange ? 2.0 : 1.0;
    const Eigen::MatrixXd matrix = sim::partner_probabilities(graph) * flow;
    // Pull: information flows from the partner to the caller, so the flow matrix is transposed.
    const Eigen::MatrixXd flows = c.mode == GossipMode::pull ? Eigen::MatrixXd(matrix.transpose()) : matrix;
    const std::vector<double> push(10, 1.5 / 10);
    double age_theory = 0.0, fresh_theory = 0.0;
    for (double a : theory::shs_source_ages(flows, push, 1.0)) age_theory += a / 10;
    for (double f : theory::shs_source_freshness(flows, push, 2.0)) fresh_theory += f / 10;
    std::vector<double> age, fresh;
    for (const auto& t : trials) {
      REQUIRE(t.mean_age_time.has_value());
      age.push_back(*t.mean_age_time);
      fresh.push_back(1.0 - analysis::weighted_fraction_above(t.staleness_time, 0));
    }
    const auto a = testing::estimate(age);
    const auto f = testing::estimate(fresh);
    INFO(sim::to_string(c.topology) << ": age in time " << a.mean << " +- " << a.half_width << " (theory " << age_theory
                                    << "), freshness " << f.mean << " +- " << f.half_width << " (theory " << fresh_theory << ")");
    CHECK(std::abs(a.mean - age_theory) <= a.half_width);
    CHECK(std::abs(f.mean - fresh_theory) <= f.half_width);
    CHECK(a.half_width < 0.03 * age_theory);
  }
  // The users model counts versions only.
  Scenario u = base(8, TopologyKind::complete, StalenessModel::users);
  u.run.trials = 2;
  for (const auto& t : run(u)) CHECK_FALSE(t.mean_age_time.has_value());
}

TEST_CASE("source model: many more pushes than users (the push table compacts in order) match Yates' recursion",
          "[sim][theory][age_time]") {
  // Each user holds the index of the push its information descends from (sim/source_model.cpp);
  // the table of pushes is compacted when full (at 4096 entries for so few users), about 60
  // times a trial here. A renumbering out of order, or a dropped entry still held, would
  // change which information is newer and move both means off their exact values.
  Scenario s = base(10, TopologyKind::complete, StalenessModel::source);
  s.source = {2.0, 40.0};
  s.run.horizon = 6000;
  s.run.warmup = 20;
  REQUIRE(s.source.push_rate * s.run.horizon > 50 * 4096);
  const auto graph = sim::scenario_graph(s);
  const auto trials = sim::run_trials(s, graph, 0);
  testing::require_agreement(trials, theory::source_age_complete(10, {2.0, 40.0}, 1.0), 0.02);
  const std::vector<double> push(10, 40.0 / 10);
  double age_theory = 0.0;
  for (double a : theory::shs_source_ages(sim::partner_probabilities(graph), push, 1.0)) age_theory += a / 10;
  std::vector<double> age;
  for (const auto& t : trials) age.push_back(t.mean_age_time.value());
  const auto a = testing::estimate(age);
  INFO("age in time " << a.mean << " +- " << a.half_width << " (theory " << age_theory << ")");
  CHECK(std::abs(a.mean - age_theory) <= a.half_width);
}
