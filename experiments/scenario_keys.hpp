#pragma once
// Scenario keys: one registry drives TOML parsing, --set, validation, --help and the
// "scenario" object of the JSON output, so the four can never disagree.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.hpp"

namespace toml { inline namespace v3 { class table; } }

namespace timely::experiments {

struct KeyInfo {
  std::string_view name;     // dotted, e.g. "network.n"
  std::string_view accepts;  // what values are accepted, for --help and errors
  std::string_view meaning;
};

const std::vector<KeyInfo>& scenario_keys();

// The effective value of every key, in registry order (the "scenario" JSON object).
nlohmann::ordered_json scenario_json(const sim::Scenario& scenario);

// Reads a scenario: defaults, then the TOML file if given, then each "key=value" of
// `settings` in order; validates the result. Throws InputError naming the key or file.
// Tables listed in `extra_tables` (e.g. "sweep") are left to the caller and not checked.
sim::Scenario load_scenario(const std::optional<std::filesystem::path>& file,
                            const std::vector<std::string>& settings,
                            const std::vector<std::string_view>& extra_tables = {});

// The same with the scenario as TOML text (the Python module's dictionaries): `origin` names
// it in errors, and relative paths in it are taken relative to base_dir.
sim::Scenario load_scenario_text(std::string_view toml_text, std::string_view origin,
                                 const std::filesystem::path& base_dir, const std::vector<std::string>& settings);

// TOML text or a TOML file, parsed; InputError naming the origin (or the file, as "the
// `what`") with line and column otherwise.
toml::table parse_toml_text(std::string_view text, std::string_view origin);
toml::table parse_toml_file(const std::filesystem::path& file, std::string_view what);

// Apply one TOML table of scenario keys (used by sweeps for their base scenario).
void apply_table(sim::Scenario& scenario, const toml::table& table, const std::filesystem::path& base_dir,
                 const std::vector<std::string_view>& extra_tables = {});

// Apply one "key=value" or one key with a raw string value (the --set syntax).
void apply_setting(sim::Scenario& scenario, std::string_view setting);
// A path key's relative value is taken relative to base_dir (the sweep file's directory).
void apply_value(sim::Scenario& scenario, std::string_view key, std::string_view raw,
                 const std::filesystem::path& base_dir = {});

// Checks that involve several keys (warm-up below horizon, tracked sources below n,
// memory, version counters); single-key ranges are checked when a key is set.
void validate(const sim::Scenario& scenario);

// Limits on the work of one trial, checked before anything runs (docs/interface.md, "Limits").
struct RunLimits {
  double max_events = 1e10;  // clock events per trial; --max-events raises it
};
inline constexpr double max_observations = 1e6;  // learning observations per trial (memory)
// Events weighted by the staleness span each integrates may reach this many times max_events.
inline constexpr double work_per_event_limit = 100.0;
// Learning: multiply-adds of gradients and evaluations may reach this many times max_events.
inline constexpr double learning_flops_per_event = 1e4;

// Expected events of one trial (every clock at its long-run rate) and learning observations.
double estimated_events(const sim::Scenario& scenario);
double estimated_observations(const sim::Scenario& scenario);
// Events times the steps of each: 1, plus the K tracked sources a users-model gossip merges,
// plus the expected staleness span integrated, (version rate / gossip rate) ln n.
double estimated_work(const sim::Scenario& scenario);

// What a simulation of the scenario needs: events and observations within the limits,
// memory per trial, 32-bit version counters. `timely theory` does not simulate and skips this.
void check_resources(const sim::Scenario& scenario, const RunLimits& limits = {});

// The help text listing every key, its accepted values and default.
std::string keys_help();

}  // namespace timely::experiments
