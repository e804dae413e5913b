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
// -O3 and with or without sanitizers. Another platform or compiler may legitimately differ.
#include <catch2/catch.hpp>

#include <bit>
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

void check_pinned(const Values& got, const std::vector<Pinned>& pinned) {
  REQUIRE(got.size() == pinned.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    INFO("replace the entry by: " << entry(got[k]));
    CHECK(got[k].name == pinned[k].name);
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
  Values v{real("final.loss", last.loss), real("final.train_loss", last.train_loss),
           real("final.consensus_distance", last.consensus_distance)};
  if (last.accuracy) v.push_back(real("final.accuracy", *last.accuracy));
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
      {"mean_staleness", 0x4001f3c025708660},  // 0x1.1f3c025708660p+1 = 2.2440188336338878
      {"max_mean", 0x400ff5efc8fb1b68},  // 0x1.ff5efc8fb1b68p+1 = 3.9950862599975387
      {"max_all_mean", 0x400ff5efc8fb1b68},  // 0x1.ff5efc8fb1b68p+1 = 3.9950862599975387
      {"events", 2065},
  });
}

TEST_CASE("golden: users model, ring, n = 10, exchange", "[golden][sim]") {
  sim::Scenario s = small(10, sim::TopologyKind::ring);
  s.gossip.mode = sim::GossipMode::exchange;
  const Values got = everywhere([&] { return staleness_trial(s); });
  check_pinned(got, {
      {"mean_staleness", 0x4003bab54de6a5ec},  // 0x1.3bab54de6a5ecp+1 = 2.466166123009989
      {"max_mean", 0x40120ba77669f3c0},  // 0x1.20ba77669f3c0p+2 = 4.511381006447607
      {"max_all_mean", 0x4020e5adb8da0b30},  // 0x1.0e5adb8da0b30p+3 = 8.448591019264853
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
      {"final.loss", 0x3fc459a0f5c28f5c},  // 0x1.459a0f5c28f5cp-3 = 0.1589852523803711
      {"final.train_loss", 0x3fc326a55c000000},  // 0x1.326a55c000000p-3 = 0.1496168803423643
      {"final.consensus_distance", 0x3f14ca4cc0000000},  // 0x1.4ca4cc0000000p-14 = 7.930844731163234e-05
      {"final.accuracy", 0x3fefae147ae147ae},  // 0x1.fae147ae147aep-1 = 0.99
      {"local_updates", 91},
      {"gossips", 80},
      {"staleness.mean_staleness", 0x3fffa68ef31853ba},  // 0x1.fa68ef31853bap+0 = 1.9781636711024775
      {"staleness.events", 171},
  });
}

TEST_CASE("golden: learning, linear regression on synthetic data, n = 4", "[golden][learning]") {
  sim::Scenario s = small_learning(sim::ModelKind::linear, sim::DataSource::synthetic_regression);
  s.gossip.mode = sim::GossipMode::exchange;
  const Values got = everywhere([&] { return learning_trial(s); });
  check_pinned(got, {
      {"final.loss", 0x3fb6ddee27ae147b},  // 0x1.6ddee27ae147bp-4 = 0.08932388752698898
      {"final.train_loss", 0x3fb891856828f5c3},  // 0x1.891856828f5c3p-4 = 0.09597047608345748
      {"final.consensus_distance", 0x3f2ea52400000000},  // 0x1.ea52400000000p-13 = 0.0002338034100830555
      {"local_updates", 94},
      {"gossips", 79},
      {"staleness.mean_staleness", 0x3ff1db4a8b2639e7},  // 0x1.1db4a8b2639e7p+0 = 1.1160378871460297
      {"staleness.events", 173},
  });
}
