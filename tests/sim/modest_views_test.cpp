// MoDeST's views (sim/modest_views.hpp, docs/model.md §4.1): the merge is a join semilattice
// in which a newer counter wins, a join or leave reaches 10 s users, and the samples that
// trainers and aggregators derive from their views agree exactly without churn and only
// mostly under churn.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/scenario_checks.hpp"
#include "sim/choices.hpp"
#include "sim/input_error.hpp"
#include "sim/learning.hpp"
#include "sim/modest_sampling.hpp"
#include "sim/modest_views.hpp"
#include "sim/trial.hpp"
#include "tests/quadratic_problem.hpp"
#include "tests/run_cli.hpp"

using namespace timely;
using sim::modest::ViewEntry;

TEST_CASE("a view merge takes each field's maximum: idempotent, commutative, associative", "[modest]") {
  const std::vector<ViewEntry> entries = {{0, 0}, {0, 9}, {1, 3}, {2, 1}, {3, 7}, {4, 4}};
  for (const ViewEntry a : entries) {
    CHECK(sim::modest::merge(a, a) == a);
    for (const ViewEntry b : entries) {
      CHECK(sim::modest::merge(a, b) == sim::modest::merge(b, a));
      CHECK(sim::modest::merge(a, b) == ViewEntry{std::max(a.counter, b.counter), std::max(a.last_active, b.last_active)});
      for (const ViewEntry c : entries)
        CHECK(sim::modest::merge(sim::modest::merge(a, b), c) == sim::modest::merge(a, sim::modest::merge(b, c)));
    }
  }
  // Whole views: merging twice changes nothing more.
  std::vector<ViewEntry> x = {{0, 5}, {1, 2}, {2, 2}}, y = {{1, 1}, {0, 8}, {2, 3}};
  sim::modest::merge_into(x, y);
  CHECK(x == std::vector<ViewEntry>{{1, 5}, {1, 8}, {2, 3}});
  const std::vector<ViewEntry> once = x;
  sim::modest::merge_into(x, y);
  CHECK(x == once);
}

TEST_CASE("a newer join or leave wins a view merge whatever the rounds say", "[modest]") {
  // A left user (counter 1) last seen at round 3 against the older knowledge that it was
  // joined and active at round 9: it stays left (the round is kept as the latest seen).
  const ViewEntry left{1, 3}, joined_active{0, 9};
  CHECK(!sim::modest::merge(left, joined_active).joined());
  CHECK(sim::modest::merge(left, joined_active).last_active == 9);
  // And a rejoin (counter 2) beats the leave.
  CHECK(sim::modest::merge(ViewEntry{2, 0}, left).joined());
  // Counters: a join makes them even, a leave odd, always upwards.
  CHECK(sim::modest::next_counter(0, false) == 1);
  CHECK(sim::modest::next_counter(1, true) == 2);
  CHECK(sim::modest::next_counter(0, true) == 2);  // joined at bootstrap, offline at 0, then joins
  CHECK(sim::modest::next_counter(1, false) == 3);
}

namespace {

// n users always online but user 5, which leaves at t = 1 and comes back at t = 2.
sim::Scenario leave_and_return(std::uint32_t n, std::uint32_t sample) {
  sim::Scenario s = tests::small_quadratic("modest", n);
  s.learning.modest.sample = sample;
  s.learning.modest.min_models = 1;
  s.gossip.latency = 0.01;
  auto trace = std::make_shared<sim::ChurnTrace>();
  trace->online.assign(n, {{0.0, 1e9}});
  trace->online[5] = {{0.0, 1.0}, {2.0, 1e9}};
  s.churn.model = sim::ChurnModel::trace;
  s.churn.trace = trace;
  s.run.warmup = 0.0;
  s.run.horizon = 10.0;
  return s;
}

}  // namespace

TEST_CASE("a leave and a join are announced to exactly 10 s other users, after the latency", "[modest]") {
  for (const std::uint32_t seed : {1u, 2u, 3u}) {
    sim::Scenario s = leave_and_return(100, 3);  // 10 s = 30 of the 99 others
    s.run.seed = seed;
    const sim::modest::Availability avail(s, 100, 0);
    sim::modest::ViewSync sync(s, 100, 3, avail, 0);
    const auto count = [&](auto&& pred) {
      int c = 0;
      for (std::uint32_t v = 0; v < 100; ++v)
        if (v != 5 && pred(sync.views().of(v)[5])) ++c;
      return c;
    };
    sync.advance(1.0 + 0.005);  // sent at 1, not arrived yet
    CHECK(!sync.views().joined(5, 5));
    CHECK(count([](ViewEntry e) { return !e.joined(); }) == 0);
    sync.advance(1.5);
    CHECK(count([](ViewEntry e) { return e.counter == 1; }) == 30);
    CHECK(count([](ViewEntry e) { return e.counter == 0; }) == 69);
    sync.advance(2.5);  // the join: 30 more draws; those that heard it have counter 2
    CHECK(sync.views().joined(5, 5));
    CHECK(sync.views().of(5)[5].counter == 2);
    CHECK(count([](ViewEntry e) { return e.counter == 2; }) == 30);
  }
  // Fewer others than 10 s: every other user hears it.
  const sim::Scenario small = leave_and_return(20, 3);
  const sim::modest::Availability avail(small, 20, 0);
  sim::modest::ViewSync sync(small, 20, 3, avail, 0);
  sync.advance(1.5);
  for (std::uint32_t v = 0; v < 20; ++v) CHECK(!sync.views().joined(v, 5));
}

namespace {

sim::Scenario overlap_scenario() {
  sim::Scenario s = tests::small_quadratic("modest", 40);
  s.learning.modest.sample = 8;
  s.gossip.latency = 0.02;
  s.run.warmup = 0.0;
  s.run.horizon = 100.0;
  s.run.seed = 5;
  return s;
}

sim::LearningTrialResult trial(const sim::Scenario& s, std::uint64_t index) {
  return sim::run_learning_trial(s, sim::scenario_graph(s), sim::prepare_learning(s), index);
}

}  // namespace

TEST_CASE("without churn every trainer's sample for the next round is its aggregator's: overlap exactly 1",
          "[modest]") {
  sim::Scenario s = overlap_scenario();
  experiments::validate(s);
  for (std::uint64_t k = 0; k < 3; ++k) {
    const sim::LearningTrialResult r = trial(s, k);
    REQUIRE(r.round_counts);
    CHECK(r.round_counts->sample_overlaps >= 3 * r.rounds);  // every accepted trainer, >= min_models per round
    CHECK(r.round_counts->sample_overlap_total == static_cast<double>(r.round_counts->sample_overlaps));
  }
}

TEST_CASE("under Markov churn the views differ: overlap below 1 but most of the sample", "[modest]") {
  sim::Scenario s = overlap_scenario();
  s.churn.model = sim::ChurnModel::markov;
  s.churn.online_mean = 5.0;
  s.churn.offline_mean = 5.0;
  experiments::validate(s);
  double total = 0.0;
  std::uint64_t compared = 0;
  for (std::uint64_t k = 0; k < 20; ++k) {
    const sim::LearningTrialResult r = trial(s, k);
    total += r.round_counts->sample_overlap_total;
    compared += r.round_counts->sample_overlaps;
  }
  REQUIRE(compared > 100);
  INFO("mean overlap " << total / compared << " over " << compared << " trainers");
  CHECK(total / compared < 0.99);
  CHECK(total / compared > 0.5);
}

TEST_CASE("MoDeST under churn refuses a network too large for its dense views, naming network.n", "[modest]") {
  sim::Scenario s = overlap_scenario();
  s.network.n = sim::modest::Views::max_users + 1;
  CHECK_NOTHROW(experiments::validate(s));  // no churn: no views stored
  s.churn.model = sim::ChurnModel::markov;
  CHECK_THROWS_WITH(experiments::validate(s), Catch::StartsWith("network.n: learning.protocol = \"modest\" under churn"));
  s.network.n = sim::modest::Views::max_users;
  CHECK_NOTHROW(experiments::validate(s));
}

TEST_CASE("timely simulate --json reports MoDeST's sample overlap, and none for D-PSGD", "[modest]") {
  const auto run = [](const std::string& protocol, const std::vector<std::string>& more) {
    std::vector<std::string> args = {"simulate", "--json", "--trials", "2", "--set", "network.n=20", "--set",
                                     "learning.protocol=" + protocol, "--set", "model.kind=quadratic", "--set", "run.horizon=20", "--set", "run.warmup=0"};
    args.insert(args.end(), more.begin(), more.end());
    const auto o = testing::run_timely(args);
    INFO(o.err);
    REQUIRE(o.status == 0);
    return nlohmann::json::parse(o.out);
  };
  const auto modest = run("modest", {"--set", "modest.sample=5"});
  CHECK(modest["protocol"]["sample_overlap"]["mean"].get<double>() == 1.0);  // no churn
  const auto churned = run("modest", {"--set", "modest.sample=5", "--set", "churn.model=markov", "--set",
                                      "churn.online_mean=5", "--set", "churn.offline_mean=5", "--set", "run.horizon=50"});
  CHECK(churned["protocol"]["sample_overlap"]["mean"].get<double>() < 1.0);
  const auto dpsgd = run("dpsgd", {});
  REQUIRE(dpsgd.contains("protocol"));
  CHECK(dpsgd["protocol"]["sample_overlap"].is_null());  // no sample: null, not a fake 1
}
