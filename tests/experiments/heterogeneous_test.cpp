// Per-user clocks (docs/model.md §1, §3.5): the simulation against the all-subsets recursion
// with every tracked user as the source, each source within its own 99.9% CI; the bound of
// Mitra & Ulukus at large n; the power capacity scaling; and the input checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "analysis/statistics.hpp"
#include "experiments/scenario_keys.hpp"
#include "tests/run_cli.hpp"
#include "tests/scratch_dir.hpp"
#include "sim/quadratic.hpp"
#include "sim/trials.hpp"
#include "sim/user_clocks.hpp"
#include "tests/statistical.hpp"
#include "theory/capacity.hpp"
#include "theory/harmonic.hpp"
#include "theory/quadratic.hpp"
#include "theory/shs_solver.hpp"

using namespace timely;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) { return testing::fresh_scratch("timely_heterogeneous_test", name); }

// The per-user values are written here and read back by the key, as a user would give them.
sim::Scenario eight_users(sim::GossipMode mode) {
  const fs::path file = scratch("users") / "users.csv";
  std::ofstream(file) << "update_rate,gossip_capacity\n1.0,1.0\n2.0,0.5\n0.5,2.0\n1.5,1.0\n"
                         "1.0,3.0\n0.25,1.0\n3.0,0.8\n1.0,1.2\n";
  sim::Scenario s = experiments::load_scenario(std::nullopt, {"network.n=8", "users.file=" + file.string()});
  s.gossip.mode = mode;
  s.run.trials = 16;
  s.run.horizon = 4000;
  s.run.seed = 20261126;
  return s;
}

// E[S_ik] averaged over the observers of each user k, from the recursion, with the flow
// matrix written out here from the model's definition (not from analysis/predict).
std::vector<double> exact_per_source(const sim::Scenario& s) {
  const sim::UserClocks c = sim::user_clocks(s);
  const std::uint32_t n = s.network.n;
  Eigen::MatrixXd flow = Eigen::MatrixXd::Zero(n, n);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t j = 0; j < n; ++j) {
      if (i == j) continue;
      const double push = c.gossip_rate[i] / (n - 1), pull = c.gossip_rate[j] / (n - 1);  // complete graph
      flow(i, j) = s.gossip.mode == sim::GossipMode::push ? push : s.gossip.mode == sim::GossipMode::pull ? pull : push + pull;
    }
  std::vector<double> out;
  for (std::uint32_t k = 0; k < n; ++k) {
    const double r = 1.0 / (c.update_delay[k] + 1.0 / c.update_rate[k]);
    double sum = 0.0;
    for (double v : theory::users_staleness_from(flow, k, r)) sum += v;
    out.push_back(sum / (n - 1));
  }
  return out;
}

void require_every_source_agrees(const sim::Scenario& s) {
  const auto trials = sim::run_trials(s, sim::scenario_graph(s), 0);
  const auto exact = exact_per_source(s);
  for (std::uint32_t k = 0; k < s.network.n; ++k) {
    std::vector<double> samples;
    for (const auto& t : trials) {
      REQUIRE(t.source_user.size() == s.network.n);
      CHECK(t.source_user[k] == k);
      samples.push_back(t.source_mean[k]);
    }
    const auto sum = analysis::summarize(samples, testing::agreement_level);
    INFO("source " << k << ": simulated " << sum.mean << " +- " << *sum.ci_half_width << ", exact " << exact[k]);
    CHECK(*sum.ci_half_width < 0.05 * exact[k]);
    CHECK(std::abs(sum.mean - exact[k]) <= *sum.ci_half_width);
  }
}

}  // namespace

TEST_CASE("per-user rates from a users file: every source's staleness matches the all-subsets recursion",
          "[heterogeneous][sim][theory]") {
  for (const auto mode : {sim::GossipMode::push, sim::GossipMode::pull, sim::GossipMode::exchange}) {
    INFO("mode " << sim::to_string(mode));
    require_every_source_agrees(eight_users(mode));
  }
}

TEST_CASE("drawn laws and renewal delays: every source matches the recursion with r_k = 1/(c_k + 1/mu_k)",
          "[heterogeneous][sim][theory]") {
  sim::Scenario s = experiments::load_scenario(
      std::nullopt, {"network.n=7", R"(updates.rate={ dist = "lognormal", median = 1, sigma = 0.6 })",
                     R"(updates.delay={ dist = "uniform", low = 0, high = 1 })",
                     R"(gossip.capacity={ dist = "two-point", value = 1.5, slow_value = 0.3, slow_fraction = 0.3 })"});
  s.run.trials = 16;
  s.run.horizon = 10000;
  s.run.seed = 7;
  const sim::UserClocks c = sim::user_clocks(s);
  CHECK(c.renewal());
  // The laws were drawn: the values differ from user to user.
  CHECK(*std::max_element(c.update_rate.begin(), c.update_rate.end()) >
        *std::min_element(c.update_rate.begin(), c.update_rate.end()));
  require_every_source_agrees(s);
}

TEST_CASE("per-user values are drawn once per run: the same in every trial, different across seeds",
          "[heterogeneous][sim]") {
  sim::Scenario s = experiments::load_scenario(std::nullopt, {"network.n=50", R"(updates.rate={ dist = "uniform", low = 0.5, high = 1.5 })"});
  const auto a = sim::user_clocks(s);
  CHECK(a.update_rate == sim::user_clocks(s).update_rate);
  for (double x : a.update_rate) CHECK((x >= 0.5 && x <= 1.5));
  s.run.seed = 2;
  CHECK(a.update_rate != sim::user_clocks(s).update_rate);
  // Each key has its own stream: adding a capacity law leaves the rates unchanged.
  s.run.seed = 1;
  experiments::apply_setting(s, R"(gossip.capacity={ dist = "lognormal", median = 1, sigma = 0.5 })");
  CHECK(a.update_rate == sim::user_clocks(s).update_rate);
}

TEST_CASE("results with per-user clocks are identical for every thread count", "[heterogeneous][determinism]") {
  sim::Scenario s = eight_users(sim::GossipMode::exchange);
  s.run.horizon = 300;
  s.run.trials = 6;
  const auto graph = sim::scenario_graph(s);
  const auto one = sim::run_trials(s, graph, 1), two = sim::run_trials(s, graph, 2);
  for (std::size_t t = 0; t < one.size(); ++t) {
    CHECK(one[t].mean_staleness == two[t].mean_staleness);
    CHECK(one[t].source_mean == two[t].source_mean);
  }
}

TEST_CASE("at n = 1000 with log-normal rates every tracked source stays below r_k H_(n-1) / min_j lambda_j",
          "[heterogeneous][sim][theory]") {
  sim::Scenario s = experiments::load_scenario(
      std::nullopt, {"network.n=1000", "staleness.tracked=12", "run.trials=4", "run.horizon=150", "run.warmup=50",
                     R"(updates.rate={ dist = "lognormal", median = 1, sigma = 0.5 })",
                     R"(gossip.capacity={ dist = "lognormal", median = 1, sigma = 0.5 })"});
  const sim::UserClocks c = sim::user_clocks(s);
  const auto trials = sim::run_trials(s, sim::scenario_graph(s), 0);
  const double h = theory::harmonic(999);
  for (std::size_t slot = 0; slot < 12; ++slot) {
    std::vector<double> samples;
    for (const auto& t : trials) samples.push_back(t.source_mean[slot]);
    const auto sum = analysis::summarize(samples, testing::agreement_level);
    const std::uint32_t k = trials[0].source_user[slot];
    const double bound = c.long_run_rate(k) * h / c.min_gossip_rate();
    INFO("source " << k << ": " << sum.mean << " +- " << *sum.ci_half_width << ", bound " << bound);
    CHECK(sum.mean + *sum.ci_half_width < bound);
  }
}

TEST_CASE("power capacity scaling: lambda = kappa n^a, and the staleness is r H_(n-1) / (kappa n^a)",
          "[heterogeneous][theory][sim]") {
  CHECK(theory::scaling_factor(theory::Scaling::power, 64, 0.5) == Approx(8.0).epsilon(1e-15));
  CHECK(theory::scaling_factor(theory::Scaling::power, 64, 0.0) == 1.0);
  CHECK(theory::gossip_capacity(2.0, theory::Scaling::power, 100, 1.0) == Approx(200.0));
  CHECK_THROWS_AS(theory::scaling_factor(theory::Scaling::power, 64, 2.5), std::invalid_argument);
  sim::Scenario s = experiments::load_scenario(std::nullopt, {"network.n=64", "gossip.scaling=power", "gossip.exponent=0.5",
                                                              "run.trials=16", "run.horizon=3000", "run.seed=3"});
  testing::require_agreement(sim::run_trials(s, sim::scenario_graph(s), 0), theory::harmonic(63) / 8.0, 0.02);
}

TEST_CASE("quadratic learning on per-user clocks matches the stationary moment equations (docs/model.md §6.3)",
          "[heterogeneous][quadratic][theory]") {
  sim::Scenario s = eight_users(sim::GossipMode::push);
  experiments::apply_setting(s, "model.kind=quadratic");
  experiments::apply_setting(s, "data.spread=1");
  experiments::apply_setting(s, "data.features=3");
  experiments::apply_setting(s, "train.lr=0.5");
  s.learning.observe.every = 500;
  s.run.horizon = 3000;
  const auto problem = sim::make_quadratic_problem(s);
  const sim::UserClocks c = sim::user_clocks(s);
  // Contact rates written out from the model: user i's clock picks each other user at lambda_i/(n-1).
  Eigen::MatrixXd contact = Eigen::MatrixXd::Zero(8, 8);
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j)
      if (i != j) contact(i, j) = c.gossip_rate[static_cast<std::size_t>(i)] / 7.0;
  double error = 0.0, consensus = 0.0;
  for (std::uint32_t k = 0; k < problem.dimension; ++k) {
    std::vector<double> optima;
    for (std::uint32_t i = 0; i < 8; ++i) optima.push_back(problem.optimum(i)[k]);
    const auto m = theory::quadratic_stationary_general(contact, c.update_rate, 0.5, theory::QuadraticMixing::push, optima);
    error += m.error;
    consensus += m.consensus;
  }
  const auto trials = sim::run_learning_trials(s, sim::scenario_graph(s), sim::prepare_learning(s), 0);
  std::vector<double> errors, consensuses;
  for (const auto& t : trials) {
    REQUIRE(t.stationary);
    errors.push_back(t.stationary->error);
    consensuses.push_back(t.stationary->consensus);
  }
  const auto e = analysis::summarize(errors, testing::agreement_level);
  const auto k = analysis::summarize(consensuses, testing::agreement_level);
  INFO("error " << e.mean << " +- " << *e.ci_half_width << " (exact " << error << "), consensus " << k.mean << " +- "
                << *k.ci_half_width << " (exact " << consensus << ")");
  CHECK(std::abs(e.mean - error) <= *e.ci_half_width);
  CHECK(std::abs(k.mean - consensus) <= *k.ci_half_width);
  CHECK(*e.ci_half_width < 0.02 * error);
}

using testing::refused;

TEST_CASE("bad per-user input exits 2 with one line naming the key or the file and line", "[heterogeneous][robustness]") {
  const fs::path dir = scratch("bad");
  const auto write = [&](const std::string& name, const std::string& body) {
    std::ofstream(dir / name) << body;
    return (dir / name).string();
  };
  const std::string good = write("good.csv", "update_rate\n1\n2\n3\n");
  refused(testing::run_timely({"theory", "--set", "network.n=4", "--set", "users.file=" + good}),
          "users.file: '" + good + "' has 3 user rows, expected one per user (network.n = 4)");
  const std::string cell = write("cell.csv", "update_rate,gossip_capacity\n1,1\n2,fast\n");
  refused(testing::run_timely({"simulate", "--set", "network.n=2", "--set", "users.file=" + cell}), cell + ":3: expected a number, got 'fast'");
  const std::string negative = write("negative.csv", "gossip_capacity\n1\n-2\n");
  refused(testing::run_timely({"simulate", "--set", "network.n=2", "--set", "users.file=" + negative}), negative + ":3: expected a rate");
  const std::string column = write("column.csv", "update_rate,speed\n1,1\n");
  refused(testing::run_timely({"simulate", "--set", "users.file=" + column}), "unknown column 'speed'");
  const std::string ragged = write("ragged.csv", "update_rate,update_delay\n1,0\n2\n");
  refused(testing::run_timely({"simulate", "--set", "users.file=" + ragged}), ragged + ":3: expected 2 cells");
  refused(testing::run_timely({"simulate", "--set", "users.file=" + (dir / "missing.csv").string()}), "users.file: cannot open");
  refused(testing::run_timely({"simulate", "--set", R"(updates.rate={ dist = "gamma", shape = 2 })"}),
          "updates.rate: unknown distribution \"gamma\"");
  refused(testing::run_timely({"simulate", "--set", R"(gossip.capacity={ dist = "uniform", low = -1, high = 2 })"}),
          "gossip.capacity: low of the uniform distribution");
  refused(testing::run_timely({"simulate", "--set", R"(updates.rate={ dist = "lognormal", median = 1 })"}),
          "updates.rate: the lognormal distribution needs median, sigma");
  refused(testing::run_timely({"simulate", "--set", R"(updates.delay={ dist = "two-point", value = 1, slow_value = 2, slow_fraction = 1.5 })"}),
          "updates.delay: slow_fraction of the two-point distribution");
  refused(testing::run_timely({"simulate", "--set", "updates.rate=-1"}), "updates.rate: expected a number in [1e-9, 1e9]");
  refused(testing::run_timely({"simulate", "--set", "gossip.exponent=2.5"}), "gossip.exponent: expected a number in [-1, 2]");
  refused(testing::run_timely({"simulate", "--set", "gossip.scaling=cubic"}), "gossip.scaling: expected one of");
  refused(testing::run_timely({"simulate", "--set", "network.n=3", "--set", "users.file=" + good, "--set",
                               R"(updates.rate={ dist = "uniform", low = 1, high = 2 })"}),
          "updates.rate: a distribution and users.file column update_rate both give it");
  refused(testing::run_timely({"simulate", "--set", "staleness.model=source", "--set", R"(updates.rate={ dist = "uniform", low = 1, high = 2 })"}),
          "per-user clocks need staleness.model = \"users\"");
  // A byte-order mark, CRLF line ends, blank lines and spaces around cells are accepted.
  const std::string excel = write("excel.csv", "\xEF\xBB\xBF\r\n update_rate , gossip_capacity\r\n\r\n 1 , 2 \r\n3,4\r\n");
  const auto read = sim::read_users_file(excel);
  CHECK(read->rows == 2);
  CHECK(read->update_rate == std::vector<double>{1.0, 3.0});
  CHECK(read->gossip_capacity == std::vector<double>{2.0, 4.0});
  // A relative users.file in a scenario file is relative to that file.
  std::ofstream(dir / "scenario.toml") << "[network]\nn = 3\n[users]\nfile = \"good.csv\"\n";
  const auto ok = testing::run_timely({"theory", (dir / "scenario.toml").string()});
  INFO(ok.err);
  CHECK(ok.status == 0);
}
