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
#include "sim/scenario.hpp"
#include "sim/trial.hpp"

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
