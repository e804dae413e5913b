// Running a planned sweep: preparation, the (point, trial) pool, the results files and --resume.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <thread>
#include <utility>
#include <tbb/info.h>

#include "analysis/predict.hpp"
#include "analysis/warmup.hpp"
#include "experiments/columns.hpp"
#include "experiments/files.hpp"
#include "experiments/progress.hpp"
#include "experiments/ranks.hpp"
#include "experiments/simulation.hpp"
#include "experiments/sweep.hpp"
#include "experiments/units.hpp"
#include "experiments/version.hpp"
#include "sim/protocols.hpp"
#include "sim/input_error.hpp"
#include "sim/learning.hpp"

#if TIMELY_MPI
#include "experiments/result_bytes.hpp"
#endif

namespace timely::experiments {
namespace {

namespace fs = std::filesystem;

// Rough cost of one trial, for the time-left estimate: events times the work per event.
double trial_work(const sim::Scenario& s) {
  if (s.staleness.model == sim::StalenessModel::source) return estimated_events(s);
  return estimated_events(s) * (1.0 + s.tracked_sources());
}

// The optional column groups of the sweep's files: learning, and the network layer's where
// some point has it (a sweep without it writes the columns it always did). A function of
// the plan, so --resume expects the columns the interrupted run wrote.
TableGroups plan_groups(const SweepPlan& plan) {
  TableGroups groups{plan.learning()};
  for (const auto& p : plan.points) groups.include(p.scenario);
  return groups;
}

// The rows of one finished point, in each file's format.
struct PointRows {
  std::string results, trials, curves;
};

nlohmann::ordered_json meta_json(const SweepPlan& plan, const SweepOptions& options, std::size_t done,
                                 std::size_t resumed, bool complete, double wall,
                                 const std::vector<std::string>& warnings) {
  nlohmann::ordered_json j;
  j["sweep"] = plan.name;
  j["timely_version"] = TIMELY_VERSION;
  j["git_revision"] = timely_git_revision();
  j["fingerprint"] = plan.fingerprint;
  j["seed"] = plan.base.run.seed;
  j["threads"] = options.threads == 0 ? tbb::info::default_concurrency() : static_cast<int>(options.threads);
  j["ranks"] = ranks::size();  // MPI processes (threads is per rank); the results never depend on either
  j["quick"] = plan.quick;
  j["points"] = plan.points.size();
  j["points_done"] = done;
  j["points_resumed"] = resumed;
  j["complete"] = complete;
  j["wall_seconds"] = wall;
  j["warnings"] = warnings;
  // run.warmup = "auto": every point's chosen warm-up, and how (as simulate --json's warmup).
  auto& chosen = j["warmups_chosen"] = nlohmann::ordered_json::array();
  for (const auto& p : plan.points) {
    if (!p.scenario.run.warmup_chosen) continue;
    nlohmann::ordered_json w{{"point", p.index},
                             {"value", p.scenario.run.warmup},
                             {"chosen_by", p.warmup_pilot ? "pilot" : "theory"}};
    if (p.warmup_pilot)
      w["pilot"] = {{"stages", p.warmup_pilot->stages.size()},
                    {"events", p.warmup_pilot->events},
                    {"wall_seconds", p.warmup_pilot->seconds}};
    chosen.push_back(std::move(w));
  }
  j["base_scenario"] = scenario_json(plan.base);
  auto& axes = j["axes"];
  axes = nlohmann::ordered_json::object();
  for (const auto& axis : plan.axes) axes[axis.key] = axis.values;
  return j;
}

// Finished points of an earlier run of the same sweep in `out`. Every file is read by the
// column registry's reader (exit 2 naming the file and line on a malformed field); a last
// line cut short by a kill is dropped. A point counts as finished only if its results row,
// all its trial rows and (learning) its curve rows are there and its axis values match.
std::map<std::size_t, PointRows> load_finished(const fs::path& out, const SweepPlan& plan) {
  std::map<std::size_t, PointRows> done;
  const fs::path meta_path = out / "meta.json";
  if (!path_exists(meta_path)) return done;
  nlohmann::json meta;
  require_regular_file(meta_path.string());
  try {
    std::ifstream(meta_path) >> meta;
  } catch (const std::exception&) {
    throw InputError(fmt::format("--resume: {} is not valid JSON", meta_path.string()));
  }
  if (!meta.is_object() || !meta.contains("fingerprint") || !meta["fingerprint"].is_string())
    throw InputError(fmt::format("--resume: {} is not a timely sweep's meta.json (no \"fingerprint\" string)",
                                 meta_path.string()));
  if (meta["fingerprint"].get<std::string>() != plan.fingerprint)
    throw InputError(fmt::format("--resume: {} holds a different sweep (base scenario, axes or --quick differ); "
                                 "use another --out, or --force to start over",
                                 out.string()));
  const bool learning = plan.learning();
  const TableGroups groups = plan_groups(plan);
  const auto axes = plan.axis_keys();
  if (!path_exists(out / "results.csv") || !path_exists(out / "trials.csv")) return done;
  if (learning && !path_exists(out / "learning_curves.csv")) return done;
  const CsvTable results = read_results_file(out / "results.csv", ResultsFile::results, axes, groups, true);
  const CsvTable trials = read_results_file(out / "trials.csv", ResultsFile::trials, axes, groups, true);
  CsvTable curves;
  if (learning) curves = read_results_file(out / "learning_curves.csv", ResultsFile::curves, axes, groups, true);
  std::map<std::size_t, std::vector<const std::vector<std::string>*>> trial_rows_of, curve_rows_of;
  for (const auto& row : trials.rows) trial_rows_of[std::stoull(row[0])].push_back(&row);
  for (const auto& row : curves.rows) curve_rows_of[std::stoull(row[0])].push_back(&row);
  for (const auto& row : results.rows) {
    const std::size_t index = std::stoull(row[0]);
    if (index >= plan.points.size() || done.count(index)) continue;
    const SweepPoint& p = plan.points[index];
    if (!std::equal(p.values.begin(), p.values.end(), row.begin() + 1)) continue;  // edited by hand: redo
    const auto& rows = trial_rows_of[index];
    if (rows.size() != p.scenario.run.trials) continue;
    if (learning && curve_rows_of[index].empty()) continue;
    PointRows& d = done[index];
    d.results = csv_line(row);
    for (const auto* r : rows) d.trials += csv_line(*r);
    for (const auto* r : curve_rows_of[index]) d.curves += csv_line(*r);
  }
  return done;
}

// The files of a sweep, written in point order: a point's rows are appended once it and
// every point before it are finished (results.csv last, so a results row means the point's
// other rows are on disk). Points finished out of order wait in `ready`. A kill therefore
// leaves whole points, a prefix of the sweep, and the files never depend on thread timing.
class SweepFiles {
 public:
  SweepFiles(const fs::path& out, const SweepPlan& plan, const SweepOptions& options, std::size_t resumed,
             std::vector<std::string> warnings)
      : out_(out), plan_(plan), options_(options), resumed_(resumed), warnings_(std::move(warnings)) {}
  ~SweepFiles() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (timer_.joinable()) timer_.join();
    // A run that ends by an error or a stop leaves points_done true to the files if it can.
    if (meta_stale_ && !timer_error_) try {
        write_meta_locked(false, 0.0);
      } catch (...) {
      }
  }
  SweepFiles(const SweepFiles&) = delete;
  SweepFiles& operator=(const SweepFiles&) = delete;

  // Starts the files with the header and every finished point of `done`, in point order.
  // When `done` has holes (rows deleted or redone by hand), the files are rewritten whole,
  // in order, each time a point fills a hole, so no finished point leaves the disk.
  void start(std::map<std::size_t, PointRows> done) {
    const std::lock_guard lock(mutex_);
    timer_ = std::thread([this] { keep_meta_current(); });
    all_ = std::move(done);
    while (all_.count(next_)) ++next_;
    write_all();
    if (all_.size() == next_) all_.clear();  // no holes: from here on, points are appended
    write_meta_locked(false, 0.0);
  }

  void finished(std::size_t index, PointRows rows) {
    const std::lock_guard lock(mutex_);
    rethrow_timer_error();
    if (all_.empty()) {
      ready_[index] = std::move(rows);
      flush();
      return;
    }
    all_[index] = std::move(rows);
    while (all_.count(next_)) ++next_;
    write_all();
    if (all_.size() == next_) all_.clear();
    write_meta_locked(false, 0.0);
  }

  // The final meta.json (complete) or any other, written now.
  void write_meta(bool complete, double wall) {
    const std::lock_guard lock(mutex_);
    rethrow_timer_error();
    write_meta_locked(complete, wall);
  }

 private:
  void write_meta_locked(bool complete, double wall) {
    const auto start = std::chrono::steady_clock::now();
    write_file_atomically(out_ / "meta.json",
                          meta_json(plan_, options_, all_.empty() ? next_ : all_.size(), resumed_, complete, wall,
                                    warnings_)
                                  .dump(2) +
                              "\n");
    last_meta_ = std::chrono::steady_clock::now();
    meta_cost_ = last_meta_ - start;
    meta_stale_ = false;
  }

  // meta.json's points_done follows the files, kept current by a thread of its own.
  // Rewriting it (with its fsync) after every point would cost more than the rows for sweeps
  // of thousands of small points, so a rewrite waits until 10 times its own cost has passed
  // since the last one (at most a 10% share of the writing). A point written meanwhile
  // leaves it stale, and the thread writes it when that time is up, whether or not another
  // point or trial finishes: checked only when a point was written (once a second), it
  // lagged behind a slow next point by seconds.
  void keep_meta_current() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (!meta_stale_ || timer_error_) {
        wake_.wait(lock);
        continue;
      }
      const auto due = last_meta_ + 10 * meta_cost_;
      if (std::chrono::steady_clock::now() < due) {
        wake_.wait_until(lock, due);
        continue;
      }
      try {
        write_meta_locked(false, 0.0);
      } catch (...) {
        timer_error_ = std::current_exception();  // reported by the run's next call
      }
    }
  }
  void rethrow_timer_error() {
    if (timer_error_) std::rethrow_exception(std::exchange(timer_error_, nullptr));
  }

 private:
  void flush() {
    bool wrote = false;
    for (auto it = ready_.find(next_); it != ready_.end(); it = ready_.find(next_)) {
      append_whole(out_ / "trials.csv", it->second.trials);
      if (plan_.learning()) append_whole(out_ / "learning_curves.csv", it->second.curves);
      append_whole(out_ / "results.csv", it->second.results);
      ready_.erase(it);
      ++next_;
      wrote = true;
    }
    if (wrote) {
      meta_stale_ = true;
      wake_.notify_all();
    }
  }

  const fs::path out_;
  const SweepPlan& plan_;
  const SweepOptions& options_;
  const std::size_t resumed_;
  const std::vector<std::string> warnings_;  // this run's, one per point that has one
  // Every finished point in point order (replaced atomically): the start, and while holes remain.
  void write_all() {
    const auto axes = plan_.axis_keys();
    const TableGroups groups = plan_groups(plan_);
    std::string results = csv_line(results_header(axes, groups));
    std::string trials = csv_line(trials_header(axes, groups));
    std::string curves = csv_line(curves_header(axes, groups));
    for (const auto& [index, rows] : all_) {
      results += rows.results;
      trials += rows.trials;
      curves += rows.curves;
    }
    write_file_atomically(out_ / "trials.csv", trials);
    if (plan_.learning()) write_file_atomically(out_ / "learning_curves.csv", curves);
    write_file_atomically(out_ / "results.csv", results);
  }

  std::size_t next_ = 0;  // points 0..next_-1 are on disk
  std::map<std::size_t, PointRows> ready_;  // finished, waiting for the points before them
  std::map<std::size_t, PointRows> all_;    // every finished point, while the files have holes
  std::chrono::steady_clock::time_point last_meta_{};
  std::chrono::steady_clock::duration meta_cost_{};  // how long the last rewrite took
  bool meta_stale_ = false;                           // points written since the last rewrite
  // The thread that keeps meta.json current, and what it shares with the run's thread.
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::exception_ptr timer_error_;
  std::thread timer_;
};

// What a pending point needs, prepared before any file is written.
struct Prepared {
  const SweepPoint* point;
  sim::Graph graph;
  analysis::Prediction theory;
  sim::LearningData data;
  std::optional<std::string> warning;  // e.g. a warm-up short of stationarity (rank 0)
};

// `theory`: rank 0 only; the other ranks of an MPI run only run trials.
std::vector<Prepared> prepare(const SweepPlan& plan, const std::vector<const SweepPoint*>& pending, bool theory) {
  std::vector<Prepared> prepared(pending.size());
  std::map<std::string, std::shared_ptr<const models::Split>> loaded;  // one load per distinct data set
  for (std::size_t k = 0; k < pending.size(); ++k) {
    const sim::Scenario& s = pending[k]->scenario;
    Prepared& p = prepared[k];
    p.point = pending[k];
    try {
      p.graph = sim::scenario_graph(s);  // random graphs are drawn from the point's own seed
      if (theory) {
        p.theory = analysis::predict(s, p.graph);
        p.warning = analysis::warmup_warning(s, p.theory);
      }
      if (plan.learning()) {
        auto& split = loaded[sim::learning_data_key(s)];
        if (!split) split = sim::load_learning_data(s);
        p.data = sim::prepare_learning(s, split);
        check_learning_memory(s, p.data);
      }
    } catch (const InputError& e) {
      throw InputError(fmt::format("sweep point {} ({}): {}", pending[k]->index, point_label(plan, *pending[k]), e.what()));
    }
  }
  return prepared;
}

std::string point_log(const SweepPlan& plan, const SweepPoint& p, const PointResult& r, std::size_t done,
                      double elapsed) {
  std::string what;
  if (r.learning && r.learning->diverged > 0) {
    what = fmt::format("DIVERGED in {}/{} trials (first at t = {:.4g})", r.learning->diverged, p.scenario.run.trials,
                       *r.learning->diverged_at);
  } else if (r.learning && r.learning->stationary_error) {  // quadratic
    const auto& e = *r.learning->stationary_error;
    what = fmt::format("stationary error {:.6g}{}", e.mean, e.ci_half_width ? fmt::format(" ± {:.3g}", *e.ci_half_width) : "");
  } else if (r.learning) {
    const auto& l = *r.learning;
    what = fmt::format("final accuracy {}, time to target {}",
                       l.final[sim::metric::accuracy] ? fmt::format("{:.4g}", l.final[sim::metric::accuracy]->mean) : "n/a",
                       l.time_to_target ? fmt::format("{:.4g}", l.time_to_target->mean) : "not reached");
  } else {
    const auto& t = r.staleness->mean;
    what = fmt::format("staleness {:.6g}{}{}", t.mean, t.ci_half_width ? fmt::format(" ± {:.3g}", *t.ci_half_width) : "",
                       r.theory.staleness ? fmt::format(", theory {:.6g}", *r.theory.staleness) : "");
  }
  return one_line(fmt::format("sweep {}: point {}/{} ({}): {}  [{:.1f} s]", plan.name, done, plan.points.size(),
                              point_label(plan, p), what, elapsed)) +
         "\n";
}

// The points an interrupted run left unfinished: rank 0 reads the files and tells the others.
std::vector<const SweepPoint*> share_pending(const SweepPlan& plan, const std::map<std::size_t, PointRows>& done) {
  std::string indices;
  if (ranks::root())
    for (const auto& p : plan.points)
      if (!done.count(p.index)) indices += fmt::format("{} ", p.index);
  ranks::broadcast(indices);
  std::vector<const SweepPoint*> pending;
  std::istringstream in(indices);
  for (std::size_t index; in >> index;) pending.push_back(&plan.points.at(index));
  return pending;
}

// Every (point, trial) pair of a sweep's pending points, and the slots their results land in.
struct TrialSlots {
  struct Task {
    std::size_t point;  // index into pending
    std::uint32_t trial;
  };
  std::vector<Task> tasks;
  std::vector<std::vector<sim::TrialResult>> results;
  std::vector<std::vector<sim::LearningTrialResult>> learned;
  std::vector<std::uint32_t> trials_done;
  double total_work = 0.0;  // estimated, for progress

  TrialSlots(const std::vector<const SweepPoint*>& pending, bool learning)
      : results(pending.size()), learned(pending.size()), trials_done(pending.size()), learning_(learning) {
    for (std::size_t k = 0; k < pending.size(); ++k) {
      const auto trials = pending[k]->scenario.run.trials;
      results[k].resize(trials);
      if (learning) learned[k].resize(trials);
      for (std::uint32_t t = 0; t < trials; ++t) tasks.push_back({k, t});
      total_work += trial_work(pending[k]->scenario) * trials;
    }
  }

  // Under MPI a trial's result crosses to rank 0 as bytes (a learning result carries its
  // staleness).
  void carry_between_ranks([[maybe_unused]] UnitWork& work) {
#if TIMELY_MPI
    work.save = [this](std::size_t k) {
      const Task& task = tasks[k];
      std::string bytes =
          learning_ ? to_bytes(learned[task.point][task.trial]) : to_bytes(results[task.point][task.trial]);
      results[task.point][task.trial] = {};
      if (learning_) learned[task.point][task.trial] = {};
      return bytes;
    };
    work.load = [this](std::size_t k, const std::string& bytes) {
      const Task& task = tasks[k];
      if (!learning_) return from_bytes(bytes, results[task.point][task.trial]);
      from_bytes(bytes, learned[task.point][task.trial]);
      results[task.point][task.trial] = learned[task.point][task.trial].staleness;
    };
#endif
  }

 private:
  bool learning_;
};

}  // namespace

SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options, std::ostream& err) {
  const auto start = std::chrono::steady_clock::now();
  const fs::path& out = options.out;
  const bool root = ranks::root();
  // Under MPI every rank runs this function; rank 0 alone owns the directory and its files.
  // Each step that can fail on one rank ends in ranks::agree, so all stop together.
  std::optional<DirectoryLock> lock;
  std::map<std::size_t, PointRows> done;
  ranks::agree([&] {
    if (!root) return;
    create_output_directory(out);
    lock.emplace(out);
    if (!options.resume && !options.force && path_exists(out / "results.csv"))
      throw InputError(fmt::format("--out: {} already holds a sweep (results.csv); pass --resume to continue it or "
                                   "--force to replace it",
                                   out.string()));
    // A file timely writes that is a directory, FIFO or device cannot be replaced: refused
    // before any trial runs (--force ended with exit 1 after the whole sweep).
    for (const char* name : {"results.csv", "trials.csv", "learning_curves.csv", "meta.json", "fits.csv"}) {
      const fs::path path = out / name;
      if (path_exists(path) && !fs::is_regular_file(path))
        throw InputError(fmt::format("--out: {} is not a regular file (a directory, FIFO or device); timely writes "
                                     "{} there: remove it or choose another directory",
                                     path.string(), name));
    }
    if (options.resume) done = load_finished(out, plan);
  });
  SweepOutcome outcome;
  outcome.points_resumed = done.size();
  const std::vector<const SweepPoint*> pending = share_pending(plan, done);
  std::vector<Prepared> prepared;
  ranks::agree([&] { prepared = prepare(plan, pending, root); });

  // Warnings (rank 0, which has the theory), before the points run: one line on stderr, and
  // each point's in meta.json.
  std::vector<std::string> warnings;
  for (const Prepared& p : prepared)
    if (p.warning) warnings.push_back(fmt::format("point {} ({}): {}", p.point->index, point_label(plan, *p.point), *p.warning));
  if (root && !warnings.empty())
    err << one_line(fmt::format("timely: warning: {} of {} points: {}{}", warnings.size(), pending.size(),
                                warnings.front(), warnings.size() > 1 ? " (every one in meta.json's warnings)" : ""))
        << "\n" << std::flush;
  std::optional<SweepFiles> files;
  ranks::agree([&] {
    if (!root) return;
    files.emplace(out, plan, options, outcome.points_resumed, warnings);
    files->start(std::move(done));
  });

  const bool learning = plan.learning();
  const TableGroups groups = plan_groups(plan);
  TrialSlots slots(pending, learning);
  auto& tasks = slots.tasks;
  auto& results = slots.results;
  auto& learned = slots.learned;

  Progress progress(err, plan.name, 0, options.show_progress && root);
  double work_done = 0.0;
  std::size_t trials_finished = 0, points_finished = 0;
  // Rank 0, one trial at a time (run_units serialises it).
  const auto finish_trial = [&](const TrialSlots::Task& task) {
    const Prepared& prep = prepared[task.point];
    const SweepPoint& p = *prep.point;
    const bool point_complete = ++slots.trials_done[task.point] == p.scenario.run.trials;
    ++trials_finished;
    work_done += trial_work(p.scenario);
    if (point_complete) {
      ++points_finished;
      auto& staleness = results[task.point];
      if (learning && !sim::learning_protocol(p.scenario).measures_staleness) staleness.clear();
      const auto* learned_point = learning ? &learned[task.point] : nullptr;
      const PointResult r = make_point_result(p.index, p.values, p.scenario, prep.theory, staleness, learned_point);
      PointRows rows{results_row(r, groups), trial_rows(r, staleness, learned_point, groups),
                     learning ? curve_rows(r, learned[task.point], groups) : std::string()};
      files->finished(p.index, std::move(rows));
      if (options.log_points && !options.show_progress)
        err << point_log(plan, p, r, points_finished + outcome.points_resumed, progress.elapsed_seconds());
      // The trials' memory (staleness histograms, curves) is not needed any more.
      std::vector<sim::TrialResult>().swap(staleness);
      std::vector<sim::LearningTrialResult>().swap(learned[task.point]);
    }
    progress.update(slots.total_work > 0 ? work_done / slots.total_work : 1.0,
                    fmt::format("points {}/{}, trials {}/{}", points_finished + outcome.points_resumed,
                                plan.points.size(), trials_finished, tasks.size()));
  };

  // One pool for all (point, trial) pairs, over every thread of every rank; units are handed
  // out in order, so points finish roughly in order and an interrupted sweep leaves a prefix
  // of finished points.
  UnitWork work;
  work.count = tasks.size();
  work.threads = options.threads;
  work.run = [&](std::size_t k) {
    const TrialSlots::Task& task = tasks[k];
    const Prepared& prep = prepared[task.point];
    const sim::Scenario& s = prep.point->scenario;
    if (learning) {
      learned[task.point][task.trial] = sim::run_learning_trial(s, prep.graph, prep.data, task.trial);
      results[task.point][task.trial] = learned[task.point][task.trial].staleness;
    } else {
      results[task.point][task.trial] = sim::run_trial(s, prep.graph, task.trial);
    }
  };
  work.finished = [&](std::size_t k) { finish_trial(tasks[k]); };
  work.describe = [&](std::size_t k) {
    const SweepPoint& p = *prepared[tasks[k].point].point;
    return fmt::format("sweep point {} ({}), trial {}", p.index, point_label(plan, p), tasks[k].trial);
  };
  slots.carry_between_ranks(work);
  run_units(work);

  outcome.points_run = pending.size();
  outcome.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ranks::agree([&] {
    if (root) files->write_meta(true, outcome.wall_seconds);
  });
  return outcome;
}

}  // namespace timely::experiments
