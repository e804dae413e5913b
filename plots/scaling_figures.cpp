#include "plots/scaling_figures.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <utility>

namespace timely::plots {
namespace {

std::string fit_label(const analysis::Fit& fit) {
  switch (fit.law) {
    case analysis::Law::logarithmic:
      return fmt::format("{:.3g} + {:.3g} ln n", fit.a.value, fit.b.value);
    case analysis::Law::power:
      return fmt::format("{:.3g} n^{:.3f} (+-{:.3f})", fit.a.value, fit.b.value, fit.b.ci95);
    case analysis::Law::square_root:
      return fmt::format("{:.3g} + {:.3g} sqrt n", fit.a.value, fit.b.value);
  }
  return "fit";
}

std::string curve_key(const CurveGroup& g) { return plots::curve_key(g.label); }

// A smooth curve of the fitted law over the group's range of n (geometric grid).
Series fit_curve(const CurveGroup& g) {
  Series s;
  s.title = fit_label(*g.fit);
  s.key = curve_key(g);
  s.role = Series::Role::fit;
  s.style = Series::Style::lines;
  const auto [lo, hi] = std::minmax_element(g.n.begin(), g.n.end());
  constexpr int steps = 64;
  for (int k = 0; k <= steps; ++k) {
    const double n = *lo * std::pow(*hi / *lo, static_cast<double>(k) / steps);
    s.x.push_back(n);
    s.y.push_back(g.fit->predict(n));
  }
  return s;
}

// gnuplot warns (and render() fails) on a flat y range; a flat curve is legitimate data, so
// give it an explicit range around its value.
void guard_flat_range(Figure& f) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : f.series)
    for (std::size_t k = 0; k < s.y.size(); ++k) {
      const double e = s.err.empty() ? 0.0 : s.err[k];
      lo = std::min(lo, s.y[k] - e);
      hi = std::max(hi, s.y[k] + e);
    }
  if (!(hi > lo)) {
    const double pad = lo != 0.0 ? 0.1 * std::abs(lo) : 1.0;
    const double bottom = f.logy ? lo / 2 : lo - pad;
    f.extra.push_back(fmt::format("set yrange [{}:{}]", bottom, f.logy ? hi * 2 : hi + pad));
  }
  // The same for x: a run observed once (horizon below observe.every) has one time only.
  double left = std::numeric_limits<double>::infinity(), right = -left;
  for (const Series& s : f.series)
    for (double x : s.x) {
      left = std::min(left, x);
      right = std::max(right, x);
    }
  if (!(right > left) && std::isfinite(left)) {
    const double pad = left != 0.0 ? 0.1 * std::abs(left) : 1.0;
    f.extra.push_back(fmt::format("set xrange [{}:{}]", f.logx ? left / 2 : left - pad, f.logx ? right * 2 : right + pad));
  }
}

}  // namespace

std::string curve_key(const std::string& label) { return label.empty() ? "simulation" : label; }

Figure versus_n_figure(const VersusN& spec) {
  Figure f;
  f.name = spec.name;
  f.title = spec.title;
  f.xlabel = "users n";
  f.ylabel = spec.ylabel;
  f.logx = true;
  f.logy = spec.logy;
  f.extra = {"set xtics nomirror", "set format x '%g'"};
  f.key_order = spec.key_order;
  for (const CurveGroup& g : spec.groups) {
    const std::string name = g.title.empty() ? (g.label.empty() ? "simulation" : g.label) : g.title;
    Series points;
    points.title = name;
    points.key = curve_key(g);
    points.x = g.n;
    points.y = g.value;
    // Points stand alone beside a theory or fitted line; with neither, a line joins them so
    // that each curve can be followed across n among many.
    const bool joined = g.theory.empty() && !g.fit;
    points.err = g.ci95;
    points.style = joined ? Series::Style::linespoints
                          : (g.ci95.empty() ? Series::Style::points : Series::Style::errorbars);
    if (!g.ci95.empty()) f.legend_title = "error bars: 95% CI";
    f.series.push_back(points);
    if (!g.theory.empty()) {
      Series theory;
      theory.title = name + " theory";
      theory.key = curve_key(g);
      theory.role = Series::Role::theory;
      theory.x = g.n;
      theory.y = g.theory;
      theory.style = Series::Style::lines;
      f.series.push_back(theory);
    }
    if (g.fit) {
      Series fit = fit_curve(g);
      if (spec.groups.size() > 1) fit.title = name + ": " + fit.title;
      f.series.push_back(fit);
    }
  }
  guard_flat_range(f);
  return f;
}

PanelFigure versus_n_panels(std::string name, std::string title, const std::vector<VersusN>& panels) {
  PanelFigure figure;
  figure.name = std::move(name);
  figure.title = std::move(title);
  for (const VersusN& spec : panels) figure.panels.push_back(versus_n_figure(spec));
  return figure;
}

Figure versus_time_figure(const std::string& name, const std::string& title, const std::string& ylabel,
                          const std::vector<TimeSeries>& series, bool logy) {
  Figure f;
  f.name = name;
  f.title = title;
  f.xlabel = "time";
  f.ylabel = ylabel;
  f.logy = logy;
  for (const TimeSeries& t : series) {
    Series s;
    s.title = t.label.empty() ? "mean over trials" : t.label;
    s.x = t.time;
    s.y = t.value;
    s.err = t.ci95;
    s.style = Series::Style::linespoints;
    if (!t.ci95.empty()) f.legend_title = "error bars: 95% CI";
    f.series.push_back(s);
  }
  guard_flat_range(f);
  return f;
}

Figure sample_path_figure(const std::string& name, const std::string& title, const std::vector<double>& times,
                          const std::vector<double>& staleness) {
  Figure f;
  f.name = name;
  f.title = title;
  f.xlabel = "time";
  f.ylabel = "staleness S_ik(t) (versions behind)";
  Series s;
  s.title = "";
  s.x = times;
  s.y = staleness;
  s.style = Series::Style::steps;
  f.series.push_back(s);
  const double top = *std::max_element(staleness.begin(), staleness.end());
  f.extra.push_back(fmt::format("set yrange [0:{}]", top + 1.0));
  return f;
}

}  // namespace timely::plots
