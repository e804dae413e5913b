// The warm-up a run needs (analysis/warmup.hpp): the modelled bias of a short warm-up bounds
// the simulated one, "auto" settles a warm-up after which the mean is the stationary one, and
// a short warm-up is warned about in the text, --json and a sweep's meta.json.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/predict.hpp"
#include "analysis/warmup.hpp"
#include "tests/run_cli.hpp"
#include "tests/scratch_dir.hpp"
#include "tests/statistical.hpp"

namespace {

using timely::testing::run_timely;

timely::sim::Scenario source_complete(std::uint32_t n) {
  timely::sim::Scenario s;
  s.network.n = n;
  s.staleness.model = timely::sim::StalenessModel::source;
  return s;
}

}  // namespace

TEST_CASE("a run started fresh misses at most the modelled share of the stationary mean age", "[warmup]") {
  // Every user starts with the source's version of time 0, so at time t a user's age is
  // min(t, A) with A stationary: a short window lowers the mean, by no more than the
  // exponential tail of the exact mean allows (analysis/warmup.hpp).
  auto s = source_complete(64);
  const auto graph = timely::sim::scenario_graph(s);
  const auto theory = timely::analysis::predict(s, graph);
  const auto advice = timely::analysis::warmup_advice(s, theory);
  REQUIRE(advice);
  REQUIRE(theory.age_time);
  CHECK(advice->age == Approx(*theory.age_time));
  CHECK(advice->recommended == Approx(advice->age * std::log(100.0)));
  s.run.warmup = 0.0;
  s.run.horizon = 1.5 * advice->age;  // most of the window is not yet stationary
  std::vector<double> ages;
  for (std::uint64_t trial = 0; trial < 600; ++trial) ages.push_back(timely::sim::run_trial(s, graph, trial).mean_age_time.value());
  const auto measured = timely::testing::estimate(ages);
  const double missing = (advice->age - measured.mean) / advice->age;
  const double slack = measured.half_width / advice->age;
  const double modelled = advice->bias(s.run.warmup, s.run.horizon);
  INFO("missing " << missing << " +- " << slack << ", modelled at most " << modelled);
  CHECK(slack < 0.02);
  CHECK(missing > 0.05);                  // the short window is visibly biased ...
  CHECK(missing - slack <= modelled);     // ... by no more than the model says
  // The model itself: no bias from a window starting at infinity, all of it from a window at 0 of length 0.
  CHECK(advice->bias(50.0 * advice->age, 60.0 * advice->age) < 1e-20);
  CHECK(advice->bias(0.0, 1e-9 * advice->age) == Approx(1.0).epsilon(1e-6));
  CHECK(advice->bias(advice->recommended, advice->recommended + 1.0) <= timely::analysis::warmup_tolerance);
}

TEST_CASE("run.warmup = \"auto\" settles a warm-up after which the mean is the exact stationary one", "[warmup][cli]") {
  const auto o = run_timely({"simulate", "--set", "staleness.model=source", "--set", "network.n=4000", "--set",
                             "run.warmup=auto", "--set", "run.horizon=80", "--trials", "8", "--json"});
  INFO(o.err);
  REQUIRE(o.status == 0);
  const auto j = nlohmann::json::parse(o.out);
  CHECK(j["warnings"].empty());
  CHECK(o.err.find("warning") == std::string::npos);
  const double warmup = j["scenario"]["run.warmup"].get<double>();
  const double age = j["theory"]["age_time"].get<double>();
  CHECK(warmup == Approx(age * std::log(100.0)));
  const double mean = j["staleness"]["mean"].get<double>(), theory = j["theory"]["staleness"].get<double>();
  const double ci = j["staleness"]["ci95"].get<double>();
  INFO("mean " << mean << " +- " << ci << " (95%), theory " << theory);
  CHECK(std::abs(mean - theory) <= std::max(ci * 3.3 / 1.96, 0.01 * theory));

  // The same run with a warm-up of 1 is warned about, on stderr and in the JSON.
  const auto short_run = run_timely({"simulate", "--set", "staleness.model=source", "--set", "network.n=4000", "--set",
                                     "run.warmup=1", "--set", "run.horizon=20", "--trials", "2", "--json"});
  REQUIRE(short_run.status == 0);
  const auto k = nlohmann::json::parse(short_run.out);
  REQUIRE(k["warnings"].size() == 1);
  const std::string warning = k["warnings"][0];
  CHECK(warning.find("run.warmup = 1 ") != std::string::npos);
  CHECK(warning.find("\"auto\"") != std::string::npos);
  CHECK(short_run.err.find("timely: warning: run.warmup = 1 ") != std::string::npos);
  CHECK(std::count(short_run.err.begin(), short_run.err.end(), '\n') == 1);
  // theory prints the advice; a TOML "auto" is the same as --set.
  const auto t = run_timely({"theory", "--set", "staleness.model=source", "--set", "network.n=4000", "--json"});
  REQUIRE(t.status == 0);
  CHECK(nlohmann::json::parse(t.out)["warmup"]["recommended"].get<double>() == Approx(warmup));
}

TEST_CASE("run.warmup = \"auto\" is refused in learning mode and past run.horizon, naming the key", "[warmup][cli]") {
  using timely::testing::refused;
  refused(run_timely({"simulate", "--set", "run.warmup=Auto"}), "run.warmup: expected a number >= 0 and below run.horizon, or \"auto\"");
  refused(run_timely({"simulate", "--set", "run.horizon=auto"}), "run.horizon");
  refused(run_timely({"simulate", "--set", "run.warmup=auto", "--set", "run.horizon=1"}), "raise run.horizon");
  refused(run_timely({"simulate", "--set", "run.warmup=auto", "--set", "model.kind=quadratic"}), "run.warmup: \"auto\"");
}

TEST_CASE("a sweep settles \"auto\" per point and lists short warm-ups in meta.json", "[warmup][sweep]") {
  const auto dir = timely::testing::scratch_root("timely_warmup_test");
  std::filesystem::create_directories(dir);
  const auto file = dir / "w.toml";
  std::ofstream(file) << "[staleness]\nmodel = \"source\"\n[run]\nhorizon = 40\ntrials = 2\n"
                         "[sweep]\n\"network.n\" = [64, 128]\n\"run.warmup\" = [1, \"auto\"]\n";
  std::ofstream(dir / "unused") << "";
  const auto o = run_timely({"sweep", file.string(), "--out", (dir / "out").string(), "--force"});
  INFO(o.err);
  REQUIRE(o.status == 0);
  CHECK(o.err.find("timely: warning: 2 of 4 points: point 0") != std::string::npos);
  nlohmann::json meta;
  std::ifstream(dir / "out" / "meta.json") >> meta;
  REQUIRE(meta["warnings"].size() == 2);  // the two points with run.warmup = 1
  for (const auto& w : meta["warnings"]) CHECK(w.get<std::string>().find("run.warmup = 1 ") != std::string::npos);
  REQUIRE(meta["warmups_chosen"].size() == 2);  // the two "auto" points, from their theory
  for (const auto& w : meta["warmups_chosen"]) CHECK(w["chosen_by"] == "theory");
}
