// The named-choice tables (sim/choices.hpp): every name parses back to its value, names are
// unique within a kind, the scenario keys accept exactly these names, and docs/interface.md
// (the user documentation's one table of scenario keys) lists every one of them.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "experiments/scenario_keys.hpp"
#include "sim/choices.hpp"
#include "sim/input_error.hpp"
#include "tests/paths.hpp"

namespace {

template <class E>
void round_trips(const timely::sim::ChoiceTable<E>& table) {
  INFO(table.key);
  std::set<std::string_view> seen;
  for (const auto& c : table.choices) {
    CHECK(seen.insert(c.name).second);
    CHECK(table.parse(c.name) == c.value);
    CHECK(table.name(c.value) == c.name);
    CHECK(!c.description.empty());
  }
  CHECK_FALSE(table.parse("no-such-choice"));
}

}  // namespace

TEST_CASE("every named choice round-trips through its table", "[choices]") {
  using namespace timely::sim;
  round_trips(topologies());
  round_trips(cluster_insides());
  round_trips(source_targets());
  round_trips(gossip_modes());
  round_trips(capacity_scalings());
  round_trips(staleness_models());
  round_trips(model_kinds());
  round_trips(activations());
  round_trips(initialisations());
  round_trips(data_sources());
  round_trips(partitions());
  round_trips(lr_schedules());
  round_trips(mixing_rules());
  round_trips(variance_targets());
  round_trips(regression_targets());
  CHECK(all_choices().size() == 19);
}

TEST_CASE("each choice key accepts exactly its table's names and says so in its error", "[choices]") {
  for (const auto& listing : timely::sim::all_choices()) {
    INFO(listing.key);
    for (const auto& [name, description] : listing.names) {
      const std::string setting = std::string(listing.key) + "=" + std::string(name);
      timely::sim::Scenario s;
      CHECK_NOTHROW(timely::experiments::apply_setting(s, setting));
    }
    timely::sim::Scenario s;
    try {
      timely::experiments::apply_setting(s, std::string(listing.key) + "=bogus");
      FAIL("accepted a bogus name");
    } catch (const timely::InputError& e) {
      const std::string what = e.what();
      for (const auto& [name, description] : listing.names) CHECK(what.find(std::string(name)) != std::string::npos);
    }
  }
}

TEST_CASE("docs/interface.md lists every registered name of every choice", "[choices][docs]") {
  std::ifstream file(std::filesystem::path(TIMELY_SOURCE_DIR) / "docs" / "interface.md");
  std::stringstream text;
  text << file.rdbuf();
  REQUIRE(!text.str().empty());
  for (const auto& listing : timely::sim::all_choices())
    for (const auto& [name, description] : listing.names) {
      INFO(listing.key << " = " << name);
      CHECK(text.str().find("`" + std::string(name) + "`") != std::string::npos);
    }
}
