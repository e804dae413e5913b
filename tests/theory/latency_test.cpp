// Exponential latency on the complete graph (docs/model.md §7.5): the first-passage chain
// against a closed form at n = 2 and the zero-latency limit, and the network layer's
// simulation against the chain within 99.9% CIs (push, with loss, with renewal updates).
#include <catch2/catch.hpp>

#include <cmath>

#include "sim/trials.hpp"
#include "tests/statistical.hpp"
#include "theory/harmonic.hpp"
#include "theory/latency.hpp"

using namespace timely;

namespace {

// n = 2: the observer learns at the first arrival of the source's messages, sent as a
// Poisson stream of rate lambda and delayed by Exp(L): P(T > t) = exp(-lambda (t - L (1 - e^{-t/L}))).
// Trapezoidal quadrature of the survival function, written out independently of the chain.
double two_users(double lambda, double latency) {
  const double h = 1e-4;
  double sum = 0.0;
  const auto survival = [&](double t) { return std::exp(-lambda * (t - latency * (1.0 - std::exp(-t / latency)))); };
  for (double t = 0.0; t < 60.0 / lambda + 40.0 * latency; t += h) sum += 0.5 * h * (survival(t) + survival(t + h));
  return sum;
}

sim::Scenario latency_scenario(std::uint32_t n, double mean_latency) {
  sim::Scenario s;
  s.network.n = n;
  s.gossip.latency_law = sim::Distribution{sim::DistributionKind::exponential, mean_latency};
  s.run.horizon = 4000;
  s.run.warmup = 100;
  s.run.trials = 16;
  s.run.seed = 20261127;
  return s;
}

}  // namespace

TEST_CASE("latency chain: n = 2 against the closed-form first arrival", "[latency-theory]") {
  for (const double latency : {0.1, 0.5, 2.0}) {
    for (const double lambda : {0.5, 1.0, 3.0}) {
      INFO("lambda " << lambda << ", latency " << latency);
      const auto chain = theory::users_staleness_push_exponential_latency(2, 1.0, lambda, latency);
      REQUIRE(chain);
      CHECK(*chain == Approx(two_users(lambda, latency)).epsilon(1e-7));
    }
  }
}

TEST_CASE("latency chain: vanishing latency gives r H_{n-1} / lambda", "[latency-theory]") {
  for (std::uint32_t n = 2; n <= theory::latency_exact_max_users; ++n) {
    const auto chain = theory::users_staleness_push_exponential_latency(n, 1.5, 2.0, 1e-7);
    REQUIRE(chain);
    CHECK(*chain == Approx(1.5 * theory::harmonic(n - 1) / 2.0).epsilon(1e-5));
  }
  // Latency only delays: the staleness grows with it, and loss p acts as capacity (1 - p).
  const auto a = theory::users_staleness_push_exponential_latency(5, 1.0, 1.0, 0.5);
  const auto b = theory::users_staleness_push_exponential_latency(5, 1.0, 1.0, 1.0);
  const auto lossy = theory::users_staleness_push_exponential_latency(5, 1.0, 1.0, 0.5, 0.3);
  const auto slower = theory::users_staleness_push_exponential_latency(5, 1.0, 0.7, 0.5);
  REQUIRE((a && b && lossy && slower));
  CHECK(*b > *a);
  CHECK(*lossy == Approx(*slower).epsilon(1e-12));
  CHECK_FALSE(theory::users_staleness_push_exponential_latency(theory::latency_exact_max_users + 1, 1.0, 1.0, 0.5));
}

TEST_CASE("network layer: exponential latency within the 99.9% CI of the exact chain", "[latency-theory][sim]") {
  SECTION("n = 6, mean latency 0.5") {
    const sim::Scenario s = latency_scenario(6, 0.5);
    const auto exact = theory::users_staleness_push_exponential_latency(6, 1.0, 1.0, 0.5);
    REQUIRE(exact);
    testing::require_agreement(sim::run_trials(s, sim::scenario_graph(s), 0), *exact, 0.02);
  }
  SECTION("n = 4, mean latency 2") {
    const sim::Scenario s = latency_scenario(4, 2.0);
    const auto exact = theory::users_staleness_push_exponential_latency(4, 1.0, 1.0, 2.0);
    REQUIRE(exact);
    testing::require_agreement(sim::run_trials(s, sim::scenario_graph(s), 0), *exact, 0.02);
  }
  SECTION("n = 5, mean latency 1, loss 0.3, update rate 2") {
    sim::Scenario s = latency_scenario(5, 1.0);
    s.gossip.loss = 0.3;
    s.updates.rate = 2.0;
    const auto exact = theory::users_staleness_push_exponential_latency(5, 2.0, 1.0, 1.0, 0.3);
    REQUIRE(exact);
    testing::require_agreement(sim::run_trials(s, sim::scenario_graph(s), 0), *exact, 0.02);
  }
  SECTION("n = 6, mean latency 0.3, renewal updates 0.5 + Exp(1), capacity 2") {
    sim::Scenario s = latency_scenario(6, 0.3);
    s.updates.delay = 0.5;
    s.gossip.capacity = 2.0;
    // Campbell's formula needs only the long-run update rate r = 1 / (c + 1/mu).
    const auto exact = theory::users_staleness_push_exponential_latency(6, s.update_rate(), 2.0, 0.3);
    REQUIRE(exact);
    testing::require_agreement(sim::run_trials(s, sim::scenario_graph(s), 0), *exact, 0.02);
  }
}
