#pragma once
// The result columns of timely, in one registry. A sweep point's (or a `simulate` run's)
// result is a typed value, PointResult; every column is one entry that names its results.csv
// column and/or its place in the `--json` object and says how to read it from a PointResult.
// The results.csv header and rows, the JSON fields, and the reader that --resume, `plot` and
// `validate` use all come from this table, so a new column is one entry. trials.csv has its
// own table of the same kind, written by one writer for sweeps, `simulate` and Python. The
// learning metrics' columns in every table (results, trials, learning curves) are made from
// the metric list (sim/learning_metrics.hpp), so a new metric is one row there.
//
// Optional column groups: the learning columns exist only in learning sweeps, and the
// network layer's columns (communication, availability) only in runs where some point has
// the layer (Scenario::networked) or churn, and the policies' spending only in runs where some
// point's gossip.policy is not uniform (uniform gossip spends lambda by construction). Which groups a table has is decided once per run
// (TableGroups, from the sweep plan, or read back from a header), so a run without the layer
// writes exactly the files it wrote before the layer existed, and --resume, `plot` and
// `validate` read each file with the columns it was written with.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "analysis/learning_summary.hpp"
#include "analysis/predict.hpp"
#include "analysis/trial_summary.hpp"
#include "experiments/csv.hpp"
#include "models/partition.hpp"
#include "sim/learning.hpp"
#include "sim/scenario.hpp"

namespace timely::experiments {

// What one sweep point, or one `simulate` run, measured.
struct PointResult {
  std::size_t index = 0;                 // sweep point (0 for simulate)
  std::vector<std::string> axis_values;  // one per sweep axis, as given
  sim::Scenario scenario;                // effective: the point's seed, --quick applied
  analysis::Prediction theory;           // a protocol without staleness: "none: FedAvg has no gossip"
  std::optional<analysis::TrialSummary> staleness;    // none for FedAvg and local (no gossip)
  std::optional<analysis::LearningSummary> learning;  // learning runs only
  std::optional<models::ShardSummary> shards;         // learning runs only
  // With the network layer (docs/model.md §7): what it counted, and (churn) availability.
  std::optional<analysis::CommunicationSummary> communication;
  std::optional<analysis::AvailabilitySummary> availability;
  double final_time = 0.0;  // time of the last observation every trial has (learning)
};

// Summarises a point's trials. `learning` is null for staleness runs; `staleness` is empty
// for a protocol that measures none (FedAvg, local), whose theory becomes "none".
PointResult make_point_result(std::size_t index, std::vector<std::string> axis_values, const sim::Scenario& scenario,
                              analysis::Prediction theory, const std::vector<sim::TrialResult>& staleness,
                              const std::vector<sim::LearningTrialResult>* learning,
                              std::optional<models::ShardSummary> shards = std::nullopt);

// One value: empty (an empty CSV field, JSON null), a number, an integer, text, a flag or a
// list of numbers (JSON only).
using Cell = std::variant<std::monostate, double, std::int64_t, std::uint64_t, std::string, bool, std::vector<double>>;

enum class ColumnType { integer, number, text, boolean, number_list };
// Which results a column reads: always present, staleness (absent for FedAvg and local), learning,
// the network layer's counts, churn's availability, or a learning run's counts.
enum class ColumnGroup {
  point, staleness, learning, communication, availability, learning_communication, spending, rounds, experience, age
};

// The optional groups a results table has (point and staleness columns are always there).
struct TableGroups {
  bool learning = false;
  bool communication = false;  // some point has the network layer
  bool availability = false;   // some point has churn
  bool spending = false;       // some point's gossip.policy is not uniform: its sends per user
  bool rounds = false;         // some point runs MoDeST's rounds: their counts
  bool experience = false;     // some point runs a SAPO swarm: its rewards and age of experience
  bool age = false;            // some point runs the source model: binary freshness and the age in time
  // Adds a point's groups: a sweep's files have the union over its points.
  TableGroups& include(const sim::Scenario& scenario);
};

struct Column {
  std::string csv;   // results.csv column; "" = JSON only
  std::string json;  // dotted path in `simulate --json`; "" = CSV only
  ColumnType type;
  ColumnGroup group;
  Cell (*get)(const PointResult&);
};

// The registry, in results.csv order (the sweep axes' columns follow "point").
const std::vector<Column>& result_columns();

std::vector<std::string> results_header(const std::vector<std::string>& axes, TableGroups groups);
std::string results_row(const PointResult& result, TableGroups groups);  // one CSV line
// Without the network layer's groups.
inline std::vector<std::string> results_header(const std::vector<std::string>& axes, bool learning) {
  return results_header(axes, TableGroups{learning});
}
inline std::string results_row(const PointResult& result, bool learning) { return results_row(result, TableGroups{learning}); }

// Fills the staleness, theory and learning fields of a `simulate --json` object. A summary
// without a mean is null; a run without staleness (FedAvg, local) has "staleness": null.
void add_result_json(nlohmann::ordered_json& j, const PointResult& result);

// trials.csv: one row per trial, the same columns for a sweep (after the point's index and
// axis values), `simulate` and Python's per_trial arrays: one writer.
struct TrialRow {
  const PointResult* point;
  std::uint32_t trial;
  const sim::TrialResult* staleness;              // null for FedAvg and local
  const sim::LearningTrialResult* learning;       // null for staleness runs
};
// One column of a point's trials: its name, type and one cell per trial.
struct TrialColumnCells {
  std::string_view name;
  ColumnType type;
  std::vector<Cell> cells;
};
// The learning columns come with a non-null `learning`; the network ones with the groups.
std::vector<TrialColumnCells> trial_columns(const PointResult& point, const std::vector<sim::TrialResult>& staleness,
                                            const std::vector<sim::LearningTrialResult>* learning, TableGroups groups);
// A sweep's header and rows start with the point and the axes; `simulate`'s have neither.
enum class TrialPrefix { point_and_axes, none };
std::vector<std::string> trials_header(const std::vector<std::string>& axes, TableGroups groups,
                                       TrialPrefix prefix = TrialPrefix::point_and_axes);
std::string trial_rows(const PointResult& point, const std::vector<sim::TrialResult>& staleness,
                       const std::vector<sim::LearningTrialResult>* learning, TableGroups groups,
                       TrialPrefix prefix = TrialPrefix::point_and_axes);
inline std::vector<std::string> trials_header(const std::vector<std::string>& axes, bool learning) {
  return trials_header(axes, TableGroups{learning});
}
inline std::string trial_rows(const PointResult& point, const std::vector<sim::TrialResult>& staleness,
                              const std::vector<sim::LearningTrialResult>* learning) {
  return trial_rows(point, staleness, learning, TableGroups{learning != nullptr});
}

// learning_curves.csv: the mean learning curve of each point; with the communication group,
// also the bytes sent per user by each observation (mean over users, then over trials).
std::vector<std::string> curves_header(const std::vector<std::string>& axes, TableGroups groups = {});
std::string curve_rows(const PointResult& point, const std::vector<sim::LearningTrialResult>& learning,
                       TableGroups groups = {});

// Which file a table is, for the typed reader.
enum class ResultsFile { results, trials, curves };

// Reads results.csv, trials.csv or learning_curves.csv of a sweep with these axes: the header
// must be the registry's, every field must have its column's type (integers in
// [0, 2^64), numbers finite), else InputError naming the file, line and column. A
// last line cut short by a kill (no newline at its end) is dropped when `allow_torn_tail`.
CsvTable read_results_file(const std::filesystem::path& path, ResultsFile file, const std::vector<std::string>& axes,
                           TableGroups groups, bool allow_torn_tail = false);
inline CsvTable read_results_file(const std::filesystem::path& path, ResultsFile file,
                                  const std::vector<std::string>& axes, bool learning, bool allow_torn_tail = false) {
  return read_results_file(path, file, axes, TableGroups{learning}, allow_torn_tail);
}
// The learning flag of a results.csv header, and all its groups (read_results_file then
// checks the whole header against the registry).
// The type of every column of a file, in header order (the axes are text).
std::vector<ColumnType> column_types(ResultsFile file, const std::vector<std::string>& axes, TableGroups groups);
// Reading the files back (results_files.cpp).
bool header_is_learning(const std::vector<std::string>& header);
TableGroups header_groups(const std::vector<std::string>& header);

}  // namespace timely::experiments
