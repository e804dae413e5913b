#include "experiments/validate.hpp"

#include "experiments/validate_suite.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <tbb/info.h>

#include "analysis/statistics.hpp"
#include "experiments/files.hpp"
#include "experiments/csv.hpp"
#include "experiments/ranks.hpp"
#include "experiments/sweep.hpp"
#include "experiments/sweep_report.hpp"
#include "experiments/units.hpp"
#include "experiments/version.hpp"
#include "plots/scaling_figures.hpp"
#include "sim/input_error.hpp"
#include "sim/random.hpp"
#include "sim/trial.hpp"
#include "sim/learning.hpp"
#include "sim/trials.hpp"
#include "sim/user_clocks.hpp"
#include "theory/harmonic.hpp"
#include "theory/users_model.hpp"
#include "theory/rumour.hpp"

namespace timely::experiments {
namespace {

using namespace validation;

void write_sample_path(const fs::path& dir) {
  sim::Scenario s;
  s.network.n = 100;
  s.run.horizon = 40;
  s.run.warmup = 0;
  s.run.seed = 7000;
  const auto path = sim::sample_path(s, sim::scenario_graph(s), 0);
  std::string csv = csv_line({"time", "staleness", "source", "observer"});
  for (const auto& step : path.steps)
    csv += csv_line({fmt::format("{:.17g}", step.time), std::to_string(step.staleness), std::to_string(path.source),
                     std::to_string(path.observer)});
  write_file_atomically(dir / "sample_path.csv", csv);
}

void write_report(const ValidateOptions& o, const std::vector<Check>& checks, const std::vector<std::string>& figures,
                  double wall) {
  std::string csv = csv_line({"check", "model_item", "simulated", "theory", "pass"});
  const std::size_t passed = std::count_if(checks.begin(), checks.end(), [](const Check& c) { return c.pass; });
  std::string md = "# timely validation report\n\n";
  md += fmt::format("timely {} (revision {}), {} suite, {} threads, {:.0f} s. **{}/{} checks passed.**\n\n",
                    TIMELY_VERSION, timely_git_revision(), o.quick ? "quick" : "full",
                    o.threads ? static_cast<int>(o.threads) : tbb::info::default_concurrency(), wall, passed,
                    checks.size());
  md += "Simulated values are means over independent trials with 95% confidence intervals (Student t). "
        "An exact value passes when it lies inside the 99.9% interval; a scaling law passes when the fitted "
        "coefficient is within the stated tolerance; a trend passes when the 95% intervals at the smallest and "
        "largest n do not overlap in the stated direction. Item numbers refer to the sections of docs/model.md in the "
        "timely repository (section 3: the theory).\n\n";
  md += "| check | docs/model.md | simulated | theory | result |\n|---|---|---|---|---|\n";
  for (const Check& c : checks) {
    md += fmt::format("| {} | {} | {} | {} | {} |\n", c.name, c.item, c.simulated, c.theory, c.pass ? "pass" : "**FAIL**");
    csv += csv_line({c.name, c.item, c.simulated, c.theory, c.pass ? "true" : "false"});
  }
  md += "\n## Figures\n\n";
  for (const auto& f : figures) md += fmt::format("![{}]({}.png)\n\n", f, f);
  md += "Each figure's data (`.dat`) and gnuplot script (`.gp`) sit beside it; `timely plot DIR` redraws them.\n\n";
  md += "## Data\n\nEach stage is a sweep with its own `results.csv`, `trials.csv`, `meta.json`, `fits.csv` and figures:\n\n";
  for (const char* stage : {"exact", "topologies", "regime-constant", "regime-log", "regime-linear", "worst-constant-log", "worst-linear", "heterogeneous", "learning-quadratic", "network"})
    md += fmt::format("- [{0}/]({0}/)\n", stage);
  write_file_atomically(o.out / "checks.csv", csv);
  write_file_atomically(o.out / "report.md", md);
}

}  // namespace

bool is_validate_dir(const fs::path& dir) { return path_exists(dir / "checks.csv"); }

std::vector<std::string> draw_validate_figures(const fs::path& dir, std::ostream& log, const plots::Drawing& drawing) {
  std::vector<std::string> drawn;
  const auto render = [&](const plots::Figure& f) {
    if (draw_figure(f, dir, log, drawing)) drawn.push_back(f.name);
  };
  // Staleness and worst observer against n for the three capacity regimes, on one figure each.
  plots::VersusN regimes{"regimes_staleness_vs_n",
                         "Users model, complete graph: staleness under constant, log and linear capacity",
                         "mean staleness (versions)", true, {}};
  plots::VersusN worst{"regimes_worst_vs_n", "Worst staleness over all pairs (every source tracked)",
                       "time-averaged max over all pairs", false, {}};
  for (const auto& scaling : {"constant", "log", "linear"}) {
    const fs::path stage = dir / fmt::format("regime-{}", scaling);
    if (path_exists(stage / "results.csv")) {
      const SweepResults r = read_sweep_results(stage);
      auto g = curve_group(r, curves_over_n(r).front(), "mean", "ci95", true);
      g.label = fmt::format("{} capacity", scaling);
      regimes.groups.push_back(g);
    }
  }
  for (const auto& stage : {"worst-constant-log", "worst-linear"}) {
    if (!path_exists(dir / stage / "results.csv")) continue;
    const SweepResults r = read_sweep_results(dir / stage);
    for (const Curve& c : curves_over_n(r)) {
      auto g = curve_group(r, c, "max_all_mean", "max_all_ci95", false);
      g.label = c.label.empty() ? "gossip.scaling=linear" : c.label;
      g.title = c.label.empty() ? value_label("gossip.scaling", "linear") : curve_title(c.values);
      worst.groups.push_back(g);
    }
  }
  if (!regimes.groups.empty()) render(plots::versus_n_figure(regimes));
  if (!worst.groups.empty()) render(plots::versus_n_figure(worst));
  if (path_exists(dir / "topologies" / "results.csv")) {
    const SweepResults r = read_sweep_results(dir / "topologies");
    plots::VersusN topologies{"topologies_loglog", "Source model: complete, ring and torus, with fitted power laws",
                              "mean version age", true, {}};
    const auto fits = fit_curves(r);
    for (const Curve& c : curves_over_n(r)) {
      auto g = curve_group(r, c, "mean", "ci95", false);
      if (const CurveFits* f = fits_for(fits, c.label)) g.fit = *law_fit(*f, analysis::Law::power);
      topologies.groups.push_back(g);
    }
    render(plots::versus_n_figure(topologies));
  }
  if (path_exists(dir / "sample_path.csv")) {
    const CsvTable t = read_csv((dir / "sample_path.csv").string());
    std::vector<double> times, staleness;
    const std::string file = (dir / "sample_path.csv").string();
    for (std::size_t line = 0; line < t.rows.size(); ++line) {
      times.push_back(parse_number(t.rows[line][t.column("time")], fmt::format("{}: line {}: time", file, line + 2)));
      staleness.push_back(
          parse_number(t.rows[line][t.column("staleness")], fmt::format("{}: line {}: staleness", file, line + 2)));
    }
    const std::string who = t.rows.empty() ? "" : fmt::format(" of user {} about user {}", t.rows[0][t.column("observer")],
                                                              t.rows[0][t.column("source")]);
    render(plots::sample_path_figure("sample_path",
                                     "Sample path of one staleness" + who + " (users model, complete graph, n = 100)",
                                     times, staleness));
  }
  return drawn;
}

std::size_t run_validate(const ValidateOptions& o, std::ostream& out, std::ostream& err) {
  const auto start = std::chrono::steady_clock::now();
  // Under MPI every rank runs the suite (its trials spread over all of them); rank 0 alone
  // writes. The stages' scenarios read these two files, so they are written before any rank
  // goes on.
  std::optional<DirectoryLock> lock;
  ranks::agree([&] {
    if (!ranks::root()) return;
    create_output_directory(o.out);
    lock.emplace(o.out);
    write_file_atomically(o.out / "petersen.edges", petersen_edges);
    write_file_atomically(o.out / "users-8.csv", users_eight);
  });
  out << fmt::format("timely validate ({} suite) -> {}\n", o.quick ? "quick" : "full", o.out.string());
  Suite suite(o, out, err);
  exact_stage(suite);
  topology_stage(suite);
  literature_stage(suite);
  regime_stage(suite);
  worst_stage(suite);
  heterogeneous_stage(suite);
  learning_stage(suite);
  rumour_stage(suite);
  network_stage(suite);
  policy_stage(suite);
  const std::size_t failed =
      std::count_if(suite.checks().begin(), suite.checks().end(), [](const Check& c) { return !c.pass; });
  ranks::done_together();  // what follows is rank 0's alone
  if (!ranks::root()) return failed;
  write_sample_path(o.out);
  const auto figures = draw_validate_figures(o.out, err);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_report(o, suite.checks(), figures, wall);
  out << fmt::format("{}/{} checks passed in {:.0f} s; report: {}\n", suite.checks().size() - failed,
                     suite.checks().size(), wall, (o.out / "report.md").string());
  return failed;
}

}  // namespace timely::experiments
