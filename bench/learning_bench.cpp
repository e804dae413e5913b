// Learning events per second: logistic regression on Fashion-MNIST with n = 1000 users,
// local updates and gossip measured apart (each run has only one kind doing work), and the
// process's peak resident memory.
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>

#include "sim/learning.hpp"
#include "sim/trial.hpp"

using namespace timely;

namespace {

sim::Scenario fashion_logistic() {
  sim::Scenario s;
  s.network.n = 1000;
  s.staleness.tracked = 64;
  s.learning.model.kind = sim::ModelKind::logistic;
  s.learning.data.source = sim::DataSource::fashion_mnist;
  s.learning.observe.users = 1;
  s.learning.observe.test_samples = 100;
  s.run.warmup = 0;
  s.run.trials = 1;
  return s;
}

const sim::LearningData& fashion_data() {
  static const sim::LearningData data = sim::prepare_learning(fashion_logistic());
  return data;
}

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0.0;
}

void run(benchmark::State& state, const sim::Scenario& s, bool count_updates) {
  const auto& data = fashion_data();
  const sim::Graph graph = sim::scenario_graph(s);
  double events = 0;
  std::uint64_t trial = 0;
  for (auto _ : state) {
    const auto r = sim::run_learning_trial(s, graph, data, trial++);
    events += static_cast<double>(count_updates ? r.local_updates : r.gossips);
  }
  state.counters[count_updates ? "local_updates_per_second" : "gossips_per_second"] =
      benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["peak_rss_MB"] = peak_rss_mb();
}

// One SGD step (batch 32) per local update; gossip nearly off.
void BM_learning_local_updates(benchmark::State& state) {
  sim::Scenario s = fashion_logistic();
  s.gossip.capacity = 1e-9;
  s.run.horizon = 20;
  s.learning.observe.every = s.run.horizon;
  run(state, s, true);
}

// Gossip with averaging of the 7850 parameters (and K = 64 vector-clock entries); updates
// carry no training.
void BM_learning_gossip(benchmark::State& state) {
  sim::Scenario s = fashion_logistic();
  s.learning.train.steps = 0;
  s.gossip.capacity = 10;
  s.run.horizon = 20;
  s.learning.observe.every = s.run.horizon;
  run(state, s, false);
}

}  // namespace

BENCHMARK(BM_learning_local_updates)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_learning_gossip)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
