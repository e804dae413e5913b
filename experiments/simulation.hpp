#pragma once
// `timely simulate` and `timely theory`: one scenario, its trials and its theory.
#include <filesystem>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/predict.hpp"
#include "experiments/columns.hpp"
#include "experiments/files.hpp"
#include "experiments/scenario_keys.hpp"
#include "experiments/warmup_pilot.hpp"
#include "sim/scenario.hpp"
#include "sim/learning.hpp"
#include "sim/trial.hpp"

namespace timely::experiments {

struct SimulateOptions {
  unsigned threads = 0;  // 0 = all cores
  bool json = false;
  std::optional<std::filesystem::path> out_dir;
};

struct Simulation {
  sim::Scenario scenario;
  std::vector<sim::TrialResult> trials;  // staleness of every trial (learning runs too, for protocols that measure it)
  analysis::Prediction theory;
  // One line each, also printed to stderr before the trials: e.g. a warm-up too short for
  // stationarity (analysis/warmup.hpp).
  std::vector<std::string> warnings;
  // run.warmup = "auto" without theory: the pilot that chose the warm-up (warmup_pilot.hpp).
  std::optional<WarmupPilot> pilot;
  double wall_seconds = 0.0;
  // Learning mode only:
  std::vector<sim::LearningTrialResult> learning;
  models::ShardSummary shards{};
};

// Builds the graph, runs every trial (in parallel), and predicts. Throws InputError. Under MPI
// every rank calls it and the trials run on all of them; rank 0's result is the whole run, the
// other ranks' has no trials and no theory.
Simulation simulate(const sim::Scenario& scenario, unsigned threads, std::ostream& err, bool show_progress,
                    const RunLimits& limits = {});

// Refuses (InputError) a learning scenario whose models would not fit in 4 GiB per trial.
void check_learning_memory(const sim::Scenario& scenario, const sim::LearningData& data);

// The run's typed result, as a sweep point would have it (columns.hpp).
PointResult point_result(const Simulation& simulation);

// The `simulate --json` object of docs/interface.md for a finished simulation.
nlohmann::ordered_json simulation_json(const Simulation& simulation, unsigned threads);
nlohmann::ordered_json theory_json(const sim::Scenario& scenario, const analysis::Prediction& prediction);

void print_simulation(std::ostream& out, const Simulation& simulation, unsigned threads);
void print_theory(std::ostream& out, const sim::Scenario& scenario, const analysis::Prediction& prediction);

// A simulation's values column by column: its per-trial values (trial_table, the columns of
// trials.csv) and, in learning mode, its learning curves (learning_table, learning.csv: one
// row per trial and observation; empty otherwise). A missing value is nullopt.
struct ValueColumn {
  std::string name;
  bool integer = false;  // counts and indices, written without a decimal point
  std::vector<std::optional<double>> values;
};
using ValueTable = std::vector<ValueColumn>;
ValueTable trial_table(const Simulation& simulation);
ValueTable learning_table(const Simulation& simulation);
// The table as CSV with a header row, numbers to `digits` significant digits.
std::string table_csv(const ValueTable& table, int digits);

// Writes result.json and trials.csv (and learning.csv, one row per trial and observation,
// in learning mode) into dir, each replaced atomically.
// Figures that cannot be drawn are reported on `log` and skipped. The caller holds the
// directory's lock (taken before the trials; the parameter says so). The files an earlier
// simulate wrote into `dir` that this one does not (learning.csv and the learning figures
// after a staleness-only run) are removed first, so the directory shows one run.
void write_simulation(const std::filesystem::path& dir, const Simulation& simulation, unsigned threads,
                      std::ostream& log, const DirectoryLock& lock);

}  // namespace timely::experiments
