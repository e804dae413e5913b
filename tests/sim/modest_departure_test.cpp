// MoDeST when 80% of the users leave at once (docs/model.md §4.1; the study
// docs/studies/modest.md shows it on Fashion-MNIST): rounds keep completing after the
// departure and the test accuracy of the round's model keeps rising, on a classification task
// (logistic regression on the synthetic Gaussian mixture).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "experiments/scenario_checks.hpp"
#include "experiments/scenario_keys.hpp"
#include "sim/learning.hpp"
#include "sim/trial.hpp"
#include "tests/scratch_dir.hpp"

using namespace timely;

TEST_CASE("MoDeST's accuracy keeps rising and its rounds keep completing after 80% of the users leave",
          "[modest]") {
  // 50 users with IID shards; at t = 100 all but users 0..9 leave for good.
  const auto dir = testing::fresh_scratch("timely_modest_departure_test", "trace");
  {
    std::ofstream out(dir / "trace.csv");
    out << "user,start,end\n";
    for (int u = 0; u < 50; ++u) out << u << ",0," << (u < 10 ? 1000 : 100) << "\n";
  }
  const sim::Scenario s = experiments::load_scenario_text(R"(
    [network]
    n = 50
    [gossip]
    latency = 0.01
    [churn]
    model = "trace"
    trace_file = "trace.csv"
    [model]
    kind = "logistic"
    [data]
    source = "synthetic-mixture"
    [train]
    lr = 0.01
    [learning]
    protocol = "modest"
    [observe]
    every = 50
    [run]
    horizon = 300
    warmup = 0
  )",
                                                          "departure", dir, {});
  experiments::validate(s);
  sim::Scenario until_100 = s;
  until_100.run.horizon = 100;
  const auto data = sim::prepare_learning(s);
  const auto graph = sim::scenario_graph(s);
  // Eight trials: the accuracy gain from t = 100 to t = 300, paired within each trial, must
  // exceed its 99% confidence half-width (Student's t, 7 degrees of freedom: 3.499).
  constexpr int trials = 8;
  std::vector<double> gain;
  for (int k = 0; k < trials; ++k) {
    const auto whole = sim::run_learning_trial(s, graph, data, k);
    const auto early = sim::run_learning_trial(until_100, graph, data, k);
    INFO("trial " << k << ": " << early.rounds << " rounds by t = 100, " << whole.rounds << " by t = 300");
    REQUIRE(early.rounds > 0);
    CHECK(whole.rounds > early.rounds + 20);  // the rounds after the departure
    // At most the round in flight at t = 100 is lost (its trainers leave); later rounds ping past the departed.
    CHECK(whole.round_counts->rounds_abandoned <= 1);
    const auto accuracy_at = [&](double t) {
      const auto it = std::find_if(whole.observations.begin(), whole.observations.end(),
                                   [&](const auto& o) { return o.time >= t; });
      REQUIRE(it != whole.observations.end());
      return *(*it)[sim::metric::accuracy];
    };
    gain.push_back(accuracy_at(300) - accuracy_at(100));
  }
  double mean = 0.0, square = 0.0;
  for (const double g : gain) mean += g / trials;
  for (const double g : gain) square += (g - mean) * (g - mean) / (trials - 1);
  INFO("accuracy gain from t = 100 to 300: " << mean << " +- " << 3.499 * std::sqrt(square / trials));
  CHECK(mean > 3.499 * std::sqrt(square / trials));
}
