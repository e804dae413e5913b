// What users read must match what the program does: docs/interface.md, where the README
// sends readers for the scenario keys, documents every key, and every example scenario loads
// and has an exact theory value.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "experiments/sweep.hpp"
#include "experiments/scenario_keys.hpp"
#include "analysis/predict.hpp"
#include "sim/trial.hpp"
#include "tests/paths.hpp"

namespace fs = std::filesystem;

TEST_CASE("docs/interface.md documents every scenario key", "[docs]") {
  std::ifstream file(fs::path(TIMELY_SOURCE_DIR) / "docs" / "interface.md");
  std::stringstream text;
  text << file.rdbuf();
  REQUIRE(!text.str().empty());
  for (const auto& key : timely::experiments::scenario_keys())
    CHECK(text.str().find("`" + std::string(key.name) + "`") != std::string::npos);
}

TEST_CASE("every example scenario loads and has an exact theory value unless it has latency or churn", "[docs]") {
  int examples = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(TIMELY_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".toml" || entry.path().filename().string().rfind("sweep", 0) == 0) continue;
    INFO(entry.path());
    const auto scenario = timely::experiments::load_scenario(entry.path(), {});
    timely::experiments::validate(scenario);
    // Latency and churn have no exact theory (docs/model.md §7.5 checks them against a reference simulator).
    if (scenario.gossip.latency > 0.0 || scenario.gossip.latency_law || scenario.churn.model != timely::sim::ChurnModel::none)
      continue;
    const auto prediction = timely::analysis::predict(scenario, timely::sim::scenario_graph(scenario));
    CHECK(prediction.staleness.has_value());
    CHECK(prediction.method.rfind("exact:", 0) == 0);
    ++examples;
  }
  CHECK(examples >= 5);
}

TEST_CASE("every example sweep loads: each point valid and within the default limits", "[docs]") {
  int sweeps = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(TIMELY_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".toml" || entry.path().filename().string().rfind("sweep", 0) != 0) continue;
    INFO(entry.path());
    const auto plan = timely::experiments::load_sweep_plan(entry.path());
    CHECK(!plan.points.empty());
    ++sweeps;
  }
  CHECK(sweeps >= 10);
}
