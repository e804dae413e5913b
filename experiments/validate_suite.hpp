#pragma once
// The validation suite's shared pieces (internal to experiments/): a check, the Suite that
// runs each stage's sweep and collects checks, the agreement tests, and the stages
// (validate_stages.cpp), which validate.cpp runs in order.
#include <filesystem>
#include <fmt/format.h>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/statistics.hpp"
#include "experiments/ranks.hpp"
#include "experiments/sweep.hpp"
#include "experiments/sweep_report.hpp"
#include "experiments/validate.hpp"

namespace timely::experiments::validation {

namespace fs = std::filesystem;


// A check passes when theory lies inside the simulation's 99.9% CI: with about forty
// checks, a correct simulator fails one by chance in about one run of twenty-five at a
// fresh seed; the seeds are fixed, so a run is reproducible.
constexpr double agreement_level = 0.999;
constexpr double exponent_tolerance = 0.1;

struct Check {
  std::string name, item, simulated, theory;
  bool pass = false;
};

inline std::string pm(double mean, std::optional<double> ci) {
  return ci ? fmt::format("{:.5g} ± {:.2g}", mean, *ci) : fmt::format("{:.5g}", mean);
}

// Half-width of the 99.9% CI of a row's mean, from its 95% half-width (column `ci_column`).
inline double wide_half_width(const SweepResults& r, std::size_t row, std::string_view ci_column = "ci95") {
  const auto ci = r.number(row, ci_column);
  const auto trials = r.number(row, "trials");
  if (!ci || !trials || *trials < 2) return 0.0;
  const std::size_t dof = static_cast<std::size_t>(*trials) - 1;
  return *ci * analysis::student_t_critical(agreement_level, dof) / analysis::student_t_critical(0.95, dof);
}

// Columns of one simulated quantity: its mean, its 95% CI half-width and its theory.
struct Quantity {
  std::string_view mean = "mean", ci = "ci95", theory = "theory";
};

inline bool row_agrees(const SweepResults& r, std::size_t row, const Quantity& q = {}) {
  const auto mean = r.number(row, q.mean), theory = r.number(row, q.theory);
  return mean && theory && std::abs(*mean - *theory) <= wide_half_width(r, row, q.ci);
}

inline Check agreement(const SweepResults& r, std::size_t row, std::string name, std::string item, const Quantity& q = {}) {
  const auto mean = r.number(row, q.mean), theory = r.number(row, q.theory);
  return {std::move(name), std::move(item), mean ? pm(*mean, r.number(row, q.ci)) : "none",
          theory ? fmt::format("{:.5g}", *theory) : "none", row_agrees(r, row, q)};
}

inline Check all_agree(const SweepResults& r, const Curve& c, std::string name, std::string item) {
  std::size_t agree = 0, with_theory = 0;
  for (std::size_t row : c.rows) {
    if (!r.number(row, "theory")) continue;
    ++with_theory;
    agree += row_agrees(r, row);
  }
  return {std::move(name), std::move(item), fmt::format("{}/{} points inside the 99.9% CI", agree, with_theory),
          fmt::format("exact at n = {:g}..{:g}", c.n.front(), c.n.back()), with_theory > 0 && agree == with_theory};
}

inline const CurveFits* fits_for(const std::vector<CurveFits>& fits, std::string_view label) {
  for (const auto& f : fits)
    if (f.curve.label == label) return &f;
  return nullptr;
}

inline const analysis::Fit* law_fit(const CurveFits& f, analysis::Law law) {
  for (const auto& fit : f.choice.fits)
    if (fit.law == law) return &fit;
  return nullptr;
}

inline const Curve* curve_for(const std::vector<Curve>& curves, std::string_view label) {
  for (const auto& c : curves)
    if (c.label == label) return &c;
  return nullptr;
}

// `value` at the largest n minus at the smallest, with the two 95% CIs added: a change
// counts only if it exceeds that sum (non-overlapping intervals).
struct Change {
  double first, last, first_ci, last_ci;
  double delta() const { return last - first; }
  double margin() const { return first_ci + last_ci; }
};
inline Change change_over_n(const SweepResults& r, const Curve& c, std::string_view value, std::string_view ci) {
  const std::size_t a = c.rows.front(), b = c.rows.back();
  return {*r.number(a, value), *r.number(b, value), r.number(a, ci).value_or(0.0), r.number(b, ci).value_or(0.0)};
}

inline std::string change_text(const Change& ch, const Curve& c) {
  return fmt::format("{:.4g} ± {:.2g} at n = {:g}, {:.4g} ± {:.2g} at n = {:g}", ch.first, ch.first_ci, c.n.front(),
                     ch.last, ch.last_ci, c.n.back());
}

inline std::vector<std::string> n_values(std::initializer_list<int> ns) {
  std::vector<std::string> v;
  for (int n : ns) v.push_back(std::to_string(n));
  return v;
}

// The Petersen graph, written beside the results so the edges topology is checked too.
constexpr std::string_view petersen_edges =
    "# Petersen graph: 10 users, 3-regular\n0 1\n1 2\n2 3\n3 4\n4 0\n0 5\n1 6\n2 7\n3 8\n4 9\n5 7\n7 9\n9 6\n6 8\n8 5\n";

class Suite {
 public:
  Suite(const ValidateOptions& o, std::ostream& out, std::ostream& err) : o_(o), out_(out), err_(err) {}

  SweepResults run(const SweepPlan& plan) {
    err_ << fmt::format("validate: {} ({} points)\n", plan.name, plan.points.size());
    SweepOptions options;
    options.out = o_.out / plan.name;
    options.force = true;
    options.threads = o_.threads;
    options.show_progress = o_.show_progress;
    options.log_points = false;
    run_sweep(plan, options, err_);
    // Under MPI every rank reads the stage's results, so all of them reach the same checks
    // and call the next stage's collectives in step (the output directory is shared).
    SweepResults results;
    ranks::agree([&] { results = read_sweep_results(options.out); });
    std::ostringstream quiet;
    if (ranks::root()) report_sweep(results, quiet);  // figures and fits.csv
    return results;
  }

  // A stage's sweep with its curves over n and their fits.
  struct Stage {
    SweepResults results;
    std::vector<Curve> curves;
    std::vector<CurveFits> fits;
    const Curve& curve(std::string_view label = "") const { return *curve_for(curves, label); }
  };
  Stage stage(const SweepPlan& plan) {
    SweepResults r = run(plan);
    auto curves = curves_over_n(r);
    auto fits = fit_curves(r);
    return {std::move(r), std::move(curves), std::move(fits)};
  }

  void add(Check c) {
    out_ << fmt::format("  {:<4} {}\n", c.pass ? "ok" : "FAIL", c.name);
    checks_.push_back(std::move(c));
  }

  const std::vector<Check>& checks() const { return checks_; }
  bool quick() const { return o_.quick; }
  unsigned threads() const { return o_.threads; }
  const fs::path& dir() const { return o_.out; }

 private:
  const ValidateOptions& o_;
  std::ostream& out_;
  std::ostream& err_;
  std::vector<Check> checks_;
};


// A users file of eight users with different update rates and capacities (docs/model.md §1).
constexpr std::string_view users_eight =
    "update_rate,gossip_capacity\n1.0,1.0\n2.0,0.5\n0.5,2.0\n1.5,1.0\n1.0,3.0\n0.25,1.0\n3.0,0.8\n1.0,1.2\n";

// The stages, in the order run_validate runs them (validate_stages.cpp).
void exact_stage(Suite& suite);
void topology_stage(Suite& suite);
void literature_stage(Suite& suite);
void regime_stage(Suite& suite);
void worst_stage(Suite& suite);
void heterogeneous_stage(Suite& suite);
void learning_stage(Suite& suite);
void rumour_stage(Suite& suite);
void network_stage(Suite& suite);
void policy_stage(Suite& suite);

}  // namespace timely::experiments::validation
