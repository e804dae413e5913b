// The unit pool in one process (experiments/units.hpp): every unit runs and is finished once,
// finished() calls never overlap, a unit's exception reaches the caller, and the trials equal
// sim::run_trials' bit for bit. The same pool across MPI ranks is tested under mpirun
// (tests/mpi/). Also: a build without MPI that an MPI launcher starts as several processes
// refuses, with one line, instead of running the command once per process.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <vector>

#include "experiments/ranks.hpp"
#include "experiments/units.hpp"
#include "tests/run_cli.hpp"
#include "sim/scenario.hpp"
#include "sim/trials.hpp"

using namespace timely;
using namespace timely::experiments;

TEST_CASE("one process runs every unit once and finishes each once, one at a time", "[units]") {
  REQUIRE(!ranks::distributed());
  for (const unsigned threads : {1u, 2u, 4u}) {
    const std::size_t count = 500;
    std::vector<std::atomic<int>> ran(count);
    std::multiset<std::size_t> finished;
    std::atomic<int> inside{0};
    bool overlapped = false;
    UnitWork work;
    work.count = count;
    work.threads = threads;
    work.run = [&](std::size_t k) { ++ran[k]; };
    work.finished = [&](std::size_t k) {
      if (++inside != 1) overlapped = true;
      finished.insert(k);
      --inside;
    };
    run_units(work);
    for (std::size_t k = 0; k < count; ++k) {
      CHECK(ran[k] == 1);
      CHECK(finished.count(k) == 1);
    }
    CHECK(!overlapped);
  }
}

TEST_CASE("one process passes a unit's exception to the caller", "[units]") {
  UnitWork work;
  work.count = 40;
  work.threads = 2;
  work.run = [](std::size_t k) {
    if (k == 17) throw std::runtime_error("unit 17 failed");
  };
  work.finished = [](std::size_t) {};
  CHECK_THROWS_WITH(run_units(work), "unit 17 failed");
}

TEST_CASE("trials on ranks in one process equal sim::run_trials bit for bit, with progress", "[units]") {
  sim::Scenario s;
  s.network.n = 40;
  s.run.horizon = 50;
  s.run.warmup = 5;
  s.run.trials = 7;
  s.run.seed = 4242;
  const sim::Graph graph = sim::scenario_graph(s);
  const auto reference = sim::run_trials(s, graph, 1);
  std::uint32_t last = 0;
  const auto pooled = trials_on_ranks(s, graph, 2, [&](std::uint32_t done) { last = std::max(last, done); });
  REQUIRE(pooled.size() == reference.size());
  for (std::size_t t = 0; t < pooled.size(); ++t) {
    CHECK(pooled[t].mean_staleness == reference[t].mean_staleness);
    CHECK(pooled[t].staleness_time == reference[t].staleness_time);
    CHECK(pooled[t].events == reference[t].events);
  }
  CHECK(last == s.run.trials);
}

TEST_CASE("a build without MPI started by an MPI launcher as several processes refuses", "[units][cli]") {
  ::setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
  const auto o = testing::run_timely({"theory", "--set", "network.n=10"});
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
  if (ranks::built_with_mpi()) {
    CHECK(o.status == 0);  // this process is not part of an MPI run (no launcher started it): it runs alone
  } else {
    testing::refused(o, "started by an MPI launcher as 3 processes, but this timely was built without MPI");
  }
}
