// Learning speed on Fashion-MNIST: local updates (one SGD step each) and gossip mixes per
// second, measured apart (each benchmark has only one kind doing work), for logistic
// regression (n = 1000 users) and the 784-128-64-10 ReLU MLP (n = 100); the cost of one
// observation with the vanishing-variance study's settings; the process's peak resident
// memory. Trial set-up (the users' initial models) is timed apart and left out (run()).
//
// References (issue 12): bare Eigen loops doing the same SGD steps as timely's local update
// (Learners::train_column + Network::sgd_step: batch 32 gathered column by column from a
// random user's shard, softmax cross-entropy, float), for both models, on synthetic data of
// Fashion-MNIST's shape (60000 x 784 floats in [0, 1], 10 classes, iid shards). Nothing is
// allocated per step, products are noalias, and the gradient is applied straight into the
// parameters (each layer's W^T delta is taken before that layer's update, so the step is the
// same SGD step). They report steps_per_second. The run ends with the medians and timely's
// ratios to them, against the goal of 0.8 (bench/ratio_reporter.hpp); bench/compare_learning.sh
// runs 5 interleaved repetitions.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/uniform_01.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "bench/ratio_reporter.hpp"
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

// The MLP's scenario, n = 100 users (1000 would hold 440 MB of parameters and spend much
// of a trial initialising them). The LearningData carries the architecture and the
// partition, so it is prepared for this scenario (over the same loaded images).
sim::Scenario fashion_mlp() {
  sim::Scenario s = fashion_logistic();
  s.network.n = 100;
  s.learning.model.kind = sim::ModelKind::mlp;
  return s;
}

const sim::LearningData& fashion_mlp_data() {
  static const sim::LearningData data = sim::prepare_learning(fashion_mlp(), fashion_data().data);
  return data;
}

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0.0;
}

// Seconds taken by f().
template <class F>
double seconds_of(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Events per second of the trial's event loop, its set-up left out: each iteration also
// runs the same trial (same index, hence the same initial models) with a horizon of 1e-9,
// which does nothing but the set-up (loading nothing: the data are prepared once; drawing
// n independent initial models, the graph, the observation at t = 0), and reports the
// difference of their wall times as the iteration's time (manual time). The bare loops
// likewise initialise their parameters outside the timed loop. Real studies amortise the
// set-up over horizons of 200 (about 1% of a trial); this benchmark's shorter horizons
// would not.
void run(benchmark::State& state, const sim::Scenario& s, bool count_updates,
         const sim::LearningData& data = fashion_data()) {
  const sim::Graph graph = sim::scenario_graph(s);
  sim::Scenario setup_only = s;
  setup_only.run.horizon = 1e-9;
  setup_only.learning.observe.every = setup_only.run.horizon;
  double events = 0, diverged = 0, setup = 0, total = 0;
  std::uint64_t trial = 0;
  for (auto _ : state) {
    sim::LearningTrialResult r, empty;
    const double whole = seconds_of([&] { r = sim::run_learning_trial(s, graph, data, trial); });
    const double start = seconds_of([&] { empty = sim::run_learning_trial(setup_only, graph, data, trial); });
    ++trial;
    state.SetIterationTime(std::max(whole - start, 1e-9));
    events += static_cast<double>(count_updates ? r.local_updates - empty.local_updates : r.gossips - empty.gossips);
    diverged += r.diverged_at.has_value();
    setup += start;
    total += whole;
  }
  // Trials that diverged: from then on no model arithmetic runs, so their rate means nothing.
  state.counters["diverged_trials"] = diverged;
  state.counters[count_updates ? "local_updates_per_second" : "gossips_per_second"] =
      benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["setup_share"] = setup / total;  // of the whole trial's wall time
  state.counters["peak_rss_MB"] = peak_rss_mb();
}

// Training alone: one SGD step (batch 32) per local update, gossip nearly off, observed
// only at the start and the end.
sim::Scenario training_only(sim::Scenario s, double horizon) {
  s.gossip.capacity = 1e-9;
  s.run.horizon = horizon;
  s.learning.observe.every = horizon;
  return s;
}

// Gossip alone: mixing at capacity 10 (and K = 64 vector-clock entries); updates carry no
// training.
sim::Scenario gossip_only(sim::Scenario s, double horizon) {
  s.learning.train.steps = 0;
  s.gossip.capacity = 10;
  s.run.horizon = horizon;
  s.learning.observe.every = horizon;
  return s;
}

// Logistic regression, n = 1000 users: 7850 parameters per model.
void BM_learning_local_updates(benchmark::State& state) { run(state, training_only(fashion_logistic(), 20), true); }
void BM_learning_gossip(benchmark::State& state) { run(state, gossip_only(fashion_logistic(), 20), false); }

// The 784-128-64-10 ReLU MLP, n = 100 users: 109386 parameters per model.
void BM_learning_local_updates_mlp(benchmark::State& state) {
  run(state, training_only(fashion_mlp(), 30), true, fashion_mlp_data());
}
void BM_learning_gossip_mlp(benchmark::State& state) {
  run(state, gossip_only(fashion_mlp(), 5), false, fashion_mlp_data());
}

// The cost of one observation of the MLP (n = 100 users) with the vanishing-variance study's
// settings: test loss and accuracy of the mean model and of 2 followed users on 2000 test
// samples, train loss on 2000 training samples, consensus distance, per-layer weight
// variance over all users. No training and almost no gossip. Each iteration runs the trial
// twice, observing 51 times and 2 times; the difference of their wall times over the
// difference of their observation counts leaves out the trial's set-up (initialising
// 100 models).
void BM_learning_observation_mlp(benchmark::State& state) {
  sim::Scenario many = fashion_mlp();
  many.learning.train.steps = 0;
  many.gossip.capacity = 1e-9;
  many.learning.observe.users = 2;
  many.learning.observe.test_samples = 2000;
  many.run.horizon = 5;
  many.learning.observe.every = 0.1;
  sim::Scenario few = many;
  few.learning.observe.every = few.run.horizon;
  const sim::Graph graph = sim::scenario_graph(many);
  double seconds = 0, observations = 0;
  std::uint64_t trial = 0;
  const auto timed = [&](const sim::Scenario& s, double sign) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = sim::run_learning_trial(s, graph, fashion_mlp_data(), trial);
    seconds += sign * std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    observations += sign * static_cast<double>(r.observations.size());
  };
  for (auto _ : state) {
    timed(many, 1.0);
    timed(few, -1.0);
    ++trial;
  }
  state.counters["ms_per_observation"] = 1000.0 * seconds / observations;
}

// ---- bare Eigen references ----

using Matrix = Eigen::MatrixXf;
using Vector = Eigen::VectorXf;
constexpr int kInputs = 784, kClasses = 10, kBatch = 32, kTrain = 60000;
constexpr float kLr = 0.05f;

// Synthetic data of Fashion-MNIST's shape, samples as columns (timely's layout).
struct BareData {
  Matrix x;
  std::vector<int> labels;
  BareData() : x(kInputs, kTrain), labels(kTrain) {
    boost::random::mt19937_64 rng(7);
    boost::random::uniform_01<float> u;
    for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = u(rng);
    for (int& l : labels) l = static_cast<int>((rng() >> 32) * kClasses >> 32);
  }
};
const BareData& bare_data() {
  static const BareData data;
  return data;
}

// Shards: a random permutation of the samples cut into n equal pieces (iid partition).
std::vector<std::uint32_t> bare_shards(std::uint32_t n, boost::random::mt19937_64& rng) {
  std::vector<std::uint32_t> order(kTrain);
  std::iota(order.begin(), order.end(), 0u);
  for (std::uint32_t k = kTrain - 1; k > 0; --k) std::swap(order[k], order[static_cast<std::uint32_t>(((rng() >> 32) * (k + 1)) >> 32)]);
  order.resize(static_cast<std::size_t>(kTrain / n) * n);
  return order;
}

inline std::uint32_t below(boost::random::mt19937_64& rng, std::uint32_t m) {
  return static_cast<std::uint32_t>(((rng() >> 32) * m) >> 32);
}

// Gathers a batch from user u's shard: columns into x, labels into labels.
inline void gather(const BareData& d, const std::uint32_t* shard, std::uint32_t shard_size,
                   boost::random::mt19937_64& rng, Matrix& x, int* labels) {
  for (int k = 0; k < kBatch; ++k) {
    const std::uint32_t sample = shard[below(rng, shard_size)];
    x.col(k) = d.x.col(sample);
    labels[k] = d.labels[sample];
  }
}

// In place: logits -> (softmax - onehot) / B, column by column (stable: minus the max).
inline void softmax_delta(Matrix& z, const int* labels) {
  const float scale = 1.0f / kBatch;
  for (int j = 0; j < kBatch; ++j) {
    auto c = z.col(j);
    const float m = c.maxCoeff();
    c = (c.array() - m).exp().matrix();
    c *= scale / c.sum();
    c[labels[j]] -= scale;
  }
}

// Logistic regression: W (10 x 784, column-major) then b (10) in one vector per user, as in
// timely's Layout; n = 1000 users as in BM_learning_local_updates.
void BM_bare_logistic_steps(benchmark::State& state) {
  const BareData& d = bare_data();
  const std::uint32_t n = 1000;
  boost::random::mt19937_64 rng(11);
  const std::vector<std::uint32_t> shards = bare_shards(n, rng);
  const std::uint32_t shard_size = kTrain / n;
  const Eigen::Index p = kClasses * kInputs + kClasses;
  Matrix params = Matrix::Random(p, n) * 0.05f;
  Matrix x(kInputs, kBatch), z(kClasses, kBatch);
  int labels[kBatch];
  double steps = 0;
  for (auto _ : state) {
    for (int rep = 0; rep < 1000; ++rep) {
      const std::uint32_t u = below(rng, n);
      gather(d, shards.data() + static_cast<std::size_t>(u) * shard_size, shard_size, rng, x, labels);
      float* theta = params.col(u).data();
      Eigen::Map<Matrix> w(theta, kClasses, kInputs);
      Eigen::Map<Vector> b(theta + kClasses * kInputs, kClasses);
      z.noalias() = w * x;
      z.colwise() += b;
      softmax_delta(z, labels);
      b.noalias() -= kLr * z.rowwise().sum();
      w.noalias() -= kLr * z * x.transpose();
    }
    steps += 1000;
  }
  benchmark::DoNotOptimize(params.data());
  state.counters["steps_per_second"] = benchmark::Counter(steps, benchmark::Counter::kIsRate);
  state.counters["finite"] = params.allFinite();  // 1: no overflow or NaN slowed the loop
}

// MLP 784-128-64-10, ReLU: W1 b1 W2 b2 W3 b3 in one vector per user (timely's Layout);
// n = 100 users as in BM_learning_local_updates_mlp.
void BM_bare_mlp_steps(benchmark::State& state) {
  const BareData& d = bare_data();
  const std::uint32_t n = 100;
  constexpr int h1 = 128, h2 = 64;
  boost::random::mt19937_64 rng(13);
  const std::vector<std::uint32_t> shards = bare_shards(n, rng);
  const std::uint32_t shard_size = kTrain / n;
  const Eigen::Index o_w1 = 0, o_b1 = o_w1 + h1 * kInputs, o_w2 = o_b1 + h1, o_b2 = o_w2 + h2 * h1,
                     o_w3 = o_b2 + h2, o_b3 = o_w3 + kClasses * h2, p = o_b3 + kClasses;
  Matrix params = Matrix::Random(p, n) * 0.05f;
  Matrix x(kInputs, kBatch), a1(h1, kBatch), a2(h2, kBatch), z3(kClasses, kBatch);
  Matrix d2(h2, kBatch), d1(h1, kBatch);
  int labels[kBatch];
  double steps = 0;
  for (auto _ : state) {
    for (int rep = 0; rep < 100; ++rep) {
      const std::uint32_t u = below(rng, n);
      gather(d, shards.data() + static_cast<std::size_t>(u) * shard_size, shard_size, rng, x, labels);
      float* theta = params.col(u).data();
      Eigen::Map<Matrix> w1(theta + o_w1, h1, kInputs), w2(theta + o_w2, h2, h1), w3(theta + o_w3, kClasses, h2);
      Eigen::Map<Vector> b1(theta + o_b1, h1), b2(theta + o_b2, h2), b3(theta + o_b3, kClasses);
      // Forward.
      a1.noalias() = w1 * x;
      a1.colwise() += b1;
      a1 = a1.cwiseMax(0.0f);
      a2.noalias() = w2 * a1;
      a2.colwise() += b2;
      a2 = a2.cwiseMax(0.0f);
      z3.noalias() = w3 * a2;
      z3.colwise() += b3;
      softmax_delta(z3, labels);
      // Backward and update, each W^T delta taken before its W changes.
      d2.noalias() = w3.transpose() * z3;
      d2.array() = (a2.array() > 0.0f).select(d2.array(), 0.0f);
      w3.noalias() -= kLr * z3 * a2.transpose();
      b3.noalias() -= kLr * z3.rowwise().sum();
      d1.noalias() = w2.transpose() * d2;
      d1.array() = (a1.array() > 0.0f).select(d1.array(), 0.0f);
      w2.noalias() -= kLr * d2 * a1.transpose();
      b2.noalias() -= kLr * d2.rowwise().sum();
      w1.noalias() -= kLr * d1 * x.transpose();
      b1.noalias() -= kLr * d1.rowwise().sum();
    }
    steps += 100;
  }
  benchmark::DoNotOptimize(params.data());
  state.counters["steps_per_second"] = benchmark::Counter(steps, benchmark::Counter::kIsRate);
  state.counters["finite"] = params.allFinite();  // 1: no overflow or NaN slowed the loop
}

}  // namespace

BENCHMARK(BM_bare_logistic_steps)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_bare_mlp_steps)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_learning_local_updates_mlp)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_learning_local_updates)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_learning_gossip)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_learning_gossip_mlp)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_learning_observation_mlp)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  using timely::bench::Figure;
  return timely::bench::run_with_ratios(
      argc, argv,
      {Figure{"timely_logistic", "BM_learning_local_updates", "local_updates_per_second", "steps/s"},
       Figure{"bare_logistic", "BM_bare_logistic_steps", "steps_per_second", "steps/s"},
       Figure{"timely_mlp", "BM_learning_local_updates_mlp", "local_updates_per_second", "steps/s"},
       Figure{"bare_mlp", "BM_bare_mlp_steps", "steps_per_second", "steps/s"},
       Figure{"timely_logistic_gossip", "BM_learning_gossip", "gossips_per_second", "mixes/s"},
       Figure{"timely_mlp_gossip", "BM_learning_gossip_mlp", "gossips_per_second", "mixes/s"},
       Figure{"timely_mlp_observation", "BM_learning_observation_mlp", "ms_per_observation", "ms"}},
      {{"timely_logistic", "bare_logistic", 0.8}, {"timely_mlp", "bare_mlp", 0.8}});
}
