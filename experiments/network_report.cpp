#include "experiments/network_report.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

#include <map>
#include <stdexcept>

#include "experiments/columns.hpp"
#include "experiments/files.hpp"
#include "experiments/scenario_keys.hpp"
#include "plots/figure.hpp"

namespace timely::experiments {
namespace {

// The numeric network keys a study sweeps (docs/model.md §7), with the axis label they get.
constexpr std::pair<std::string_view, std::string_view> network_axes[] = {
    {"gossip.latency", "latency (time units)"},
    {"gossip.loss", "message loss probability p"},
    {"gossip.bandwidth", "uplink bandwidth (bytes per time unit)"},
    {"gossip.message_bytes", "message size (bytes)"},
    {"churn.online_mean", "mean online period"},
    {"churn.offline_mean", "mean offline period"},
};

std::optional<double> parse(const std::string& text) {
  double x = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return x;
}

bool has_column(const CsvTable& t, std::string_view column) {
  return std::find(t.header.begin(), t.header.end(), column) != t.header.end();
}

void render(const plots::Figure& f, const SweepResults& r, std::vector<std::string>& drawn, std::ostream& log,
            const plots::Drawing& drawing) {
  try {
    plots::render(f, r.dir, drawing);
    drawn.push_back(f.name);
  } catch (const std::exception& e) {  // a figure that cannot be drawn never fails finished results
    log << fmt::format("figure {} not drawn: {}\n", f.name, e.what());
  }
}

// The label of a row's curve: the varying axes other than `x`, named by the registry.
std::string curve_label(const SweepResults& r, std::size_t row, const std::vector<std::string>& varying,
                        std::string_view x) {
  std::vector<std::pair<std::string, std::string>> values;
  for (const auto& axis : varying)
    if (axis != x) values.emplace_back(axis, r.value(row, axis));
  return curve_title(values);
}

// One value (with its CI column) against a network axis, one curve per combination of the
// other varying axes, points in increasing axis order. `theory_of`: the suffix of the curves
// this column is the theory of ("" = none), whose colour it takes, dashed.
void add_curves(const SweepResults& r, const std::vector<std::string>& varying, std::string_view x,
                std::string_view column, std::string_view ci, std::string_view suffix, plots::Figure& f,
                std::string_view theory_of = "") {
  if (!has_column(r.table, column)) return;
  std::map<std::string, std::vector<std::pair<double, std::size_t>>> curves;
  std::vector<std::string> order;
  for (std::size_t row = 0; row < r.table.rows.size(); ++row) {
    const auto xv = parse(r.value(row, x));
    if (!xv || !r.number(row, column)) continue;
    const std::string label = curve_label(r, row, varying, x);
    if (!curves.count(label)) order.push_back(label);
    curves[label].push_back({*xv, row});
  }
  for (const auto& label : order) {
    auto& points = curves[label];
    std::sort(points.begin(), points.end());
    const auto title = [&](std::string_view end) {
      return label.empty() ? std::string(end) : label + (end.empty() ? "" : ", " + std::string(end));
    };
    plots::Series s;
    s.title = title(suffix);
    if (!theory_of.empty()) {
      s.key = title(theory_of);
      s.role = plots::Series::Role::theory;
    }
    for (const auto& [xv, row] : points) {
      s.x.push_back(xv);
      s.y.push_back(*r.number(row, column));
      if (!ci.empty()) s.err.push_back(r.number(row, ci).value_or(0.0));
    }
    if (ci.empty()) s.style = theory_of.empty() ? plots::Series::Style::linespoints : plots::Series::Style::lines;
    else f.legend_title = "error bars: 95% CI";
    f.series.push_back(std::move(s));
  }
}

}  // namespace

void report_network(const SweepResults& r, std::vector<std::string>& drawn, std::ostream& log,
                    const plots::Drawing& drawing) {
  const auto varying = r.varying_axes();
  // Against each swept network key: the staleness (all pairs, online observers, theory where
  // exact), and the final accuracy of learning sweeps.
  for (const auto& [key, xlabel] : network_axes) {
    if (std::find(varying.begin(), varying.end(), key) == varying.end()) continue;
    bool numeric = true;
    for (std::size_t row = 0; row < r.table.rows.size(); ++row) numeric = numeric && parse(r.value(row, key)).has_value();
    if (!numeric) continue;  // e.g. latency laws: no x value to draw them at
    const std::string stem = std::string(key.substr(key.find('.') + 1));
    plots::Figure staleness;
    staleness.name = "staleness_vs_" + stem;
    staleness.title = fmt::format("Mean staleness against {}", key);
    staleness.xlabel = xlabel;
    staleness.ylabel = "mean staleness (versions)";
    add_curves(r, varying, key, "mean", "ci95", "all pairs", staleness);
    add_curves(r, varying, key, "staleness_online", "staleness_online_ci95", "online observers", staleness);
    add_curves(r, varying, key, "theory", "", "exact theory", staleness, "all pairs");
    if (!staleness.series.empty()) render(staleness, r, drawn, log, drawing);
    plots::Figure accuracy;
    accuracy.name = "final_accuracy_vs_" + stem;
    accuracy.title = fmt::format("Final test accuracy of {} against {}", observed_model(r), key);
    accuracy.xlabel = xlabel;
    accuracy.ylabel = "final test accuracy";
    add_curves(r, varying, key, "final_accuracy", "final_accuracy_ci95", "", accuracy);
    if (!accuracy.series.empty()) render(accuracy, r, drawn, log, drawing);
  }

  // Learning with the network layer: accuracy against the bytes each user sent so far.
  const auto curves_path = r.dir / "learning_curves.csv";
  if (!has_column(r.table, "bytes_sent_per_user_mean") || !path_exists(curves_path)) return;
  const CsvTable curves = read_results_file(curves_path, ResultsFile::curves, r.axes, header_groups(r.table.header));
  if (!has_column(curves, "bytes_sent_per_user") || !has_column(curves, "accuracy")) return;
  plots::Figure f;
  f.name = "accuracy_vs_bytes";
  f.title = fmt::format("Test accuracy of {} against bytes sent per user", observed_model(r));
  f.xlabel = "bytes sent per user (mean over users)";
  f.ylabel = "test accuracy";
  std::map<std::string, std::size_t> series_of;
  for (const auto& row : curves.rows) {
    const auto bytes = parse(row[curves.column("bytes_sent_per_user")]);
    const auto acc = parse(row[curves.column("accuracy")]);
    if (!bytes || !acc) continue;
    std::vector<std::pair<std::string, std::string>> values;
    for (const auto& axis : varying) values.emplace_back(axis, row[curves.column(axis)]);
    const std::string label = curve_title(values);
    auto [it, inserted] = series_of.try_emplace(label, f.series.size());
    if (inserted) f.series.push_back(plots::Series{label, {}, {}, {}, plots::Series::Style::lines});
    f.series[it->second].x.push_back(*bytes);
    f.series[it->second].y.push_back(*acc);
  }
  if (!f.series.empty()) render(f, r, drawn, log, drawing);
}

}  // namespace timely::experiments
