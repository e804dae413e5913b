// The quadratic model (model.kind = "quadratic", sim/quadratic.hpp, docs/model.md §6): its exact
// stationary time averages against a deliberately naive reference simulation, determinism,
// divergence and the refusal of what it does not support.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "analysis/statistics.hpp"
#include "tests/run_cli.hpp"
#include "sim/learning.hpp"
#include "sim/quadratic.hpp"
#include "sim/trials.hpp"
#include "tests/statistical.hpp"
#include "theory/quadratic.hpp"
#include "tests/quadratic_problem.hpp"

using namespace timely;

namespace {

sim::Scenario quadratic(std::uint32_t n, sim::GossipMode mode) {
  sim::Scenario s;
  s.network.n = n;
  s.gossip.mode = mode;
  tests::use_small_quadratic(s);
  s.learning.observe.every = 10.0;
  s.run.horizon = 200.0;
  s.run.warmup = 20.0;
  s.run.trials = 256;
  s.run.seed = 7;
  return s;
}

struct Errors {
  double error = 0.0, worst = 0.0, consensus = 0.0;
};

// The metrics of the state x (user-major) from scratch, by their definitions.
Errors metrics(const std::vector<std::vector<double>>& x, const sim::QuadraticProblem& p) {
  const std::size_t n = x.size(), d = p.dimension;
  std::vector<double> mean(d, 0.0);
  for (const auto& xi : x)
    for (std::size_t k = 0; k < d; ++k) mean[k] += xi[k] / static_cast<double>(n);
  Errors m;
  for (const auto& xi : x) {
    double e = 0.0, c = 0.0;
    for (std::size_t k = 0; k < d; ++k) {
      e += (xi[k] - p.mean[k]) * (xi[k] - p.mean[k]);
      c += (xi[k] - mean[k]) * (xi[k] - mean[k]);
    }
    m.error += e / static_cast<double>(n);
    m.consensus += c / static_cast<double>(n);
    m.worst = std::max(m.worst, e);
  }
  return m;
}

// A deliberately naive simulation of the same process, sharing nothing with the engine but
// the optima: its own random engine, every event drawn by superposition of all 2n Poisson
// clocks, every metric recomputed from scratch after every event and integrated over the
// window. Complete graph or ring, Poisson updates, average mixing.
Errors naive_trial(const sim::Scenario& s, const sim::QuadraticProblem& p, bool ring, std::uint64_t seed) {
  const std::size_t n = s.network.n, d = p.dimension;
  const double mu = s.updates.rate, lambda = s.gossip_rate();
  const double rho = std::pow(1.0 - s.learning.train.lr, s.learning.train.steps);
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(static_cast<double>(n) * (mu + lambda));
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const auto user = [&](std::size_t count) { return std::min(count - 1, static_cast<std::size_t>(uniform(rng) * count)); };
  std::vector<std::vector<double>> x(n, std::vector<double>(d, 0.0));
  Errors now = metrics(x, p), integral;
  const double warmup = s.run.warmup, horizon = s.run.horizon;
  for (double t = 0.0;;) {
    const double next = t + gap(rng);
    const double lo = std::max(t, warmup), hi = std::min(next, horizon);
    if (hi > lo) {
      integral.error += now.error * (hi - lo);
      integral.worst += now.worst * (hi - lo);
      integral.consensus += now.consensus * (hi - lo);
    }
    if (next > horizon) break;
    t = next;
    if (uniform(rng) < mu / (mu + lambda)) {
      const std::size_t i = user(n);
      for (std::size_t k = 0; k < d; ++k) x[i][k] = rho * x[i][k] + (1.0 - rho) * p.optimum(static_cast<std::uint32_t>(i))[k];
    } else {
      const std::size_t i = user(n);
      std::size_t j;
      if (ring) {
        j = uniform(rng) < 0.5 ? (i + 1) % n : (i + n - 1) % n;
      } else {
        j = user(n - 1);
        if (j >= i) ++j;
      }
      for (std::size_t k = 0; k < d; ++k) {
        const double average = (x[i][k] + x[j][k]) / 2.0;
        if (s.gossip.mode != sim::GossipMode::push) x[i][k] = average;
        if (s.gossip.mode != sim::GossipMode::pull) x[j][k] = average;
      }
    }
    now = metrics(x, p);
  }
  const double length = horizon - warmup;
  return {integral.error / length, integral.worst / length, integral.consensus / length};
}

analysis::Summary summary(const std::vector<double>& xs) { return analysis::summarize(xs, testing::agreement_level); }

// Two independent estimates agree when their difference lies within the combined 99.9%
// half-width; each must also be precise enough (relative half-width) for the test to have power.
void require_same(const char* what, const std::vector<double>& engine, const std::vector<double>& reference) {
  const auto a = summary(engine), b = summary(reference);
  const double combined = std::hypot(*a.ci_half_width, *b.ci_half_width);
  INFO(what << ": engine " << a.mean << " +- " << *a.ci_half_width << ", reference " << b.mean << " +- "
            << *b.ci_half_width << " (99.9% CIs)");
  CHECK(*a.ci_half_width < 0.1 * a.mean);
  CHECK(std::abs(a.mean - b.mean) <= combined);
}

std::vector<sim::LearningTrialResult> run(const sim::Scenario& s, unsigned threads = 0) {
  const auto data = sim::prepare_learning(s);
  return sim::run_learning_trials(s, sim::scenario_graph(s), data, threads);
}

}  // namespace

TEST_CASE("quadratic: the optima are drawn once per run, N(0, spread^2 I), and zeta^2 is their spread", "[quadratic]") {
  sim::Scenario s = quadratic(2000, sim::GossipMode::push);
  s.learning.data.features = 10;
  s.learning.data.spread = 2.0;
  const sim::QuadraticProblem p = sim::make_quadratic_problem(s);
  REQUIRE(p.optima.size() == 20000);
  double sum = 0.0, squares = 0.0;
  for (double a : p.optima) {
    sum += a;
    squares += a * a;
  }
  const double m = sum / 20000.0, variance = squares / 20000.0 - m * m;
  CHECK(std::abs(m) < 4.0 * 2.0 / std::sqrt(20000.0));
  CHECK(variance == Approx(4.0).epsilon(0.05));
  double zeta = 0.0;
  for (std::uint32_t i = 0; i < p.users; ++i)
    for (std::uint32_t k = 0; k < p.dimension; ++k) zeta += std::pow(p.optimum(i)[k] - p.mean[k], 2) / p.users;
  CHECK(p.heterogeneity == Approx(zeta).epsilon(1e-12));
  // The same run draws the same optima; data.spread scales the same directions.
  const sim::QuadraticProblem again = sim::make_quadratic_problem(s);
  CHECK(again.optima == p.optima);
  s.learning.data.spread = 1.0;
  CHECK(sim::make_quadratic_problem(s).optima[7] == Approx(p.optima[7] / 2.0).epsilon(1e-15));
}

TEST_CASE("quadratic: exact stationary averages agree with a naive reference simulation", "[quadratic]") {
  struct Case {
    sim::GossipMode mode;
    bool ring;
  };
  for (const Case c : {Case{sim::GossipMode::push, false}, Case{sim::GossipMode::pull, false},
                       Case{sim::GossipMode::exchange, false}, Case{sim::GossipMode::push, true}}) {
    sim::Scenario s = quadratic(8, c.mode);
    if (c.ring) s.network.topology = sim::TopologyKind::ring;
    INFO("mode " << sim::to_string(c.mode) << (c.ring ? ", ring" : ", complete graph"));
    const auto results = run(s);
    const sim::QuadraticProblem p = sim::make_quadratic_problem(s);
    std::vector<double> error, worst, consensus, ref_error, ref_worst, ref_consensus;
    for (const auto& r : results) {
      REQUIRE(r.stationary);
      REQUIRE(!r.diverged_at);
      CHECK(*r.heterogeneity == p.heterogeneity);  // one draw shared by every trial
      // Pathwise: the mean error is at least the consensus distance and at most the worst.
      CHECK(r.stationary->consensus <= r.stationary->error * (1 + 1e-12));
      CHECK(r.stationary->error <= r.stationary->worst_error * (1 + 1e-12));
      error.push_back(r.stationary->error);
      worst.push_back(r.stationary->worst_error);
      consensus.push_back(r.stationary->consensus);
    }
    for (std::uint64_t t = 0; t < s.run.trials; ++t) {
      const Errors e = naive_trial(s, p, c.ring, 1000 + t);
      ref_error.push_back(e.error);
      ref_worst.push_back(e.worst);
      ref_consensus.push_back(e.consensus);
    }
    require_same("error", error, ref_error);
    require_same("worst_error", worst, ref_worst);
    require_same("consensus", consensus, ref_consensus);
  }
}

TEST_CASE("quadratic: observations are the definitions' values at the grid times", "[quadratic]") {
  sim::Scenario s = quadratic(8, sim::GossipMode::exchange);
  s.run.trials = 2;
  s.learning.target_distance = 0.5;
  s.learning.target_loss = 0.01;
  const auto results = run(s);
  const sim::QuadraticProblem p = sim::make_quadratic_problem(s);
  for (const auto& r : results) {
    REQUIRE(r.observations.size() == 21);  // 0, 10, ..., 200
    const sim::Observation& first = r.observations.front();
    double start = 0.0;
    for (double m : p.mean) start += m * m;
    // Every user starts at 0.
    CHECK(first[sim::metric::user_error] == Approx(start));
    CHECK(first[sim::metric::worst_user_error] == Approx(start));
    CHECK(first.at(sim::metric::consensus_distance) == Approx(0.0).margin(1e-15));
    CHECK(first[sim::metric::distance_to_optimum] == Approx(1.0));
    CHECK(first.at(sim::metric::loss) == Approx(start / 2));
    CHECK(first.at(sim::metric::train_loss) == Approx((start + p.heterogeneity) / 2));
    // Times to target: the first grid times at which the distance and the loss reach them.
    std::optional<double> distance, loss;
    for (const auto& o : r.observations) {
      if (!distance && *o[sim::metric::distance_to_optimum] <= 0.5) distance = o.time;
      if (!loss && o.at(sim::metric::loss) <= 0.01) loss = o.time;
    }
    REQUIRE(distance);
    REQUIRE(loss);
    CHECK(r.time_to_distance == distance);
    CHECK(r.time_to_loss == loss);
    for (const auto& o : r.observations) {
      CHECK(*o[sim::metric::user_error] == Approx(2 * o.at(sim::metric::user_loss)));
      CHECK(*o[sim::metric::worst_user_error] == Approx(2 * o.at(sim::metric::worst_user_loss)));
      CHECK(*o[sim::metric::user_error] >= o.at(sim::metric::consensus_distance) - 1e-12);
      CHECK(*o[sim::metric::worst_user_error] >= *o[sim::metric::user_error] - 1e-12);
      CHECK(o.at(sim::metric::consensus_distance) == Approx(*o[sim::metric::user_error] - 2 * o.at(sim::metric::loss)).margin(1e-12));
    }
  }
}

TEST_CASE("quadratic: same seed, same results for 1 and 2 threads, Poisson and renewal clocks", "[quadratic]") {
  for (const double delay : {0.0, 0.5}) {
    sim::Scenario s = quadratic(16, sim::GossipMode::exchange);
    s.network.topology = sim::TopologyKind::ring;
    s.updates.delay = delay;
    s.run.trials = 4;
    s.run.horizon = 50.0;
    s.run.warmup = 5.0;
    const auto one = run(s, 1), two = run(s, 2);
    REQUIRE(one.size() == two.size());
    for (std::size_t t = 0; t < one.size(); ++t) {
      REQUIRE(one[t].stationary);
      CHECK(one[t].stationary->error == two[t].stationary->error);
      CHECK(one[t].stationary->worst_error == two[t].stationary->worst_error);
      CHECK(one[t].stationary->consensus == two[t].stationary->consensus);
      CHECK(one[t].staleness.mean_staleness == two[t].staleness.mean_staleness);
      CHECK(one[t].local_updates == two[t].local_updates);
      REQUIRE(one[t].observations.size() == two[t].observations.size());
      for (std::size_t k = 0; k < one[t].observations.size(); ++k)
        CHECK(*one[t].observations[k][sim::metric::user_error] == *two[t].observations[k][sim::metric::user_error]);
    }
    CHECK(one[0].stationary->error != one[1].stationary->error);  // trials are independent
  }
}

TEST_CASE("quadratic: |rho| > 1 diverges: reported as diverged, never as a number", "[quadratic]") {
  sim::Scenario s = quadratic(16, sim::GossipMode::push);
  s.learning.train.lr = 3.0;  // rho = (1 - 3)^5 = -32
  s.learning.train.steps = 5;
  s.run.trials = 3;
  s.run.horizon = 100.0;
  const auto diverged = run(s);
  sim::Scenario finite = s;
  finite.learning.train.lr = 0.1;
  const auto reference = run(finite);
  for (std::size_t t = 0; t < diverged.size(); ++t) {
    const auto& r = diverged[t];
    REQUIRE(r.diverged_at);
    CHECK(*r.diverged_at < s.run.horizon);
    CHECK(!r.stationary);
    for (const auto& o : r.observations) {
      CHECK(o.time < *r.diverged_at);
      CHECK(std::isfinite(o.at(sim::metric::loss)));
      CHECK(std::isfinite(*o[sim::metric::user_error]));
      CHECK(std::isfinite(*o[sim::metric::worst_user_error]));
      CHECK(std::isfinite(o.at(sim::metric::consensus_distance)));
    }
    // The clocks run to the horizon regardless: the staleness is that of a finite run.
    CHECK(r.staleness.mean_staleness == reference[t].staleness.mean_staleness);
    CHECK(r.local_updates == reference[t].local_updates);
  }
  const auto o = testing::run_timely({"simulate", "--json", "--set", "model.kind=quadratic", "--set", "train.lr=3",
                                      "--set", "train.steps=5", "--set", "network.n=16", "--set", "run.horizon=100", "--set", "data.spread=1",
                                      "--set", "run.warmup=10", "--set", "run.trials=2"});
  INFO(o.err);
  REQUIRE(o.status == 0);
  CHECK(o.out.find("nan") == std::string::npos);
  CHECK(o.out.find("inf") == std::string::npos);
  const auto j = nlohmann::json::parse(o.out);
  CHECK(j["learning"]["status"] == "diverged");
  CHECK(!j["learning"].contains("stationary"));
  CHECK(j["learning"]["diverged"]["trials"] == 2);
}

TEST_CASE("quadratic: simulate --json reports the stationary block and the heterogeneity", "[quadratic][cli]") {
  const auto o = testing::run_timely({"simulate", "--json", "--set", "model.kind=quadratic", "--set", "data.spread=2",
                                      "--set", "data.features=4", "--set", "network.n=10", "--set", "run.horizon=60",
                                      "--set", "run.warmup=10", "--set", "run.trials=3", "--set", "train.lr=0.2",
                                      "--set", "data.source=fashion-mnist", "--set", "data.dir=/nonexistent",
                                      "--set", "target.distance=0.5"});
  INFO(o.err);
  REQUIRE(o.status == 0);  // data.source and data.dir are ignored: no data set is read
  const auto j = nlohmann::json::parse(o.out);
  const auto& l = j["learning"];
  CHECK(l["status"] == "completed");
  CHECK(l["heterogeneity"].get<double>() > 0.0);
  for (const char* field : {"error", "worst_error", "consensus_distance"}) {
    INFO(field);
    CHECK(l["stationary"][field]["mean"].get<double>() > 0.0);
    CHECK(l["stationary"][field]["ci95"].get<double>() > 0.0);
  }
  CHECK(l["shards"].is_null());
  CHECK(l["final"]["test_accuracy"].is_null());
  const auto text = testing::run_timely({"simulate", "--set", "model.kind=quadratic", "--set", "network.n=10",
                                         "--set", "run.horizon=30", "--set", "run.warmup=5", "--set", "run.trials=2"});
  REQUIRE(text.status == 0);
  CHECK(text.out.find("stationary over [5, 30]") != std::string::npos);
  CHECK(text.out.find("heterogeneity zeta^2") != std::string::npos);
}

TEST_CASE("quadratic: what it does not support is refused with exit 2", "[quadratic][cli]") {
  const auto refused = [](std::vector<std::string> sets, const std::string& needle) {
    std::vector<std::string> args{"simulate", "--set", "model.kind=quadratic", "--set", "network.n=8",
                                  "--set", "run.horizon=10", "--set", "run.warmup=1", "--set", "run.trials=1"};
    for (auto& set : sets) {
      args.push_back("--set");
      args.push_back(set);
    }
    const auto o = testing::run_timely(args);
    INFO(o.err);
    CHECK(o.status == 2);
    CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
    CHECK(o.err.find(needle) != std::string::npos);
  };
  refused({"mixing.rule=age-weighted"}, "mixing.rule: model.kind = \"quadratic\" accepts \"average\" (or \"fedavg\"");
  refused({"mixing.rule=variance-corrected"}, "mixing.rule");
  refused({"train.momentum=0.5"}, "train.momentum");
  refused({"learning.protocol=fedavg", "mixing.fedavg_variance_correction=true"}, "mixing.fedavg_variance_correction");
  // Absurd sizes: too much work, or models that cannot fit in memory.
  refused({"network.n=1000000", "staleness.tracked=1", "data.features=100000", "run.horizon=1000"},
          "data.features, network.n, run.horizon, run.trials, observe.every: the quadratic model would take");
  refused({"network.n=10000000", "staleness.tracked=1", "data.features=100", "run.horizon=0.001", "run.warmup=0",
           "observe.every=1"},
          "10000000 users in 100 dimensions need");
}

TEST_CASE("quadratic: simulation agrees with the exact stationary theory (complete graph)", "[quadratic][theory]") {
  // Poisson updates (mu = 1), gossip lambda = 1, average mixing: the stationary mean error and
  // consensus distance, divided by the realized zeta^2, are exact constants (theory/quadratic.hpp,
  // docs/model.md §6). The transient dies at rate about mu (1 - rho^2) >= 0.19 and the gossip
  // rate, so after a warm-up of 60 it is below e^-11 of its start.
  std::uint64_t seed = 100;
  for (const std::uint32_t n : {8u, 64u})
    for (const double lr : {0.1, 0.3})
      for (const auto mode : {sim::GossipMode::push, sim::GossipMode::pull, sim::GossipMode::exchange}) {
        sim::Scenario s = quadratic(n, mode);
        s.learning.data.features = 4;
        s.learning.train.lr = lr;
        s.learning.train.steps = lr == 0.1 ? 1 : 2;  // rho = 0.9 and 0.49
        s.staleness.tracked = 1;                      // staleness is not under test: keep it cheap
        s.run.warmup = 60.0;
        s.run.horizon = n == 8 ? 2060.0 : 310.0;
        s.run.trials = 24;
        s.run.seed = ++seed;  // independent cases
        const double rho = sim::quadratic_contraction(s.learning.train.lr, s.learning.train.steps);
        const auto mixing = mode == sim::GossipMode::push   ? theory::QuadraticMixing::push
                            : mode == sim::GossipMode::pull ? theory::QuadraticMixing::pull
                                                            : theory::QuadraticMixing::exchange;
        const auto exact = theory::quadratic_stationary_complete(n, s.updates.rate, s.gossip_rate(), rho, mixing);
        const auto results = run(s);
        std::vector<double> error, consensus;
        for (const auto& r : results) {
          REQUIRE(r.stationary);
          error.push_back(r.stationary->error / *r.heterogeneity);
          consensus.push_back(r.stationary->consensus / *r.heterogeneity);
        }
        const auto e = summary(error), c = summary(consensus);
        INFO("n = " << n << ", rho = " << rho << ", " << sim::to_string(mode) << ": error / zeta^2 " << e.mean << " +- "
                    << *e.ci_half_width << " (theory " << exact.error << "), consensus / zeta^2 " << c.mean << " +- "
                    << *c.ci_half_width << " (theory " << exact.consensus << ") (99.9% CIs)");
        CHECK(*e.ci_half_width < 0.05 * exact.error);
        CHECK(std::abs(e.mean - exact.error) <= *e.ci_half_width);
        CHECK(std::abs(c.mean - exact.consensus) <= *c.ci_half_width);
      }
}
