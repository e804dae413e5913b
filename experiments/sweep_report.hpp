#pragma once
// Reads a sweep's results directory back (results.csv, meta.json) and derives what a user
// looks at: scaling fits per curve (fits.csv) and figures. Used after every sweep, by
// `timely plot DIR` (which never simulates), and by `timely validate`.
#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/fits.hpp"
#include "experiments/csv.hpp"
#include "plots/figure.hpp"
#include "plots/scaling_figures.hpp"

namespace timely::experiments {

struct SweepResults {
  std::filesystem::path dir;
  std::vector<std::string> axes;            // dotted keys, in sweep order
  std::map<std::string, std::string> base;  // base scenario, every key as text
  CsvTable table;                           // results.csv

  // The axes whose value differs between points (curve labels name only these).
  std::vector<std::string> varying_axes() const;
  // A column's number in row r; nullopt for an empty field (e.g. no theory).
  std::optional<double> number(std::size_t row, std::string_view column) const;
  // Effective value of a scenario key in row r: the axis value if swept, else the base's.
  std::string value(std::size_t row, std::string_view key) const;
};

// What the sweep's test accuracy and loss are of (sim::observed_model): the average model,
// the users' own (SAPO's swarms), or, when its points differ, "the observed models".
std::string observed_model(const SweepResults& results);

// Throws InputError naming the file when the directory holds no finished sweep.
SweepResults read_sweep_results(const std::filesystem::path& dir);

// Rows sharing every axis but network.n, ordered by n: one curve.
struct Curve {
  std::string label;  // "key=value, ..." of the other axes ("" when n is the only axis)
  std::vector<std::size_t> rows;
  std::vector<double> n;
  std::vector<std::pair<std::string, std::string>> values{};  // the other axes and their values
};

// What a figure calls a curve whose axes take `values` (axis, value), leaving out the axis
// `except` (e.g. the setup a figure is about): each by its registry label ("log capacity",
// value_label in scenario_keys.hpp), joined by ", ".
std::string curve_title(const std::vector<std::pair<std::string, std::string>>& values, std::string_view except = "");
std::vector<Curve> curves_over_n(const SweepResults& results);

struct CurveFits {
  Curve curve;
  analysis::LawChoice choice;  // all three laws, weighted by the CIs
};
// Fits every curve with at least three points and positive means.
std::vector<CurveFits> fit_curves(const SweepResults& results);

// One curve of `value` (a results.csv column) with its CI column, and the theory where
// every point has one.
plots::CurveGroup curve_group(const SweepResults& results, const Curve& curve, std::string_view value,
                              std::string_view ci, bool with_theory, std::string_view theory_column = "theory");

// Draws one figure into dir and logs it; a figure gnuplot cannot draw is logged as skipped
// ("figure NAME not drawn: reason") and false is returned instead of an exception.
bool draw_figure(const plots::Figure& figure, const std::filesystem::path& dir, std::ostream& log,
                 const plots::Drawing& drawing = {});

// Writes fits.csv and the figures (staleness_vs_n, staleness_loglog, worst_vs_n,
// exceed_vs_n, or staleness_by_point when n is not swept; for learning sweeps over n with
// setups, one study_SETUP figure per setup and study.csv) into the results directory;
// returns the figure names drawn.
// `drawing`: the look, the LaTeX variant and fit labels (`timely plot --style`).
std::vector<std::string> report_sweep(const SweepResults& results, std::ostream& log, const plots::Drawing& drawing = {});

}  // namespace timely::experiments
