// Stopping a run from outside (sim/stop.hpp, experiments/run_control.hpp; the Python module's
// Ctrl-C): a trial stops at a checkpoint once the flag is set and, while it is not, gives the
// same bits as a trial with no flag; the unit pool starts no unit after a stop and throws.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>

#include "experiments/run_control.hpp"
#include "experiments/units.hpp"
#include "sim/learning.hpp"
#include "sim/scenario.hpp"
#include "sim/stop.hpp"
#include "sim/trial.hpp"

using namespace timely;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

sim::Scenario staleness_scenario(sim::TopologyKind topology) {
  sim::Scenario s;
  s.network.n = 64;
  s.network.topology = topology;
  s.staleness.tracked = 8;
  s.run.warmup = 10;
  s.run.horizon = 120;
  s.run.seed = 99;
  return s;
}

}  // namespace

TEST_CASE("a trial runs unchanged while the stop flag is clear and stops once it is set", "[stop]") {
  for (const auto topology : {sim::TopologyKind::complete, sim::TopologyKind::ring}) {
    for (const double delay : {0.0, 0.3}) {  // Poisson and renewal update clocks: both loops
      sim::Scenario s = staleness_scenario(topology);
      s.updates.delay = delay;
      const sim::Graph graph = sim::scenario_graph(s);
      const sim::TrialResult plain = sim::run_trial(s, graph, 3);
      std::atomic<bool> flag{false};
      const sim::StopScope scope(&flag);
      const sim::TrialResult watched = sim::run_trial(s, graph, 3);
      CHECK(watched.events == plain.events);
      CHECK(same_bits(watched.mean_staleness, plain.mean_staleness));
      CHECK(same_bits(watched.max_all_mean, plain.max_all_mean));
      CHECK(watched.staleness_time == plain.staleness_time);
      flag = true;
      CHECK_THROWS_AS(sim::run_trial(s, graph, 3), sim::Stopped);
    }
  }
  // The source model and a learning trial go through the same window.
  sim::Scenario source = staleness_scenario(sim::TopologyKind::complete);
  source.staleness.model = sim::StalenessModel::source;
  sim::Scenario learning;
  learning.network.n = 16;
  learning.learning.model.kind = sim::ModelKind::linear;
  learning.learning.data.source = sim::DataSource::synthetic_regression;
  learning.learning.data.features = 5;
  learning.learning.data.train_samples = 500;
  learning.learning.data.test_samples = 100;
  learning.run.warmup = 0;
  learning.run.horizon = 40;
  const sim::LearningData data = sim::prepare_learning(learning);
  const sim::Graph learning_graph = sim::scenario_graph(learning);
  const sim::LearningTrialResult plain = sim::run_learning_trial(learning, learning_graph, data, 0);
  std::atomic<bool> flag{false};
  const sim::StopScope scope(&flag);
  const sim::LearningTrialResult watched = sim::run_learning_trial(learning, learning_graph, data, 0);
  REQUIRE(watched.observations.size() == plain.observations.size());
  CHECK(same_bits(watched.observations.back().at(sim::metric::loss), plain.observations.back().at(sim::metric::loss)));
  CHECK(sim::run_trial(source, sim::scenario_graph(source), 0).events > 0);
  flag = true;
  CHECK_THROWS_AS(sim::run_trial(source, sim::scenario_graph(source), 0), sim::Stopped);
  CHECK_THROWS_AS(sim::run_learning_trial(learning, learning_graph, data, 0), sim::Stopped);
}

TEST_CASE("a stop asked of the unit pool starts no further unit and throws Interrupted", "[stop][units]") {
  experiments::RunControl control;
  const experiments::ControlScope scope(control);
  std::atomic<int> ran{0};
  experiments::UnitWork work;
  work.count = 1000;
  work.threads = 1;  // one thread: units in order, so exactly 0..5 run
  work.run = [&](std::size_t k) {
    ++ran;
    if (k == 5) control.request_stop();
  };
  work.finished = [](std::size_t) {};
  CHECK_THROWS_AS(experiments::run_units(work), experiments::Interrupted);
  CHECK(ran == 6);
  // Two threads: the other may take a few more units before it sees the stop, not all.
  experiments::RunControl again;
  const experiments::ControlScope again_scope(again);
  ran = 0;
  work.threads = 2;
  work.run = [&](std::size_t k) {
    ++ran;
    if (k == 5) again.request_stop();
  };
  CHECK_THROWS_AS(experiments::run_units(work), experiments::Interrupted);
  CHECK(ran < 1000);
  // A stop asked after every unit started leaves the run whole.
  experiments::RunControl late;
  const experiments::ControlScope late_scope(late);
  work.run = [&](std::size_t k) {
    if (k == work.count - 1) late.request_stop();
  };
  work.threads = 1;
  CHECK_NOTHROW(experiments::run_units(work));
}
