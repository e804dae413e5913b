// Markov churn (docs/model.md §7.3): users alternate exponential online and offline periods,
// starting stationary. The naive reference simulator (tests/network_reference.hpp) is checked
// against the exact availability a = online/(online + offline); then the engine is compared
// with it on the mean staleness, the online staleness, the availability (also against a) and
// the message counts, each within 99.9% confidence intervals.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "tests/network_reference.hpp"
#include "sim/trials.hpp"

using namespace timely;
using test::RefConfig;
using test::RefResult;

namespace {

sim::Scenario churn_scenario(std::uint32_t n, sim::TopologyKind topology, sim::GossipMode mode, double online,
                             double offline, bool offline_updates) {
  sim::Scenario s;
  s.network.n = n;
  s.network.topology = topology;
  s.gossip.mode = mode;
  s.churn.model = sim::ChurnModel::markov;
  s.churn.online_mean = online;
  s.churn.offline_mean = offline;
  s.churn.offline_updates = offline_updates;
  s.run.trials = 32;
  s.run.horizon = 6000;
  s.run.warmup = 100;
  s.run.seed = 20261202;
  return s;
}

// Both simulators on the same scenario: every reported quantity within the combined CI,
// and the availability of each against its exact expectation.
void require_engine_matches_reference(const sim::Scenario& s, std::uint64_t reference_seed) {
  const auto engine = sim::run_trials(s, sim::scenario_graph(s), 0);
  const auto reference = test::run_reference_trials(test::reference_config(s), s.run.trials, reference_seed);
  for (const auto& t : engine) {
    REQUIRE(t.availability.has_value());
    REQUIRE(t.availability->mean_staleness_online.has_value());
    REQUIRE(t.communication.has_value());
  }
  const double a = s.churn.online_mean / (s.churn.online_mean + s.churn.offline_mean);
  const double per = s.network.n * s.run.horizon;

  test::require_same_mean("mean staleness", test::column(engine, [](const sim::TrialResult& r) { return r.mean_staleness; }),
                          test::column(reference, [](const RefResult& r) { return r.mean_staleness; }), 0.03);
  test::require_same_mean("online staleness",
                          test::column(engine, [](const sim::TrialResult& r) { return *r.availability->mean_staleness_online; }),
                          test::column(reference, [](const RefResult& r) { return r.mean_staleness_online; }), 0.03);
  const auto engine_availability = test::column(engine, [](const sim::TrialResult& r) { return r.availability->online_fraction; });
  const auto reference_availability = test::column(reference, [](const RefResult& r) { return r.availability; });
  test::require_same_mean("availability", engine_availability, reference_availability, 0.02);
  test::require_near_exact("engine availability", engine_availability, a, 0.02);
  test::require_near_exact("reference availability", reference_availability, a, 0.02);
  test::require_same_mean("messages sent per user per unit time",
                          test::column(engine, [&](const sim::TrialResult& r) { return r.communication->messages_sent / per; }),
                          test::column(reference, [&](const RefResult& r) { return r.messages_sent / per; }), 0.03);
  test::require_same_mean("messages lost per user per unit time",
                          test::column(engine, [&](const sim::TrialResult& r) { return r.communication->messages_lost / per; }),
                          test::column(reference, [&](const RefResult& r) { return r.messages_lost / per; }), 0.06);
  test::require_same_mean("gossip ticks of offline users per user per unit time",
                          test::column(engine, [&](const sim::TrialResult& r) { return r.communication->ticks_offline / per; }),
                          test::column(reference, [&](const RefResult& r) { return r.ticks_offline / per; }), 0.04);
}

}  // namespace

TEST_CASE("reference: Markov churn is stationary, availability online/(online + offline)", "[churn][reference]") {
  RefConfig c;
  c.n = 6;
  c.neighbours = test::ref_complete_graph(6);
  c.churn = true;
  c.warmup = 0;  // stationary from time 0: no warm-up needed
  c.horizon = 3000;
  for (const auto& [online, offline] : {std::pair{5.0, 2.0}, std::pair{1.0, 3.0}}) {
    c.online_mean = online;
    c.offline_mean = offline;
    const auto trials = test::run_reference_trials(c, 16, 5001);
    test::require_near_exact("availability", test::column(trials, [](const RefResult& r) { return r.availability; }),
                             online / (online + offline), 0.02);
    // Offline users' ticks: a Poisson clock of rate lambda = 1 while offline.
    test::require_near_exact("offline ticks per user per unit time",
                             test::column(trials, [&](const RefResult& r) { return r.ticks_offline / (6.0 * c.horizon); }),
                             offline / (online + offline), 0.03);
  }
}

TEST_CASE("engine and reference agree under churn: complete graph, push, offline updates", "[churn]") {
  sim::Scenario s = churn_scenario(6, sim::TopologyKind::complete, sim::GossipMode::push, 5.0, 2.0, true);
  require_engine_matches_reference(s, 40001);
}

TEST_CASE("engine and reference agree under churn: complete graph, exchange, no offline updates", "[churn]") {
  sim::Scenario s = churn_scenario(6, sim::TopologyKind::complete, sim::GossipMode::exchange, 4.0, 4.0, false);
  require_engine_matches_reference(s, 41001);
}

TEST_CASE("engine and reference agree under churn: push with latency, bandwidth and a queue", "[churn]") {
  sim::Scenario s = churn_scenario(6, sim::TopologyKind::complete, sim::GossipMode::push, 3.0, 1.0, true);
  s.gossip.latency_law = sim::Distribution{sim::DistributionKind::exponential, 0.5};
  s.gossip.bandwidth = 64.0;  // 24 bytes: transfers of 0.375, some cut off by their sender going offline
  s.gossip.capacity = 1.5;
  require_engine_matches_reference(s, 42001);
}

TEST_CASE("engine and reference agree under churn: ring, pull, latency and loss, no offline updates", "[churn]") {
  sim::Scenario s = churn_scenario(8, sim::TopologyKind::ring, sim::GossipMode::pull, 6.0, 2.0, false);
  s.gossip.latency = 0.2;
  s.gossip.loss = 0.1;
  require_engine_matches_reference(s, 43001);
}
