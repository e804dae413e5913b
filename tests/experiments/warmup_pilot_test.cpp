// run.warmup = "auto" without theory (experiments/warmup_pilot.hpp): a pilot on its own trial
// indices chooses a warm-up after which the mean is the stationary one, checked against the
// exact theory where there is one and against a naive, much longer warm-up where there is
// none; the choice does not depend on the threads, and the run's own trials do not depend on
// the pilot.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "analysis/predict.hpp"
#include "analysis/warmup.hpp"
#include "experiments/simulation.hpp"
#include "experiments/warmup_pilot.hpp"
#include "sim/trials.hpp"
#include "tests/run_cli.hpp"
#include "tests/scratch_dir.hpp"
#include "tests/statistical.hpp"

namespace {

using timely::sim::Scenario;

std::vector<double> means(const std::vector<timely::sim::TrialResult>& trials) {
  std::vector<double> m;
  for (const auto& t : trials) m.push_back(t.mean_staleness);
  return m;
}

// A users-model scenario the theory does not solve: every message takes half a time unit.
Scenario latency_scenario() {
  Scenario s;
  s.network.n = 200;
  s.gossip.latency = 0.5;
  s.run.horizon = 120;
  s.run.trials = 24;
  s.run.seed = 7;
  s.run.warmup_auto = true;
  return s;
}

}  // namespace

TEST_CASE("the exponential tail read backwards: a window's rise gives back its expected age", "[warmup]") {
  using timely::analysis::window_drift;
  using timely::analysis::window_drift_age;
  // A window that doubles its horizon at x = ln 100 expected ages still rises by 18.3%.
  CHECK(window_drift(std::log(100.0)) == Approx(0.1831).epsilon(1e-3));
  // (Below x = 0.1 the drift is within 1e-3 of 1 and the difference of exponentials loses digits.)
  for (const double x : {0.01, 0.5, 2.0, 4.6, 10.0, 30.0}) CHECK(window_drift_age(window_drift(x)) == Approx(x).epsilon(1e-6));
  CHECK(std::isinf(window_drift_age(0.0)));
  CHECK(std::isinf(window_drift_age(-0.1)));
  CHECK(window_drift_age(1.5) == Approx(1e-3));  // a rise beyond doubling: the smallest x
}

TEST_CASE("the pilot's warm-up on a scenario with theory covers its expected age, and a run after it has the exact mean",
          "[warmup][warmup_pilot]") {
  // The users model on the complete graph, which the theory solves: the pilot does not know it.
  Scenario s;
  s.network.n = 200;
  s.run.horizon = 1000;
  s.run.seed = 11;
  const auto graph = timely::sim::scenario_graph(s);
  const auto theory = timely::analysis::predict(s, graph);
  const auto advice = timely::analysis::warmup_advice(s, theory);
  REQUIRE(advice);
  const auto pilot = timely::experiments::run_warmup_pilot(s, graph, {}, 0);
  INFO("pilot warm-up " << pilot.warmup << " after " << pilot.stages.size() << " stages; theory: expected age "
                        << advice->age << ", recommended " << advice->recommended);
  // The age of gossip is lighter-tailed than the exponential the pilot reads its rise with, so
  // the rise settles sooner than that tail's and the pilot may choose less than the theory's
  // tau ln 100 (about 0.5 to 1 times it here), but never less than the expected age tau; what
  // matters is the mean after it, checked next.
  CHECK(pilot.warmup >= advice->age);
  CHECK(pilot.warmup < s.run.horizon / 4);  // and not far beyond: the pilot ends within a few doublings
  // A run with that warm-up: its mean within its 99.9% CI plus the documented 1% of the exact value.
  s.run.warmup = pilot.warmup;
  s.run.horizon = pilot.warmup + 100;
  s.run.trials = 32;
  const auto a = timely::testing::estimate(means(timely::sim::run_trials(s, graph, 0)));
  INFO("simulated " << a.mean << " +- " << a.half_width << " (99.9%), exact " << *theory.staleness);
  CHECK(std::abs(a.mean - *theory.staleness) <= a.half_width + timely::analysis::warmup_tolerance * *theory.staleness);
  CHECK(a.half_width < 0.02 * *theory.staleness);
}

TEST_CASE("without theory, a run after the pilot's warm-up agrees with one after twenty times as long", "[warmup][warmup_pilot]") {
  std::ostringstream err;
  Scenario s = latency_scenario();
  const auto graph = timely::sim::scenario_graph(s);
  REQUIRE_FALSE(timely::analysis::warmup_advice(s, timely::analysis::predict(s, graph)));
  const auto run = timely::experiments::simulate(s, 0, err, false);
  REQUIRE(run.pilot);
  CHECK(run.scenario.run.warmup == run.pilot->warmup);
  CHECK(run.scenario.run.warmup_chosen);
  CHECK(run.warnings.empty());
  // The pilot costs a small part of the run: a few short stages of pilot_trials trials.
  double run_events = 0;
  for (const auto& t : run.trials) run_events += static_cast<double>(t.events);
  INFO("pilot: warm-up " << run.pilot->warmup << ", " << run.pilot->events << " events; run " << run_events);
  CHECK(static_cast<double>(run.pilot->events) < 0.25 * run_events);
  // The naive reference: the same scenario and window length, after twenty times the warm-up.
  Scenario reference = s;
  reference.run.warmup_auto = false;
  reference.run.warmup = 20 * run.pilot->warmup;
  reference.run.horizon = reference.run.warmup + (s.run.horizon - run.pilot->warmup);
  reference.run.seed = s.run.seed + 1;  // independent trials (the graph is complete: the same one)
  timely::testing::check_agreement("mean staleness", means(run.trials),
                                   means(timely::sim::run_trials(reference, graph, 0)), 0.02);
}

TEST_CASE("the pilot chooses the same warm-up for any thread count and leaves the run's trials unchanged",
          "[warmup][warmup_pilot]") {
  Scenario s = latency_scenario();
  const auto graph = timely::sim::scenario_graph(s);
  const auto one = timely::experiments::run_warmup_pilot(s, graph, {}, 1);
  const auto two = timely::experiments::run_warmup_pilot(s, graph, {}, 2);
  CHECK(one.warmup == two.warmup);
  CHECK(one.events == two.events);
  REQUIRE(one.stages.size() == two.stages.size());
  for (std::size_t i = 0; i < one.stages.size(); ++i) {
    CHECK(one.stages[i].mean == two.stages[i].mean);
    CHECK(one.stages[i].half_width == two.stages[i].half_width);
  }
  // The run's trials draw from indices 0..trials-1 as they would with the warm-up given as a number.
  std::ostringstream err;
  s.run.trials = 4;
  const auto chosen = timely::experiments::simulate(s, 2, err, false);
  Scenario given = s;
  given.run.warmup_auto = false;
  given.run.warmup = one.warmup;
  const auto plain = timely::experiments::simulate(given, 1, err, false);
  CHECK(chosen.scenario.run.warmup == one.warmup);
  REQUIRE(chosen.trials.size() == plain.trials.size());
  for (std::size_t i = 0; i < plain.trials.size(); ++i) {
    CHECK(chosen.trials[i].mean_staleness == plain.trials[i].mean_staleness);
    CHECK(chosen.trials[i].events == plain.trials[i].events);
  }
}

TEST_CASE("the pilot refuses, naming run.warmup, when the mean still rises at run.horizon or it would cost too much",
          "[warmup][warmup_pilot][cli]") {
  using timely::testing::refused;
  using timely::testing::run_timely;
  // A star of 100 users: a leaf hears of another leaf only through the hub, which reaches each
  // leaf once in about 100 contacts, so the mean rises for hundreds of time units.
  const std::vector<std::string> star = {"simulate", "--set", "network.topology=star", "--set", "network.n=100",
                                         "--set", "run.warmup=auto", "--set", "run.trials=2"};
  auto args = star;
  args.insert(args.end(), {"--set", "run.horizon=300"});
  refused(run_timely(args), "run.warmup: \"auto\" without a staleness theory runs a pilot");
  refused(run_timely(args), "raise run.horizon or give run.warmup a number");
  // A horizon too short for the pilot's first two stages (4 and 8 time units at lambda = 1).
  refused(run_timely({"simulate", "--set", "gossip.latency=0.5", "--set", "run.warmup=auto", "--set", "run.horizon=6"}),
          "leaves no room for two stages; raise run.horizon to at least 9");
  // Two trials of 1000 time units (about 4e5 events) fit in 5e5 events; the pilot's eight
  // trials per stage, up to a horizon of 512, do not.
  args = star;
  args.insert(args.end(), {"--max-events", "5e5"});
  refused(run_timely(args), "run.warmup: \"auto\" without a staleness theory runs a pilot, which would simulate");
  // Learning mode keeps its refusal: the models converge on their own time.
  refused(run_timely({"simulate", "--set", "run.warmup=auto", "--set", "model.kind=quadratic"}), "learning mode");
}

TEST_CASE("simulate --json and a sweep's meta.json say the pilot chose the warm-up", "[warmup][warmup_pilot][cli]") {
  using timely::testing::run_timely;
  const auto o = run_timely({"simulate", "--set", "gossip.latency=0.5", "--set", "network.n=100", "--set",
                             "run.warmup=auto", "--set", "run.horizon=100", "--set", "run.trials=2", "--json"});
  INFO(o.err);
  REQUIRE(o.status == 0);
  const auto j = nlohmann::json::parse(o.out);
  CHECK(j["warmup"]["chosen_by"] == "pilot");
  CHECK(j["warmup"]["value"] == j["scenario"]["run.warmup"]);
  CHECK(j["warmup"]["pilot"]["stages"].size() >= 2);
  CHECK(j["warmup"]["pilot"]["events"].get<double>() > 0);
  CHECK(j["warnings"].empty());
  const auto text = run_timely({"simulate", "--set", "gossip.latency=0.5", "--set", "network.n=100", "--set",
                                "run.warmup=auto", "--set", "run.horizon=100", "--set", "run.trials=2"});
  CHECK(text.out.find("warm-up chosen by \"auto\" from a pilot of") != std::string::npos);

  const auto dir = timely::testing::scratch_root("timely_warmup_pilot_test");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "w.toml") << "[gossip]\nlatency = 0.5\n[run]\nhorizon = 100\ntrials = 2\nwarmup = \"auto\"\n"
                                   "[sweep]\n\"network.n\" = [50, 100]\n";
  const auto s = run_timely({"sweep", (dir / "w.toml").string(), "--out", (dir / "out").string(), "--force"});
  INFO(s.err);
  REQUIRE(s.status == 0);
  nlohmann::json meta;
  std::ifstream(dir / "out" / "meta.json") >> meta;
  REQUIRE(meta["warmups_chosen"].size() == 2);
  for (const auto& w : meta["warmups_chosen"]) {
    CHECK(w["chosen_by"] == "pilot");
    CHECK(w["pilot"]["events"].get<double>() > 0);
  }
}
