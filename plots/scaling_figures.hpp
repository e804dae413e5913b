#pragma once
// The figures timely draws from sweep results: a quantity against the network size n, one
// curve per group of the other sweep axes, with CI error bars, theory and fitted laws; and
// a sample path of one pair's staleness.
#include <optional>
#include <string>
#include <vector>

#include "analysis/fits.hpp"
#include "plots/figure.hpp"

namespace timely::plots {

struct CurveGroup {
  std::string label;                   // the curve's identity (its colour), e.g. "gossip.scaling=log"
  std::vector<double> n, value, ci95;  // ci95 empty: no error bars
  std::vector<double> theory;          // same size as n, or empty
  std::optional<analysis::Fit> fit;    // drawn dotted; its law is the series' title (Drawing::fit_labels)
  std::string title{};                 // what the legend calls it, e.g. "log capacity" ("" = label)
};

struct VersusN {
  std::string name, title, ylabel;
  bool logy = false;
  std::vector<CurveGroup> groups;
  // Curve labels taking the palette's colours first, in this order (see Figure::key_order):
  // give every figure of a run the same list and a curve keeps its colour across them.
  std::vector<std::string> key_order{};
};

// The series key of a curve labelled `label` (its data, theory and fit share it): the label,
// or "simulation" for an unlabelled curve. For VersusN::key_order.
std::string curve_key(const std::string& label);

Figure versus_n_figure(const VersusN& spec);

// Several versus-n figures side by side in one image, one panel per spec, each drawn exactly
// as versus_n_figure draws it (the specs' names are ignored), with one legend for all. All
// panels sit in one row; set `columns` of the result for a grid.
PanelFigure versus_n_panels(std::string name, std::string title, const std::vector<VersusN>& panels);

// Learning curves: one quantity against simulated time, one curve per scenario.
struct TimeSeries {
  std::string label;
  std::vector<double> time, value, ci95;  // ci95 empty: no error bars
};
Figure versus_time_figure(const std::string& name, const std::string& title, const std::string& ylabel,
                          const std::vector<TimeSeries>& series, bool logy);

// A step function: the staleness holds from times[k] until times[k+1].
Figure sample_path_figure(const std::string& name, const std::string& title, const std::vector<double>& times,
                          const std::vector<double>& staleness);

}  // namespace timely::plots
