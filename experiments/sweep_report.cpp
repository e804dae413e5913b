#include "experiments/sweep_report.hpp"
#include "experiments/network_report.hpp"

#include "experiments/sweep.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "analysis/statistics.hpp"
#include "experiments/columns.hpp"
#include "experiments/files.hpp"
#include "experiments/scenario_keys.hpp"
#include "plots/scaling_figures.hpp"
#include "sim/choices.hpp"
#include "sim/input_error.hpp"
#include "sim/protocols.hpp"
#include "theory/scaling_laws.hpp"

namespace timely::experiments {
namespace {

// The series keys of `curves` in order, for VersusN::key_order: every figure of a run given
// the same list draws a curve in the same colour.
std::vector<std::string> curve_keys(const std::vector<Curve>& curves) {
  std::vector<std::string> keys;
  for (const Curve& c : curves) keys.push_back(plots::curve_key(c.label));
  return keys;
}

namespace fs = std::filesystem;

std::string text_of(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// Standard error of each mean from its 95% CI, for weighting the fits.
std::vector<double> standard_errors(const SweepResults& r, const Curve& c) {
  std::vector<double> se;
  for (std::size_t row : c.rows) {
    const auto ci = r.number(row, "ci95");
    const auto trials = r.number(row, "trials");
    if (!ci || !trials || *trials < 2 || !(*ci > 0.0)) return {};
    se.push_back(*ci / analysis::student_t_critical(0.95, static_cast<std::size_t>(*trials) - 1));
  }
  return se;
}

void render_logged(const plots::Figure& figure, const fs::path& dir, std::vector<std::string>& drawn, std::ostream& log,
                   const plots::Drawing& drawing) {
  if (draw_figure(figure, dir, log, drawing)) drawn.push_back(figure.name);
}

std::string yes_no(bool b) { return b ? "true" : "false"; }

// One sweep point's learning curves (learning_curves.csv), means over trials.
struct PointCurves {
  plots::TimeSeries accuracy, loss;
  std::vector<plots::TimeSeries> variance;  // per layer, relative to its value at time 0
  std::vector<double> initial;              // per-layer variance at time 0 (the Xavier/He draw)
};

// The points drawn together in one set of time figures, and what names and titles them.
struct Panel {
  std::string suffix, title;          // figure-name suffix and title suffix ("" for a single panel)
  std::vector<std::string> points;    // keys into the point map, in sweep order
  std::vector<std::string> curve;     // legend title of each point's curve
};

// Figure names take [A-Za-z0-9_-] only.
std::string slug(const std::string& text) {
  std::string out;
  for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '-';
  return out;
}

// Beyond a handful of points, curves of every point in one figure are unreadable: then each
// combination of all varying axes but the last gets its own figures, with one curve per value
// of the last axis (e.g. per mixing rule for each n, topology and partition).
std::vector<Panel> learning_panels(const std::vector<std::string>& varying, const CsvTable& curves,
                                   const std::vector<std::string>& order,
                                   const std::map<std::string, std::vector<std::string>>& row_of) {
  constexpr std::size_t one_panel_at_most = 6;
  if (order.size() <= one_panel_at_most || varying.size() < 2) {
    std::vector<std::string> titles;
    for (const auto& point : order) {
      std::vector<std::pair<std::string, std::string>> values;
      for (const auto& axis : varying) values.emplace_back(axis, row_of.at(point)[curves.column(axis)]);
      titles.push_back(curve_title(values));
    }
    return {Panel{"", "", order, titles}};
  }
  std::vector<Panel> panels;
  std::map<std::string, std::size_t> index;
  for (const auto& point : order) {
    const auto& row = row_of.at(point);
    std::string title, suffix;
    for (std::size_t a = 0; a + 1 < varying.size(); ++a) {
      const std::string& v = row[curves.column(varying[a])];
      title += (title.empty() ? "" : ", ") + value_label(varying[a], v);
      suffix.push_back('_');
      suffix += slug(v);
    }
    auto [it, inserted] = index.emplace(title, panels.size());
    if (inserted) {
      // Values that differ only in characters a name cannot hold ("0.5", "0-5") would
      // overwrite each other's figures: number the later panel.
      if (std::any_of(panels.begin(), panels.end(), [&](const Panel& q) { return q.suffix == suffix; }))
        suffix += fmt::format("_{}", panels.size());
      panels.push_back(Panel{suffix, title, {}, {}});
    }
    Panel& p = panels[it->second];
    p.points.push_back(point);
    p.curve.push_back(value_label(varying.back(), row[curves.column(varying.back())]));
  }
  return panels;
}

void draw_panel(const SweepResults& r, const Panel& p, const std::map<std::string, PointCurves>& points,
                std::vector<std::string>& drawn, std::ostream& log, const plots::Drawing& drawing) {
  const std::string in = p.title.empty() ? "" : "\n" + p.title;
  const std::string observed = observed_model(r);
  std::vector<plots::TimeSeries> acc_series, loss_series, variance_series;
  bool loss_positive = true, variance_positive = true;
  for (std::size_t k = 0; k < p.points.size(); ++k) {
    const PointCurves& c = points.at(p.points[k]);
    if (!c.accuracy.time.empty()) {
      acc_series.push_back(c.accuracy);
      acc_series.back().label = p.curve[k];
    }
    loss_series.push_back(c.loss);
    loss_series.back().label = p.curve[k];
    for (double v : c.loss.value) loss_positive = loss_positive && v > 0.0;
    for (std::size_t layer = 0; layer < c.variance.size(); ++layer) {
      variance_series.push_back(c.variance[layer]);
      variance_series.back().label = fmt::format("{}{}W{}", p.curve[k], p.curve[k].empty() ? "" : ", ", layer + 1);
      for (double v : c.variance[layer].value) variance_positive = variance_positive && v > 0.0 && std::isfinite(v);
    }
  }
  if (!variance_series.empty() && variance_positive) {
    auto f = plots::versus_time_figure("weight_variance_vs_time" + p.suffix,
                                       "Weight variance per layer relative to its initial (Xavier) value" + in,
                                       "variance / initial variance", variance_series, true);
    f.extra.push_back("set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2");
    render_logged(f, r.dir, drawn, log, drawing);
  }
  if (!acc_series.empty()) {
    auto f = plots::versus_time_figure("accuracy_vs_time" + p.suffix,
                                       fmt::format("Test accuracy of {} (95% CI over trials)", observed) + in,
                                       "test accuracy",
                                       acc_series, false);
    f.extra.push_back("set yrange [0:1]");
    render_logged(f, r.dir, drawn, log, drawing);
  }
  render_logged(plots::versus_time_figure("loss_vs_time" + p.suffix, fmt::format("Test loss of {}", observed) + in,
                                          "test loss",
                                          loss_series, loss_positive),
                r.dir, drawn, log, drawing);
}

// Learning sweeps: accuracy, loss and weight variance against time per point
// (learning_curves.csv), and the time to the target accuracy and the plateau delay against n.
// ---- the capacity study: staleness and per-user learning error against n, per setup -------

// Which results.csv columns hold a setup's per-user errors: the quadratic model's exact time
// averages (with their exact theory), else the final squared distance of each user's model to
// the optimum (linear regression), else each user's own final test loss.
struct ErrorColumns {
  std::string_view mean, mean_ci, worst, worst_ci, theory, label;
  bool normalized = false;  // divided by each point's heterogeneity zeta^2, so draws compare
  std::string_view axis = label;  // the figures' y label, short enough for a one-column panel
};

std::optional<ErrorColumns> error_columns(const SweepResults& r, const std::vector<std::size_t>& rows) {
  const auto all = [&](std::string_view column) {
    if (std::find(r.table.header.begin(), r.table.header.end(), column) == r.table.header.end()) return false;
    return std::all_of(rows.begin(), rows.end(), [&](std::size_t row) { return r.number(row, column).has_value(); });
  };
  if (all("stationary_error"))
    return ErrorColumns{"stationary_error", "stationary_error_ci95", "stationary_worst_error",
                        "stationary_worst_error_ci95", "stationary_error_theory",
                        "time-averaged ||x_i - a_bar||^2 / zeta^2", all("heterogeneity"),
                        all("heterogeneity") ? "||x_i - a_bar||^2 / zeta^2" : "||x_i - a_bar||^2"};
  if (all("user_error"))
    return ErrorColumns{"user_error", "user_error_ci95", "worst_user_error", "worst_user_error_ci95", "",
                        "final ||theta_i - theta*||^2", false, "||theta_i - theta*||^2"};
  if (all("user_loss") && all("worst_user_loss"))
    return ErrorColumns{"user_loss", "user_loss_ci95", "worst_user_loss", "worst_user_loss_ci95", "",
                        "final test loss of each user's model", false, "each user's test loss"};
  return std::nullopt;
}

// The three laws fitted to a curve, or none where the weighted design is singular (one
// point's CI so much smaller than the others' that its row alone decides, e.g. a mean of 1e20
// beside means near 1): "no fit", as for too few sizes, rather than an error that made plot
// and --resume refuse a directory timely wrote.
std::optional<analysis::LawChoice> choose_law_or_none(std::span<const double> n, std::span<const double> y,
                                                      std::span<const double> sigma) {
  try {
    return analysis::choose_law(n, y, sigma);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

// The best law by AIC and the power law's exponent, as "law (b = x ± y)"; "" when a curve
// cannot be fitted (fewer than three sizes, or a value that is not positive).
std::optional<analysis::LawChoice> fit_group(const plots::CurveGroup& g) {
  if (g.n.size() < 3 || std::any_of(g.value.begin(), g.value.end(), [](double y) { return !(y > 0.0); })) return std::nullopt;
  std::vector<double> sigma;
  for (double ci : g.ci95) sigma.push_back(ci > 0.0 ? ci / 1.96 : 0.0);
  if (sigma.size() != g.n.size() || std::any_of(sigma.begin(), sigma.end(), [](double x) { return !(x > 0.0); })) sigma.clear();
  auto fitted = choose_law_or_none(g.n, g.value, sigma);
  if (!fitted) return std::nullopt;
  auto choice = std::move(*fitted);
  for (const auto& f : choice.fits)
    if (!std::isfinite(f.a.value) || !std::isfinite(f.b.value) || !std::isfinite(f.b.ci95)) return std::nullopt;
  return choice;
}

const analysis::Fit& power_fit(const analysis::LawChoice& c) {
  for (const auto& f : c.fits)
    if (f.law == analysis::Law::power) return f;
  return c.fits.front();
}

void report_study(const SweepResults& r, std::vector<std::string>& drawn, std::ostream& log, const plots::Drawing& drawing) {
  const auto curves = curves_over_n(r);
  if (curves.empty()) return;
  // "setup=S, gossip.scaling=log" -> "gossip.scaling=log": the figure names the setup.
  const auto curve_label = [&](const Curve& c, const std::string& setup) {
    std::string label = c.label;
    const std::string prefix = fmt::format("{}={}", setup_axis, setup);
    if (label.rfind(prefix, 0) == 0) label = label.substr(std::min(label.size(), prefix.size() + 2));
    if (label.empty()) label = setup;
    return label;
  };
  // One colour per curve label across the setups' figures.
  std::vector<std::string> key_order;
  for (const auto& c : curves) key_order.push_back(plots::curve_key(curve_label(c, r.value(c.rows.front(), setup_axis))));
  std::vector<std::string> setups;
  for (const auto& c : curves) {
    const std::string setup = r.value(c.rows.front(), setup_axis);
    if (std::find(setups.begin(), setups.end(), setup) == setups.end()) setups.push_back(setup);
  }
  std::string csv = csv_line({"setup", "curve", "n", "staleness", "staleness_ci95", "worst_staleness",
                              "worst_staleness_ci95", "error", "error_ci95", "worst_error", "worst_error_ci95",
                              "error_theory", "heterogeneity", "error_measure"});
  std::string fits = csv_line({"setup", "curve", "quantity", "best_law", "power_exponent", "power_exponent_ci95"});
  for (const auto& setup : setups) {
    std::vector<const Curve*> mine;
    std::vector<std::size_t> rows;
    for (const auto& c : curves)
      if (r.value(c.rows.front(), setup_axis) == setup) {
        mine.push_back(&c);
        rows.insert(rows.end(), c.rows.begin(), c.rows.end());
      }
    const auto columns = error_columns(r, rows);
    if (!columns) continue;
    plots::VersusN staleness{"", "Mean staleness", "versions behind", true, {}};
    plots::VersusN worst{"", "Worst observer, per source", "versions behind", true, {}};
    plots::VersusN error{"", "Mean per-user error", std::string(columns->axis), true, {}};
    plots::VersusN worst_error{"", "Worst user's error", std::string(columns->axis), true, {}};
    for (auto* figure : {&staleness, &worst, &error, &worst_error}) figure->key_order = key_order;
    for (const Curve* c : mine) {
      const std::string label = curve_label(*c, setup);
      const std::string title = curve_title(c->values, setup_axis);
      const auto add = [&](plots::VersusN& figure, plots::CurveGroup g, std::string_view quantity) {
        g.label = label;
        g.title = title.empty() ? setup : title;
        if (const auto choice = fit_group(g)) {
          g.fit = power_fit(*choice);
          const auto& p = power_fit(*choice);
          fits += csv_line({setup, label, std::string(quantity), std::string(analysis::law_name(choice->best)),
                            fmt::format("{:.6g}", p.b.value), fmt::format("{:.6g}", p.b.ci95)});
        }
        if (!g.n.empty()) figure.groups.push_back(std::move(g));
      };
      add(staleness, curve_group(r, *c, "mean", "ci95", true), "staleness");
      add(worst, curve_group(r, *c, "max_mean", "max_ci95", false), "worst_staleness");
      // Each point draws its own optima: dividing by their zeta^2 makes the points comparable.
      const auto normalized = [&](plots::CurveGroup g) {
        if (!columns->normalized || g.n.size() != c->rows.size()) return g;
        for (std::size_t k = 0; k < g.n.size(); ++k) {
          const double z = *r.number(c->rows[k], "heterogeneity");
          g.value[k] /= z;
          if (!g.ci95.empty()) g.ci95[k] /= z;
          if (!g.theory.empty()) g.theory[k] /= z;
        }
        return g;
      };
      add(error, normalized(curve_group(r, *c, columns->mean, columns->mean_ci, !columns->theory.empty(), columns->theory)),
          "error");
      add(worst_error, normalized(curve_group(r, *c, columns->worst, columns->worst_ci, false)), "worst_error");
      for (std::size_t k = 0; k < c->rows.size(); ++k) {
        const std::size_t row = c->rows[k];
        const auto cell = [&](std::string_view column) {
          const auto v = column.empty() ? std::nullopt : r.number(row, column);
          return v ? fmt::format("{:.6g}", *v) : std::string();
        };
        csv += csv_line({setup, label, fmt::format("{:g}", c->n[k]), cell("mean"), cell("ci95"), cell("max_mean"),
                         cell("max_ci95"), cell(columns->mean), cell(columns->mean_ci), cell(columns->worst),
                         cell(columns->worst_ci), cell(columns->theory), columns->normalized ? cell("heterogeneity") : "",
                         std::string(columns->label)});
      }
    }
    // A log axis needs positive values: a panel with a zero or negative mean goes linear.
    for (auto* figure : {&staleness, &worst, &error, &worst_error})
      for (const auto& g : figure->groups)
        for (double y : g.value) figure->logy = figure->logy && y > 0.0;
    auto panels = plots::versus_n_panels(
        "study_" + slug(setup),
        fmt::format("{}: staleness and each user's learning error against n (95% CIs, fitted power laws{})", setup,
                    columns->theory.empty() ? "" : ", exact theory"),
        {staleness, worst, error, worst_error});
    panels.columns = 2;
    try {
      plots::render(panels, r.dir, drawing);
      log << fmt::format("  figure {}\n", (r.dir / (panels.name + ".png")).string());
      drawn.push_back(panels.name);
    } catch (const std::exception& e) {
      log << fmt::format("  figure {} not drawn: {}\n", panels.name, one_line(e.what()));
    }
  }
  write_file_atomically(r.dir / "study.csv", csv);
  write_file_atomically(r.dir / "study_fits.csv", fits);
}

void report_learning(const SweepResults& r, std::vector<std::string>& drawn, std::ostream& log, const plots::Drawing& drawing) {
  const CsvTable curves =
      read_results_file(r.dir / "learning_curves.csv", ResultsFile::curves, r.axes, header_groups(r.table.header));
  const auto varying = r.varying_axes();
  std::map<std::string, PointCurves> points;
  std::map<std::string, std::vector<std::string>> row_of;
  std::vector<std::string> order;
  const std::string file = (r.dir / "learning_curves.csv").string();
  for (std::size_t line = 0; line < curves.rows.size(); ++line) {
    const auto& row = curves.rows[line];
    const auto field = [&](std::string_view column) -> const std::string& { return row[curves.column(column)]; };
    const auto number = [&](std::string_view text, std::string_view column) {
      return parse_number(text, fmt::format("{}: line {}: column {}", file, line + 2, column));
    };
    std::string label;
    for (const auto& axis : varying) label += fmt::format("{}{}={}", label.empty() ? "" : ", ", axis, field(axis));
    auto [it, inserted] = points.try_emplace(label);
    if (inserted) {
      order.push_back(label);
      row_of[label] = row;
    }
    PointCurves& c = it->second;
    const double t = number(field("time"), "time");
    c.loss.time.push_back(t);
    c.loss.value.push_back(number(field("loss"), "loss"));
    if (const std::string& a = field("accuracy"); !a.empty()) {
      c.accuracy.time.push_back(t);
      c.accuracy.value.push_back(number(a, "accuracy"));
      const std::string& ci = field("accuracy_ci95");
      c.accuracy.ci95.push_back(ci.empty() ? 0.0 : number(ci, "accuracy_ci95"));
    }
    std::vector<double> layers;
    std::stringstream list(field("weight_variance"));
    for (std::string item; std::getline(list, item, ';');) layers.push_back(number(item, "weight_variance"));
    if (inserted) {
      c.initial = layers;
      c.variance.resize(layers.size());
    }
    for (std::size_t k = 0; k < layers.size() && k < c.variance.size(); ++k) {
      c.variance[k].time.push_back(t);
      c.variance[k].value.push_back(layers[k] / c.initial[k]);
    }
  }
  for (const Panel& p : learning_panels(varying, curves, order, row_of)) draw_panel(r, p, points, drawn, log, drawing);

  // Time to the target and plateau delay against n, from the trials that reached them.
  const auto curves_n = curves_over_n(r);
  const auto versus_n = [&](std::string name, std::string title, std::string ylabel, std::string_view column,
                            std::string_view ci) {
    plots::VersusN figure{std::move(name), std::move(title), std::move(ylabel), false, {}};
    figure.key_order = curve_keys(curves_n);
    for (const Curve& c : curves_n)
      if (auto g = curve_group(r, c, column, ci, false); !g.n.empty()) figure.groups.push_back(std::move(g));
    if (!figure.groups.empty()) render_logged(plots::versus_n_figure(figure), r.dir, drawn, log, drawing);
  };
  versus_n("convergence_time_vs_n", "Time to the target accuracy (95% CI over the trials that reached it)",
           "time to target", "time_to_target", "time_to_target_ci95");
  versus_n("plateau_delay_vs_n", "Plateau delay against one user training on all the data (95% CI)",
           "plateau delay", "plateau_delay", "plateau_delay_ci95");
}

// fits.csv: every law for every curve, the AIC choice, and the exponent against theory.
void write_fits(const SweepResults& r, const std::vector<CurveFits>& fits) {
  std::string csv = csv_line({"curve", "law", "a", "a_ci95", "b", "b_ci95", "aic", "best", "theory_law",
                              "theory_exponent", "exponent_within_0.1"});
  for (const CurveFits& cf : fits) {
    const std::size_t row = cf.curve.rows.front();
    const std::string topology = r.value(row, "network.topology");
    const bool constant = r.value(row, "gossip.scaling") == "constant";
    const auto number = [&](std::string_view key, double otherwise) {  // an unset key reads "" or null
      const std::string text = r.value(row, key);
      char* end = nullptr;
      const double x = std::strtod(text.c_str(), &end);
      return !text.empty() && end == text.c_str() + text.size() ? x : otherwise;
    };
    const bool source = r.value(row, "staleness.model") == "source";
    // The clustered graph's law needs the source pushing to its heads (docs/model.md §3.11);
    // network.clusters_exponent reads null exactly when a fixed network.clusters is given (c = 0).
    const auto law = source && topology == "clustered" && r.value(row, "source.targets") == "heads"
                         ? theory::clustered_source_law(number("network.clusters_exponent", 0.0),
                                                        static_cast<unsigned>(number("network.levels", 1.0)),
                                                        r.value(row, "network.inside"),
                                                        r.value(row, "network.head_ring") == "true")
                         : theory::staleness_law(source, topology,
                                                 static_cast<unsigned>(number("network.dimensions", 2.0)),
                                                 number("network.reach_exponent", 0.0));
    for (const analysis::Fit& fit : cf.choice.fits) {
      std::string expected, within;
      if (law && constant && fit.law == analysis::Law::power && law->exponent > 0.0) {
        expected = fmt::format("{:.6g}", law->exponent);
        within = yes_no(analysis::check_exponent(fit, law->exponent, 0.1).within);
      }
      csv += csv_line({cf.curve.label, std::string(analysis::law_name(fit.law)), fmt::format("{:.8g}", fit.a.value),
                       fmt::format("{:.8g}", fit.a.ci95), fmt::format("{:.8g}", fit.b.value),
                       fmt::format("{:.8g}", fit.b.ci95), fmt::format("{:.8g}", fit.aic),
                       yes_no(fit.law == cf.choice.best), law && constant ? std::string(law->law) : "", expected, within});
    }
  }
  if (!fits.empty()) write_file_atomically(r.dir / "fits.csv", csv);
}

// Staleness, its log-log fit, the worst observer and the exceedance against n, one curve per
// combination of the other axes.
void draw_versus_n(const SweepResults& r, const std::vector<Curve>& curves, const std::vector<CurveFits>& fits,
                   std::vector<std::string>& drawn, std::ostream& log, const plots::Drawing& drawing) {
  plots::VersusN staleness{"staleness_vs_n", "Mean staleness against network size", "mean staleness (versions)", false, {}};
  plots::VersusN loglog{"staleness_loglog", "Mean staleness, log-log, with fitted power laws", "mean staleness (versions)", true, {}};
  plots::VersusN worst{"worst_vs_n", "Worst observer (time average): per source and over all tracked pairs", "worst staleness (versions)", false, {}};
  plots::VersusN exceed{"exceed_vs_n", "", "fraction of time", false, {}};
  // One colour per curve in all four figures: every curve's key first, then the worst
  // figure's per-source and all-pairs curves.
  std::vector<std::string> key_order = curve_keys(curves);
  for (const Curve& c : curves)
    for (const char* which : {"per source", "all pairs"})
      key_order.push_back((c.label.empty() ? "" : c.label + ", ") + which);
  for (auto* figure : {&staleness, &loglog, &worst, &exceed}) figure->key_order = key_order;
  bool positive = true;
  for (const Curve& c : curves) {
    const auto add = [](plots::VersusN& figure, plots::CurveGroup g) {
      if (!g.n.empty()) figure.groups.push_back(std::move(g));
    };
    add(staleness, curve_group(r, c, "mean", "ci95", true));
    auto log_group = curve_group(r, c, "mean", "ci95", false);
    for (double y : log_group.value) positive = positive && y > 0.0;
    for (const CurveFits& cf : fits)
      if (cf.curve.label == c.label)
        for (const auto& fit : cf.choice.fits)
          if (fit.law == analysis::Law::power) log_group.fit = fit;
    add(loglog, log_group);
    auto per_source = curve_group(r, c, "max_mean", "max_ci95", false);
    per_source.label = (c.label.empty() ? "" : c.label + ", ") + "per source";
    per_source.title = (per_source.title.empty() ? "" : per_source.title + ", ") + "per source";
    auto all_pairs = curve_group(r, c, "max_all_mean", "max_all_ci95", false);
    all_pairs.label = (c.label.empty() ? "" : c.label + ", ") + "all pairs";
    all_pairs.title = (all_pairs.title.empty() ? "" : all_pairs.title + ", ") + "all pairs";
    add(worst, per_source);
    add(worst, all_pairs);
    add(exceed, curve_group(r, c, "exceed_all_pairs", "exceed_all_pairs_ci95", false));
  }
  exceed.title = fmt::format("Probability that the worst staleness over all tracked pairs exceeds B = {}",
                             r.value(curves.front().rows.front(), "staleness.bound"));
  // A sweep of FedAvg points alone measured no staleness: nothing to draw.
  if (!staleness.groups.empty()) {
    render_logged(plots::versus_n_figure(staleness), r.dir, drawn, log, drawing);
    if (positive) render_logged(plots::versus_n_figure(loglog), r.dir, drawn, log, drawing);
    render_logged(plots::versus_n_figure(worst), r.dir, drawn, log, drawing);
    auto exceed_figure = plots::versus_n_figure(exceed);
    exceed_figure.extra.push_back("set yrange [-0.05:1.05]");
    render_logged(exceed_figure, r.dir, drawn, log, drawing);
  }
}

// No n axis: one point per sweep point, labelled by its axis values.
void draw_by_point(const SweepResults& r, std::vector<std::string>& drawn, std::ostream& log, const plots::Drawing& drawing) {
  plots::Figure f;
  f.name = "staleness_by_point";
  f.title = "Mean staleness per sweep point (95% CI) and theory";
  f.xlabel = "sweep point";
  f.ylabel = "mean staleness (versions)";
  plots::Series sim{"simulation", {}, {}, {}, plots::Series::Style::errorbars};
  plots::Series th{"theory", {}, {}, {}, plots::Series::Style::points};
  sim.key = th.key = "staleness";  // one colour: the theory as open points beside the data
  th.role = plots::Series::Role::theory;
  std::size_t longest = 0;
  for (std::size_t row = 0; row < r.table.rows.size(); ++row) {
    const auto mean = r.number(row, "mean");
    if (!mean) continue;  // no staleness measured (FedAvg): left out, not drawn as 0
    sim.x.push_back(static_cast<double>(row));
    sim.y.push_back(*mean);
    sim.err.push_back(r.number(row, "ci95").value_or(0.0));
    if (const auto t = r.number(row, "theory")) {
      th.x.push_back(static_cast<double>(row));
      th.y.push_back(*t);
    }
    std::vector<std::pair<std::string, std::string>> values;
    for (const auto& axis : r.axes) values.emplace_back(axis, r.value(row, axis));
    const std::string label = curve_title(values);
    longest = std::max(longest, label.size());
    f.xtic_labels.emplace_back(static_cast<double>(row), label);
  }
  if (!sim.x.empty()) {
    f.series.push_back(sim);
    if (!th.x.empty()) f.series.push_back(th);
    // Room for every label: the canvas widens with the points and grows taller with the
    // longest (rotated) label, so gnuplot never has to squeeze the tics.
    f.width = std::max(f.width, static_cast<int>(std::min<std::size_t>(r.table.rows.size(), 400) * 40 + 300));
    f.height = std::max(f.height, static_cast<int>(470 + 8 * std::min<std::size_t>(longest, 120)));
    f.legend_title = "error bars: 95% CI";
    f.extra = {fmt::format("set xrange [-0.5:{}]", r.table.rows.size() - 0.5)};
    render_logged(f, r.dir, drawn, log, drawing);
  }
}

}  // namespace

bool draw_figure(const plots::Figure& figure, const fs::path& dir, std::ostream& log, const plots::Drawing& drawing) {
  try {
    plots::render(figure, dir, drawing);
  } catch (const std::exception& e) {
    // A figure is a view of results already on disk: one that cannot be drawn is reported
    // and skipped, and the run's exit status stays that of its results.
    log << fmt::format("  figure {} not drawn: {}\n", figure.name, one_line(e.what()));
    return false;
  }
  log << fmt::format("  figure {}\n", (dir / (figure.name + ".png")).string());
  return true;
}

plots::CurveGroup curve_group(const SweepResults& r, const Curve& c, std::string_view value, std::string_view ci,
                              bool with_theory, std::string_view theory_column) {
  plots::CurveGroup g;
  g.label = c.label;
  g.title = curve_title(c.values);
  bool theory_everywhere = with_theory;
  bool ci_everywhere = true;
  for (std::size_t k = 0; k < c.rows.size(); ++k) {
    const std::size_t row = c.rows[k];
    // A point without the quantity (FedAvg has no staleness) is left out, not drawn as 0.
    const auto v = r.number(row, value);
    if (!v) continue;
    g.n.push_back(c.n[k]);
    g.value.push_back(*v);
    const auto half = r.number(row, ci);
    ci_everywhere = ci_everywhere && half.has_value();
    g.ci95.push_back(half.value_or(0.0));
    const auto th = with_theory ? r.number(row, theory_column) : std::nullopt;
    theory_everywhere = theory_everywhere && th.has_value();
    g.theory.push_back(th.value_or(0.0));
  }
  if (!ci_everywhere) g.ci95.clear();
  if (!theory_everywhere) g.theory.clear();
  return g;
}

std::vector<std::string> SweepResults::varying_axes() const {
  std::vector<std::string> out;
  const bool setups = std::find(axes.begin(), axes.end(), setup_axis) != axes.end();
  const std::size_t setup_column = setups ? table.column(setup_axis) : 0;
  for (const auto& axis : axes) {
    const std::size_t c = table.column(axis);
    bool varies = false, within_setup = false;
    std::map<std::string, std::string> by_setup;  // a setup's key has one value per setup
    for (const auto& row : table.rows) {
      varies = varies || row[c] != table.rows.front()[c];
      if (setups && axis != setup_axis) {
        const auto [it, inserted] = by_setup.emplace(row[setup_column], row[c]);
        within_setup = within_setup || (!inserted && it->second != row[c]);
      }
    }
    // A key that only a setup changes is named by the setup: curves are labelled by it alone.
    if (varies && (!setups || axis == setup_axis || within_setup)) out.push_back(axis);
  }
  return out;
}

std::optional<double> SweepResults::number(std::size_t row, std::string_view column) const {
  const std::string& field = table.rows.at(row).at(table.column(column));
  if (field.empty()) return std::nullopt;
  return std::stod(field);
}

std::string observed_model(const SweepResults& r) {
  std::optional<std::string_view> phrase;
  for (std::size_t row = 0; row < r.table.rows.size(); ++row) {
    const auto id = sim::learning_protocols().parse(r.value(row, "learning.protocol"));
    const std::string_view here = sim::observed_model(id ? sim::learning_protocol_registry()[id->index].observed
                                                         : sim::Observed::users);
    if (phrase && *phrase != here) return "the observed models";
    phrase = here;
  }
  return std::string(phrase.value_or(sim::observed_model(sim::Observed::users)));
}

std::string SweepResults::value(std::size_t row, std::string_view key) const {
  if (std::find(axes.begin(), axes.end(), key) != axes.end()) return table.rows.at(row).at(table.column(key));
  const auto it = base.find(std::string(key));
  return it == base.end() ? std::string() : it->second;
}

SweepResults read_sweep_results(const fs::path& dir) {
  SweepResults r;
  r.dir = dir;
  const fs::path meta_path = dir / "meta.json";
  if (!path_exists(meta_path)) throw InputError(fmt::format("{}: no meta.json (not a sweep results directory)", dir.string()));
  nlohmann::ordered_json meta;
  require_regular_file(meta_path.string());
  try {
    std::ifstream(meta_path) >> meta;
    for (const auto& [key, values] : meta.at("axes").items()) r.axes.push_back(key);
    for (const auto& [key, value] : meta.at("base_scenario").items()) r.base[key] = text_of(value);
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{}: not a timely meta.json ({})", meta_path.string(), e.what()));
  }
  const CsvTable header_only = read_csv_header((dir / "results.csv").string());
  r.table = read_results_file(dir / "results.csv", ResultsFile::results, r.axes, header_groups(header_only.header));
  // A sweep meta.json calls complete has a row per point: fewer rows (deleted by hand, or a
  // file copied before the end) would be drawn as if they were the sweep.
  const auto points = meta.find("points");
  const auto complete = meta.find("complete");
  if (points != meta.end() && points->is_number_unsigned() && complete != meta.end() && *complete == true &&
      r.table.rows.size() != points->get<std::size_t>())
    throw InputError(fmt::format("{}: {} rows, but {} says the sweep is complete with {} points (rows missing); rerun "
                                 "the sweep with --resume to redo them",
                                 (dir / "results.csv").string(), r.table.rows.size(), meta_path.string(),
                                 points->get<std::size_t>()));
  return r;
}

std::vector<Curve> curves_over_n(const SweepResults& r) {
  std::vector<Curve> curves;
  const auto varying = r.varying_axes();
  // Curves need at least two sizes: a single n is no x axis.
  if (std::find(varying.begin(), varying.end(), "network.n") == varying.end()) return curves;
  std::map<std::string, std::size_t> by_label;
  for (std::size_t row = 0; row < r.table.rows.size(); ++row) {
    std::string label;
    std::vector<std::pair<std::string, std::string>> values;
    for (const auto& axis : varying)
      if (axis != "network.n") {
        label += fmt::format("{}{}={}", label.empty() ? "" : ", ", axis, r.value(row, axis));
        values.emplace_back(axis, r.value(row, axis));
      }
    auto [it, inserted] = by_label.emplace(label, curves.size());
    if (inserted) curves.push_back(Curve{label, {}, {}, values});
    curves[it->second].rows.push_back(row);
  }
  for (Curve& c : curves) {
    std::sort(c.rows.begin(), c.rows.end(), [&](std::size_t a, std::size_t b) {
      return *r.number(a, "n") < *r.number(b, "n");
    });
    for (std::size_t row : c.rows) c.n.push_back(*r.number(row, "n"));
  }
  return curves;
}

std::vector<CurveFits> fit_curves(const SweepResults& r) {
  std::vector<CurveFits> fits;
  for (const Curve& c : curves_over_n(r)) {
    if (c.rows.size() < 3) continue;
    std::vector<double> mean;
    for (std::size_t row : c.rows) mean.push_back(r.number(row, "mean").value_or(0.0));
    if (std::any_of(mean.begin(), mean.end(), [](double y) { return !(y > 0.0); })) continue;
    auto choice = choose_law_or_none(c.n, mean, standard_errors(r, c));
    if (!choice) continue;
    CurveFits cf{c, std::move(*choice)};
    // A degenerate curve (e.g. every mean equal within rounding) can give a non-finite fit:
    // it is left out rather than written as inf or NaN.
    const bool finite = std::all_of(cf.choice.fits.begin(), cf.choice.fits.end(), [](const analysis::Fit& f) {
      return std::isfinite(f.a.value) && std::isfinite(f.a.ci95) && std::isfinite(f.b.value) &&
             std::isfinite(f.b.ci95) && std::isfinite(f.aic);
    });
    if (finite) fits.push_back(std::move(cf));
  }
  return fits;
}

std::string curve_title(const std::vector<std::pair<std::string, std::string>>& values, std::string_view except) {
  std::string title;
  for (const auto& [axis, value] : values)
    if (axis != except) title += (title.empty() ? "" : ", ") + value_label(axis, value);
  return title;
}

std::vector<std::string> report_sweep(const SweepResults& r, std::ostream& log, const plots::Drawing& drawing) {
  std::vector<std::string> drawn;
  const auto fits = fit_curves(r);
  write_fits(r, fits);
  if (std::find(r.table.header.begin(), r.table.header.end(), "final_accuracy") != r.table.header.end()) {
    report_learning(r, drawn, log, drawing);
    if (std::find(r.axes.begin(), r.axes.end(), setup_axis) != r.axes.end()) report_study(r, drawn, log, drawing);
  }
  const auto curves = curves_over_n(r);
  if (!curves.empty()) draw_versus_n(r, curves, fits, drawn, log, drawing);
  else draw_by_point(r, drawn, log, drawing);
  report_network(r, drawn, log, drawing);
  return drawn;
}

}  // namespace timely::experiments
