// Learning protocols (sim/protocols.hpp, docs/model.md §4): the registry, learning.protocol
// and its alias mixing.rule = "fedavg", and what each protocol does.
#include <catch2/catch.hpp>

#include <boost/random/exponential_distribution.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "experiments/scenario_keys.hpp"
#include "sim/choices.hpp"
#include "sim/input_error.hpp"
#include "sim/learning.hpp"
#include "sim/model_bank.hpp"
#include "sim/observer.hpp"
#include "sim/protocols.hpp"
#include "sim/quadratic.hpp"
#include "sim/random.hpp"
#include "sim/trials.hpp"
#include "tests/regression_problem.hpp"

using namespace timely;

namespace {

sim::Scenario regression(std::uint32_t n) {
  sim::Scenario s;
  s.network.n = n;
  tests::use_linear_regression(s, 2000, 300);
  s.learning.observe.every = 5.0;
  s.run.warmup = 0;
  s.run.horizon = 40.0;
  s.run.trials = 2;
  s.run.seed = 7;
  return s;
}

// A small classification run, so that the single-user baseline runs too.
sim::Scenario classification(std::uint32_t n) {
  sim::Scenario s = regression(n);
  s.learning.model.kind = sim::ModelKind::mlp;
  s.learning.model.hidden = {6};
  s.learning.data.source = sim::DataSource::synthetic_mixture;
  s.learning.data.classes = 3;
  return s;
}

std::vector<sim::LearningTrialResult> run(const sim::Scenario& s) {
  return sim::run_learning_trials(s, sim::scenario_graph(s), sim::prepare_learning(s), 1);
}

void check_same(const sim::Observation& a, const sim::Observation& b) {
  CHECK(a.time == b.time);
  CHECK(a[sim::metric::loss] == b[sim::metric::loss]);
  CHECK(a[sim::metric::accuracy] == b[sim::metric::accuracy]);
  CHECK(a[sim::metric::user_loss] == b[sim::metric::user_loss]);
  CHECK(a[sim::metric::worst_user_loss] == b[sim::metric::worst_user_loss]);
  CHECK(a[sim::metric::user_accuracy] == b[sim::metric::user_accuracy]);
  CHECK(a[sim::metric::train_loss] == b[sim::metric::train_loss]);
  CHECK(a[sim::metric::consensus_distance] == b[sim::metric::consensus_distance]);
  CHECK(a[sim::metric::distance_to_optimum] == b[sim::metric::distance_to_optimum]);
  CHECK(a[sim::metric::max_user_distance_to_optimum] == b[sim::metric::max_user_distance_to_optimum]);
  CHECK(a[sim::metric::user_error] == b[sim::metric::user_error]);
  CHECK(a[sim::metric::worst_user_error] == b[sim::metric::worst_user_error]);
  CHECK(a.weight_variance == b.weight_variance);
  CHECK(a[sim::metric::bytes_sent_per_user] == b[sim::metric::bytes_sent_per_user]);
}

void check_same(const sim::LearningTrialResult& a, const sim::LearningTrialResult& b) {
  REQUIRE(a.observations.size() == b.observations.size());
  for (std::size_t k = 0; k < a.observations.size(); ++k) check_same(a.observations[k], b.observations[k]);
  CHECK(a.time_to_target == b.time_to_target);
  CHECK(a.time_to_distance == b.time_to_distance);
  CHECK(a.time_to_loss == b.time_to_loss);
  CHECK(a.plateau_time == b.plateau_time);
  CHECK(a.baseline_plateau_time == b.baseline_plateau_time);
  CHECK(a.local_updates == b.local_updates);
  CHECK(a.gossips == b.gossips);
  CHECK(a.rounds == b.rounds);
  CHECK(a.diverged_at == b.diverged_at);
  CHECK(a.baseline_diverged_at == b.baseline_diverged_at);
  CHECK(a.staleness.mean_staleness == b.staleness.mean_staleness);
  CHECK(a.staleness.events == b.staleness.events);
}

// The plateau delay's reference as it was written by hand before it became the single-user
// protocol, kept verbatim as the reference of its bits: one user on the whole training set,
// a Poisson clock at the long-run rate r drawn on `stream`, the same SGD and observation grid.
struct HandWritten {
  std::vector<sim::Observation> observations;
  std::optional<double> diverged_at;
};
HandWritten hand_written_single_user(const sim::Scenario& s, const sim::LearningData& d, sim::Stream stream,
                                     std::uint64_t index) {
  sim::LearningData single;
  single.data = d.data;
  single.architecture = d.architecture;
  single.optimum = d.optimum;
  single.partition.shards.resize(1);
  single.partition.shards[0].resize(d.data->train.size());
  std::iota(single.partition.shards[0].begin(), single.partition.shards[0].end(), 0u);
  sim::Rng rng = sim::make_rng(s.run.seed, stream, index);
  sim::ModelBank learner(s, single, rng);
  const sim::Observer observer(s, single, learner);
  sim::ObservationGrid grid(s, learner, observer);
  boost::random::exponential_distribution<double> gap(s.update_rate());
  for (double t = gap(rng); t <= s.run.horizon; t += gap(rng)) {
    grid.before(t);
    learner.train(0, t);
    if (learner.diverged()) break;
  }
  grid.before(s.run.horizon);
  sim::LearningTrialResult result;
  grid.take(result);
  return {std::move(result.observations), result.diverged_at};
}

// First observation time at which accuracy reaches `fraction` of the final accuracy, written
// out from docs/model.md §4's definition.
std::optional<double> first_at_fraction(const std::vector<sim::Observation>& o, double fraction) {
  if (o.empty() || !o.back()[sim::metric::accuracy]) return std::nullopt;
  for (const auto& x : o)
    if (*x[sim::metric::accuracy] >= fraction * *o.back()[sim::metric::accuracy]) return x.time;
  return std::nullopt;
}

std::string refusal(const std::vector<std::string>& settings) {
  try {
    experiments::validate(experiments::load_scenario(std::nullopt, settings));
  } catch (const InputError& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("the protocol registry's names round-trip through learning.protocol", "[protocols]") {
  const auto registry = sim::learning_protocol_registry();
  REQUIRE(registry.size() == 7);
  CHECK(registry[sim::dpsgd_protocol.index].name == "dpsgd");
  CHECK(registry[sim::sapo_protocol.index].name == "sapo");
  CHECK(registry[sim::sapo_protocol.index].reports_experience);
  CHECK_FALSE(registry[sim::sapo_protocol.index].measures_staleness);
  CHECK(registry[sim::gossip_protocol.index].name == "gossip");
  CHECK(registry[sim::modest_protocol.index].name == "modest");
  CHECK_FALSE(registry[sim::modest_protocol.index].measures_staleness);
  CHECK(registry[sim::modest_protocol.index].observed == sim::Observed::server);
  CHECK(registry[sim::fedavg_protocol.index].name == "fedavg");
  CHECK(registry[sim::local_protocol.index].name == "local");
  CHECK(registry[sim::single_user_protocol.index].name == "single-user");
  CHECK(registry[sim::gossip_protocol.index].measures_staleness);
  CHECK_FALSE(registry[sim::fedavg_protocol.index].measures_staleness);
  CHECK_FALSE(registry[sim::local_protocol.index].measures_staleness);
  CHECK_FALSE(registry[sim::single_user_protocol.index].measures_staleness);
  // Only the single-user reference pools the users' data into one user.
  for (std::size_t k = 0; k < registry.size(); ++k) CHECK(registry[k].pools_data == (k == sim::single_user_protocol.index));
  // Only SAPO reports what it did with shared experience.
  for (std::size_t k = 0; k < registry.size(); ++k) CHECK(registry[k].reports_experience == (k == sim::sapo_protocol.index));
  for (std::size_t k = 0; k < registry.size(); ++k) {
    const std::string name(registry[k].name);
    INFO(name);
    sim::Scenario s;
    experiments::apply_setting(s, "learning.protocol=" + name);
    CHECK(s.learning.protocol.index == k);
    CHECK(sim::learning_protocols().name(s.learning.protocol) == name);
    CHECK(experiments::scenario_json(s)["learning.protocol"] == name);
    CHECK(&sim::learning_protocol(s) == &registry[k]);
  }
  sim::Scenario s;  // the default
  CHECK(sim::learning_protocol(s).name == "gossip");
  s.learning.mixing.rule = sim::MixingRule::fedavg;  // the alias
  CHECK(sim::learning_protocol(s).name == "fedavg");
}

TEST_CASE("bad learning.protocol values are refused naming the key and the accepted names", "[protocols]") {
  sim::Scenario s;
  try {
    experiments::apply_setting(s, "learning.protocol=gosip");
    FAIL("accepted a bogus protocol");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find("learning.protocol") != std::string::npos);
    for (const char* name : {"gossip", "fedavg", "local", "single-user"}) CHECK(what.find(name) != std::string::npos);
  }
  const std::vector<std::string> linear{"model.kind=linear", "data.source=synthetic-regression"};
  const auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), linear.begin(), linear.end());
    return refusal(extra);
  };
  CHECK(with({"learning.protocol=local"}) == "accepted");
  CHECK(with({"learning.protocol=fedavg"}) == "accepted");
  CHECK(with({"mixing.rule=fedavg", "learning.protocol=fedavg"}) == "accepted");
  CHECK(with({"mixing.rule=fedavg", "learning.protocol=local"}).starts_with("learning.protocol: mixing.rule = \"fedavg\" is an alias"));
  CHECK(with({"learning.protocol=local", "mixing.rule=age-weighted"}).starts_with("mixing.rule: learning.protocol = \"local\""));
  CHECK(with({"learning.protocol=local", "gossip.loss=0.1"}).starts_with("gossip.loss: "));
  // FedAvg's rounds wait for every client: loss and churn would stop them; latency, bandwidth
  // and per-user clocks time them (docs/model.md §6.7).
  CHECK(with({"learning.protocol=fedavg", "churn.model=markov"})
            .starts_with("churn.model: learning.protocol = \"fedavg\" waits for every client's model each round"));
  CHECK(with({"learning.protocol=fedavg", "gossip.loss=0.1"}).starts_with("gossip.loss: learning.protocol = \"fedavg\""));
  CHECK(with({"learning.protocol=fedavg", R"(updates.rate={ dist = "uniform", low = 0.5, high = 1.5 })"}) == "accepted");
  CHECK(with({"learning.protocol=fedavg", "gossip.latency=0.1", "gossip.bandwidth=1e6"}) == "accepted");
  // The single-user reference: one user on one clock, no messages, no mixing.
  CHECK(with({"learning.protocol=single-user"}) == "accepted");
  CHECK(with({"learning.protocol=single-user", "updates.delay=0.5"}) == "accepted");  // a renewal clock's long-run rate
  CHECK(with({"learning.protocol=single-user", "gossip.latency=0.2"})
            .starts_with("gossip.latency: gossip.latency, gossip.bandwidth, gossip.loss and churn apply to gossip; "
                         "learning.protocol = \"single-user\" sends no messages"));
  CHECK(with({"learning.protocol=single-user", "gossip.bandwidth=1e6"}).starts_with("gossip.bandwidth: "));
  CHECK(with({"learning.protocol=single-user", "gossip.loss=0.1"}).starts_with("gossip.loss: "));
  CHECK(with({"learning.protocol=single-user", "churn.model=markov"}).starts_with("churn.model: "));
  CHECK(with({"learning.protocol=single-user", R"(updates.rate={ dist = "uniform", low = 0.5, high = 1.5 })"})
            .starts_with("updates.rate: per-user clocks do not apply to learning.protocol = \"single-user\""));
  CHECK(with({"learning.protocol=single-user", R"(updates.delay={ dist = "exponential", mean = 0.5 })"})
            .starts_with("updates.delay: per-user clocks do not apply to learning.protocol = \"single-user\""));
  CHECK(with({"learning.protocol=single-user", R"(gossip.capacity={ dist = "uniform", low = 0.5, high = 1.5 })"})
            .starts_with("gossip.capacity: per-user clocks do not apply"));
  CHECK(with({"learning.protocol=single-user", "mixing.rule=variance-corrected"})
            .starts_with("mixing.rule: learning.protocol = \"single-user\" mixes no models"));
  CHECK(with({"learning.protocol=single-user", "mixing.rule=fedavg"}).starts_with("learning.protocol: mixing.rule = \"fedavg\" is an alias"));
  // Every protocol runs the quadratic model; what it cannot do is refused by its key.
  sim::Scenario quadratic;
  quadratic.learning.model.kind = sim::ModelKind::quadratic;
  for (const auto id : {sim::gossip_protocol, sim::fedavg_protocol, sim::local_protocol, sim::single_user_protocol}) {
    quadratic.learning.protocol = id;
    CHECK_NOTHROW(sim::check_quadratic_scenario(quadratic));
  }
  quadratic.learning.protocol = sim::gossip_protocol;
  quadratic.learning.mixing.rule = sim::MixingRule::fedavg;  // the alias
  CHECK_NOTHROW(sim::check_quadratic_scenario(quadratic));
  quadratic.learning.mixing.fedavg_variance_correction = true;
  CHECK_THROWS_WITH(sim::check_quadratic_scenario(quadratic),
                    Catch::StartsWith("mixing.fedavg_variance_correction: model.kind = \"quadratic\" has no weight tensors"));
}

TEST_CASE("learning.protocol = fedavg is bit-identical to mixing.rule = fedavg", "[protocols][fedavg]") {
  sim::Scenario alias = classification(12);
  alias.learning.mixing.rule = sim::MixingRule::fedavg;
  alias.learning.mixing.fedavg_fraction = 0.25;
  sim::Scenario named = classification(12);
  named.learning.protocol = sim::fedavg_protocol;
  named.learning.mixing.fedavg_fraction = 0.25;
  const auto a = run(alias), b = run(named);
  REQUIRE(a.size() == b.size());
  for (std::size_t t = 0; t < a.size(); ++t) check_same(a[t], b[t]);
  CHECK(a[0].rounds == 40);
  CHECK(a[0].gossips == 0);
}

TEST_CASE("learning.protocol = local trains every user alone: no gossip, no mixing", "[protocols]") {
  sim::Scenario s = regression(16);
  s.learning.protocol = sim::local_protocol;
  for (const auto& r : run(s)) {
    CHECK(r.gossips == 0);
    CHECK(r.rounds == 0);
    CHECK(r.local_updates > 16 * 40 / 2);  // each user's clock ticks at rate 1 for 40 time units
    CHECK(r.observations.back().at(sim::metric::loss) < 0.5 * r.observations.front().at(sim::metric::loss));
    CHECK(r.staleness.events == 0);  // no staleness measured
  }
  // Without training, local models never move, while gossip's average towards consensus.
  s.learning.train.steps = 0;
  sim::Scenario gossip = s;
  gossip.learning.protocol = sim::gossip_protocol;
  const auto local = run(s), mixed = run(gossip);
  for (std::size_t t = 0; t < local.size(); ++t) {
    const auto& o = local[t].observations;
    CHECK(o.front().at(sim::metric::consensus_distance) > 0.0);
    for (const auto& x : o) CHECK(x.at(sim::metric::consensus_distance) == o.front().at(sim::metric::consensus_distance));
    const auto& g = mixed[t].observations;
    CHECK(g.front().at(sim::metric::consensus_distance) == o.front().at(sim::metric::consensus_distance));  // the same initial models
    CHECK(g.back().at(sim::metric::consensus_distance) < 0.01 * g.front().at(sim::metric::consensus_distance));
  }
}

TEST_CASE("learning.protocol = local reports no staleness and no theory", "[protocols][cli]") {
  sim::Scenario s = regression(8);
  s.learning.protocol = sim::local_protocol;
  const sim::LearningProtocol& p = sim::learning_protocol(s);
  CHECK(p.title == "local training");
  CHECK_FALSE(p.measures_staleness);
}

TEST_CASE("learning.protocol = single-user is the hand-written single-user loop, bit for bit", "[protocols]") {
  // Logistic and MLP (with momentum), a renewal clock (its long-run rate r), and a step size
  // at which the one user diverges: the protocol's observations and divergence equal the loop
  // it replaced, on the trial's engine, and the plateau reference of a gossip and a FedAvg run
  // equals it on the baseline engine.
  for (int variant = 0; variant < 4; ++variant) {
    sim::Scenario s = classification(6);
    s.run.trials = 2;
    if (variant == 0) s.learning.model.kind = sim::ModelKind::logistic;
    if (variant == 1) s.learning.train.momentum = 0.5;
    if (variant == 2) s.updates.delay = 0.7;
    if (variant == 3) s.learning.train.lr = 1e38;
    INFO("variant " << variant);
    const sim::LearningData d = sim::prepare_learning(s);
    sim::Scenario single = s;
    single.learning.protocol = sim::single_user_protocol;
    const auto got = sim::run_learning_trials(single, sim::scenario_graph(single), d, 1);
    for (std::uint64_t index = 0; index < got.size(); ++index) {
      const HandWritten want = hand_written_single_user(s, d, sim::Stream::trial, index);
      const auto& r = got[index];
      REQUIRE(r.observations.size() == want.observations.size());
      for (std::size_t k = 0; k < want.observations.size(); ++k) check_same(r.observations[k], want.observations[k]);
      CHECK(r.diverged_at == want.diverged_at);
      CHECK(r.diverged_at.has_value() == (variant == 3));
      CHECK(r.gossips == 0);
      CHECK(r.rounds == 0);
      CHECK(r.staleness.events == 0);
      // The trial is its own plateau reference.
      CHECK(r.baseline_plateau_time == r.plateau_time);
      CHECK(r.baseline_diverged_at == r.diverged_at);
      if (variant == 0) {
        REQUIRE(r.plateau_time);
        CHECK(r.plateau_time == first_at_fraction(r.observations, s.learning.observe.plateau_fraction));
        // About r H = 40 updates of the one user's clock.
        CHECK(r.local_updates > 20);
        CHECK(r.local_updates < 60);
      }
    }
    for (const auto protocol : {sim::gossip_protocol, sim::fedavg_protocol}) {
      sim::Scenario other = s;
      other.learning.protocol = protocol;
      const auto runs = sim::run_learning_trials(other, sim::scenario_graph(other), d, 1);
      for (std::uint64_t index = 0; index < runs.size(); ++index) {
        const HandWritten want = hand_written_single_user(s, d, sim::Stream::baseline, index);
        CHECK(runs[index].baseline_plateau_time == first_at_fraction(want.observations, s.learning.observe.plateau_fraction));
        CHECK(runs[index].baseline_diverged_at == want.diverged_at);
      }
    }
  }
}

TEST_CASE("learning.protocol = single-user trains one user on all the data: it sees every class", "[protocols]") {
  // A label-skewed partition gives each of 6 users one class of 3; the single user, holding all
  // the data, classifies every class, while local training's users, each on its shard, cannot.
  sim::Scenario s = classification(6);
  s.learning.model.kind = sim::ModelKind::logistic;
  s.learning.data.partition = models::PartitionKind::shards;
  s.learning.data.shards_per_user = 1;
  s.run.trials = 1;
  sim::Scenario single = s, local = s;
  single.learning.protocol = sim::single_user_protocol;
  local.learning.protocol = sim::local_protocol;
  const auto a = run(single), b = run(local);
  const double single_accuracy = *a[0].observations.back()[sim::metric::user_accuracy];
  const double local_accuracy = *b[0].observations.back()[sim::metric::user_accuracy];
  INFO("single user " << single_accuracy << ", local users " << local_accuracy);
  CHECK(single_accuracy > 0.9);
  CHECK(local_accuracy < 0.6);
  // One user: it is its own average, so its models agree.
  CHECK(a[0].observations.back().at(sim::metric::consensus_distance) == 0.0);
}
