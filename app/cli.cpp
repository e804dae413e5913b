#include "app/cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>

#include "experiments/files.hpp"
#include "experiments/scenario_keys.hpp"
#include "experiments/progress.hpp"
#include "experiments/ranks.hpp"
#include "experiments/simulation.hpp"
#include "experiments/sweep.hpp"
#include "experiments/sweep_report.hpp"
#include "experiments/validate.hpp"
#include "plots/figure.hpp"
#include "plots/style.hpp"
#include "sim/input_error.hpp"
#include "sim/random.hpp"

namespace timely::cli {
namespace {

using namespace timely::experiments;

constexpr std::string_view overview =
    "timely: asynchronous staleness analysis and theory validation for decentralized learning.\n"
    "Simulates Poisson-clock local updates and randomized gossip exactly (no time steps) and\n"
    "compares the measured version staleness with exact and asymptotic theory.\n"
    "Under MPI (mpirun -n R timely sweep ...), sweep, simulate and validate spread their trials\n"
    "over the R processes with the same results (docs/mpi.md).";

struct ScenarioArgs {
  std::string file;
  std::vector<std::string> sets;
  std::optional<std::uint64_t> trials;
  std::optional<std::string> seed;  // checked by run.seed's own parser: the full 64-bit range, no sign
  double max_events = RunLimits{}.max_events;
  bool json = false;

  std::vector<std::string> settings() const {
    std::vector<std::string> all = sets;
    if (trials) all.push_back(fmt::format("run.trials={}", *trials));
    if (seed) all.push_back(fmt::format("run.seed={}", *seed));
    return all;
  }
  std::optional<std::filesystem::path> path() const {
    if (file.empty()) return std::nullopt;
    return std::filesystem::path(file);
  }
};

void add_scenario_options(CLI::App& command, ScenarioArgs& args) {
  command.add_option("scenario", args.file, "Scenario TOML file (optional: every key has a default)")
      ->type_name("SCENARIO.toml");
  command.add_option("--set", args.sets, "Override one scenario key, e.g. --set network.n=1000 (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  command.add_flag("--json", args.json, "Print one JSON object on stdout (logs and progress go to stderr)");
  command.footer("\n" + keys_help());
}

int simulate_command(const ScenarioArgs& args, unsigned threads, const std::string& out_dir, std::ostream& out,
                     std::ostream& err) {
  sim::Scenario scenario;
  // --out is locked before the trials (rank 0 owns it), so a second run into the same
  // directory is refused at once instead of overwriting the first one's files at the end.
  std::optional<DirectoryLock> lock;
  ranks::agree([&] {
    scenario = load_scenario(args.path(), args.settings());
    if (out_dir.empty() || !ranks::root()) return;
    validate(scenario);  // bad keys leave no directory behind
    create_output_directory(out_dir);
    lock.emplace(out_dir);
  });
  const Simulation result = simulate(scenario, threads, err, stderr_is_terminal(), RunLimits{args.max_events});
  ranks::done_together();
  if (!ranks::root()) return 0;  // MPI: rank 0 reports the whole run
  if (!out_dir.empty()) write_simulation(out_dir, result, threads, err, *lock);
  if (args.json) out << simulation_json(result, threads).dump(2) << "\n";
  else print_simulation(out, result, threads);
  return 0;
}

int theory_command(const ScenarioArgs& args, std::ostream& out) {
  const sim::Scenario scenario = load_scenario(args.path(), args.settings());
  validate(scenario);
  check_theory_resources(scenario);
  const sim::Graph graph = sim::scenario_graph(scenario);
  const analysis::Prediction prediction = analysis::predict(scenario, graph);
  if (args.json) out << theory_json(scenario, prediction).dump(2) << "\n";
  else print_theory(out, scenario, prediction);
  return 0;
}

// Draws a results directory's figures and prints its scaling fits.
void print_fits(const SweepResults& results, std::ostream& out, std::ostream& err, const plots::Drawing& drawing = {}) {
  const auto figures = report_sweep(results, err, drawing);
  for (const CurveFits& cf : fit_curves(results)) {
    out << fmt::format("  {}:", cf.curve.label.empty() ? "fit" : printable_line(cf.curve.label));
    for (const auto& fit : cf.choice.fits)
      out << fmt::format("  {} b = {:.4g} ± {:.2g}{}", analysis::to_string(fit.law), fit.b.value, fit.b.ci95,
                         fit.law == cf.choice.best ? " (best by AIC)" : "");
    out << "\n";
  }
  out << fmt::format("  {} figures in {}\n", figures.size(), results.dir.string());
}

struct SweepArgs {
  std::string file, out;
  bool resume = false, force = false, quick = false;
  unsigned threads = 0;
  double max_events = RunLimits{}.max_events;
};

int sweep_command(const SweepArgs& args, std::ostream& out, std::ostream& err) {
  SweepPlan plan;
  ranks::agree([&] { plan = load_sweep_plan(args.file, PlanOptions{args.quick, RunLimits{args.max_events}, {}, args.threads}); });
  SweepOptions options;
  options.out = args.out.empty() ? std::filesystem::path("out") / std::filesystem::path(args.file).stem()
                                 : std::filesystem::path(args.out);
  options.resume = args.resume;
  options.force = args.force;
  options.threads = args.threads;
  options.show_progress = stderr_is_terminal();
  const SweepOutcome outcome = run_sweep(plan, options, err);
  ranks::done_together();
  if (!ranks::root()) return 0;  // MPI: rank 0 wrote the files and reports them
  out << fmt::format("sweep {}: {} points ({} run, {} resumed) in {:.1f} s -> {}\n", plan.name, plan.points.size(),
                     outcome.points_run, outcome.points_resumed, outcome.wall_seconds, options.out.string());
  print_fits(read_sweep_results(options.out), out, err);
  return 0;
}

struct PlotArgs {
  std::string dir, style = std::string(plots::style::screen().name);
  bool latex = false, fit_labels = false, gnuplot_style = false;
};

int plot_command(const PlotArgs& args, std::ostream& out, std::ostream& err) {
  const std::string& dir = args.dir;
  plots::Drawing drawing;
  drawing.look = plots::style::find_look(args.style);  // the option's check accepted it
  drawing.latex = args.latex;
  drawing.fit_labels = args.fit_labels;
  if (args.gnuplot_style) {
    if (!dir.empty()) throw InputError("plot: --gnuplot-style prints a style and draws nothing; give it without RESULTS_DIR");
    out << plots::style::gnuplot_style(*drawing.look);
    return 0;
  }
  if (dir.empty()) throw InputError("plot: expected a RESULTS_DIR (a sweep or validate --out), or --gnuplot-style");
  namespace fs = std::filesystem;
  // plot rewrites fits.csv and the figures: not while a run writes the directory, and a
  // read-only directory is refused (exit 2 naming it) before any figure is attempted.
  std::optional<DirectoryLock> lock;
  if (path_exists(dir) && fs::is_directory(dir)) lock.emplace(dir, "plot");
  std::vector<fs::path> dirs;
  // path_exists, not fs::exists: a symlink loop is exit 2 naming it, not a filesystem_error.
  if (path_exists(fs::path(dir) / "results.csv")) dirs.push_back(dir);
  else if (path_exists(dir) && fs::is_directory(dir))  // a validation directory: one sweep per subdirectory
    for (const auto& entry : fs::directory_iterator(dir))
      if (path_exists(entry.path() / "results.csv")) dirs.push_back(entry.path());
  if (dirs.empty())
    throw InputError(fmt::format("{}: no results.csv here or in its subdirectories (expected a sweep or validate --out)", dir));
  std::sort(dirs.begin(), dirs.end());
  for (const auto& d : dirs) print_fits(read_sweep_results(d), out, err, drawing);
  if (is_validate_dir(dir))
    out << fmt::format("  {} validation figures in {}\n", draw_validate_figures(dir, err, drawing).size(), dir);
  return 0;
}

}  // namespace

namespace {

// Discards what is written to it: the output of MPI ranks other than 0.
class NullStream : public std::ostream {
 public:
  NullStream() : std::ostream(nullptr) {}
};

// An error outside the points where the ranks agree (ranks.hpp): the others may be waiting
// for this rank, so the whole run ends here, with the message on this rank's stderr.
[[noreturn]] void abort_run(std::string_view kind, const std::string& message, int status) {
  std::cerr << fmt::format("timely: rank {}: {}: {}\n", ranks::rank(), kind, printable_line(message)) << std::flush;
  ranks::abort(status);
}

}  // namespace

namespace {

// --out: a directory path. An empty one (`--out ""`, or `--out=` with nothing after the `=`)
// would write nowhere, and a value that starts with '-' is the next flag taken by mistake
// (write ./-name for a directory whose name starts so).
const CLI::Validator directory_path(
    [](const std::string& value) -> std::string {
      if (value.empty()) return "expected a directory path, got an empty one";
      if (value.front() == '-') return "expected a directory path, got the flag-like '" + value + "' (write ./" + value + " for a directory of that name)";
      return "";
    },
    "");

// --style: a look of plots/style.hpp.
const CLI::Validator look_name(
    [](const std::string& value) -> std::string {
      if (plots::style::find_look(value)) return "";
      return "expected " + plots::style::looks_accepted() + ", got '" + value + "'";
    },
    "");

// The command line: every command, its options and the variables they fill.
struct Commands {
  CLI::App app{std::string(overview) + (ranks::built_with_mpi() ? "" : " This build has no MPI."), "timely"};
  ScenarioArgs sim_args, theory_args;
  unsigned threads = 0;
  std::string out_dir;
  SweepArgs sweep_args;
  ValidateOptions validate_options;
  std::string validate_out = validate_options.out.string();
  PlotArgs plot_args;
  CLI::App *simulate_app, *theory_app, *sweep_app, *validate_app, *plot_app;

  Commands() {
    app.set_version_flag("--version", TIMELY_VERSION);
    app.require_subcommand(1);

    simulate_app = app.add_subcommand(
        "simulate", "Run independent trials of one scenario and compare the mean staleness with theory");
    add_scenario_options(*simulate_app, sim_args);
    simulate_app->add_option("--trials", sim_args.trials, "Same as --set run.trials=N")->check(CLI::PositiveNumber);
    simulate_app->add_option("--seed", sim_args.seed, "Same as --set run.seed=S (an integer in [0, 2^64))")->type_name("S");
    simulate_app->add_option("--max-events", sim_args.max_events,
                             "Refuse a scenario whose trial would simulate more events than this (default 1e10)")
        ->check(CLI::PositiveNumber)
        ->type_name("N");
    simulate_app->add_option("--threads", threads, "Cap on parallel trials (results are identical for every value)")
        ->check(CLI::Range(1u, 4096u));
    simulate_app->add_option("--out", out_dir, "Also write result.json and trials.csv into this directory")
        ->type_name("DIR")
        ->check(directory_path);

    theory_app = app.add_subcommand("theory", "Print the exact (or asymptotic) staleness theory gives for a scenario");
    add_scenario_options(*theory_app, theory_args);

    sweep_app = app.add_subcommand(
        "sweep", "Run a scenario over axes of values (e.g. network.n) and write results.csv, trials.csv, meta.json");
    sweep_app->add_option("sweep", sweep_args.file, "Sweep file: a scenario plus a [sweep] table of \"key\" = [values]")
        ->type_name("SWEEP.toml")
        ->required();
    sweep_app->add_option("--out", sweep_args.out, "Output directory (default out/<sweep file name>)")
        ->type_name("DIR")
        ->check(directory_path);
    sweep_app->add_flag("--resume", sweep_args.resume, "Continue an interrupted sweep in --out, keeping finished points");
    sweep_app->add_flag("--force", sweep_args.force, "Replace a finished or different sweep in --out");
    sweep_app->add_flag("--quick", sweep_args.quick, "At most 4 trials per point, horizon and warm-up divided by 4");
    sweep_app->add_option("--max-events", sweep_args.max_events,
                          "Refuse a point whose trial would simulate more events than this (default 1e10)")
        ->check(CLI::PositiveNumber)
        ->type_name("N");
    sweep_app->add_option("--threads", sweep_args.threads, "Cap on parallel trials (results are identical for every value)")
        ->check(CLI::Range(1u, 4096u));
    sweep_app->footer("\nA range may replace a list: \"network.n\" = { from = 8, to = 65536, times = 2 } (or step = ...).\n\n" +
                      keys_help());

    validate_app = app.add_subcommand(
        "validate",
        "Check the simulator against the exact values, scaling laws, capacity regimes and rumour-spreading times of "
        "docs/model.md section 3 and the gossip policies (79 checks); exit 0 only if all pass");
    validate_app->add_flag("--quick", validate_options.quick, "Smaller networks and fewer trials (under a minute)");
    validate_app->add_option("--out", validate_out, "Output directory for report.md, CSVs and figures")
        ->type_name("DIR")
        ->check(directory_path)
        ->capture_default_str();
    validate_app->add_option("--threads", validate_options.threads, "Cap on parallel trials")->check(CLI::Range(1u, 4096u));

    plot_app = app.add_subcommand(
        "plot",
        "Redraw every figure (and fits.csv) from a sweep or validate results directory, without simulating, in the "
        "look of --style; the files keep their names, so a paper's figures replace the screen's");
    plot_app->add_option("dir", plot_args.dir, "Results directory (holds results.csv and meta.json)")
        ->type_name("RESULTS_DIR");
    std::string looks;
    for (const auto& look : plots::style::looks())
      looks += fmt::format("\n  {}: {}", look.name, look.description);
    plot_app->add_option("--style", plot_args.style, "The look of the figures:" + looks)
        ->type_name("LOOK")
        ->check(look_name)
        ->capture_default_str();
    plot_app->add_flag("--latex", plot_args.latex,
                       "Also write NAME_latex.tex and NAME_latex.pdf (gnuplot's cairolatex): \\input{NAME_latex} "
                       "sets the text in the document's font");
    plot_app->add_flag("--fit-labels", plot_args.fit_labels,
                       "List each fitted law in the legend (by default one 'fitted law' entry; the laws are in "
                       "fits.csv and printed)");
    plot_app->add_flag("--gnuplot-style", plot_args.gnuplot_style,
                       "Print the look as a gnuplot file (palette as line types, key, terminals as macros "
                       "@timely_png, @timely_pdf, ...) for scripts of your own, and draw nothing");
  }
};

// A first argument that names no command: one line naming the commands. CLI11's own message
// would blame the positional argument instead.
bool unknown_command(const CLI::App& app, int argc, const char* const* argv, std::ostream& err) {
  if (argc <= 1 || argv[1][0] == '-') return false;
  const std::string_view command = argv[1];
  for (const CLI::App* sub : app.get_subcommands({}))
    if (sub->get_name() == command) return false;
  std::string names;
  for (const CLI::App* sub : app.get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
  err << "timely: error: " << printable_line(command) << ": unknown command (commands: " << names << ")\n";
  return true;
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out_stream, std::ostream& err_stream) {
  // Under MPI (ranks.hpp) every rank parses the same command line; rank 0 alone speaks.
  NullStream silent;
  std::ostream& out = ranks::root() ? out_stream : silent;
  std::ostream& err = ranks::root() ? err_stream : silent;
  Commands c;
  CLI::App& app = c.app;
  if (unknown_command(app, argc, argv, err)) return 2;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    err << "timely: error: " << printable_line(e.what()) << " (see timely --help)\n";
    return 2;
  }

  // Under MPI, a rank's own error (one the ranks have not agreed on) ends the whole run, unless
  // this rank has passed its last collective step.
  const auto alone = [] { return !ranks::in_step_with_others(); };
  try {
    ranks::refuse_launch_without_mpi();
    if (c.simulate_app->parsed()) return simulate_command(c.sim_args, c.threads, c.out_dir, out, err);
    if (c.sweep_app->parsed()) return sweep_command(c.sweep_args, out, err);
    if (c.validate_app->parsed()) {
      c.validate_options.out = c.validate_out;
      c.validate_options.show_progress = stderr_is_terminal();
      return run_validate(c.validate_options, out, err) == 0 ? 0 : 1;
    }
    ranks::done_together();  // theory and plot run on rank 0 alone
    if (!ranks::root()) return 0;
    if (c.theory_app->parsed()) return theory_command(c.theory_args, out);
    if (c.plot_app->parsed()) return plot_command(c.plot_args, out, err);
  } catch (const ranks::QuietExit& e) {
    return e.status;
  } catch (const InputError& e) {
    if (!alone() && !dynamic_cast<const ranks::Agreed*>(&e)) abort_run("error", e.what(), 2);
    err << "timely: error: " << printable_line(e.what()) << "\n";
    return 2;
  } catch (const std::exception& e) {
    if (!alone() && !dynamic_cast<const ranks::Agreed*>(&e)) abort_run("failed", e.what(), 1);
    err << "timely: failed: " << printable_line(e.what()) << "\n";
    return 1;
  }
  return 1;
}

}  // namespace timely::cli
