#pragma once
// Scenario keys: one registry drives TOML parsing, --set, validation, --help and the
// "scenario" object of the JSON output, so the four can never disagree.
//
// The registry's rows are in scenario_key_table.cpp, the TOML and --set reader in
// scenario_reader.cpp, the checks across keys in scenario_checks.hpp and the checks of a
// run's cost in scenario_resources.hpp (both included here, so this header is the whole API).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/scenario_checks.hpp"
#include "experiments/scenario_resources.hpp"
#include "sim/scenario.hpp"

namespace toml { inline namespace v3 { class table; } }

namespace timely::experiments {

struct KeyInfo {
  std::string_view name;     // dotted, e.g. "network.n"
  std::string_view accepts;  // what values are accepted, for --help and errors
  std::string_view meaning;
};

const std::vector<KeyInfo>& scenario_keys();

// What a curve whose scenario key `key` has the value `value` (as results.csv writes it) is
// called in a figure: the key's label from the registry ("log capacity" for gossip.scaling =
// log, "MoDeST s = 10" for modest.sample = 10), else the key's last part and the value
// ("fedavg_fraction = 0.1"); a key that is not a scenario key (a sweep's setup) shows its value.
std::string value_label(std::string_view key, std::string_view value);

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

// The help text listing every key, its accepted values and default.
std::string keys_help();

}  // namespace timely::experiments
