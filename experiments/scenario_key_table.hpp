#pragma once
// The rows of the scenario-key registry, for the files that read them: the key table itself
// (scenario_key_table.cpp: name, accepted values, meaning, setter, JSON getter), the reader
// (scenario_reader.cpp: TOML and --set) and nothing else. Callers use scenario_keys.hpp.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "experiments/scenario_keys.hpp"
#include "sim/user_clocks.hpp"

namespace timely::experiments::key_table {

using Value =
    std::variant<std::int64_t, double, std::string, bool, std::vector<std::int64_t>, std::uint64_t, sim::Distribution>;
// seed: the full unsigned 64-bit range (TOML integers stop at 2^63 - 1, so a TOML file may
// also give a seed as a string of digits). per_user: a number, or a distribution table
// drawn once per run per user (sim/user_clocks.hpp).
enum class Kind { integer, number, string, integer_list, boolean, seed, per_user };

struct Key {
  KeyInfo info;
  Kind kind;
  void (*set)(sim::Scenario&, const Value&, const KeyInfo&);
  nlohmann::ordered_json (*get)(const sim::Scenario&);
};

// Every key, in the order of --help and the JSON "scenario" object.
const std::vector<Key>& registry();
const Key* find_key(std::string_view name);  // null if unknown
// "n, topology, degree, ..." of one table ("" if none), and "network, gossip, ..." of all.
std::string keys_of_table(std::string_view table);
std::string table_names();

// Keys whose value is a file path: relative to the file (scenario or sweep) that gives them.
bool is_path_key(std::string_view name);
// Per-user keys whose values are rates (see scenario_key_table.cpp).
bool is_rate_key(std::string_view name);

std::optional<std::uint64_t> parse_u64(std::string_view raw);
// A value as an error message shows it.
std::string show(const Value& v);
// "key: expected <accepts>, got <got>".
[[noreturn]] void reject(std::string_view key, std::string_view accepts, const std::string& got);

}  // namespace timely::experiments::key_table
