#include "app/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <tbb/info.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>
#include <toml++/toml.h>

#include "analysis/learning_summary.hpp"
#include "analysis/predict.hpp"
#include "analysis/trial_summary.hpp"
#include "app/atomic_file.hpp"
#include "app/config.hpp"
#include "app/csv.hpp"
#include "app/progress.hpp"
#include "app/version.hpp"
#include "sim/input_error.hpp"
#include "sim/learning.hpp"
#include "sim/random.hpp"

namespace timely::cli {
namespace {

namespace fs = std::filesystem;

std::string number_text(double x) { return fmt::format("{:.12g}", x); }
std::string optional_text(const std::optional<double>& x) { return x ? number_text(*x) : std::string(); }

// FNV-1a: a stable hash (std::hash is not stable across libraries).
std::string fnv1a(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

std::string point_label(const SweepPlan& plan, const SweepPoint& p) {
  std::string label;
  for (std::size_t a = 0; a < plan.axes.size(); ++a)
    label += fmt::format("{}{}={}", a ? ", " : "", plan.axes[a].key, p.values[a]);
  return label;
}

// Rough cost of one trial, for the time-left estimate: events times the work per event.
double trial_work(const sim::Scenario& s) {
  const double n = s.network.n;
  if (s.staleness.model == sim::StalenessModel::source)
    return s.run.horizon * (n * s.gossip_rate() + s.source.rate + s.source.push_rate);
  return s.run.horizon * (n * s.gossip_rate() + s.tracked_sources() * s.update_rate()) * (1.0 + s.tracked_sources());
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

bool learning_plan(const SweepPlan& plan) { return plan.points.front().scenario.learning.enabled(); }

std::string summary_text(const std::optional<analysis::Summary>& x) { return x ? number_text(x->mean) : ""; }
std::string summary_ci(const std::optional<analysis::Summary>& x) { return x ? optional_text(x->ci_half_width) : ""; }

constexpr const char* learning_columns[] = {"final_accuracy", "final_accuracy_ci95", "final_loss", "final_loss_ci95",
                                            "consensus_distance", "consensus_distance_ci95", "distance_to_optimum",
                                            "distance_to_optimum_ci95", "time_to_target", "time_to_target_ci95", "reached",
                                            "plateau_time", "plateau_time_ci95", "plateau_delay", "plateau_delay_ci95"};

std::vector<std::string> learning_fields(const std::vector<sim::LearningTrialResult>& trials) {
  const analysis::LearningSummary l = analysis::summarize_learning(trials);
  return {summary_text(l.accuracy), summary_ci(l.accuracy), number_text(l.loss.mean), optional_text(l.loss.ci_half_width),
          number_text(l.consensus.mean), optional_text(l.consensus.ci_half_width), summary_text(l.distance),
          summary_ci(l.distance), summary_text(l.time_to_target), summary_ci(l.time_to_target), std::to_string(l.reached),
          summary_text(l.plateau_time), summary_ci(l.plateau_time), summary_text(l.plateau_delay), summary_ci(l.plateau_delay)};
}

// ---- files --------------------------------------------------------------------------------

std::vector<std::string> results_header(const SweepPlan& plan) {
  std::vector<std::string> h{"point"};
  for (const auto& axis : plan.axes) h.push_back(axis.key);
  for (const char* c : {"n", "lambda", "trials", "mean", "ci95", "sd", "theory", "ratio", "ratio_ci95", "z",
                        "max_mean", "max_ci95", "max_all_mean", "max_all_ci95", "bound", "exceed_per_source",
                        "exceed_per_source_ci95", "exceed_all_pairs", "exceed_all_pairs_ci95"})
    h.emplace_back(c);
  for (double level : analysis::staleness_quantile_levels) h.push_back(analysis::quantile_name(level));
  for (const char* c : {"events", "seed", "method", "law"}) h.emplace_back(c);
  if (learning_plan(plan))
    for (const char* c : learning_columns) h.emplace_back(c);
  return h;
}

std::vector<std::string> curves_header(const SweepPlan& plan) {
  std::vector<std::string> h{"point"};
  for (const auto& axis : plan.axes) h.push_back(axis.key);
  for (const char* c : {"time", "loss", "loss_ci95", "accuracy", "accuracy_ci95", "consensus_distance", "weight_variance"})
    h.emplace_back(c);
  return h;
}

std::vector<std::string> trials_header(const SweepPlan& plan) {
  std::vector<std::string> h{"point"};
  for (const auto& axis : plan.axes) h.push_back(axis.key);
  for (const char* c : {"trial", "mean_staleness", "max_mean", "max_all_mean", "exceed_per_source",
                        "exceed_all_pairs", "events"})
    h.emplace_back(c);
  if (learning_plan(plan))
    for (const char* c : {"final_accuracy", "final_loss", "time_to_target"}) h.emplace_back(c);
  return h;
}

std::string results_row(const SweepPoint& p, const analysis::Prediction& theory,
                        const std::vector<sim::TrialResult>& trials,
                        const std::vector<sim::LearningTrialResult>* learning) {
  const sim::Scenario& s = p.scenario;
  std::vector<std::string> f{std::to_string(p.index)};
  f.insert(f.end(), p.values.begin(), p.values.end());
  f.push_back(std::to_string(s.network.n));
  f.push_back(number_text(s.gossip_rate()));
  f.push_back(std::to_string(s.run.trials));
  if (trials.empty()) {  // FedAvg: no gossip, so no staleness
    f.resize(f.size() + 16 + analysis::staleness_quantile_levels.size() + 1);  // the staleness columns, empty
    f.push_back(std::to_string(s.run.seed));
    f.push_back("none: FedAvg has no gossip");
    f.push_back("");
  } else {
    const analysis::TrialSummary t = analysis::summarize_trials(trials, s.staleness.bound);
    f.push_back(number_text(t.mean.mean));
    f.push_back(optional_text(t.mean.ci_half_width));
    f.push_back(t.mean.count > 1 ? number_text(t.mean.sd) : "");
    f.push_back(optional_text(theory.staleness));
    const bool comparable = theory.staleness && *theory.staleness > 0.0;
    f.push_back(comparable ? number_text(t.mean.mean / *theory.staleness) : "");
    f.push_back(comparable && t.mean.ci_half_width ? number_text(*t.mean.ci_half_width / *theory.staleness) : "");
    // z: the difference in standard errors of the trial mean.
    f.push_back(comparable && t.mean.sd > 0.0
                    ? number_text((t.mean.mean - *theory.staleness) / (t.mean.sd / std::sqrt(double(trials.size()))))
                    : "");
    for (const analysis::Summary* x : {&t.max_mean, &t.max_all_mean}) {
      f.push_back(number_text(x->mean));
      f.push_back(optional_text(x->ci_half_width));
    }
    f.push_back(std::to_string(t.bound));
    for (const analysis::Summary* x : {&t.exceed_per_source, &t.exceed_all_pairs}) {
      f.push_back(number_text(x->mean));
      f.push_back(optional_text(x->ci_half_width));
    }
    for (std::size_t q : t.quantiles) f.push_back(std::to_string(q));
    f.push_back(std::to_string(t.events));
    f.push_back(std::to_string(s.run.seed));
    f.push_back(theory.method);
    f.push_back(theory.law.value_or(""));
  }
  if (learning) {
    const auto l = learning_fields(*learning);
    f.insert(f.end(), l.begin(), l.end());
  }
  return csv_line(f);
}

std::string trial_rows(const SweepPoint& p, const std::vector<sim::TrialResult>& trials,
                       const std::vector<sim::LearningTrialResult>* learning) {
  std::string rows;
  for (std::size_t i = 0; i < p.scenario.run.trials; ++i) {
    std::vector<std::string> f{std::to_string(p.index)};
    f.insert(f.end(), p.values.begin(), p.values.end());
    f.push_back(std::to_string(i));
    if (i < trials.size()) {
      const auto& r = trials[i];
      for (double x : {r.mean_staleness, r.max_mean, r.max_all_mean,
                       analysis::weighted_fraction_above(r.worst_time, p.scenario.staleness.bound),
                       analysis::weighted_fraction_above(r.max_all_time, p.scenario.staleness.bound)})
        f.push_back(fmt::format("{:.17g}", x));
      f.push_back(std::to_string(r.events));
    } else {
      f.resize(f.size() + 6);
    }
    if (learning) {
      const auto& l = (*learning)[i];
      const auto& last = l.observations.back();
      f.push_back(last.accuracy ? fmt::format("{:.17g}", *last.accuracy) : "");
      f.push_back(fmt::format("{:.17g}", last.loss));
      f.push_back(l.time_to_target ? fmt::format("{:.17g}", *l.time_to_target) : "");
    }
    rows += csv_line(f);
  }
  return rows;
}

std::string curve_rows(const SweepPoint& p, const std::vector<sim::LearningTrialResult>& learning) {
  std::string rows;
  for (const auto& c : analysis::learning_curve(learning)) {
    std::vector<std::string> f{std::to_string(p.index)};
    f.insert(f.end(), p.values.begin(), p.values.end());
    f.push_back(number_text(c.time));
    f.push_back(number_text(c.loss.mean));
    f.push_back(optional_text(c.loss.ci_half_width));
    f.push_back(c.accuracy ? number_text(c.accuracy->mean) : "");
    f.push_back(c.accuracy ? optional_text(c.accuracy->ci_half_width) : "");
    f.push_back(number_text(c.consensus.mean));
    std::string variance;
    for (double v : c.weight_variance) variance += (variance.empty() ? "" : ";") + number_text(v);
    f.push_back(variance);
    rows += csv_line(f);
  }
  return rows;
}

// Rows of finished points, by point index; written in index order so the files do not
// depend on the order in which points finished.
struct Finished {
  std::map<std::size_t, std::string> results;
  std::map<std::size_t, std::string> trials;
  std::map<std::size_t, std::string> curves;  // learning sweeps
};

void write_rows(const fs::path& out, const SweepPlan& plan, const Finished& done) {
  // trials.csv first: a point counts as finished on --resume only if both files have it.
  std::string trials = csv_line(trials_header(plan));
  for (const auto& [index, rows] : done.trials) trials += rows;
  write_file_atomically(out / "trials.csv", trials);
  if (learning_plan(plan)) {
    std::string curves = csv_line(curves_header(plan));
    for (const auto& [index, rows] : done.curves) curves += rows;
    write_file_atomically(out / "learning_curves.csv", curves);
  }
  std::string results = csv_line(results_header(plan));
  for (const auto& [index, row] : done.results) results += row;
  write_file_atomically(out / "results.csv", results);
}

nlohmann::ordered_json meta_json(const SweepPlan& plan, const SweepOptions& options, std::size_t done,
                                 std::size_t resumed, bool complete, double wall) {
  nlohmann::ordered_json j;
  j["sweep"] = plan.name;
  j["timely_version"] = TIMELY_VERSION;
  j["git_revision"] = timely_git_revision();
  j["fingerprint"] = plan.fingerprint;
  j["seed"] = plan.base.run.seed;
  j["threads"] = options.threads == 0 ? tbb::info::default_concurrency() : static_cast<int>(options.threads);
  j["quick"] = plan.quick;
  j["points"] = plan.points.size();
  j["points_done"] = done;
  j["points_resumed"] = resumed;
  j["complete"] = complete;
  j["wall_seconds"] = wall;
  j["base_scenario"] = scenario_json(plan.base);
  auto& axes = j["axes"];
  axes = nlohmann::ordered_json::object();
  for (const auto& axis : plan.axes) axes[axis.key] = axis.values;
  return j;
}

// Finished points of an earlier run of the same sweep in `out`.
Finished load_finished(const fs::path& out, const SweepPlan& plan) {
  Finished done;
  const fs::path meta_path = out / "meta.json";
  if (!fs::exists(meta_path)) return done;
  nlohmann::json meta;
  try {
    std::ifstream(meta_path) >> meta;
  } catch (const std::exception&) {
    throw InputError(fmt::format("--resume: {} is not valid JSON", meta_path.string()));
  }
  if (meta.value("fingerprint", "") != plan.fingerprint)
    throw InputError(fmt::format("--resume: {} holds a different sweep (base scenario, axes or --quick differ); "
                                 "use another --out, or --force to start over",
                                 out.string()));
  if (!fs::exists(out / "results.csv") || !fs::exists(out / "trials.csv")) return done;
  const CsvTable results = read_csv((out / "results.csv").string());
  const CsvTable trials = read_csv((out / "trials.csv").string());
  if (results.header != results_header(plan) || trials.header != trials_header(plan))
    throw InputError(fmt::format("--resume: the CSV columns in {} differ from this sweep's", out.string()));
  std::map<std::size_t, std::vector<const std::vector<std::string>*>> trial_rows_of, curve_rows_of;
  for (const auto& row : trials.rows) trial_rows_of[std::stoul(row[0])].push_back(&row);
  CsvTable curves;
  if (learning_plan(plan)) {
    if (!fs::exists(out / "learning_curves.csv")) return done;
    curves = read_csv((out / "learning_curves.csv").string());
    for (const auto& row : curves.rows) curve_rows_of[std::stoul(row[0])].push_back(&row);
  }
  for (const auto& row : results.rows) {
    const std::size_t index = std::stoul(row[0]);
    if (index >= plan.points.size()) continue;
    const SweepPoint& p = plan.points[index];
    if (!std::equal(p.values.begin(), p.values.end(), row.begin() + 1)) continue;  // edited by hand: redo
    const auto& rows = trial_rows_of[index];
    if (rows.size() != p.scenario.run.trials) continue;
    if (learning_plan(plan) && curve_rows_of[index].empty()) continue;
    done.results[index] = csv_line(row);
    for (const auto* r : rows) done.trials[index] += csv_line(*r);
    for (const auto* r : curve_rows_of[index]) done.curves[index] += csv_line(*r);
  }
  return done;
}

}  // namespace

namespace {

// Shared by products and case lists: applies each point's values, then the seed and quick
// rules, and validates every point before anything runs.
SweepPlan build_plan(std::string name, const sim::Scenario& base, std::vector<SweepAxis> axes,
                     const std::vector<std::vector<std::optional<std::string>>>& rows, bool quick) {
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
      if (rows[index][a]) apply_value(p.scenario, plan.axes[a].key, *rows[index][a]);
    const auto effective = scenario_json(p.scenario);
    for (std::size_t a = 0; a < plan.axes.size(); ++a) {
      const auto& v = effective[plan.axes[a].key];
      p.values.push_back(rows[index][a] ? *rows[index][a] : v.is_string() ? v.get<std::string>() : v.dump());
      definition += "|" + p.values.back();
    }
    // Independent points: point p draws from seed + p unless the seed itself is swept.
    if (!seed_is_axis) p.scenario.run.seed = base.run.seed + index;
    if (quick) {
      p.scenario.run.trials = std::min<std::uint32_t>(p.scenario.run.trials, 4);
      p.scenario.run.horizon /= 4;
      p.scenario.run.warmup /= 4;
    }
    try {
      validate(p.scenario);
      check_resources(p.scenario);
    } catch (const InputError& e) {
      throw InputError(fmt::format("sweep point {} ({}): {}", index, point_label(plan, p), e.what()));
    }
    if (!plan.points.empty() && plan.points.front().scenario.learning.enabled() != p.scenario.learning.enabled())
      throw InputError("model.kind: a sweep is either all learning or all staleness; sweep model.kind over "
                       "linear, logistic and mlp, not none");
    plan.points.push_back(std::move(p));
  }
  for (const auto& axis : plan.axes) definition += "|" + axis.key;
  plan.fingerprint = fnv1a(definition);
  return plan;
}

}  // namespace

SweepPlan make_sweep_plan(std::string name, const sim::Scenario& base, std::vector<SweepAxis> axes, bool quick) {
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
  return build_plan(std::move(name), base, std::move(axes), rows, quick);
}

SweepPlan make_case_plan(std::string name, const sim::Scenario& base, const std::vector<SweepCase>& cases, bool quick) {
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
  auto plan = build_plan(std::move(name), base, axes, rows, quick);
  for (std::size_t a = 0; a < plan.axes.size(); ++a)  // the axis lists as they came out
    for (const auto& p : plan.points) plan.axes[a].values.push_back(p.values[a]);
  return plan;
}

SweepPlan load_sweep_plan(const fs::path& file, bool quick) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw InputError(fmt::format("{}: cannot read the sweep file (no such file)", file.string()));
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: not valid TOML: {}", file.string(), e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
  sim::Scenario base;
  apply_table(base, root, file.parent_path(), {"sweep"});
  const toml::table* sweep = root["sweep"].as_table();
  if (!sweep || sweep->empty())
    throw InputError(fmt::format("{}: no [sweep] table; a sweep file is a scenario plus a [sweep] table of "
                                 "\"key\" = [values]",
                                 file.string()));
  // Axes in the order they appear in the file.
  std::vector<std::pair<std::uint32_t, SweepAxis>> ordered;
  for (const auto& [key, node] : *sweep) {
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
    for (const auto& v : axis.values) apply_value(probe, axis.key, v);
    ordered.emplace_back(node.source().begin.line, std::move(axis));
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<SweepAxis> axes;
  for (auto& [line, axis] : ordered) axes.push_back(std::move(axis));
  return make_sweep_plan(file.filename().string(), base, std::move(axes), quick);
}

SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options, std::ostream& err) {
  const auto start = std::chrono::steady_clock::now();
  const fs::path& out = options.out;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InputError(fmt::format("--out: cannot create directory '{}' ({})", out.string(), ec.message()));
  if (!options.resume && !options.force && fs::exists(out / "results.csv"))
    throw InputError(fmt::format("--out: {} already holds a sweep (results.csv); pass --resume to continue it or "
                                 "--force to replace it",
                                 out.string()));

  Finished done = options.resume ? load_finished(out, plan) : Finished{};
  SweepOutcome outcome;
  outcome.points_resumed = done.results.size();
  std::vector<const SweepPoint*> pending;
  for (const auto& p : plan.points)
    if (!done.results.count(p.index)) pending.push_back(&p);

  write_file_atomically(out / "meta.json",
                        meta_json(plan, options, done.results.size(), outcome.points_resumed, false, 0.0).dump(2) + "\n");
  write_rows(out, plan, done);

  // Graphs and theory per point (random graphs are drawn from the point's own seed).
  std::vector<sim::Graph> graphs(pending.size());
  std::vector<analysis::Prediction> theory(pending.size());
  const bool learning = learning_plan(plan);
  std::vector<sim::LearningData> data(learning ? pending.size() : 0);
  std::map<std::string, std::shared_ptr<const models::Split>> loaded;  // one load per distinct data set
  for (std::size_t k = 0; k < pending.size(); ++k) {
    const sim::Scenario& s = pending[k]->scenario;
    try {
      graphs[k] = sim::scenario_graph(s);
      theory[k] = analysis::predict(s, graphs[k]);
      if (learning) {
        auto& split = loaded[sim::learning_data_key(s)];
        if (!split) split = sim::load_learning_data(s);
        data[k] = sim::prepare_learning(s, split);
      }
    } catch (const InputError& e) {
      throw InputError(fmt::format("sweep point {} ({}): {}", pending[k]->index, point_label(plan, *pending[k]), e.what()));
    }
  }

  struct Task {
    std::size_t point;  // index into pending
    std::uint32_t trial;
  };
  std::vector<Task> tasks;
  std::vector<std::vector<sim::TrialResult>> results(pending.size());
  std::vector<std::vector<sim::LearningTrialResult>> learned(pending.size());
  std::vector<std::atomic<std::uint32_t>> trials_done(pending.size());
  double total_work = 0.0;
  for (std::size_t k = 0; k < pending.size(); ++k) {
    results[k].resize(pending[k]->scenario.run.trials);
    if (learning) learned[k].resize(pending[k]->scenario.run.trials);
    for (std::uint32_t t = 0; t < pending[k]->scenario.run.trials; ++t) tasks.push_back({k, t});
    total_work += trial_work(pending[k]->scenario) * pending[k]->scenario.run.trials;
  }

  std::mutex mutex;  // guards `done`, the files, the progress line and the log
  Progress progress(err, plan.name, 0, options.show_progress);
  double work_done = 0.0;
  std::size_t trials_finished = 0, points_finished = 0;
  const auto finish_trial = [&](const Task& task) {
    const SweepPoint& p = *pending[task.point];
    const bool point_complete = ++trials_done[task.point] == p.scenario.run.trials;
    const std::lock_guard lock(mutex);
    ++trials_finished;
    work_done += trial_work(p.scenario);
    if (point_complete) {
      ++points_finished;
      const bool fedavg = learning && p.scenario.learning.mixing.rule == sim::MixingRule::fedavg;
      if (fedavg) results[task.point].clear();
      const auto* learned_point = learning ? &learned[task.point] : nullptr;
      done.trials[p.index] = trial_rows(p, results[task.point], learned_point);
      done.results[p.index] = results_row(p, theory[task.point], results[task.point], learned_point);
      if (learning) done.curves[p.index] = curve_rows(p, learned[task.point]);
      write_rows(out, plan, done);
      if (options.log_points && !options.show_progress && learning) {
        const auto l = analysis::summarize_learning(learned[task.point]);
        err << fmt::format("sweep {}: point {}/{} ({}): final accuracy {}, time to target {}  [{:.1f} s]\n", plan.name,
                           points_finished + outcome.points_resumed, plan.points.size(), point_label(plan, p),
                           l.accuracy ? fmt::format("{:.4g}", l.accuracy->mean) : "n/a",
                           l.time_to_target ? fmt::format("{:.4g}", l.time_to_target->mean) : "not reached",
                           progress.elapsed_seconds());
      } else if (options.log_points && !options.show_progress) {
        const auto t = analysis::summarize_trials(results[task.point], p.scenario.staleness.bound);
        err << fmt::format("sweep {}: point {}/{} ({}): staleness {:.6g}{}{}  [{:.1f} s]\n", plan.name,
                           points_finished + outcome.points_resumed, plan.points.size(), point_label(plan, p),
                           t.mean.mean, t.mean.ci_half_width ? fmt::format(" ± {:.3g}", *t.mean.ci_half_width) : "",
                           theory[task.point].staleness ? fmt::format(", theory {:.6g}", *theory[task.point].staleness)
                                                        : "",
                           progress.elapsed_seconds());
      }
    }
    progress.update(total_work > 0 ? work_done / total_work : 1.0,
                    fmt::format("points {}/{}, trials {}/{}", points_finished + outcome.points_resumed,
                                plan.points.size(), trials_finished, tasks.size()));
  };

  // One pool for all (point, trial) pairs; workers take tasks in order, so points finish
  // roughly in order and an interrupted sweep leaves a prefix of finished points.
  const int cores = tbb::info::default_concurrency();
  const int workers = options.threads == 0 ? cores : std::min(static_cast<int>(options.threads), cores);
  std::atomic<std::size_t> next{0};
  tbb::task_arena arena(workers);
  arena.execute([&] {
    tbb::task_group group;
    for (int w = 0; w < workers; ++w)
      group.run([&] {
        for (std::size_t k; (k = next++) < tasks.size();) {
          const Task& task = tasks[k];
          const SweepPoint& p = *pending[task.point];
          if (learning) {
            learned[task.point][task.trial] =
                sim::run_learning_trial(p.scenario, graphs[task.point], data[task.point], task.trial);
            results[task.point][task.trial] = learned[task.point][task.trial].staleness;
          } else {
            results[task.point][task.trial] = sim::run_trial(p.scenario, graphs[task.point], task.trial);
          }
          finish_trial(task);
        }
      });
    group.wait();
  });

  outcome.points_run = pending.size();
  outcome.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_file_atomically(out / "meta.json", meta_json(plan, options, done.results.size(), outcome.points_resumed, true,
                                                     outcome.wall_seconds)
                                                   .dump(2) +
                                               "\n");
  return outcome;
}

}  // namespace timely::cli
