// MoDeST (sim/modest.hpp, docs/model.md §4.1): the round order every user derives, who
// answers under churn, the exact reduction to full-participation FedAvg, and rounds that keep
// completing when 80% of the users leave at once.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <vector>

#include "experiments/scenario_checks.hpp"
#include "sim/churn.hpp"
#include "sim/choices.hpp"
#include "sim/input_error.hpp"
#include "sim/learning.hpp"
#include "sim/modest_sampling.hpp"
#include "sim/quadratic.hpp"
#include "sim/trial.hpp"
#include "tests/quadratic_problem.hpp"
#include "tests/regression_problem.hpp"
#include "tests/scratch_dir.hpp"

using namespace timely;

namespace {

sim::LearningTrialResult trial(const sim::Scenario& s, std::uint64_t index = 0) {
  return sim::run_learning_trial(s, sim::scenario_graph(s), sim::prepare_learning(s), index);
}

}  // namespace

TEST_CASE("every user derives the same round order: a permutation, fixed by (round, n), fair over rounds",
          "[modest]") {
  std::vector<std::uint32_t> order, again;
  for (const std::uint32_t n : {1u, 2u, 10u, 1000u}) {
    sim::modest::round_order(n, 7, order);
    std::vector<std::uint32_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::uint32_t> users(n);
    std::iota(users.begin(), users.end(), 0u);
    CHECK(sorted == users);
    sim::modest::round_order(n, 7, again);
    CHECK(again == order);
  }
  // Independent of where a user derives it: the order is a pure function of (user, round).
  CHECK(sim::modest::rank(3, 5) == sim::modest::rank(3, 5));
  CHECK(sim::modest::rank(3, 5) != sim::modest::rank(3, 6));
  CHECK(sim::modest::rank(3, 5) != sim::modest::rank(4, 5));
  // Each of 10 users heads the order in about a tenth of 20000 rounds: a binomial count of
  // mean 2000 and sd 42.4, so 6 sd (254) bounds every user's.
  std::vector<int> first(10, 0);
  for (std::uint64_t k = 0; k < 20000; ++k) {
    sim::modest::round_order(10, k, order);
    ++first[order.front()];
  }
  for (int count : first) CHECK(std::abs(count - 2000) <= 254);
}

TEST_CASE("availability follows the churn trace: online, until when, and the next return", "[modest]") {
  const auto dir = testing::fresh_scratch("timely_modest_test", "availability");
  const auto path = dir / "trace.csv";
  std::ofstream(path) << "user,start,end\n0,0,10\n0,20,30\n1,5,15\n";
  sim::Scenario s;
  s.network.n = 3;
  s.churn.model = sim::ChurnModel::trace;
  s.churn.trace = sim::read_churn_trace(path.string());
  const sim::modest::Availability a(s, 3, 0);
  CHECK(a.online(0, 0.0));
  CHECK(a.online(0, 9.99));
  CHECK_FALSE(a.online(0, 10.0));  // [start, end)
  CHECK(a.online(0, 25.0));
  CHECK(a.online_until(0, 3.0) == 10.0);
  CHECK(a.next_online(0, 12.0) == 20.0);
  CHECK(a.next_online(0, 25.0) == 25.0);
  CHECK(std::isinf(a.next_online(0, 31.0)));
  CHECK_FALSE(a.online(1, 1.0));
  CHECK(a.next_online(1, 1.0) == 5.0);
  CHECK_FALSE(a.online(2, 0.0));  // no interval: offline throughout
  CHECK(std::isinf(a.next_online(2, 0.0)));
  const sim::Scenario always;
  CHECK(sim::modest::Availability(always, 3, 0).online(2, 1e6));
}

TEST_CASE("MoDeST with every user sampled, all models awaited and nothing delayed is full-participation FedAvg",
          "[modest]") {
  // The quadratic model's steps are deterministic, so both protocols' server models follow the
  // same rounds exactly; the averages differ only in the order of their sums. MoDeST's rounds
  // last one training, 0.99 + Exp(1e9); FedAvg's one period, 1/mu: by t = 10.5 both made 10.
  sim::Scenario s;
  tests::use_small_quadratic(s);
  s.network.n = 12;
  s.run.horizon = 10.5;
  s.run.warmup = 0.0;
  s.learning.observe.every = 10.5;
  sim::Scenario modest = s, fedavg = s;
  modest.learning.protocol = *sim::learning_protocols().parse("modest");
  modest.learning.modest.sample = 12;
  modest.learning.modest.success_fraction = 1.0;
  modest.learning.modest.timeout = 1e6;
  modest.updates.delay = 0.99;
  modest.updates.rate = 1e9;
  fedavg.learning.protocol = *sim::learning_protocols().parse("fedavg");
  fedavg.learning.mixing.fedavg_fraction = 1.0;
  experiments::validate(modest);
  experiments::validate(fedavg);
  const auto m = trial(modest), f = trial(fedavg);
  REQUIRE(m.rounds == 10);
  REQUIRE(f.rounds == 10);
  REQUIRE(m.round_counts);
  CHECK(m.round_counts->aggregations == 10);
  CHECK(m.round_counts->models_aggregated == 120);
  CHECK(m.round_counts->rounds_abandoned == 0);
  for (const std::size_t metric : {sim::metric::user_error, sim::metric::distance_to_optimum, sim::metric::loss}) {
    const auto a = m.observations.back()[metric], b = f.observations.back()[metric];
    REQUIRE(a);
    REQUIRE(b);
    INFO("metric " << sim::learning_metrics[metric].name << ": modest " << *a << ", fedavg " << *b);
    CHECK(*a == Approx(*b).epsilon(1e-12).margin(1e-15));
  }
  // And it is not trivially so: a sample of half the users gives another model.
  modest.learning.modest.sample = 6;
  const auto half = trial(modest);
  CHECK(*half.observations.back()[sim::metric::distance_to_optimum] !=
        Approx(*f.observations.back()[sim::metric::distance_to_optimum]).epsilon(1e-6));
}

TEST_CASE("MoDeST keeps completing rounds and learning when 80% of the users go offline at once", "[modest]") {
  // 50 users; from t = 100 only users 0..9 stay online. Rounds before and after, and the test
  // loss of the average model keeps falling after t = 100.
  const auto dir = testing::fresh_scratch("timely_modest_test", "churn");
  const auto path = dir / "trace.csv";
  {
    std::ofstream out(path);
    out << "user,start,end\n";
    for (int u = 0; u < 50; ++u) out << u << ",0," << (u < 10 ? 400 : 100) << "\n";
  }
  sim::Scenario s;
  tests::use_linear_regression(s, 2000, 500);
  s.network.n = 50;
  s.learning.protocol = *sim::learning_protocols().parse("modest");
  s.learning.train.lr = 0.002;
  s.learning.observe.every = 10;
  s.gossip.latency = 0.01;
  s.churn.model = sim::ChurnModel::trace;
  s.churn.trace_file = path.string();
  s.churn.trace = sim::read_churn_trace(path.string());
  s.run.warmup = 0;
  s.run.horizon = 300;
  experiments::validate(s);
  const auto r = trial(s);
  sim::Scenario until_100 = s;
  until_100.run.horizon = 100;
  const auto early = trial(until_100);
  INFO(early.rounds << " rounds by t = 100, " << r.rounds << " by t = 300, " << r.round_counts->rounds_abandoned << " abandoned");
  CHECK(r.rounds > early.rounds + 50);
  const auto loss_at = [&](double t) {
    const auto it = std::find_if(r.observations.begin(), r.observations.end(), [&](const auto& o) { return o.time >= t; });
    REQUIRE(it != r.observations.end());
    return *(*it)[sim::metric::loss];
  };
  INFO("test loss " << loss_at(100) << " at t = 100, " << loss_at(200) << " at 200, " << loss_at(300) << " at 300");
  CHECK(loss_at(200) < loss_at(100));
  CHECK(loss_at(300) < loss_at(200));
}

TEST_CASE("a second MoDeST aggregator completes the round its first one leaves", "[modest]") {
  // Six users, all in every sample (need = floor(6 * 0.8) = 4, min_models 3), latency 0.1, no
  // transfer time, trainings of 1 + Exp(1e9). Round 0's holder pings at 0 and its models
  // arrive at 0.3 (at once for itself), so the trainers finish at 1.3 (the holder at 1.0),
  // ping round 1's order (arriving 1.4, answered 1.5) and their models arrive at 1.6. X, the
  // first user of round 1's order, is online until 1.45: it answers every ping but is gone
  // when the models arrive, and its own upload at 1.5 is lost too. With one aggregator X
  // receives at most its own model and the holder's (done at 1.0, so arriving at 1.3): fewer
  // than min_models, so round 0 is abandoned and, restarting after the timeout (2), nothing
  // else happens by the horizon 2.5. With two, the second, Y, receives the other five models
  // and averages the first four (need) at 1.6.
  sim::Scenario s = tests::small_quadratic("modest", 6);
  s.learning.modest.sample = 6;
  s.updates.delay = 1.0;
  s.updates.rate = 1e9;
  s.gossip.latency = 0.1;
  std::vector<std::uint32_t> order;
  sim::modest::round_order(6, 1, order);
  const std::uint32_t x = order.front();
  const auto dir = testing::fresh_scratch("timely_modest_test", "aggregator_leaves");
  const auto path = dir / "trace.csv";
  {
    std::ofstream out(path);
    out << "user,start,end\n";
    for (std::uint32_t u = 0; u < 6; ++u) out << u << ",0," << (u == x ? "1.45" : "1000") << "\n";
  }
  s.churn.model = sim::ChurnModel::trace;
  s.churn.trace_file = path.string();
  s.churn.trace = sim::read_churn_trace(path.string());
  s.run.warmup = 0.0;
  s.run.horizon = 2.5;
  experiments::validate(s);
  const auto one = trial(s);
  REQUIRE(one.round_counts);
  CHECK(one.rounds == 0);
  CHECK(one.round_counts->rounds_abandoned == 1);
  s.learning.modest.aggregators = 2;
  experiments::validate(s);
  const auto two = trial(s);
  REQUIRE(two.round_counts);
  CHECK(two.rounds == 1);
  CHECK(two.round_counts->rounds_abandoned == 0);
  CHECK(two.round_counts->models_aggregated == 4);
}

TEST_CASE("bad MoDeST keys are refused with one line naming the key", "[modest]") {
  sim::Scenario s;
  tests::use_small_quadratic(s);
  s.network.n = 20;
  s.learning.modest.sample = 5;
  CHECK_THROWS_WITH(experiments::validate(s),
                    "modest.sample: read only by learning.protocol = \"modest\" (remove the key or set the protocol)");
  s.learning.protocol = *sim::learning_protocols().parse("modest");
  CHECK_NOTHROW(experiments::validate(s));
  s.learning.modest.sample = 21;
  CHECK_THROWS_WITH(experiments::validate(s), "modest.sample: expected an integer in [1, network.n = 20], got 21");
  s.learning.modest.sample = 10;
  s.learning.modest.min_models = 11;
  CHECK_THROWS_WITH(experiments::validate(s), "modest.min_models: expected an integer in [1, modest.sample = 10], got 11");
  s.learning.modest.min_models = 3;
  s.learning.modest.aggregators = 11;
  CHECK_THROWS_WITH(experiments::validate(s), "modest.aggregators: expected an integer in [1, modest.sample = 10], got 11");
  s.learning.modest.aggregators = 10;
  CHECK_NOTHROW(experiments::validate(s));
}

TEST_CASE("each MoDeST trainer uploads its model to each of its modest.aggregators aggregators", "[modest]") {
  // Every user in the sample (s = n = 12), no churn, loss, latency or transfer time, and
  // trainings of 0.99 + Exp(1e9): every ping is answered at once, so a trainer's aggregators
  // are the first a users of round k+1's order and every model reaches all of them. A round
  // lasts one training (0.99 plus at most ~1e-8), so by t = 10.5 ten rounds complete and the
  // eleventh holder has sent its model, its trainers not yet theirs (they finish after 10.89).
  // Per round the holder, in its own sample, sends n - 1 models and the n trainers n a, less
  // the a that are their own aggregator: (n - 1)(1 + a) transfers, so (n - 1)(10 (1 + a) + 1)
  // in all, and each aggregator beyond the first adds (n - 1) per round.
  sim::Scenario s = tests::small_quadratic("modest", 12);
  s.learning.modest.sample = 12;
  s.updates.delay = 0.99;
  s.updates.rate = 1e9;
  s.run.warmup = 0.0;
  s.run.horizon = 10.5;
  const double bytes = sim::quadratic_message_bytes(s.learning.data.features);
  for (const std::uint32_t a : {1u, 2u, 3u}) {
    s.learning.modest.aggregators = a;
    experiments::validate(s);
    const auto r = trial(s);
    INFO(a << " aggregators");
    REQUIRE(r.rounds == 10);
    REQUIRE(r.round_counts);
    CHECK(r.round_counts->rounds_abandoned == 0);
    REQUIRE(r.staleness.communication);
    const sim::Communication& c = *r.staleness.communication;
    const std::uint64_t transfers = 11 * (10 * (1 + a) + 1);
    CHECK(c.messages_sent == transfers);
    CHECK(c.messages_delivered == transfers);
    CHECK(c.bytes_sent == Approx(bytes * transfers));
  }
}
