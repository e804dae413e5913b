#include "experiments/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "analysis/predict.hpp"
#include "analysis/warmup.hpp"
#include "experiments/warmup_pilot.hpp"
#include "experiments/scenario_keys.hpp"
#include "sim/trial.hpp"
#include "sim/input_error.hpp"

namespace timely::experiments {
namespace {

namespace fs = std::filesystem;


// FNV-1a: a stable hash (std::hash is not stable across libraries).
std::string fnv1a(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}


std::string scalar_text(const toml::node& node, std::string_view key) {
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* d = node.as_floating_point()) return fmt::format("{}", d->get());
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  throw InputError(fmt::format("sweep.{}: expected an array of values or a range {{from, to, times}}", key));
}

std::vector<std::string> range_values(const toml::table& range, std::string_view key) {
  const auto number = [&](std::string_view field) -> std::optional<double> {
    const toml::node* node = range.get(field);
    if (!node) return std::nullopt;
    if (const auto* i = node->as_integer()) return static_cast<double>(i->get());
    if (const auto* d = node->as_floating_point()) return d->get();
    throw InputError(fmt::format("sweep.{}.{}: expected a number", key, field));
  };
  for (const auto& [field, value] : range)
    if (field.str() != "from" && field.str() != "to" && field.str() != "times" && field.str() != "step")
      throw InputError(fmt::format("sweep.{}.{}: unknown range field (expected from, to and times or step)", key,
                                   field.str()));
  const auto from = number("from"), to = number("to"), times = number("times"), step = number("step");
  if (!from || !to || (!times == !step))
    throw InputError(fmt::format("sweep.{}: a range needs from, to and exactly one of times (geometric) or step", key));
  if (times && !(*times > 1.0 && *from > 0.0))
    throw InputError(fmt::format("sweep.{}: a geometric range needs from > 0 and times > 1", key));
  if (step && !(*step > 0.0)) throw InputError(fmt::format("sweep.{}: a range needs step > 0", key));
  const bool integral = range.get("from")->is_integer() && range.get("to")->is_integer() &&
                        (!times || std::floor(*times) == *times) && (!step || std::floor(*step) == *step);
  std::vector<std::string> values;
  for (double x = *from; x <= *to * (1 + 1e-12); x = times ? x * *times : x + *step) {
    values.push_back(integral ? std::to_string(static_cast<long long>(std::llround(x))) : fmt::format("{}", x));
    if (values.size() > 100000) throw InputError(fmt::format("sweep.{}: the range has more than 100000 values", key));
  }
  if (values.empty()) throw InputError(fmt::format("sweep.{}: the range is empty (from > to)", key));
  return values;
}

// Shared by products and case lists: applies each point's values, then the seed and quick
// rules, and validates every point before anything runs.
SweepPlan build_plan(std::string name, const sim::Scenario& base, std::vector<SweepAxis> axes,
                     const std::vector<std::vector<std::optional<std::string>>>& rows, const PlanOptions& options) {
  const bool quick = options.quick;
  SweepPlan plan;
  plan.name = std::move(name);
  plan.base = base;
  plan.axes = std::move(axes);
  plan.quick = quick;
  const bool seed_is_axis =
      std::any_of(plan.axes.begin(), plan.axes.end(), [](const SweepAxis& a) { return a.key == "run.seed"; });
  std::string definition = scenario_json(base).dump() + (quick ? "|quick" : "");
  for (std::size_t index = 0; index < rows.size(); ++index) {
    SweepPoint p;
    p.index = index;
    p.scenario = base;
    for (std::size_t a = 0; a < plan.axes.size(); ++a)
      if (rows[index][a] && plan.axes[a].key != setup_axis)
        apply_value(p.scenario, plan.axes[a].key, *rows[index][a], options.base_dir);
    const auto effective = scenario_json(p.scenario);
    for (std::size_t a = 0; a < plan.axes.size(); ++a) {
      if (plan.axes[a].key == setup_axis) {  // the setup's name; its keys are axes of their own
        p.values.push_back(*rows[index][a]);
        definition += "|" + p.values.back();
        continue;
      }
      const auto& v = effective[plan.axes[a].key];
      p.values.push_back(rows[index][a] ? *rows[index][a] : v.is_string() ? v.get<std::string>() : v.dump());
      definition += "|" + p.values.back();
    }
    // Independent points: point p draws from seed + p (mod 2^64) unless the seed itself is
    // swept, so two sweeps whose seeds differ by less than their point count share streams.
    if (!seed_is_axis) p.scenario.run.seed = base.run.seed + index;
    if (quick) {
      p.scenario.run.trials = std::min<std::uint32_t>(p.scenario.run.trials, 4);
      p.scenario.run.horizon /= 4;
      p.scenario.run.warmup /= 4;
    }
    try {
      validate(p.scenario);
      check_resources(p.scenario, options.limits);
      // run.warmup = "auto": settled here, from the point's theory or a pilot (whose trials
      // depend on the seed alone), so that every rank and --resume see the same scenario (the
      // graph is drawn again when the point runs).
      if (p.scenario.run.warmup_auto) {
        const auto graph = sim::scenario_graph(p.scenario);
        p.warmup_pilot = settle_warmup(p.scenario, graph, analysis::predict(p.scenario, graph), options.limits,
                                       options.limits.threads);
      }
    } catch (const InputError& e) {
      throw InputError(fmt::format("sweep point {} ({}): {}", index, point_label(plan, p), e.what()));
    }
    if (!plan.points.empty() && plan.points.front().scenario.learning.enabled() != p.scenario.learning.enabled())
      throw InputError("model.kind: a sweep is either all learning or all staleness; sweep model.kind over "
                       "linear, logistic and mlp, not none");
    plan.points.push_back(std::move(p));
  }
  std::vector<const sim::Scenario*> scenarios;
  for (const SweepPoint& p : plan.points) scenarios.push_back(&p.scenario);
  check_sweep_memory(scenarios, options.limits);
  for (const auto& axis : plan.axes) definition += "|" + axis.key;
  plan.fingerprint = fnv1a(definition);
  return plan;
}

}  // namespace

std::vector<std::string> SweepPlan::axis_keys() const {
  std::vector<std::string> keys;
  for (const auto& axis : axes) keys.push_back(axis.key);
  return keys;
}

std::string point_label(const SweepPlan& plan, const SweepPoint& p) {
  std::string label;
  for (std::size_t a = 0; a < plan.axes.size(); ++a)
    label += fmt::format("{}{}={}", a ? ", " : "", plan.axes[a].key, p.values[a]);
  return label;
}

SweepPlan make_sweep_plan(std::string name, const sim::Scenario& base, std::vector<SweepAxis> axes,
                          const PlanOptions& options) {
  std::size_t count = 1;
  for (const auto& axis : axes) {
    if (axis.values.empty()) throw InputError(fmt::format("sweep.{}: expected a non-empty list of values", axis.key));
    count *= axis.values.size();
    if (count > 1'000'000) throw InputError("sweep: more than 10^6 points; split the sweep");
  }
  std::vector<std::vector<std::optional<std::string>>> rows(count);
  for (std::size_t index = 0; index < count; ++index) {
    std::size_t rest = index;
    rows[index].resize(axes.size());
    for (std::size_t a = axes.size(); a-- > 0;) {  // last axis varies fastest
      rows[index][a] = axes[a].values[rest % axes[a].values.size()];
      rest /= axes[a].values.size();
    }
  }
  return build_plan(std::move(name), base, std::move(axes), rows, options);
}

SweepPlan make_case_plan(std::string name, const sim::Scenario& base, const std::vector<SweepCase>& cases,
                         const PlanOptions& options) {
  std::vector<SweepAxis> axes;
  const auto axis_of = [&](const std::string& key) {
    for (std::size_t a = 0; a < axes.size(); ++a)
      if (axes[a].key == key) return a;
    axes.push_back({key, {}});
    return axes.size() - 1;
  };
  for (const auto& c : cases)
    for (const auto& [key, value] : c) axis_of(key);
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& c : cases) {
    std::vector<std::optional<std::string>> row(axes.size());
    for (const auto& [key, value] : c) row[axis_of(key)] = value;
    rows.push_back(std::move(row));
  }
  auto plan = build_plan(std::move(name), base, axes, rows, options);
  for (std::size_t a = 0; a < plan.axes.size(); ++a)  // the axis lists as they came out
    for (const auto& p : plan.points) plan.axes[a].values.push_back(p.values[a]);
  return plan;
}

SweepPlan make_setup_plan(std::string name, const sim::Scenario& base, const std::vector<SweepSetup>& setups,
                          std::vector<SweepAxis> axes, const PlanOptions& options) {
  if (setups.empty()) return make_sweep_plan(std::move(name), base, std::move(axes), options);
  // Columns: the setup's name, every key some setup sets, then the product's axes.
  std::vector<SweepAxis> columns{{std::string(setup_axis), {}}};
  const auto column_of = [&](const std::string& key) {
    for (std::size_t a = 1; a < columns.size(); ++a)
      if (columns[a].key == key) return a;
    for (const auto& axis : axes)
      if (axis.key == key)
        throw InputError(fmt::format("sweep.setup: {} is both a sweep axis and set by a setup; give it in one place", key));
    columns.push_back({key, {}});
    return columns.size() - 1;
  };
  for (const auto& setup : setups)
    for (const auto& [key, value] : setup.keys) column_of(key);
  const std::size_t fixed = columns.size();
  for (const auto& axis : axes) {
    if (axis.values.empty()) throw InputError(fmt::format("sweep.{}: expected a non-empty list of values", axis.key));
    columns.push_back({axis.key, {}});
  }
  // Each setup's own axes: the sweep's, with the values the setup gives for some of them.
  const auto own_axes = [&](const SweepSetup& setup) {
    std::vector<SweepAxis> own = axes;
    for (const auto& given : setup.axes) {
      const auto it = std::find_if(own.begin(), own.end(), [&](const SweepAxis& a) { return a.key == given.key; });
      if (it == own.end())
        throw InputError(fmt::format("sweep.setup \"{}\": {}: a list of values is for a sweep axis, and {} is none",
                                     setup.name, given.key, given.key));
      it->values = given.values;
    }
    return own;
  };
  std::size_t total = 0;
  for (const auto& setup : setups) {
    std::size_t product = 1;
    for (const auto& axis : own_axes(setup)) {
      product *= axis.values.size();
      if (product > 1'000'000) throw InputError("sweep: more than 10^6 points; split the sweep");
    }
    total += product;
    if (total > 1'000'000) throw InputError("sweep: more than 10^6 points; split the sweep");
  }
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& setup : setups) {  // setups outermost, in file order
    const std::vector<SweepAxis> own = own_axes(setup);
    std::size_t product = 1;
    for (const auto& axis : own) product *= axis.values.size();
    for (std::size_t index = 0; index < product; ++index) {
      std::vector<std::optional<std::string>> row(columns.size());
      row[0] = setup.name;
      for (const auto& [key, value] : setup.keys) row[column_of(key)] = value;
      std::size_t rest = index;
      for (std::size_t a = own.size(); a-- > 0;) {  // last axis varies fastest
        row[fixed + a] = own[a].values[rest % own[a].values.size()];
        rest /= own[a].values.size();
      }
      rows.push_back(std::move(row));
    }
  }
  auto plan = build_plan(std::move(name), base, columns, rows, options);
  for (std::size_t a = 0; a < fixed; ++a) {  // the setup columns' value lists, as they came out
    plan.axes[a].values.clear();
    for (const auto& p : plan.points) plan.axes[a].values.push_back(p.values[a]);
  }
  for (std::size_t a = fixed; a < plan.axes.size(); ++a)  // each axis's values over all setups, first seen first
    for (const auto& p : plan.points)
      if (std::find(plan.axes[a].values.begin(), plan.axes[a].values.end(), p.values[a]) == plan.axes[a].values.end())
        plan.axes[a].values.push_back(p.values[a]);
  return plan;
}

namespace {

// A value of a setup's key as the text --set takes: scalars, and arrays of integers
// (model.hidden = [32]).
std::string setup_value_text(const toml::node& node, std::string_view key) {
  if (const auto* list = node.as_array()) {
    std::string text = "[";
    for (const auto& item : *list) {
      const auto* i = item.as_integer();
      if (!i) throw InputError(fmt::format("sweep.setup: {}: expected a number, string, boolean or list of integers", key));
      text += (text.size() > 1 ? "," : "") + std::to_string(i->get());
    }
    return text + "]";
  }
  if (node.is_table())
    throw InputError(fmt::format("sweep.setup: {}: expected a number, string, boolean or list of integers", key));
  return scalar_text(node, key);
}

std::vector<SweepSetup> read_setups(const toml::node& node, const sim::Scenario& base, const fs::path& dir,
                                    const std::vector<SweepAxis>& axes) {
  const auto* list = node.as_array();
  if (!list || list->empty() || !list->is_array_of_tables())
    throw InputError("sweep.setup: expected an array of tables, e.g. [[sweep.setup]] with name = \"quadratic\" and "
                     "\"model.kind\" = \"quadratic\"");
  std::vector<SweepSetup> setups;
  for (const auto& item : *list) {
    const toml::table& table = *item.as_table();
    const auto* name_node = table.get("name");
    const auto* name = name_node ? name_node->as_string() : nullptr;
    if (!name || name->get().empty() || name->get().find_first_of(",\"\n\r") != std::string::npos)
      throw InputError(fmt::format("sweep.setup {}: expected name = \"...\" (non-empty, no commas or quotes)",
                                   setups.size() + 1));
    for (const auto& other : setups)
      if (other.name == name->get()) throw InputError(fmt::format("sweep.setup: the name \"{}\" appears twice", other.name));
    SweepSetup setup{name->get(), {}};
    sim::Scenario probe = base;  // unknown keys and bad values fail here, naming the setup and key
    for (const auto& [key, value] : table) {
      if (key.str() == "name") continue;
      const std::string k(key.str());
      if (std::any_of(axes.begin(), axes.end(), [&](const SweepAxis& a) { return a.key == k; })) {
        // A sweep axis: this setup's own values for it, a list or a range like the axis's.
        SweepAxis own{k, {}};
        if (const auto* list = value.as_array()) {
          for (const auto& v : *list) own.values.push_back(scalar_text(v, k));
        } else if (const auto* range = value.as_table()) {
          own.values = range_values(*range, k);
        } else {
          own.values.push_back(scalar_text(value, k));
        }
        if (own.values.empty())
          throw InputError(fmt::format("sweep.setup \"{}\": {}: expected a non-empty list of values", setup.name, k));
        sim::Scenario check = base;
        try {
          for (const auto& v : own.values) apply_value(check, k, v, dir);
        } catch (const InputError& e) {
          throw InputError(fmt::format("sweep.setup \"{}\": {}", setup.name, e.what()));
        }
        setup.axes.push_back(std::move(own));
        continue;
      }
      setup.keys.emplace_back(k, setup_value_text(value, k));
      try {
        apply_value(probe, k, setup.keys.back().second, dir);
      } catch (const InputError& e) {
        throw InputError(fmt::format("sweep.setup \"{}\": {}", setup.name, e.what()));
      }
    }
    setups.push_back(std::move(setup));
  }
  return setups;
}

SweepPlan sweep_plan_from(const toml::table& root, const std::string& name, const std::string& origin,
                          const fs::path& dir, PlanOptions options) {
  sim::Scenario base;
  apply_table(base, root, dir, {"sweep"});
  const toml::table* sweep = root["sweep"].as_table();
  if (!sweep || sweep->empty())
    throw InputError(fmt::format("{}: no [sweep] table; a sweep file is a scenario plus a [sweep] table of "
                                 "\"key\" = [values]",
                                 origin));
  // Axes in the order they appear in the file.
  std::vector<std::pair<std::uint32_t, SweepAxis>> ordered;
  const toml::node* setup_node = nullptr;  // read after the axes, which a setup may give values of its own
  for (const auto& [key, node] : *sweep) {
    if (key.str() == setup_axis) {
      setup_node = &node;
      continue;
    }
    SweepAxis axis;
    axis.key = std::string(key.str());
    if (const auto* list = node.as_array()) {
      for (const auto& value : *list) axis.values.push_back(scalar_text(value, axis.key));
    } else if (const auto* range = node.as_table()) {
      axis.values = range_values(*range, axis.key);
    } else {
      throw InputError(fmt::format("sweep.{}: expected an array of values or a range {{from, to, times}}", axis.key));
    }
    sim::Scenario probe = base;  // unknown keys and bad values fail here, naming the key
    for (const auto& v : axis.values) apply_value(probe, axis.key, v, dir);
    ordered.emplace_back(node.source().begin.line, std::move(axis));
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<SweepAxis> axes;
  for (auto& [line, axis] : ordered) axes.push_back(std::move(axis));
  const std::vector<SweepSetup> setups = setup_node ? read_setups(*setup_node, base, dir, axes) : std::vector<SweepSetup>{};
  options.base_dir = dir;  // a relative path in an axis is relative to the sweep file
  return make_setup_plan(name, base, setups, std::move(axes), options);
}

}  // namespace

SweepPlan load_sweep_plan(const fs::path& file, PlanOptions options) {
  return sweep_plan_from(parse_toml_file(file, "sweep file"), file.filename().string(), file.string(),
                         file.parent_path(), std::move(options));
}

SweepPlan sweep_plan_from_text(std::string_view toml_text, const std::string& name, const fs::path& base_dir,
                               PlanOptions options) {
  return sweep_plan_from(parse_toml_text(toml_text, name), name, name, base_dir, std::move(options));
}

}  // namespace timely::experiments
