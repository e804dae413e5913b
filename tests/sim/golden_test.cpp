// Pinned golden trials: the exact output bits of a few small trials, so that an accidental
// change of the order in which random numbers are drawn, of a distribution, or of the
// arithmetic (summation order, a rewritten formula) is caught even when every statistical
// test still passes. Doubles are compared by their bit patterns (std::bit_cast), counts
// exactly; each case also runs on another thread (std::thread and a TBB worker) and must
// give the same bits there.
//
// When a change alters these values DELIBERATELY (a new stream layout, a different but
// equally valid algorithm): run `timely_tests "[golden]"`; every failing check prints the
// replacement line for its table entry. Paste them in, check that the statistical tests
// still pass, and say in the commit message that the golden values changed and why. Never
// update them to make an unexplained difference go away: find its cause first.
//
// The values hold for x86-64 with SSE2 arithmetic (no FMA contraction: -std=c++20 implies
// -ffp-contract=off), Debian 12's glibc libm and Boost; they are the same at -O1, -O2 and
// -O3 and with or without sanitizers. Another platform or compiler may legitimately differ;
// a -march=native build (TIMELY_NATIVE) compares the learning cases' model metrics to a
// tolerance instead (check_pinned).
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <ios>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "sim/learning.hpp"
#include "sim/protocols.hpp"
#include "sim/scenario.hpp"
#include "sim/trial.hpp"
#include "tests/quadratic_problem.hpp"

using namespace timely;

namespace {

// One recorded output: a double as its bit pattern, or a count as itself.
struct Value {
  std::string name;
  std::uint64_t bits;
  bool is_double;
  bool operator==(const Value&) const = default;
};
using Values = std::vector<Value>;

Value real(std::string name, double x) { return {std::move(name), std::bit_cast<std::uint64_t>(x), true}; }
Value count(std::string name, std::uint64_t n) { return {std::move(name), n, false}; }

// The table entry that pins `v`, as it would be written in the tables below.
std::string entry(const Value& v) {
  std::ostringstream out;
  if (v.is_double)
    out << "{\"" << v.name << "\", 0x" << std::hex << v.bits << "},  // " << std::hexfloat
        << std::bit_cast<double>(v.bits) << std::defaultfloat << std::setprecision(17) << " = " << std::bit_cast<double>(v.bits);
  else
    out << "{\"" << v.name << "\", " << v.bits << "},";
  return out.str();
}

struct Pinned {
  const char* name;
  std::uint64_t bits;
};

// model_metrics: the entries named "final.*" come from the model arithmetic, which a native
// build (TIMELY_NATIVE: FMA, wider vectors) rounds differently; there they are compared to
// 1e-4 relative instead of bit for bit. The clocks' counts and the staleness never depend
// on the model, so they stay exact everywhere.
void check_pinned(const Values& got, const std::vector<Pinned>& pinned, bool model_metrics = false) {
  REQUIRE(got.size() == pinned.size());
#ifdef TIMELY_NATIVE
  if (model_metrics) WARN("native build (FMA): model metrics compared to 1e-4 relative, not bit for bit");
#else
  static_cast<void>(model_metrics);
#endif
  for (std::size_t k = 0; k < got.size(); ++k) {
    INFO("replace the entry by: " << entry(got[k]));
    CHECK(got[k].name == pinned[k].name);
#ifdef TIMELY_NATIVE
    if (model_metrics && got[k].is_double && got[k].name.rfind("final.", 0) == 0) {
      const double want = std::bit_cast<double>(pinned[k].bits), have = std::bit_cast<double>(got[k].bits);
      CHECK(std::abs(have - want) <= 1e-4 * std::abs(want));
      continue;
    }
#endif
    CHECK(got[k].bits == pinned[k].bits);
  }
}

// Runs `compute` here, on a new std::thread and on TBB workers; all must agree bit for bit.
Values everywhere(const std::function<Values()>& compute) {
  const Values here = compute();
  Values on_thread;
  std::thread([&] { on_thread = compute(); }).join();
  CHECK(on_thread == here);
  std::vector<Values> on_tbb(2);
  tbb::task_arena arena(2);
  arena.execute([&] { tbb::parallel_for(0, 2, [&](int i) { on_tbb[i] = compute(); }); });
  for (const Values& v : on_tbb) CHECK(v == here);
  return here;
}

Values staleness_trial(const sim::Scenario& s) {
  const sim::Graph graph = sim::scenario_graph(s);
  const sim::TrialResult r = sim::run_trial(s, graph, 0);
  return {real("mean_staleness", r.mean_staleness), real("max_mean", r.max_mean),
          real("max_all_mean", r.max_all_mean), count("events", r.events)};
}

Values learning_trial(const sim::Scenario& s) {
  const sim::LearningData data = sim::prepare_learning(s);
  const sim::Graph graph = sim::scenario_graph(s);
  const sim::LearningTrialResult r = sim::run_learning_trial(s, graph, data, 0);
  REQUIRE(r.observations.size() == 3);  // t = 0, 10, 20
  const sim::Observation& last = r.observations.back();
  Values v{real("final.loss", last.at(sim::metric::loss)), real("final.train_loss", last.at(sim::metric::train_loss)),
           real("final.consensus_distance", last.at(sim::metric::consensus_distance))};
  if (last[sim::metric::accuracy]) v.push_back(real("final.accuracy", *last[sim::metric::accuracy]));
  v.push_back(count("local_updates", r.local_updates));
  v.push_back(count("gossips", r.gossips));
  v.push_back(real("staleness.mean_staleness", r.staleness.mean_staleness));
  v.push_back(count("staleness.events", r.staleness.events));
  return v;
}

sim::Scenario small(std::uint32_t n, sim::TopologyKind topology) {
  sim::Scenario s;
  s.network.n = n;
  s.network.topology = topology;
  s.run.horizon = 200;
  s.run.warmup = 20;
  s.run.seed = 7;
  return s;
}

sim::Scenario small_learning(sim::ModelKind kind, sim::DataSource source) {
  sim::Scenario s;
  s.network.n = 4;
  s.learning.model.kind = kind;
  s.learning.data.source = source;
  s.learning.data.features = 6;
  s.learning.data.classes = 3;
  s.learning.data.train_samples = 400;
  s.learning.data.test_samples = 100;
  s.learning.train.batch = 8;
  s.learning.observe.every = 10;
  s.learning.observe.users = 4;
  s.run.horizon = 20;
  s.run.warmup = 0;
  s.run.seed = 11;
  return s;
}

}  // namespace

TEST_CASE("golden: source model, complete graph, n = 8", "[golden][sim]") {
  sim::Scenario s = small(8, sim::TopologyKind::complete);
  s.staleness.model = sim::StalenessModel::source;
  const Values got = everywhere([&] { return staleness_trial(s); });
  check_pinned(got, {
      {"mean_staleness", 0x4003267e03db6979},  // 0x1.3267e03db6979p+1 = 2.3937950421652059
      {"max_mean", 0x4010e1c8d5ee03e2},  // 0x1.0e1c8d5ee03e2p+2 = 4.2204926897547654
      {"max_all_mean", 0x4010e1c8d5ee03e2},  // 0x1.0e1c8d5ee03e2p+2 = 4.2204926897547654
      {"events", 2065},
  });
}

TEST_CASE("golden: users model, ring, n = 10, exchange", "[golden][sim]") {
  sim::Scenario s = small(10, sim::TopologyKind::ring);
  s.gossip.mode = sim::GossipMode::exchange;
  const Values got = everywhere([&] { return staleness_trial(s); });
  check_pinned(got, {
      {"mean_staleness", 0x4004bdb4c013df0e},  // 0x1.4bdb4c013df0ep+1 = 2.592629910093712
      {"max_mean", 0x4012c8e5b5e8b2b8},  // 0x1.2c8e5b5e8b2b8p+2 = 4.6961887763288175
      {"max_all_mean", 0x402149b602b11f23},  // 0x1.149b602b11f23p+3 = 8.6439667550290036
      {"events", 4022},
  });
}

TEST_CASE("golden: users model, complete graph, n = 6, renewal updates", "[golden][sim]") {
  sim::Scenario s = small(6, sim::TopologyKind::complete);
  s.updates.delay = 0.5;
  s.gossip.mode = sim::GossipMode::pull;
  const Values got = everywhere([&] { return staleness_trial(s); });
  check_pinned(got, {
      {"mean_staleness", 0x3ff761e273ce173a},  // 0x1.761e273ce173ap+0 = 1.461397602427907
      {"max_mean", 0x4003840a607e23d6},  // 0x1.3840a607e23d6p+1 = 2.439472917413222
      {"max_all_mean", 0x4011314732bc5d50},  // 0x1.1314732bc5d50p+2 = 4.298123162028176
      {"events", 2039},
  });
}

TEST_CASE("golden: learning, logistic regression on a synthetic mixture, n = 4", "[golden][learning]") {
  const sim::Scenario s = small_learning(sim::ModelKind::logistic, sim::DataSource::synthetic_mixture);
  const Values got = everywhere([&] { return learning_trial(s); });
  check_pinned(got, {
      {"final.loss", 0x3fc8712043d70a3d},  // 0x1.8712043d70a3dp-3 = 0.19095233261585234
      {"final.train_loss", 0x3fc760e864cccccd},  // 0x1.760e864cccccdp-3 = 0.18264489099383355
      {"final.consensus_distance", 0x3f47670780000000},  // 0x1.767078p-11 = 0.00071418634615838528
      {"final.accuracy", 0x3fefae147ae147ae},  // 0x1.fae147ae147aep-1 = 0.99
      {"local_updates", 91},
      {"gossips", 80},
      {"staleness.mean_staleness", 0x3ffd3ec94b19f25f},  // 0x1.d3ec94b19f25fp+0 = 1.8278286870619451
      {"staleness.events", 171},
  }, true);
}

TEST_CASE("golden: learning, linear regression on synthetic data, n = 4", "[golden][learning]") {
  sim::Scenario s = small_learning(sim::ModelKind::linear, sim::DataSource::synthetic_regression);
  s.gossip.mode = sim::GossipMode::exchange;
  const Values got = everywhere([&] { return learning_trial(s); });
  check_pinned(got, {
      {"final.loss", 0x3fbc7ea928f5c28f},  // 0x1.c7ea928f5c28fp-4 = 0.1113076901435852
      {"final.train_loss", 0x3fbddfbd8fae147b},  // 0x1.ddfbd8fae147bp-4 = 0.11669525869190693
      {"final.consensus_distance", 0x3f43dddba0000000},  // 0x1.3dddbap-11 = 0.00060628150822594762
      {"local_updates", 94},
      {"gossips", 79},
      {"staleness.mean_staleness", 0x3feda6322c1b81b4},  // 0x1.da6322c1b81b4p-1 = 0.92653759588943396
      {"staleness.events", 173},
  }, true);
}

namespace {

// A quadratic trial (docs/model.md §6): its exact time averages and its last observation.
Values quadratic_trial(const sim::Scenario& s) {
  const sim::LearningData data = sim::prepare_learning(s);
  const sim::Graph graph = sim::scenario_graph(s);
  const sim::LearningTrialResult r = sim::run_learning_trial(s, graph, data, 0);
  REQUIRE(r.stationary);
  REQUIRE(!r.observations.empty());
  const sim::Observation& last = r.observations.back();
  return {real("stationary.error", r.stationary->error), real("stationary.worst_error", r.stationary->worst_error),
          real("stationary.consensus", r.stationary->consensus), real("final.loss", last.at(sim::metric::loss)),
          real("final.consensus_distance", last.at(sim::metric::consensus_distance)), real("final.user_error", *last[sim::metric::user_error]),
          real("final.worst_user_error", *last[sim::metric::worst_user_error]), count("local_updates", r.local_updates),
          count("gossips", r.gossips), count("rounds", r.rounds),
          real("staleness.mean_staleness", r.staleness.mean_staleness), count("staleness.events", r.staleness.events)};
}

sim::Scenario small_quadratic(sim::GossipMode mode) {
  sim::Scenario s = small(6, sim::TopologyKind::complete);
  s.gossip.mode = mode;
  tests::use_small_quadratic(s);
  s.learning.observe.every = 50;
  return s;
}

}  // namespace

TEST_CASE("golden: quadratic model, gossip, complete graph, n = 6, push", "[golden][quadratic]") {
  const sim::Scenario s = small_quadratic(sim::GossipMode::push);
  const Values got = everywhere([&] { return quadratic_trial(s); });
  check_pinned(got, {
      {"stationary.error", 0x3ff3f33bb49707eb},  // 0x1.3f33bb49707ebp+0 = 1.246883111409711
      {"stationary.worst_error", 0x400705e4c650ad9a},  // 0x1.705e4c650ad9ap+1 = 2.8778777593012821
      {"stationary.consensus", 0x3ff1525a3ec5eb8f},  // 0x1.1525a3ec5eb8fp+0 = 1.0826055957865923
      {"final.loss", 0x3fbb23fe3c75de91},  // 0x1.b23fe3c75de91p-4 = 0.10601796127400066
      {"final.consensus_distance", 0x3ffc30fa93ad9003},  // 0x1.c30fa93ad9003p+0 = 1.7619577187224429
      {"final.user_error", 0x3fff957a5b3c4bd5},  // 0x1.f957a5b3c4bd5p+0 = 1.9739936412704442
      {"final.worst_user_error", 0x4008f41ac7229994},  // 0x1.8f41ac7229994p+1 = 3.119191699736982
      {"local_updates", 1232},
      {"gossips", 1214},
      {"rounds", 0},
      {"staleness.mean_staleness", 0x4002ac26bd82fe05},  // 0x1.2ac26bd82fe05p+1 = 2.3340582662201563
      {"staleness.events", 2446},
  });
}

TEST_CASE("golden: quadratic model, gossip, ring, n = 6, exchange, renewal updates, inverse-time steps", "[golden][quadratic]") {
  sim::Scenario s = small_quadratic(sim::GossipMode::exchange);
  s.network.topology = sim::TopologyKind::ring;
  s.updates.delay = 0.5;
  s.learning.train.schedule = sim::LrSchedule::inverse_time;
  s.learning.train.decay_time = 50;
  const Values got = everywhere([&] { return quadratic_trial(s); });
  check_pinned(got, {
      {"stationary.error", 0x3fbd883b12b1a75c},  // 0x1.d883b12b1a75cp-4 = 0.11535996633906848
      {"stationary.worst_error", 0x3fd38d0db16709ff},  // 0x1.38d0db16709ffp-2 = 0.3054842216917279
      {"stationary.consensus", 0x3fb778f446772f9f},  // 0x1.778f446772f9fp-4 = 0.091689364627369305
      {"final.loss", 0x3f7564ce2380d9c2},  // 0x1.564ce2380d9c2p-8 = 0.0052230884830834507
      {"final.consensus_distance", 0x3f9d68550af1ac88},  // 0x1.d68550af1ac88p-6 = 0.028718308251353381
      {"final.user_error", 0x3fa40d5e0e590cb3},  // 0x1.40d5e0e590cb3p-5 = 0.039164485217520272
      {"final.worst_user_error", 0x3fbad26e09e3e6ad},  // 0x1.ad26e09e3e6adp-4 = 0.10477340451680091
      {"local_updates", 781},
      {"gossips", 1258},
      {"rounds", 0},
      {"staleness.mean_staleness", 0x3fee47fae6a413ce},  // 0x1.e47fae6a413cep-1 = 0.94628663107925504
      {"staleness.events", 2039},
  });
}

TEST_CASE("golden: learning, FedAvg, logistic regression, n = 4", "[golden][learning][protocols]") {
  sim::Scenario s = small_learning(sim::ModelKind::logistic, sim::DataSource::synthetic_mixture);
  s.learning.protocol = sim::fedavg_protocol;
  s.learning.mixing.fedavg_fraction = 0.5;
  const Values got = everywhere([&] { return learning_trial(s); });
  check_pinned(got, {
      {"final.loss", 0x3fc6d5ce13333333},  // 0x1.6d5ce13333333p-3 = 0.17839981019496917
      {"final.train_loss", 0x3fc6166f36666666},  // 0x1.6166f36666666p-3 = 0.17255964428186416
      {"final.consensus_distance", 0x0},  // 0x0p+0 = 0
      {"final.accuracy", 0x3fefae147ae147ae},  // 0x1.fae147ae147aep-1 = 0.98999999999999999
      {"local_updates", 40},
      {"gossips", 0},
      {"staleness.mean_staleness", 0x0},  // 0x0p+0 = 0
      {"staleness.events", 0},
  }, true);
}

TEST_CASE("golden: learning, local training, linear regression, n = 4", "[golden][learning][protocols]") {
  sim::Scenario s = small_learning(sim::ModelKind::linear, sim::DataSource::synthetic_regression);
  s.learning.protocol = sim::local_protocol;
  const Values got = everywhere([&] { return learning_trial(s); });
  check_pinned(got, {
      {"final.loss", 0x3fc24918747ae148},  // 0x1.24918747ae148p-3 = 0.14285569846630097
      {"final.train_loss", 0x3fc42727da666666},  // 0x1.42727da666666p-3 = 0.15744493640959262
      {"final.consensus_distance", 0x3fc690dd20000000},  // 0x1.690dd2p-3 = 0.17629589140415192
      {"local_updates", 81},
      {"gossips", 0},
      {"staleness.mean_staleness", 0x0},  // 0x0p+0 = 0
      {"staleness.events", 0},
  }, true);
}
