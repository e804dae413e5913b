#pragma once
// `timely sweep`: a base scenario and axes of values. Planning (this file's first half) turns a
// sweep file into validated points; running (sweep_run.cpp) runs every (point, trial) pair in
// one TBB pool, appends each point's rows as soon as it and every point before it are done,
// and --resume continues an interrupted sweep without redoing finished points, ending with
// the same results.csv and trials.csv as an uninterrupted run.
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "experiments/scenario_keys.hpp"
#include "experiments/warmup_pilot.hpp"
#include "sim/scenario.hpp"

namespace timely::experiments {

struct SweepAxis {
  std::string key;                  // dotted scenario key
  std::vector<std::string> values;  // as text, the way --set takes them
};

struct SweepPoint {
  std::size_t index = 0;
  std::vector<std::string> values;  // one per axis
  sim::Scenario scenario;
  // run.warmup = "auto" without theory: the pilot that chose the point's warm-up (meta.json).
  std::optional<WarmupPilot> warmup_pilot;
};

struct SweepPlan {
  std::string name;  // shown in logs and meta.json
  sim::Scenario base;
  std::vector<SweepAxis> axes;
  std::vector<SweepPoint> points;  // Cartesian product, first axis outermost
  bool quick = false;
  std::string fingerprint;  // identifies the definition, so --resume cannot mix sweeps

  bool learning() const { return !points.empty() && points.front().scenario.learning.enabled(); }
  std::vector<std::string> axis_keys() const;
};

struct PlanOptions {
  bool quick = false;  // at most 4 trials per point, horizon and warm-up divided by 4
  // Every point is checked against them before anything runs; their threads also run the
  // pilots of run.warmup = "auto" (never changing a result).
  RunLimits limits;
  std::filesystem::path base_dir;  // relative paths in axis values are relative to this
};

// Builds the points; each is validated (exit-2 errors name the point and the key). Point p
// uses the seed run.seed + p (mod 2^64) unless run.seed is an axis.
SweepPlan make_sweep_plan(std::string name, const sim::Scenario& base, std::vector<SweepAxis> axes,
                          const PlanOptions& options = {});

// Points listed one by one rather than a product: each case sets some keys. There is a
// column for every key any case sets; where a case leaves a key alone it keeps the base's
// value (shown as its effective value for that case).
using SweepCase = std::vector<std::pair<std::string, std::string>>;
SweepPlan make_case_plan(std::string name, const sim::Scenario& base, const std::vector<SweepCase>& cases,
                         const PlanOptions& options = {});

// Setups: named groups of keys that belong together (a learning setup: model, data, step
// size), each run over the product of the other axes. The results get a column `setup`
// with the name, and a column for every key some setup sets.
inline constexpr std::string_view setup_axis = "setup";
struct SweepSetup {
  std::string name;
  SweepCase keys;
  // A sweep axis given in the setup: that axis's values for this setup alone (a topology's
  // own network sizes: perfect cubes for a 3-D torus, powers of two for a hypercube).
  std::vector<SweepAxis> axes;
};
SweepPlan make_setup_plan(std::string name, const sim::Scenario& base, const std::vector<SweepSetup>& setups,
                          std::vector<SweepAxis> axes, const PlanOptions& options = {});

// Reads a sweep file: scenario tables plus [sweep], whose keys are dotted scenario keys and
// whose values are arrays, or ranges {from, to, times} (geometric) / {from, to, step}, and
// optionally [[sweep.setup]] tables (a name and keys), run setup by setup.
SweepPlan load_sweep_plan(const std::filesystem::path& file, PlanOptions options = {});
// The same from TOML text (the Python module's dictionaries), named `name` in the results and
// in errors; relative paths in it are relative to base_dir.
SweepPlan sweep_plan_from_text(std::string_view toml_text, const std::string& name,
                               const std::filesystem::path& base_dir, PlanOptions options = {});

// "key=value, key=value" of a point's axes.
std::string point_label(const SweepPlan& plan, const SweepPoint& point);

struct SweepOptions {
  std::filesystem::path out;
  bool resume = false;
  bool force = false;     // overwrite a directory that already holds a sweep
  unsigned threads = 0;   // 0 = all cores
  bool show_progress = false;
  bool log_points = true; // one line per finished point on stderr when there is no live bar
};

struct SweepOutcome {
  std::size_t points_run = 0, points_resumed = 0;
  double wall_seconds = 0.0;
};

// Takes an exclusive lock on options.out for the run. Everything a point needs (graphs,
// theory, data, memory) is prepared before any results file is written, so bad input leaves
// no half-made sweep behind.
SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options, std::ostream& err);

}  // namespace timely::experiments
