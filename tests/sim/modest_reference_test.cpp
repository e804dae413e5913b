// MoDeST's round timing (sim/modest.hpp, docs/model.md §4.1) against a deliberately naive
// round-by-round simulation of the rules (tests/sim/naive_modest.hpp) under Markov churn, with
// latency, a finite bandwidth and loss, each user sampling from its own view: the rounds
// completed and abandoned per trial, and the mean sample overlap per trial. Each
// engine mean and each naive mean comes from independent trials; their difference must lie
// within the combined 99.9% Student-t half-widths, and that tolerance must be small against
// the mean: 5% for the rounds completed, and for the rounds abandoned 5% where many are (even
// churn) and 10% where few are (mild churn, about 6 per trial), and 1% for the overlap. With
// 1000 trials a side, naive
// variants that drop the uplink queue, one of the ping's two loss draws, the sender's
// online check, the training loss or the restart's timeout each fail it.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/statistics.hpp"
#include "experiments/scenario_checks.hpp"
#include "sim/choices.hpp"
#include "sim/learning.hpp"
#include "sim/quadratic.hpp"
#include "sim/user_clocks.hpp"
#include "tests/quadratic_problem.hpp"
#include "tests/sim/naive_modest.hpp"
#include "tests/statistical.hpp"

using namespace timely;
namespace naive = timely::tests::naive;

namespace {

using testing::check_agreement;
using testing::estimate;

sim::Scenario churn_scenario(double online_mean, double offline_mean, std::uint32_t aggregators = 1) {
  sim::Scenario s = tests::small_quadratic("modest", 40);
  s.learning.modest.sample = 8;  // need = floor(8 * 0.8) = 6, min_models 3, timeout 2, ping_timeout 0.1
  s.gossip.latency = 0.02;
  // One model takes 0.05 on the uplink: a holder's 8 sends take 0.4, a visible share of a round.
  s.gossip.bandwidth = sim::quadratic_message_bytes(s.learning.data.features) / 0.05;
  s.gossip.loss = 0.05;
  s.churn.model = sim::ChurnModel::markov;
  s.churn.online_mean = online_mean;
  s.churn.offline_mean = offline_mean;
  s.learning.modest.aggregators = aggregators;
  s.run.warmup = 0.0;
  s.run.horizon = 200.0;
  s.run.trials = 1000;
  s.run.seed = 73;
  experiments::validate(s);
  return s;
}

struct Counts {
  std::vector<double> rounds, abandoned, overlap;  // overlap: over the trials that compared any
};

Counts engine_counts(const sim::Scenario& s) {
  Counts c;
  const sim::Graph graph = sim::scenario_graph(s);
  const sim::LearningData data = sim::prepare_learning(s);
  for (std::uint64_t k = 0; k < s.run.trials; ++k) {
    const sim::LearningTrialResult r = sim::run_learning_trial(s, graph, data, k);
    REQUIRE(r.round_counts);
    c.rounds.push_back(static_cast<double>(r.rounds));
    c.abandoned.push_back(static_cast<double>(r.round_counts->rounds_abandoned));
    if (r.round_counts->sample_overlaps > 0)
      c.overlap.push_back(r.round_counts->sample_overlap_total / static_cast<double>(r.round_counts->sample_overlaps));
  }
  return c;
}

Counts naive_counts(const sim::Scenario& s) {
  Counts c;
  const double bytes = sim::quadratic_message_bytes(s.learning.data.features);
  for (std::uint64_t k = 0; k < s.run.trials; ++k) {
    const naive::ModestRoundsResult r = naive::modest_rounds_trial(s, bytes, k);
    c.rounds.push_back(static_cast<double>(r.rounds));
    c.abandoned.push_back(static_cast<double>(r.abandoned));
    if (r.overlaps > 0) c.overlap.push_back(r.overlap_total / static_cast<double>(r.overlaps));
  }
  return c;
}

}  // namespace

TEST_CASE("MoDeST's rounds under Markov churn agree with a naive round-by-round simulation of the rules",
          "[modest][statistical]") {
  struct Case {
    double online_mean, offline_mean, abandoned_power;
  };
  // Mild churn (about 83 rounds completed and 6 abandoned per trial) and even churn (about 51
  // and 25).
  for (const Case c : {Case{20.0, 5.0, 0.1}, Case{5.0, 5.0, 0.05}}) {
    const sim::Scenario s = churn_scenario(c.online_mean, c.offline_mean);
    std::ostringstream label_text;
    label_text << "online_mean " << c.online_mean << ", offline_mean " << c.offline_mean;
    const std::string label = label_text.str();
    const Counts engine = engine_counts(s), reference = naive_counts(s);
    check_agreement(label + ", rounds completed", engine.rounds, reference.rounds, 0.05);
    check_agreement(label + ", rounds abandoned", engine.abandoned, reference.abandoned, c.abandoned_power);
    check_agreement(label + ", sample overlap", engine.overlap, reference.overlap, 0.01);
    // The views do differ under churn, and still agree on most of a sample.
    const double overlap = testing::estimate(engine.overlap).mean;
    CHECK(overlap < 1.0);
    CHECK(overlap > 0.5);
  }
}

namespace {

// Each trainer uploads to a aggregators, the highest uplink first, and the first to average
// online wins: the same comparison as above, for one case.
struct AggregatorsCase {
  double online_mean, offline_mean;
  std::uint32_t aggregators;
  bool per_user_uplinks;
  double abandoned_power;
};
void check_aggregators(const AggregatorsCase& c) {
  sim::Scenario s = churn_scenario(c.online_mean, c.offline_mean, c.aggregators);
  if (c.per_user_uplinks) {
    const double bytes = sim::quadratic_message_bytes(s.learning.data.features);
    s.gossip.bandwidth_law = sim::Distribution{sim::DistributionKind::two_point, bytes / 0.02, bytes / 0.2, 0.3};
    s.gossip.bandwidth = s.gossip.bandwidth_law->mean();
    experiments::validate(s);
  }
  std::ostringstream label_text;
  label_text << c.aggregators << " aggregators" << (c.per_user_uplinks ? " with per-user uplinks" : "")
             << ", online_mean " << c.online_mean << ", offline_mean " << c.offline_mean;
  const std::string label = label_text.str();
  const Counts engine = engine_counts(s), reference = naive_counts(s);
  check_agreement(label + ", rounds completed", engine.rounds, reference.rounds, 0.05);
  check_agreement(label + ", rounds abandoned", engine.abandoned, reference.abandoned, c.abandoned_power);
  check_agreement(label + ", sample overlap", engine.overlap, reference.overlap, 0.01);
}

}  // namespace

TEST_CASE("MoDeST's rounds with two aggregators and per-user uplinks agree with the naive simulation under churn",
          "[modest][statistical]") {
  // Two aggregators under even churn with per-user uplinks (a two-point law: 0.02 per model,
  // or 0.2 for 30% of the users), where the order of a trainer's uploads matters: an engine
  // that uploads in answer order completes about 70.5 rounds there against the naive 72.1,
  // and fails.
  check_aggregators({5.0, 5.0, 2, true, 0.1});
}

TEST_CASE("MoDeST's rounds with two or three aggregators agree with the naive simulation under churn",
          "[modest][statistical][.slow]") {
  // Two aggregators under even churn, three under mild churn, equal uplinks (25 s in a
  // Release build: with the slow tests).
  check_aggregators({5.0, 5.0, 2, false, 0.1});
  check_aggregators({20.0, 5.0, 3, false, 0.15});
}

TEST_CASE("a second MoDeST aggregator abandons fewer rounds under churn than one", "[modest][statistical]") {
  // Under even churn (online 5, offline 5) about a third of the rounds started with one
  // aggregator are abandoned, most because the trainers' one aggregator left or never got
  // enough models. With two, a round is lost only if both fail: the abandoned rounds per trial
  // must fall by more than the combined 99.9% half-widths of the two independent means (the
  // trials of a = 2 use other seeds), and the rounds completed must rise likewise. 300 trials
  // a side give half-widths near 1 round, against a fall of about half the abandoned rounds.
  sim::Scenario one = churn_scenario(5.0, 5.0, 1), two = churn_scenario(5.0, 5.0, 2);
  one.run.trials = two.run.trials = 300;
  two.run.seed = 74;
  const Counts a1 = engine_counts(one), a2 = engine_counts(two);
  const auto fewer = [](const std::string& what, const std::vector<double>& more, const std::vector<double>& less) {
    const testing::Agreement m = estimate(more), l = estimate(less);
    const double tolerance = std::hypot(m.half_width, l.half_width);
    INFO(what << ": " << m.mean << " +- " << m.half_width << " against " << l.mean << " +- " << l.half_width
              << " (99.9% CI), tolerance " << tolerance);
    CHECK(m.mean - l.mean > tolerance);
  };
  fewer("rounds abandoned, one aggregator against two", a1.abandoned, a2.abandoned);
  fewer("rounds completed, two aggregators against one", a2.rounds, a1.rounds);
}
