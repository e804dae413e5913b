// The scenario reader: TOML files and text, and --set's KEY=VALUE, turned into the values the
// key table's setters take (experiments/scenario_key_table.cpp).
#include <fstream>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <optional>
#include <sstream>
#include <toml++/toml.h>

#include "experiments/scenario_key_table.hpp"
#include "experiments/scenario_keys.hpp"
#include "sim/input_error.hpp"

namespace timely::experiments {

using namespace key_table;
using sim::Scenario;

namespace key_table {

bool is_path_key(std::string_view name) {
  return name == "network.edges_file" || name == "users.file" || name == "churn.trace_file";
}

std::optional<std::uint64_t> parse_u64(std::string_view raw) {
  std::uint64_t x = 0;
  const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), x);
  if (raw.empty() || ec != std::errc() || end != raw.data() + raw.size()) return std::nullopt;
  return x;
}

std::string show(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) return fmt::format("\"{}\"", x);
        else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) return fmt::format("[{}]", fmt::join(x, ", "));
        else if constexpr (std::is_same_v<T, std::uint64_t>) return fmt::format("{}", x);
        else if constexpr (std::is_same_v<T, sim::Distribution>) return sim::describe(x);
        else return fmt::format("{}", x);
      },
      v);
}

[[noreturn]] void reject(std::string_view key, std::string_view accepts, const std::string& got) {
  throw InputError(fmt::format("{}: expected {}, got {}", key, accepts, got));
}

}  // namespace key_table

namespace {

// ---- per-user laws (docs/interface.md, "Per-user clocks") -------------------------------

std::string node_description(const toml::node& node);  // below

constexpr std::string_view rate_law_names = "dist = \"uniform\" (low, high), \"lognormal\" (median, sigma) or "
                                            "\"two-point\" (value, slow_value, slow_fraction)";
constexpr std::string_view time_law_names = "dist = \"uniform\" (low, high), \"lognormal\" (median, sigma), "
                                            "\"two-point\" (value, slow_value, slow_fraction) or \"exponential\" (mean)";

// A distribution table such as { dist = "lognormal", median = 1, sigma = 0.5 }, checked
// field by field. The values it draws lie in the key's range (rates [1e-9, 1e9], delays and
// latencies [0, 1e9]); a key whose range excludes 0 is a rate and takes no exponential law.
sim::Distribution parse_law(const Key& key, const toml::table& table) {
  const Range values = key.accepts.range;
  const bool is_rate = !values.contains(0.0);
  const std::string_view law_names = is_rate ? rate_law_names : time_law_names;
  const auto* dist_node = table.get("dist");
  const auto* dist_name = dist_node ? dist_node->as_string() : nullptr;
  if (!dist_name) throw InputError(fmt::format("{}: a distribution table needs {}", key.name, law_names));
  const auto kind = sim::parse_distribution_kind(dist_name->get());
  if (!kind)
    throw InputError(fmt::format("{}: unknown distribution \"{}\" (expected {})", key.name, dist_name->get(), law_names));
  if (is_rate && *kind == sim::DistributionKind::exponential)
    throw InputError(fmt::format("{}: the exponential distribution is for delays and latencies (updates.delay, "
                                 "gossip.latency), not rates (expected {})",
                                 key.name, law_names));
  std::vector<std::string_view> fields;
  switch (*kind) {
    case sim::DistributionKind::uniform: fields = {"low", "high"}; break;
    case sim::DistributionKind::lognormal: fields = {"median", "sigma"}; break;
    case sim::DistributionKind::two_point: fields = {"value", "slow_value", "slow_fraction"}; break;
    case sim::DistributionKind::exponential: fields = {"mean"}; break;
  }
  for (const auto& [name, node] : table)
    if (name.str() != "dist" && std::find(fields.begin(), fields.end(), name.str()) == fields.end())
      throw InputError(fmt::format("{}: unknown field '{}' of the {} distribution (fields: {})", key.name, name.str(),
                                   sim::to_string(*kind), fmt::join(fields, ", ")));
  const auto field = [&](std::string_view name, const Range& range) {
    const auto* node = table.get(name);
    if (!node)
      throw InputError(fmt::format("{}: the {} distribution needs {}", key.name, sim::to_string(*kind), fmt::join(fields, ", ")));
    std::optional<double> x;
    if (const auto* i = node->as_integer()) x = static_cast<double>(i->get());
    else if (const auto* d = node->as_floating_point()) x = d->get();
    if (!x || !std::isfinite(*x) || !range.contains(*x))
      throw InputError(fmt::format("{}: {} of the {} distribution: expected a number {}, got {}", key.name, name,
                                   sim::to_string(*kind), range_text(range, false), node_description(*node)));
    return *x;
  };
  sim::Distribution d;
  d.kind = *kind;
  switch (*kind) {
    case sim::DistributionKind::uniform:
      d.a = field("low", values);
      d.b = field("high", values);
      if (d.b < d.a)
        throw InputError(fmt::format("{}: the uniform distribution needs low <= high, got low = {:g}, high = {:g}",
                                     key.name, d.a, d.b));
      break;
    case sim::DistributionKind::lognormal:  // a median of 0 has no lognormal law
      d.a = field("median", rates);
      d.b = field("sigma", closed(0.0, 10.0));
      break;
    case sim::DistributionKind::two_point:
      d.a = field("value", values);
      d.b = field("slow_value", values);
      d.c = field("slow_fraction", closed(0.0, 1.0));
      break;
    case sim::DistributionKind::exponential:  // a mean of 0 has no exponential law: give the number 0 instead
      d.a = field("mean", rates);
      break;
  }
  return d;
}

[[noreturn]] void unknown_key(std::string_view name) {
  const std::string_view table = name.substr(0, name.find('.'));
  const std::string known = keys_of_table(table);
  if (known.empty() || name.find('.') == std::string_view::npos)
    throw InputError(fmt::format("{}: unknown key (scenario keys are table.key with tables {})", name, table_names()));
  throw InputError(fmt::format("{}: unknown key (known keys of [{}]: {})", name, table, known));
}

// A relative path given in a file is relative to that file's directory. Anything but a
// string is left for the key's own type check to refuse.
Value relative_to(const Value& v, const std::filesystem::path& base_dir) {
  const auto* text = std::get_if<std::string>(&v);
  if (!text || text->empty() || base_dir.empty()) return v;
  const std::filesystem::path path(*text);
  if (path.is_relative()) return (base_dir / path).lexically_normal().string();
  return v;
}

Value from_raw(const Key& key, std::string_view raw) {
  switch (key.accepts.kind) {
    case Kind::integer: {
      std::int64_t x = 0;
      const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), x);
      if (ec != std::errc() || end != raw.data() + raw.size()) reject(key, fmt::format("'{}'", raw));
      return x;
    }
    case Kind::number: {
      // A number key that also takes a word (run.warmup = "auto"): the setter decides.
      if (raw == "auto" || raw == "\"auto\"") return std::string("auto");
      double x = 0;
      const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), x);
      if (ec != std::errc() || end != raw.data() + raw.size()) reject(key, fmt::format("'{}'", raw));
      return x;
    }
    case Kind::per_user: {
      if (!raw.empty() && raw.front() == '{') {  // --set updates.rate='{ dist = "uniform", low = 0.5, high = 1.5 }'
        toml::table root;
        try {
          root = toml::parse(fmt::format("value = {}", raw));
        } catch (const toml::parse_error& e) {
          reject(key, fmt::format("'{}' (not a TOML inline table: {})", raw, e.description()));
        }
        const auto* table = root["value"].as_table();
        if (!table) reject(key, fmt::format("'{}'", raw));
        return parse_law(key, *table);
      }
      double x = 0;
      const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), x);
      if (ec != std::errc() || end != raw.data() + raw.size()) reject(key, fmt::format("'{}'", raw));
      return x;
    }
    case Kind::seed: {
      const auto x = parse_u64(raw);
      if (!x) reject(key, fmt::format("'{}'", raw));
      return *x;
    }
    case Kind::boolean:
      if (raw == "true") return true;
      if (raw == "false") return false;
      reject(key, fmt::format("'{}'", raw));
    case Kind::integer_list: {
      // "[128, 64]" or "128,64"
      std::string_view body = raw;
      if (body.size() >= 2 && body.front() == '[' && body.back() == ']') body = body.substr(1, body.size() - 2);
      std::vector<std::int64_t> list;
      while (!body.empty()) {
        const auto comma = body.find(',');
        std::string_view item = body.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        std::int64_t x = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), x);
        if (ec != std::errc() || end != item.data() + item.size()) reject(key, fmt::format("'{}'", raw));
        list.push_back(x);
        if (comma == std::string_view::npos) break;
        body.remove_prefix(comma + 1);
      }
      return list;
    }
    case Kind::string:
      if (raw.size() >= 2 && (raw.front() == '"' || raw.front() == '\'') && raw.back() == raw.front())
        raw = raw.substr(1, raw.size() - 2);
      return std::string(raw);
  }
  return std::string(raw);
}

std::string node_description(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default:
      return node.visit([](const auto& value) {
        std::ostringstream out;
        out << value;
        return out.str();
      });
  }
}

}  // namespace

void apply_value(Scenario& scenario, std::string_view name, std::string_view raw,
                 const std::filesystem::path& base_dir) {
  const Key* key = find_key(name);
  if (!key) unknown_key(name);
  Value v = from_raw(*key, raw);
  if (is_path_key(name)) v = relative_to(v, base_dir);
  key->set(scenario, v, *key);
}

void apply_setting(Scenario& scenario, std::string_view setting) {
  const auto eq = setting.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw InputError(fmt::format("--set: expected KEY=VALUE (e.g. network.n=1000), got '{}'", setting));
  apply_value(scenario, setting.substr(0, eq), setting.substr(eq + 1));
}

void apply_table(Scenario& scenario, const toml::table& root, const std::filesystem::path& base_dir,
                 const std::vector<std::string_view>& extra_tables) {
  for (const auto& [table_key, node] : root) {
    const std::string_view table = table_key.str();
    if (std::find(extra_tables.begin(), extra_tables.end(), table) != extra_tables.end()) continue;
    if (keys_of_table(table).empty())
      throw InputError(fmt::format("{}: unknown table (tables: {})", table, table_names()));
    const toml::table* inner = node.as_table();
    if (!inner) {
      throw InputError(fmt::format("{}: expected a table [{}] of keys {}, got {}", table, table,
                                   keys_of_table(table), node_description(node)));
    }
    for (const auto& [name_key, value] : *inner) {
      const std::string name = fmt::format("{}.{}", table, name_key.str());
      const Key* key = find_key(name);
      if (!key) unknown_key(name);
      Value v;
      if (const auto* i = value.as_integer()) v = i->get();
      else if (const auto* d = value.as_floating_point()) v = d->get();
      else if (const auto* s = value.as_string()) v = s->get();
      else if (const auto* b = value.as_boolean()) v = b->get();
      else if (const auto* t = value.as_table(); t && key->accepts.kind == Kind::per_user)
        v = parse_law(*key, *t);
      else if (const auto* array = value.as_array(); array && key->accepts.kind == Kind::integer_list) {
        std::vector<std::int64_t> list;
        for (const auto& item : *array) {
          const auto* i = item.as_integer();
          if (!i) reject(*key, node_description(value));
          list.push_back(i->get());
        }
        v = list;
      } else reject(*key, node_description(value));
      if (is_path_key(name)) v = relative_to(v, base_dir);
      key->set(scenario, v, *key);
    }
  }
}

toml::table parse_toml_text(std::string_view text, std::string_view origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: not valid TOML: {}", origin, e.source().begin.line, e.source().begin.column,
                                 e.description()));
  }
}

toml::table parse_toml_file(const std::filesystem::path& file, std::string_view what) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(status))
    throw InputError(fmt::format("{}: cannot read the {} (no such file)", file.string(), what));
  if (std::filesystem::is_directory(status))
    throw InputError(fmt::format("{}: cannot read the {} (it is a directory, expected a TOML file)", file.string(), what));
  if (!std::filesystem::is_regular_file(status))
    throw InputError(fmt::format("{}: cannot read the {} (not a regular file: a FIFO, socket or device; expected a TOML file)",
                                 file.string(), what));
  if (!std::ifstream(file))
    throw InputError(fmt::format("{}: cannot read the {} (permission denied)", file.string(), what));
  try {
    return toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: not valid TOML: {}", file.string(), e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
}

Scenario load_scenario(const std::optional<std::filesystem::path>& file, const std::vector<std::string>& settings,
                       const std::vector<std::string_view>& extra_tables) {
  Scenario scenario;
  if (file) apply_table(scenario, parse_toml_file(*file, "scenario file"), file->parent_path(), extra_tables);
  for (const auto& setting : settings) apply_setting(scenario, setting);
  return scenario;
}

Scenario load_scenario_text(std::string_view text, std::string_view origin, const std::filesystem::path& base_dir,
                            const std::vector<std::string>& settings) {
  Scenario scenario;
  apply_table(scenario, parse_toml_text(text, origin), base_dir);
  for (const auto& setting : settings) apply_setting(scenario, setting);
  return scenario;
}

}  // namespace timely::experiments
