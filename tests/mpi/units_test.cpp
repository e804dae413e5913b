// run_units, trials_on_ranks and agree across real MPI ranks: every unit runs once
// somewhere, rank 0 sees each result once with its bits, the trials equal one process's,
// and an error on one rank stops all of them with one message that names it.
#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "experiments/ranks.hpp"
#include "experiments/result_bytes.hpp"
#include "experiments/units.hpp"
#include "sim/input_error.hpp"
#include "sim/scenario.hpp"
#include "sim/trial.hpp"
#include "sim/trials.hpp"

using namespace timely;
using namespace timely::experiments;

namespace {

// A unit's value: different for every unit, with low bits that a text round trip would lose.
double unit_value(std::size_t k) { return 1.0 / (3.0 + static_cast<double>(k)); }

std::uint64_t bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// How many times each unit ran, summed over the ranks.
std::vector<int> summed(const std::vector<int>& mine) {
  std::vector<int> total(mine.size());
  boost::mpi::all_reduce(ranks::communicator(), mine.data(), static_cast<int>(mine.size()), total.data(),
                         std::plus<int>());
  return total;
}

struct Outcome {
  bool quiet = false;
  int quiet_status = 0;
  std::string failure;
};

Outcome run_catching(const std::function<void()>& f) {
  Outcome o;
  try {
    f();
  } catch (const ranks::QuietExit& e) {
    o.quiet = true;
    o.quiet_status = e.status;
  } catch (const ranks::AgreedInputError& e) {
    o.failure = std::string("input: ") + e.what();
  } catch (const ranks::AgreedFailure& e) {
    o.failure = std::string("failure: ") + e.what();
  }
  return o;
}

}  // namespace

TEST_CASE("the MPI tests run on several ranks", "[mpi]") {
  REQUIRE(ranks::built_with_mpi());
  REQUIRE(ranks::size() >= 3);  // started by mpirun -n 3 (tests/CMakeLists.txt)
}

TEST_CASE("every unit runs exactly once, on every rank, and rank 0 receives each result with its bits", "[mpi]") {
  for (const unsigned threads : {1u, 2u}) {
    const std::size_t count = 97;
    std::vector<double> results(count, 0.0);
    std::vector<int> ran(count, 0);
    std::multiset<std::size_t> finished;
    UnitWork work;
    work.count = count;
    work.threads = threads;
    work.run = [&](std::size_t k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // long enough for every rank to get some
      results[k] = unit_value(k);
      ++ran[k];
    };
    work.finished = [&](std::size_t k) { finished.insert(k); };
    work.save = [&](std::size_t k) { return std::to_string(bits(results[k])); };
    work.load = [&](std::size_t k, const std::string& b) {
      const std::uint64_t v = std::stoull(b);
      std::memcpy(&results[k], &v, sizeof v);
    };
    run_units(work);
    const std::vector<int> total = summed(ran);
    for (std::size_t k = 0; k < count; ++k) CHECK(total[k] == 1);
    int here = 0;
    for (int r : ran) here += r;
    CHECK(here > 0);  // dynamic hand-out reached this rank
    if (ranks::root()) {
      REQUIRE(finished.size() == count);
      for (std::size_t k = 0; k < count; ++k) {
        CHECK(finished.count(k) == 1);
        CHECK(bits(results[k]) == bits(unit_value(k)));
      }
    } else {
      CHECK(finished.empty());  // finished() is rank 0's alone
    }
  }
}

TEST_CASE("pools run back to back stay apart, even when one rank is slow", "[mpi]") {
  // Rank 2 is slow, so rank 1 leaves each pool early; its request for the next pool must not
  // reach rank 0 while rank 0 still serves this one.
  for (int pool = 1; pool <= 4; ++pool) {
    const std::size_t count = 60;
    std::vector<double> results(count, 0.0);
    std::vector<int> finished(count, 0);
    const auto value = [&](std::size_t k) { return unit_value(k) * pool; };
    UnitWork work;
    work.count = count;
    work.threads = 1;
    work.run = [&](std::size_t k) {
      if (ranks::rank() == 2) std::this_thread::sleep_for(std::chrono::milliseconds(3));
      results[k] = value(k);
    };
    work.finished = [&](std::size_t k) { ++finished[k]; };
    work.save = [&](std::size_t k) { return std::to_string(bits(results[k])); };
    work.load = [&](std::size_t k, const std::string& b) {
      const std::uint64_t v = std::stoull(b);
      std::memcpy(&results[k], &v, sizeof v);
    };
    run_units(work);
    if (!ranks::root()) continue;
    for (std::size_t k = 0; k < count; ++k) {
      INFO("pool " << pool << ", unit " << k);
      CHECK(finished[k] == 1);
      CHECK(bits(results[k]) == bits(value(k)));
    }
  }
}

TEST_CASE("trials on ranks equal one process's trials bit for bit", "[mpi]") {
  sim::Scenario s;
  s.network.n = 30;
  s.network.topology = sim::TopologyKind::ring;
  s.run.horizon = 60;
  s.run.warmup = 5;
  s.run.trials = 11;
  s.run.seed = 99;
  const sim::Graph graph = sim::scenario_graph(s);
  const auto here = sim::run_trials(s, graph, 1);
  const auto everywhere = trials_on_ranks(s, graph, 2, {}, true);
  REQUIRE(everywhere.size() == here.size());
  for (std::size_t t = 0; t < here.size(); ++t) CHECK(to_bytes(everywhere[t]) == to_bytes(here[t]));
  std::uint32_t last = 0;
  const auto on_root = trials_on_ranks(s, graph, 1, [&](std::uint32_t done) { last = done; });
  if (ranks::root()) {
    REQUIRE(on_root.size() == here.size());
    for (std::size_t t = 0; t < here.size(); ++t) {
      INFO("trial " << t);
      CHECK(to_bytes(on_root[t]) == to_bytes(here[t]));
    }
    CHECK(last == s.run.trials);  // progress counted every trial, remote ones included
  } else {
    CHECK(on_root.empty());
  }
}

TEST_CASE("a unit that throws on one rank stops the run with a message naming the rank and the unit", "[mpi]") {
  const std::size_t count = 200;
  std::vector<int> ran(count, 0);
  UnitWork work;
  work.count = count;
  work.threads = 1;
  work.run = [&](std::size_t k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++ran[k];
    // Rank 2 fails on the first unit it gets past 20.
    if (ranks::rank() == 2 && k >= 20) throw std::runtime_error("out of memory, say");
  };
  work.finished = [](std::size_t) {};
  work.describe = [](std::size_t k) { return "unit number " + std::to_string(k); };
  work.save = [](std::size_t) { return std::string(); };
  work.load = [](std::size_t, const std::string&) {};
  const Outcome o = run_catching([&] { run_units(work); });
  if (ranks::root()) {
    CHECK_THAT(o.failure, Catch::StartsWith("failure: rank 2 failed on unit number "));
    CHECK_THAT(o.failure, Catch::EndsWith(": out of memory, say"));
  } else {
    CHECK(o.quiet);
    CHECK(o.quiet_status == 1);
  }
  // The run stopped: far from every unit ran.
  const std::vector<int> total = summed(ran);
  int units_run = 0;
  for (int t : total) units_run += t;
  CHECK(units_run < static_cast<int>(count));
}

TEST_CASE("agree: an input error on one rank reaches rank 0 named, and every rank stops", "[mpi]") {
  const Outcome bad = run_catching([] {
    ranks::agree([] {
      if (ranks::rank() == 1) throw InputError("data.path: cannot read /nowhere (no such file)");
    });
  });
  if (ranks::root()) CHECK(bad.failure == "input: rank 1: data.path: cannot read /nowhere (no such file)");
  else CHECK((bad.quiet && bad.quiet_status == 2));
  // Rank 0's own error comes first and unprefixed; a failure that is not bad input exits 1.
  const Outcome own = run_catching([] {
    ranks::agree([] { throw std::runtime_error(ranks::root() ? "disk full" : "other"); });
  });
  if (ranks::root()) CHECK(own.failure == "failure: disk full");
  else CHECK((own.quiet && own.quiet_status == 1));
  const Outcome fine = run_catching([] { ranks::agree([] {}); });
  CHECK(fine.failure.empty());
  CHECK(!fine.quiet);
}
