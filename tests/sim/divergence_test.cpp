// Divergence of learning runs (sim/learning.hpp, LearningTrialResult::diverged_at): a run
// whose parameters or metrics become non-finite stops its model arithmetic, stores only
// finite observations, and still measures the staleness of its clocks over the whole run.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <optional>

#include "sim/learning.hpp"
#include "sim/trial.hpp"

using namespace timely;

namespace {

sim::Scenario regression() {
  sim::Scenario s;
  s.network.n = 16;
  s.learning.model.kind = sim::ModelKind::linear;
  s.learning.data.source = sim::DataSource::synthetic_regression;
  s.learning.data.features = 5;
  s.learning.data.train_samples = 2000;
  s.learning.data.test_samples = 300;
  s.learning.observe.every = 5;
  s.run.horizon = 50;
  s.run.warmup = 0;
  s.run.trials = 1;
  return s;
}

sim::Scenario classification(sim::ModelKind kind) {
  sim::Scenario s = regression();
  s.learning.model.kind = kind;
  s.learning.model.hidden = {8};
  s.learning.data.source = sim::DataSource::synthetic_mixture;
  s.learning.data.classes = 3;
  return s;
}

sim::LearningTrialResult run(const sim::Scenario& s, std::uint64_t trial = 0) {
  return sim::run_learning_trial(s, sim::scenario_graph(s), sim::prepare_learning(s), trial);
}

// Every value of the observation, each metric of the list and each tensor's variance, is finite.
bool all_finite(const sim::Observation& o) {
  bool ok = std::isfinite(o.time);
  for (const std::optional<double>& x : o.values) ok = ok && (!x || std::isfinite(*x));
  for (const double v : o.weight_variance) ok = ok && std::isfinite(v);
  return ok;
}

// Bit-for-bit equality of two doubles (NaN included).
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (!same_bits(a[k], b[k])) return false;
  return true;
}

// A diverged run: diverged_at within the run, only finite observations, all of them before
// diverged_at, and none skipped before it.
void check_diverged(const sim::Scenario& s, const sim::LearningTrialResult& r) {
  REQUIRE(r.diverged_at);
  CHECK(std::isfinite(*r.diverged_at));
  CHECK(*r.diverged_at >= 0.0);
  CHECK(*r.diverged_at <= s.run.horizon);
  REQUIRE_FALSE(r.observations.empty());  // t = 0 comes before any training
  for (const auto& o : r.observations) {
    CHECK(finite(o));
    CHECK(o.time <= *r.diverged_at);
  }
  const double next_grid = s.learning.observe.every * static_cast<double>(r.observations.size());
  CHECK(next_grid >= *r.diverged_at);
  if (r.time_to_target) CHECK(*r.time_to_target <= r.observations.back().time);
  if (r.plateau_time) CHECK(*r.plateau_time <= r.observations.back().time);
}

}  // namespace

TEST_CASE("divergence: linear regression at lr = 1e9 stops at diverged_at and keeps exact staleness", "[learning]") {
  sim::Scenario s = regression();
  s.learning.train.lr = 1e9;
  const auto bad = run(s);
  check_diverged(s, bad);
  CHECK(bad.observations.size() < 11);

  // The same clocks at a sane learning rate: the engine's draws do not depend on the model,
  // so the staleness and the event counts are bit-identical.
  s.learning.train.lr = 0.05;
  const auto good = run(s);
  CHECK_FALSE(good.diverged_at);
  CHECK(good.observations.size() == 11);  // 0, 5, ..., 50
  for (const auto& o : good.observations) CHECK(finite(o));
  CHECK(good.staleness.events > 0);
  CHECK(bad.staleness.events == good.staleness.events);
  CHECK(bad.local_updates == good.local_updates);
  CHECK(bad.gossips == good.gossips);
  CHECK(same_bits(bad.staleness.mean_staleness, good.staleness.mean_staleness));
  CHECK(same_bits(bad.staleness.max_mean, good.staleness.max_mean));
  CHECK(same_bits(bad.staleness.max_all_mean, good.staleness.max_all_mean));
  CHECK(same_bits(bad.staleness.staleness_time, good.staleness.staleness_time));
  CHECK(same_bits(bad.staleness.worst_time, good.staleness.worst_time));
  CHECK(same_bits(bad.staleness.max_all_time, good.staleness.max_all_time));
  CHECK(good.staleness.mean_staleness > 0.0);
}

TEST_CASE("divergence: found at the update that overflows, or at the observation whose metrics do", "[learning]") {
  // lr = 1e20 on the regression: a local update overflows the parameters between the grid
  // times 0 and 0.5 (metrics in float overflow long before the parameters do, so a denser
  // grid would flag the observation first).
  sim::Scenario s = regression();
  s.learning.train.lr = 1e20;
  s.learning.observe.every = 0.5;
  const auto at_update = run(s);
  check_diverged(s, at_update);
  INFO("diverged at " << *at_update.diverged_at);
  CHECK(*at_update.diverged_at > 0.0);
  CHECK(*at_update.diverged_at < 0.5);
  CHECK(at_update.observations.size() == 1);

  // lr = 5 grows the parameters slowly: the float test loss overflows first, at a grid time,
  // while every parameter is still finite; that observation is not stored, the earlier are.
  s.learning.train.lr = 5;
  s.learning.observe.every = 1;
  const auto at_observation = run(s);
  check_diverged(s, at_observation);
  CHECK(*at_observation.diverged_at == std::floor(*at_observation.diverged_at));
  CHECK(at_observation.observations.size() == static_cast<std::size_t>(*at_observation.diverged_at));
  CHECK(at_observation.observations.size() > 5);
  CHECK(at_observation.observations.back().at(sim::metric::loss) > 1e20);  // the last stored one was large, and finite
}

TEST_CASE("divergence: every mixing rule, gossip mode, momentum and renewal clocks", "[learning]") {
  sim::Scenario s = regression();
  s.learning.train.lr = 1e9;
  s.learning.observe.every = 2;
  for (const auto rule : {sim::MixingRule::average, sim::MixingRule::age_weighted, sim::MixingRule::variance_corrected})
    for (const auto mode : {sim::GossipMode::push, sim::GossipMode::pull, sim::GossipMode::exchange}) {
      s.learning.mixing.rule = rule;
      s.gossip.mode = mode;
      s.learning.train.momentum = mode == sim::GossipMode::pull ? 0.9 : 0.0;
      s.updates.delay = mode == sim::GossipMode::exchange ? 0.3 : 0.0;
      INFO("rule " << static_cast<int>(rule) << ", mode " << static_cast<int>(mode));
      const auto bad = run(s);
      check_diverged(s, bad);
      sim::Scenario sane = s;
      sane.learning.train.lr = 0.01;
      const auto good = run(sane);
      CHECK_FALSE(good.diverged_at);
      CHECK(bad.staleness.events == good.staleness.events);
      CHECK(same_bits(bad.staleness.staleness_time, good.staleness.staleness_time));
    }
}

TEST_CASE("divergence: an MLP and logistic regression at a huge learning rate", "[learning]") {
  for (const auto kind : {sim::ModelKind::mlp, sim::ModelKind::logistic}) {
    sim::Scenario s = classification(kind);
    s.learning.train.lr = 1e38;
    INFO("model " << static_cast<int>(kind));
    const auto bad = run(s);
    check_diverged(s, bad);
    s.learning.train.lr = 0.05;
    const auto good = run(s);
    CHECK_FALSE(good.diverged_at);
    CHECK_FALSE(good.baseline_diverged_at);
    CHECK(good.observations.size() == 11);
    CHECK(same_bits(bad.staleness.staleness_time, good.staleness.staleness_time));
    CHECK(same_bits(bad.staleness.max_all_time, good.staleness.max_all_time));
  }
}

TEST_CASE("divergence: FedAvg at a huge learning rate", "[learning]") {
  sim::Scenario s = regression();
  s.learning.mixing.rule = sim::MixingRule::fedavg;
  s.learning.mixing.fedavg_fraction = 0.5;
  s.learning.train.lr = 1e9;
  const auto bad = run(s);
  check_diverged(s, bad);
  CHECK(*bad.diverged_at == std::floor(*bad.diverged_at));  // a round time (rate 1)
  CHECK(bad.rounds == 50);  // the rounds still count to the horizon
  CHECK(bad.local_updates == 50 * 8);
  s.learning.train.lr = 0.05;
  const auto good = run(s);
  CHECK_FALSE(good.diverged_at);
  CHECK(good.observations.size() == 11);
}
