#pragma once
// The rows of the scenario-key registry, for the files that read them: the key table itself
// (scenario_key_table.cpp: name, accepted values, meaning, setter, JSON getter), the reader
// (scenario_reader.cpp: TOML and --set) and nothing else. Callers use scenario_keys.hpp.
#include <cstdint>
#include <limits>
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

// The numbers a key accepts: from lo to hi, either end open; hi = infinity: no upper bound.
// A key's accepted-values text and its setter's check are both made from its Range, so the
// two cannot disagree.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool open_lo = false, open_hi = false;
  // A sanity ceiling the text leaves unsaid ("an integer >= 1" refuses more than 1e8 users).
  bool unsaid_hi = false;

  bool contains(double x) const { return (open_lo ? x > lo : x >= lo) && (open_hi ? x < hi : x <= hi); }
};
constexpr Range closed(double lo, double hi) { return {lo, hi}; }                  // [lo, hi]
constexpr Range closed_open(double lo, double hi) { return {lo, hi, false, true}; }  // [lo, hi)
constexpr Range open_closed(double lo, double hi) { return {lo, hi, true, false}; }  // (lo, hi]
constexpr Range at_least(double lo) { return {lo}; }                                 // [lo, inf)
constexpr Range above(double lo) { return {lo, std::numeric_limits<double>::infinity(), true}; }  // (lo, inf)

// Clock rates: a denormal or astronomically large rate only makes non-finite theory and
// unbounded work, so rates live in [1e-9, 1e9]; times (delays, latencies) in [0, 1e9]. A
// per-user law of a rate may not be exponential (scenario_reader.cpp): an exponential rate
// has no finite mean time between ticks to speak of and is easily near 0.
inline constexpr Range rates = closed(1e-9, 1e9);
inline constexpr Range times = closed(0.0, 1e9);

// "in [1e-9, 1e9]", "in (0, 1]", ">= 0" or "> 0": the bounds as --help writes them (integer
// keys' in full, other powers of ten from 1e6 and below 1e-4 as 1e9, 1e-9).
std::string range_text(const Range& range, bool integers);

// What a key accepts: the text of --help and errors, the kind of value, and its bounds.
struct Accepts {
  std::string_view text;
  Kind kind;
  Range range;  // unbounded for keys that are not numbers
};

struct Key {
  std::string_view name;  // dotted, e.g. "network.n"
  Accepts accepts;
  std::string_view meaning;
  void (*set)(sim::Scenario&, const Value&, const Key&);
  nlohmann::ordered_json (*get)(const sim::Scenario&);
  // What a curve of this key's value is called in a figure's legend: "{} capacity" makes
  // "log capacity" of gossip.scaling = log; a flag's reads "when true|when false". "" = the
  // key's last part and the value ("fedavg_fraction = 0.1").
  std::string_view label = {};

  KeyInfo info() const { return {name, accepts.text, meaning}; }
};

// Every key, in the order of --help and the JSON "scenario" object.
const std::vector<Key>& registry();
const Key* find_key(std::string_view name);  // null if unknown
// "n, topology, degree, ..." of one table ("" if none), and "network, gossip, ..." of all.
std::string keys_of_table(std::string_view table);
std::string table_names();

// Shared with the reader, which defines them (scenario_reader.cpp).
// Keys whose value is a file path: relative to the file (scenario or sweep) that gives them.
bool is_path_key(std::string_view name);

std::optional<std::uint64_t> parse_u64(std::string_view raw);
// A value as an error message shows it.
std::string show(const Value& v);
// "key: expected <accepts>, got <got>".
[[noreturn]] void reject(std::string_view key, std::string_view accepts, const std::string& got);
[[noreturn]] inline void reject(const Key& key, const std::string& got) { reject(key.name, key.accepts.text, got); }

}  // namespace timely::experiments::key_table
