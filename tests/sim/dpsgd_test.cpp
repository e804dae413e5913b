// D-PSGD (sim/dpsgd.hpp, docs/model.md §4.2): its mixing weights, its round timing, and its
// exact reduction to full-participation FedAvg on the complete graph.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include "experiments/scenario_checks.hpp"
#include "sim/choices.hpp"
#include "sim/dpsgd.hpp"
#include "sim/learning.hpp"
#include "sim/quadratic.hpp"
#include "sim/trial.hpp"
#include "sim/user_clocks.hpp"
#include "tests/quadratic_problem.hpp"

using namespace timely;

namespace {

sim::LearningTrialResult trial(const sim::Scenario& s) {
  return sim::run_learning_trial(s, sim::scenario_graph(s), sim::prepare_learning(s), 0);
}

sim::Scenario dpsgd_quadratic(std::uint32_t n, sim::TopologyKind topology) {
  sim::Scenario s = tests::small_quadratic("dpsgd", n);
  s.network.topology = topology;
  s.run.warmup = 0.0;
  return s;
}

}  // namespace

TEST_CASE("D-PSGD's Metropolis-Hastings weights are symmetric and doubly stochastic on an irregular graph",
          "[dpsgd]") {
  sim::Scenario s;
  s.network.n = 6;
  s.network.topology = sim::TopologyKind::star;
  const sim::Graph graph = sim::scenario_graph(s);
  const auto w = sim::Dpsgd::mixing_of(graph);
  std::map<std::pair<std::uint32_t, std::uint32_t>, double> entry;
  for (std::uint32_t i = 0; i < 6; ++i) {
    double row = 0.0;
    CHECK(w.users[w.offsets[i]] == i);  // itself first
    for (std::uint32_t k = w.offsets[i]; k < w.offsets[i + 1]; ++k) {
      row += w.weights[k];
      entry[{i, w.users[k]}] = w.weights[k];
      CHECK(w.weights[k] >= 0.0);
    }
    CHECK(row == Approx(1.0).epsilon(1e-15));
  }
  for (const auto& [ij, value] : entry) CHECK(entry.at({ij.second, ij.first}) == value);
  // The hub (degree 5) and a leaf (degree 1): w = 1/(1 + 5) each way; the leaf keeps 5/6.
  CHECK(entry.at({0, 1}) == Approx(1.0 / 6.0));
  CHECK(entry.at({1, 1}) == Approx(5.0 / 6.0));
  CHECK(entry.at({0, 0}) == Approx(1.0 / 6.0));
}

TEST_CASE("a D-PSGD round waits for the slowest update and the last transfer", "[dpsgd]") {
  // Updates of 1 + Exp(1e9), a ring (two neighbours each), transfers of D = bytes / bandwidth
  // one after the other, then the latency L: every round lasts 1 + 2 D + L (to 1e-6).
  sim::Scenario s = dpsgd_quadratic(10, sim::TopologyKind::ring);
  s.updates.delay = 1.0;
  s.updates.rate = 1e9;
  s.gossip.latency = 0.05;
  s.gossip.bandwidth = sim::quadratic_message_bytes(3) / 0.2;  // D = 0.2
  s.run.horizon = 100.0;
  experiments::validate(s);
  const auto r = trial(s);
  CHECK(r.rounds == static_cast<std::uint64_t>(std::floor(100.0 / (1.0 + 2 * 0.2 + 0.05))));
  CHECK(r.gossips == 20 * r.rounds);
  // Its counts: ten averagings of three models per round; each user sends two models a round.
  REQUIRE(r.round_counts);
  CHECK(r.round_counts->aggregations == 10 * r.rounds);
  CHECK(r.round_counts->models_aggregated == 30 * r.rounds);
  // Its messages, counted when they start: the 68 rounds that end by 98.6, and the 69th's,
  // whose two sends per user start at 99.6 and 99.8 (before the horizon; the round ends
  // after it). Each takes D + L from its start; the second of a user's two waits D for the
  // uplink.
  REQUIRE(r.rounds == 68);
  REQUIRE(r.staleness.communication);
  const sim::Communication& c = *r.staleness.communication;
  const double bytes = sim::quadratic_message_bytes(3);
  const std::uint64_t sends = 20 * (r.rounds + 1);
  CHECK(c.messages_sent == sends);
  CHECK(c.messages_delivered == sends);
  CHECK(c.messages_lost == 0);
  CHECK(c.requests_sent == 0);
  CHECK(c.bytes_sent == Approx(bytes * sends));
  CHECK(c.bytes_sent_per_user_max == Approx(2.0 * bytes * (r.rounds + 1)));
  CHECK(c.bytes_received_per_user_max == Approx(2.0 * bytes * (r.rounds + 1)));
  CHECK(c.latency_total == Approx(0.25 * sends));
  CHECK(c.queued == sends / 2);
  CHECK(c.queueing_delay == Approx(0.2 * sends / 2));
}

TEST_CASE("D-PSGD on the complete graph is full-participation FedAvg, round for round", "[dpsgd]") {
  // Metropolis-Hastings weights are 1/n on the complete graph: every user takes the mean of
  // all updated models, which is FedAvg's server model when every user starts from it.
  sim::Scenario s = dpsgd_quadratic(12, sim::TopologyKind::complete);
  s.updates.delay = 0.99;
  s.updates.rate = 1e9;
  s.run.horizon = 10.5;
  s.learning.observe.every = 10.5;
  sim::Scenario fedavg = s;
  fedavg.updates = {};
  fedavg.learning.protocol = *sim::learning_protocols().parse("fedavg");
  fedavg.learning.mixing.fedavg_fraction = 1.0;
  experiments::validate(s);
  const auto d = trial(s), f = trial(fedavg);
  REQUIRE(d.rounds == 10);
  REQUIRE(f.rounds == 10);
  for (const std::size_t metric : {sim::metric::user_error, sim::metric::distance_to_optimum, sim::metric::loss}) {
    INFO(sim::learning_metrics[metric].name);
    CHECK(*d.observations.back()[metric] == Approx(*f.observations.back()[metric]).epsilon(1e-12).margin(1e-15));
  }
  CHECK(*d.observations.back()[sim::metric::consensus_distance] == Approx(0.0).margin(1e-12));
}

TEST_CASE("D-PSGD refuses what its synchronous rounds cannot run, naming the key", "[dpsgd]") {
  sim::Scenario s = dpsgd_quadratic(10, sim::TopologyKind::ring);
  CHECK_NOTHROW(experiments::validate(s));
  s.gossip.loss = 0.1;
  CHECK_THROWS_WITH(experiments::validate(s), Catch::StartsWith("gossip.loss: learning.protocol = \"dpsgd\""));
  s.gossip.loss = 0.0;
  s.churn.model = sim::ChurnModel::markov;
  CHECK_THROWS_WITH(experiments::validate(s), Catch::StartsWith("churn.model: learning.protocol = \"dpsgd\""));
}

TEST_CASE("with latency and a finite uplink a FedAvg round lasts its clients' download, update and upload",
          "[dpsgd][protocols]") {
  // m = 4 clients, downloads one after another on the server's uplink (D each, then L), an
  // update of 1 + Exp(1e9), the upload (D, then L): the last client's round trip is
  // (m + 1) D + 2 L + 1, and rounds follow each other at once.
  sim::Scenario s = tests::small_quadratic("fedavg", 20);
  s.learning.mixing.fedavg_fraction = 0.2;
  s.updates.delay = 1.0;
  s.updates.rate = 1e9;
  s.gossip.latency = 0.05;
  s.gossip.bandwidth = sim::quadratic_message_bytes(3) / 0.1;  // D = 0.1
  s.run.warmup = 0.0;
  s.run.horizon = 100.0;
  experiments::validate(s);
  const auto r = trial(s);
  CHECK(r.rounds == static_cast<std::uint64_t>(std::floor(100.0 / (5 * 0.1 + 2 * 0.05 + 1.0))));
  CHECK(r.local_updates == 4 * r.rounds);
  // Its messages: 62 rounds end by 99.2; the 63rd's four downloads start at 99.2 to 99.5 and
  // its first upload at 99.2 + D + L + 1 > 100, so 8 per round and 4 more. The server (its
  // own node) sends the most: 4 per round; the i-th download waits i D for its uplink.
  REQUIRE(r.rounds == 62);
  REQUIRE(r.staleness.communication);
  const sim::Communication& c = *r.staleness.communication;
  const double bytes = sim::quadratic_message_bytes(3);
  CHECK(c.messages_sent == 8 * r.rounds + 4);
  CHECK(c.bytes_sent == Approx(bytes * (8 * r.rounds + 4)));
  CHECK(c.bytes_sent_per_user_max == Approx(4 * bytes * (r.rounds + 1)));
  CHECK(c.queued == 3 * (r.rounds + 1));
  CHECK(c.queueing_delay == Approx((0.1 + 0.2 + 0.3) * (r.rounds + 1)));
  CHECK(c.latency_total == Approx(0.15 * (8 * r.rounds + 4)));
}

TEST_CASE("per-user uplinks: each user's is drawn once per run, and a D-PSGD round waits for the slowest", "[dpsgd]") {
  // A two-point law: an uplink of 5 bytes per time unit per model byte, or a fifth of that
  // with probability 0.3. Over 2000 users the slow share lies in 0.3 +- 4 standard errors.
  sim::Scenario s = dpsgd_quadratic(2000, sim::TopologyKind::ring);
  const double bytes = sim::quadratic_message_bytes(3);
  s.gossip.bandwidth_law = sim::Distribution{sim::DistributionKind::two_point, 5 * bytes, bytes, 0.3};
  s.gossip.bandwidth = s.gossip.bandwidth_law->mean();
  const std::vector<double> d = sim::transfer_times(s, s.network.n + 1, bytes);
  std::size_t slow = 0;
  for (std::uint32_t i = 0; i < s.network.n; ++i) {
    REQUIRE((d[i] == Approx(0.2) || d[i] == Approx(1.0)));
    slow += d[i] > 0.5;
  }
  CHECK(std::abs(slow / 2000.0 - 0.3) < 4 * std::sqrt(0.3 * 0.7 / 2000));
  CHECK(d[s.network.n] == Approx(bytes / s.gossip.bandwidth));  // a node past the users: the mean uplink
  CHECK(sim::transfer_times(s, s.network.n, bytes) == std::vector<double>(d.begin(), d.end() - 1));  // once per run
  // Ten users, updates of 1 + Exp(1e9), latency 0.05: a round lasts 1 + 2 max_i D_i + 0.05.
  s.network.n = 10;
  s.updates.delay = 1.0;
  s.updates.rate = 1e9;
  s.gossip.latency = 0.05;
  s.run.horizon = 100.0;
  experiments::validate(s);
  const std::vector<double> ten = sim::transfer_times(s, 10, bytes);
  const double slowest = *std::max_element(ten.begin(), ten.end());
  const auto r = trial(s);
  CHECK(r.rounds == static_cast<std::uint64_t>(std::floor(100.0 / (1.0 + 2 * slowest + 0.05))));
}
