// The learning event loop allocates nothing per event (issue 4: "no per-event allocation"):
// the number of heap allocations of a trial must not grow with the number of events.
// malloc, calloc and realloc are interposed for this test binary and forwarded to glibc's
// allocator; they count only while a test switches counting on. operator new and Eigen's
// aligned allocator both end in malloc.
//
// A sanitizer build (ASan, TSan, MSan) replaces malloc itself: interposing it again crashes
// the binary before main, so CTest would find no tests at all. There the interposition is not
// compiled and the test case only reports that it was skipped. tests/CMakeLists.txt defines
// TIMELY_SANITIZE when CMAKE_CXX_FLAGS holds -fsanitize=; the compilers' own macros catch
// sanitizer flags given any other way.
#include <catch2/catch.hpp>

#if defined(TIMELY_SANITIZE) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TIMELY_MALLOC_REPLACED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define TIMELY_MALLOC_REPLACED 1
#endif
#endif

#ifdef TIMELY_MALLOC_REPLACED

TEST_CASE("a learning trial's heap allocations do not grow with its number of events", "[learning][memory]") {
  WARN("skipped: sanitizer build replaces malloc; the allocation count runs in the Release build");
  SUCCEED("skipped: sanitizer build replaces malloc");
}

TEST_CASE("a staleness trial's heap allocations do not grow with its number of events, under every gossip policy",
          "[policies][memory]") {
  WARN("skipped: sanitizer build replaces malloc; the allocation count runs in the Release build");
  SUCCEED("skipped: sanitizer build replaces malloc");
}

#else  // !TIMELY_MALLOC_REPLACED

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "sim/choices.hpp"
#include "sim/learning.hpp"
#include "sim/trial.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<std::uint64_t> allocations{0};
void count() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(std::size_t size) {
  count();
  return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  count();
  return __libc_realloc(p, size);
}
}

using namespace timely;

namespace {

struct Counted {
  std::uint64_t allocations = 0, events = 0;
};

// Allocations of one whole trial (set-up included) with observations only at 0 and at the
// horizon, so that longer horizons add events and nothing else.
Counted trial(sim::Scenario s, double horizon) {
  s.run.horizon = horizon;
  s.learning.observe.every = horizon;
  const auto data = sim::prepare_learning(s);
  const auto graph = sim::scenario_graph(s);
  allocations = 0;
  counting = true;
  const auto r = sim::run_learning_trial(s, graph, data, 0);
  counting = false;
  return {allocations.load(), r.local_updates + r.gossips};
}

}  // namespace

TEST_CASE("a learning trial's heap allocations do not grow with its number of events", "[learning][memory]") {
  sim::Scenario s;
  s.network.n = 32;
  s.network.topology = sim::TopologyKind::random_regular;
  s.network.degree = 4;
  s.learning.data.source = sim::DataSource::synthetic_mixture;
  s.learning.data.features = 784;  // products big enough for Eigen's heap-blocked GEMM path
  s.learning.data.classes = 10;
  s.learning.data.train_samples = 3200;
  s.learning.data.test_samples = 200;
  s.learning.train.steps = 2;
  s.learning.train.momentum = 0.5;
  s.run.warmup = 0;
  s.run.trials = 1;
  for (const auto kind : {sim::ModelKind::logistic, sim::ModelKind::mlp}) {
    s.learning.model.kind = kind;
    s.learning.model.hidden = {128, 64};
    for (const auto rule : {sim::MixingRule::average, sim::MixingRule::variance_corrected, sim::MixingRule::fedavg}) {
      s.learning.mixing.rule = rule;
      const Counted short_run = trial(s, 2.0), long_run = trial(s, 10.0);
      INFO("model " << static_cast<int>(kind) << ", rule " << static_cast<int>(rule) << ": " << short_run.allocations
                    << " allocations for " << short_run.events << " events, " << long_run.allocations << " for "
                    << long_run.events);
      REQUIRE(long_run.events >= short_run.events + 20);
      // One allocation per event would add at least 20; allow a few for containers that grow
      // geometrically with the staleness they record.
      CHECK(long_run.allocations <= short_run.allocations + 8);
    }
  }
}

TEST_CASE("a staleness trial's heap allocations do not grow with its number of events, under every gossip policy",
          "[policies][memory]") {
  // The policies keep their state in storage sized at the start (pilot's and asuman's sets,
  // burst's bursting users and burst ends, fan-out's permutation): a tenfold horizon must not
  // add allocations beyond the few of histograms that grow geometrically with the staleness.
  struct Case {
    const char* policy;
    sim::StalenessModel model;
    std::uint32_t tracked;
  };
  for (const Case c : {Case{"pilot", sim::StalenessModel::source, 0}, Case{"asuman", sim::StalenessModel::source, 0},
                       Case{"burst", sim::StalenessModel::source, 0}, Case{"burst", sim::StalenessModel::users, 8},
                       Case{"fanout", sim::StalenessModel::users, 8}}) {
    sim::Scenario s;
    s.network.n = 64;
    s.staleness.model = c.model;
    s.staleness.tracked = c.tracked;
    s.gossip.policy = *sim::gossip_policies().parse(c.policy);
    s.run.warmup = 1.0;
    const auto graph = sim::scenario_graph(s);
    const auto run = [&](double horizon) {
      s.run.horizon = horizon;
      allocations = 0;
      counting = true;
      const auto r = sim::run_trial(s, graph, 0);
      counting = false;
      return Counted{allocations.load(), r.events};
    };
    const Counted short_run = run(50.0), long_run = run(500.0);
    INFO(c.policy << ": " << short_run.allocations << " allocations for " << short_run.events << " events, "
                  << long_run.allocations << " for " << long_run.events);
    REQUIRE(long_run.events >= 5 * short_run.events);
    // One allocation per event would add tens of thousands; the histograms of the tracked
    // sources (one per source, and the worst over all pairs) may each double a few times.
    CHECK(long_run.allocations - short_run.allocations <= 2 * (std::max(c.tracked, 1u) + 1));
  }
}

#endif  // TIMELY_MALLOC_REPLACED
