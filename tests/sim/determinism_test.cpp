// Randomness belongs to the trial: the same seed gives bit-identical results whatever the
// number of threads.
#include <catch2/catch.hpp>

#include "sim/random.hpp"
#include "sim/trials.hpp"

using namespace timely;

namespace {

void require_identical(const std::vector<sim::TrialResult>& a, const std::vector<sim::TrialResult>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].mean_staleness == b[i].mean_staleness);  // exact, not approximate
    CHECK(a[i].max_mean == b[i].max_mean);
    CHECK(a[i].events == b[i].events);
    CHECK(a[i].staleness_time == b[i].staleness_time);
  }
}

}  // namespace

TEST_CASE("results are bit-identical for 1, 2 and 4 threads", "[sim][determinism]") {
  for (auto model : {sim::StalenessModel::users, sim::StalenessModel::source}) {
    for (auto topology : {sim::TopologyKind::complete, sim::TopologyKind::random_regular}) {
      sim::Scenario s;
      s.network.n = 64;
      s.network.topology = topology;
      s.network.degree = 4;
      s.staleness.model = model;
      s.updates.delay = model == sim::StalenessModel::users ? 0.2 : 0.0;
      s.run.horizon = 200;
      s.run.warmup = 20;
      s.run.trials = 7;
      const sim::Graph graph = sim::scenario_graph(s);
      const auto one = sim::run_trials(s, graph, 1);
      require_identical(one, sim::run_trials(s, graph, 2));
      require_identical(one, sim::run_trials(s, graph, 4));
    }
  }
}

TEST_CASE("different trials and different seeds give different sample paths", "[sim][determinism]") {
  sim::Scenario s;
  s.network.n = 32;
  s.run.horizon = 100;
  s.run.warmup = 10;
  s.run.trials = 2;
  const sim::Graph graph = sim::scenario_graph(s);
  const auto first = sim::run_trials(s, graph, 1);
  CHECK(first[0].mean_staleness != first[1].mean_staleness);
  s.run.seed = 2;
  CHECK(sim::run_trials(s, graph, 1)[0].mean_staleness != first[0].mean_staleness);
}
