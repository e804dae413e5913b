// The gossip policies fanout, burst and asuman (sim/gossip_policy.hpp, docs/model.md §1.1)
// against deliberately naive simulations of their definitions (tests/sim/naive_policies.hpp)
// on the complete graph, in push mode: each engine mean and each naive mean comes from
// independent trials, and their difference must lie within the combined 99.9% half-widths,
// which must themselves be small against the mean (power to see a 5% bias).
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/statistics.hpp"
#include "sim/choices.hpp"
#include "sim/random.hpp"
#include "sim/trials.hpp"
#include "tests/policy_scenarios.hpp"
#include "tests/sim/naive_policies.hpp"
#include "tests/statistical.hpp"

using namespace timely;
namespace naive = timely::tests::naive;

namespace {

using testing::check_agreement;
using testing::estimate;

template <class Result, class Field>
std::vector<double> column(const std::vector<Result>& results, Field field) {
  std::vector<double> out;
  for (const Result& r : results) out.push_back(field(r));
  return out;
}

template <class Trial>
auto naive_trials(const sim::Scenario& s, Trial trial) {
  std::vector<decltype(trial(s, std::uint64_t{0}))> out;
  for (std::uint64_t k = 0; k < s.run.trials; ++k) out.push_back(trial(s, k));
  return out;
}

// Contacts per user per unit time over the whole run [0, horizon].
double send_rate(const sim::Scenario& s, std::uint64_t sends) {
  return static_cast<double>(sends) / (s.network.n * s.run.horizon);
}

sim::Scenario users_scenario(std::uint32_t n, std::string_view policy) {
  sim::Scenario s;
  s.network.n = n;
  s.staleness.model = sim::StalenessModel::users;
  s.gossip.policy = *sim::gossip_policies().parse(policy);
  s.updates.rate = 1.0;
  s.run.warmup = 10.0;
  s.run.horizon = 110.0;
  s.run.trials = 150;
  s.run.seed = 41;
  return s;
}

sim::Scenario source_scenario(std::uint32_t n, std::string_view policy) {
  return tests::source_policy_scenario(n, policy, 29);
}

// The engine's and the naive users-model means: mean staleness, worst observer per source,
// worst over all pairs.
void check_users_agreement(const std::string& label, const std::vector<sim::TrialResult>& engine,
                           const std::vector<naive::UsersResult>& reference) {
  check_agreement(label + " mean_staleness", column(engine, [](const auto& r) { return r.mean_staleness; }),
                  column(reference, [](const auto& r) { return r.mean_staleness; }));
  check_agreement(label + " max_mean", column(engine, [](const auto& r) { return r.max_mean; }),
                  column(reference, [](const auto& r) { return r.max_mean; }));
  check_agreement(label + " max_all_mean", column(engine, [](const auto& r) { return r.max_all_mean; }),
                  column(reference, [](const auto& r) { return r.max_all_mean; }));
}

// The engine's contacts per user per unit time against the naive's count.
template <class Reference>
void check_sends(const std::string& label, const sim::Scenario& s, const std::vector<sim::TrialResult>& engine,
                 const std::vector<Reference>& reference) {
  check_agreement(label + " sends", column(engine, [&](const auto& r) { return send_rate(s, r.gossip_sends); }),
                  column(reference, [&](const auto& r) { return send_rate(s, r.sends); }));
}

}  // namespace

TEST_CASE("fanout to all n-1 others leaves nobody stale", "[policies][fanout]") {
  sim::Scenario s = users_scenario(20, "fanout");
  s.gossip.fanout = 19;
  s.run.trials = 4;
  for (const auto& r : sim::run_trials(s, sim::scenario_graph(s), 0)) {
    CHECK(r.mean_staleness == 0.0);
    CHECK(r.max_mean == 0.0);
    CHECK(r.max_all_mean == 0.0);
  }
  const naive::UsersResult reference = naive::fanout_users_trial(s, 0);  // and so does the definition
  CHECK(reference.mean_staleness == 0.0);
  CHECK(reference.max_all_mean == 0.0);
}

TEST_CASE("fanout agrees with a naive simulation of its definition (users model, complete graph)",
          "[policies][fanout][statistical]") {
  struct Case {
    std::uint32_t n;
    std::optional<std::uint32_t> fanout;
    double capacity;  // f = round(kappa / mu) when gossip.fanout is not given
    std::uint32_t f;  // the fanout either way
  };
  for (const Case c : {Case{20, 1u, 1.0, 1}, Case{20, 3u, 1.0, 3}, Case{40, 2u, 1.0, 2}, Case{30, {}, 2.6, 3}}) {
    sim::Scenario s = users_scenario(c.n, "fanout");
    s.gossip.fanout = c.fanout;
    s.gossip.capacity = c.capacity;
    REQUIRE(naive::fanout_of(s) == c.f);
    const auto engine = sim::run_trials(s, sim::scenario_graph(s), 0);
    const auto reference = naive_trials(s, naive::fanout_users_trial);
    const std::string label = "n = " + std::to_string(c.n) + ", f = " + std::to_string(c.f) +
                              (c.fanout ? "" : " (from kappa)");
    check_users_agreement(label, engine, reference);
    // Every update pushes to exactly f users: f mu contacts per user per unit time.
    const auto sends = estimate(column(engine, [&](const auto& r) { return send_rate(s, r.gossip_sends); }));
    INFO(label << ": engine sends " << sends.mean << " +- " << sends.half_width << " per user per unit time, f mu = "
               << c.f * s.updates.rate);
    CHECK(std::abs(sends.mean - c.f * s.updates.rate) <= sends.half_width);
    check_sends(label, s, engine, reference);
  }
}

TEST_CASE("fanout with K tracked sources agrees with the naive simulation of all sources",
          "[policies][fanout][statistical]") {
  // Untracked users' updates push too, carrying the tracked versions they hold: an engine
  // that skipped them would be staler. The worst over all pairs is over the tracked sources
  // only, which the naive simulation takes as sources 0 .. K-1 (the same in law).
  sim::Scenario s = users_scenario(40, "fanout");
  s.gossip.fanout = 1;
  s.staleness.tracked = 5;
  const auto engine = sim::run_trials(s, sim::scenario_graph(s), 0);
  const auto reference = naive_trials(s, naive::fanout_users_trial);
  check_users_agreement("n = 40, f = 1, K = 5", engine, reference);
}

TEST_CASE("burst agrees with a naive simulation of its definition (source model, complete graph)",
          "[policies][burst][statistical]") {
  for (const std::uint32_t n : {20u, 50u}) {
    sim::Scenario s = source_scenario(n, "burst");
    s.gossip.burst_rate = 5.0;
    s.gossip.burst_time = 1.0;
    const auto engine = sim::run_trials(s, sim::scenario_graph(s), 0);
    const auto reference = naive_trials(s, naive::burst_source_trial);
    const std::string label = "n = " + std::to_string(n);
    check_agreement(label + " mean_staleness", column(engine, [](const auto& r) { return r.mean_staleness; }),
                    column(reference, [](const auto& r) { return r.mean_staleness; }));
    check_sends(label, s, engine, reference);
  }
}

TEST_CASE("burst agrees with a naive simulation of its definition (users model, complete graph)",
          "[policies][burst][statistical]") {
  for (const std::uint32_t n : {20u, 30u}) {
    sim::Scenario s = users_scenario(n, "burst");
    s.gossip.burst_rate = 5.0;
    s.gossip.burst_time = 1.0;
    const auto engine = sim::run_trials(s, sim::scenario_graph(s), 0);
    const auto reference = naive_trials(s, naive::burst_users_trial);
    const std::string label = "n = " + std::to_string(n);
    check_users_agreement(label, engine, reference);
    check_sends(label, s, engine, reference);
  }
}

TEST_CASE("asuman agrees with a naive simulation of its definition (source model, complete graph)",
          "[policies][asuman][statistical]") {
  struct Case {
    std::uint32_t n;
    double delay, share;
  };
  for (const Case c : {Case{20, 0.1, 1.0}, Case{50, 0.1, 1.0}, Case{20, 0.5, 0.5}, Case{50, 0.5, 0.5}}) {
    sim::Scenario s = source_scenario(c.n, "asuman");
    s.gossip.asuman_delay = c.delay;
    s.gossip.asuman_share = c.share;
    const auto engine = sim::run_trials(s, sim::scenario_graph(s), 0);
    const auto reference = naive_trials(s, naive::asuman_source_trial);
    const std::string label = "n = " + std::to_string(c.n) + ", c = " + std::to_string(c.delay) +
                              ", share = " + std::to_string(c.share);
    check_agreement(label + " mean_staleness", column(engine, [](const auto& r) { return r.mean_staleness; }),
                    column(reference, [](const auto& r) { return r.mean_staleness; }));
    check_sends(label, s, engine, reference);
  }
}

TEST_CASE("asuman without delay is no fresher than the pilot scheme", "[policies][asuman][statistical]") {
  // With c = 0 and share = 1 the winners are the pilot's freshest users at each source update,
  // but frozen until the next: a user the source reaches in between does not join them, so
  // every contact carries a version at most as new as the pilot's. The pilot's exact mean age
  // (docs/model.md §1.1) is then a lower bound.
  for (const std::uint32_t n : {20u, 50u}) {
    sim::Scenario s = source_scenario(n, "asuman");
    s.gossip.asuman_delay = 0.0;
    s.gossip.asuman_share = 1.0;
    const double beta = n / (n - 1.0), pilot = (1.0 + beta) / (1.0 / n + beta);
    const auto engine = estimate(column(sim::run_trials(s, sim::scenario_graph(s), 0),
                                        [](const auto& r) { return r.mean_staleness; }));
    const auto reference = estimate(column(naive_trials(s, naive::asuman_source_trial),
                                           [](const auto& r) { return r.mean_staleness; }));
    INFO("n = " << n << ": engine " << engine.mean << " +- " << engine.half_width << ", naive " << reference.mean
                << " +- " << reference.half_width << ", pilot exact " << pilot);
    CHECK(engine.mean >= pilot - engine.half_width);
    CHECK(reference.mean >= pilot - reference.half_width);
  }
}

TEST_CASE("fanout through the network layer: the f transfers of an update queue on the sender's uplink",
          "[policies][fanout]") {
  // Updates are rare beside the transfers (mu = 0.05 per user, f = 4 transfers of D = 0.1), so
  // an update almost always finds its sender's uplink idle: the first transfer starts at once
  // and the other three wait D, 2D and 3D. Every send is a contact of the policy; none is
  // lost or dropped, so all but those still queued at the horizon start their transfer.
  sim::Scenario s;
  s.network.n = 20;
  s.gossip.policy = *sim::gossip_policies().parse("fanout");
  s.gossip.fanout = 4;
  s.updates.rate = 0.05;
  s.gossip.message_bytes = 100;
  s.gossip.bandwidth = 1000;  // D = 0.1
  s.run.horizon = 400;
  s.run.warmup = 10;
  s.run.trials = 8;
  for (const auto& t : sim::run_trials(s, sim::scenario_graph(s), 0)) {
    REQUIRE(t.communication);
    const sim::Communication& c = *t.communication;
    INFO(t.gossip_sends << " sends, " << c.messages_sent << " transfers started, " << c.queued << " queued, mean wait "
                        << c.queueing_delay / static_cast<double>(c.queued));
    REQUIRE(t.gossip_sends % 4 == 0);
    CHECK(c.messages_sent <= t.gossip_sends);
    CHECK(t.gossip_sends - c.messages_sent <= 12);  // at most the last few updates' queues
    CHECK(c.ticks_dropped == 0);
    // Three of every four sends wait, more when an update finds the uplink busy.
    CHECK(c.queued >= 3 * t.gossip_sends / 4 - 3);
    // Waits of D, 2D and 3D average 2D, longer when an update finds the uplink busy.
    CHECK(c.queueing_delay / static_cast<double>(c.queued) >= 2 * 0.1 - 1e-9);
    CHECK(c.queueing_delay / static_cast<double>(c.queued) <= 2 * 0.1 * 1.2);
  }
}
