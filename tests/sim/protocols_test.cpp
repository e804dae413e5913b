// Learning protocols (sim/protocols.hpp, docs/model.md §4): the registry, learning.protocol
// and its alias mixing.rule = "fedavg", and what each protocol does.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "experiments/scenario_keys.hpp"
#include "sim/choices.hpp"
#include "sim/input_error.hpp"
#include "sim/learning.hpp"
#include "sim/protocols.hpp"
#include "sim/quadratic.hpp"
#include "sim/trials.hpp"

using namespace timely;

namespace {

sim::Scenario regression(std::uint32_t n) {
  sim::Scenario s;
  s.network.n = n;
  s.learning.model.kind = sim::ModelKind::linear;
  s.learning.data.source = sim::DataSource::synthetic_regression;
  s.learning.data.features = 5;
  s.learning.data.train_samples = 2000;
  s.learning.data.test_samples = 300;
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
  REQUIRE(registry.size() == 3);
  CHECK(registry[sim::gossip_protocol.index].name == "gossip");
  CHECK(registry[sim::fedavg_protocol.index].name == "fedavg");
  CHECK(registry[sim::local_protocol.index].name == "local");
  CHECK(registry[sim::gossip_protocol.index].measures_staleness);
  CHECK_FALSE(registry[sim::fedavg_protocol.index].measures_staleness);
  CHECK_FALSE(registry[sim::local_protocol.index].measures_staleness);
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
    for (const char* name : {"gossip", "fedavg", "local"}) CHECK(what.find(name) != std::string::npos);
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
  CHECK(with({"learning.protocol=fedavg", "churn.model=markov"})
            .starts_with("churn.model: gossip.latency, gossip.bandwidth, gossip.loss and churn apply to gossip; "
                         "learning.protocol = \"fedavg\""));
  CHECK(with({"learning.protocol=fedavg", R"(updates.rate={ dist = "uniform", low = 0.5, high = 1.5 })"})
            .starts_with("updates.rate: per-user clocks do not apply to learning.protocol = \"fedavg\""));
  // Every protocol runs the quadratic model; what it cannot do is refused by its key.
  sim::Scenario quadratic;
  quadratic.learning.model.kind = sim::ModelKind::quadratic;
  for (const auto id : {sim::gossip_protocol, sim::fedavg_protocol, sim::local_protocol}) {
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
