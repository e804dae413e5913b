// The core of `import timely`: the commands of the experiments library, called from Python.
// python/timely/__init__.py is the API users see; it turns dictionaries into the scenario
// TOML and settings this module takes, and results tables into DataFrames.
//
// Every run executes on a thread of its own while the calling thread waits with the GIL
// released, so other Python threads go on. Every 50 ms the caller takes the GIL back to
// pass the run's stderr text and progress to Python and to check for Ctrl-C (which Python
// only delivers to the main thread); Ctrl-C stops the run (RunControl: no further trial
// starts, running trials stop at their next checkpoint) and raises KeyboardInterrupt.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <streambuf>
#include <string>
#include <thread>

#include "experiments/progress.hpp"
#include "experiments/run_control.hpp"
#include "experiments/scenario_keys.hpp"
#include "experiments/simulation.hpp"
#include "experiments/sweep.hpp"
#include "experiments/sweep_report.hpp"
#include "experiments/validate.hpp"
#include "sim/input_error.hpp"

namespace py = pybind11;
namespace ex = timely::experiments;

namespace {

// Text a run writes for stderr, from any of its threads, until the waiting thread takes it.
class SharedText : public std::streambuf {
 public:
  std::string take() {
    const std::lock_guard lock(mutex_);
    return std::exchange(text_, {});
  }

 protected:
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    xsputn(&ch, 1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const std::lock_guard lock(mutex_);
    text_.append(s, static_cast<std::size_t>(n));
    return n;
  }

 private:
  std::mutex mutex_;
  std::string text_;
};

// Runs job(err) on a thread of its own; see the file comment. Errors come back as Python
// exceptions: bad input as ValueError with the CLI's one-line message, other failures as
// RuntimeError, Ctrl-C as KeyboardInterrupt, a callback's exception as itself.
// `callback(label, fraction, status)`, unless None, gets the run's progress on this thread.
void run_watched(const std::function<void(std::ostream& err)>& job, const py::object& callback = py::none()) {
  SharedText text;
  std::ostream err(&text);
  ex::RunControl control;
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::exception_ptr failure;
  std::optional<py::error_already_set> raised;  // Ctrl-C, or the callback's exception
  std::exception_ptr watch_failure;              // anything else that went wrong here
  const py::object sys = py::module_::import("sys");
  std::uint64_t reports_seen = 0;

  // With the GIL: hands over stderr text and progress, and (while the run goes on) looks for
  // Ctrl-C. An exception stops the run and is raised when it has stopped; nothing may leave
  // this function while the worker thread runs.
  const auto tend = [&](bool running) {
    try {
      if (const std::string t = text.take(); !t.empty()) {
        try {
          sys.attr("stderr").attr("write")(t);
        } catch (py::error_already_set& e) {
          // A closed or odd sys.stderr loses the text, as a closed stderr would; but Ctrl-C
          // (which a Python-level write may be the one to see) goes on to stop the run.
          if (!e.matches(PyExc_Exception)) throw;
        }
      }
      const ex::RunControl::Report report = control.latest();
      if (!callback.is_none() && report.count != reports_seen && !raised && !watch_failure) {
        reports_seen = report.count;
        callback(report.label, report.fraction, report.status);
      }
      if (running && !raised && PyErr_CheckSignals() != 0) throw py::error_already_set();
    } catch (py::error_already_set& e) {
      if (!raised) raised.emplace(std::move(e));
      control.request_stop();
    } catch (...) {
      if (!watch_failure) watch_failure = std::current_exception();
      control.request_stop();
    }
  };

  // Stops and joins the worker on the way out however that is left (the interpreter may
  // end this thread while it takes the GIL back at exit): a joinable std::thread must not be
  // destroyed.
  struct Joined {
    std::thread thread;
    ex::RunControl& control;
    ~Joined() {
      if (!thread.joinable()) return;
      control.request_stop();
      thread.join();
    }
  };
  {
    py::gil_scoped_release release;
    Joined worker{std::thread([&] {
      try {
        const ex::ControlScope scope(control);
        job(err);
      } catch (...) {
        failure = std::current_exception();
      }
      const std::lock_guard lock(mutex);
      done = true;
      finished.notify_one();
    }), control};
    for (;;) {
      {
        std::unique_lock lock(mutex);
        if (finished.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) break;
      }
      const py::gil_scoped_acquire acquire;
      tend(true);
    }
    worker.thread.join();
  }
  tend(false);  // the last text and the final progress
  if (raised) throw std::move(*raised);
  if (watch_failure) std::rethrow_exception(watch_failure);
  if (!failure) return;
  try {
    std::rethrow_exception(failure);
  } catch (const timely::InputError& e) {
    throw py::value_error(ex::printable_line(e.what()));
  } catch (const std::exception& e) {
    throw std::runtime_error(ex::printable_line(e.what()));
  }
}

// A JSON value as Python objects, as json.loads would give them (objects keep their order).
py::object to_python(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (const auto& [key, value] : j.items()) d[py::str(key)] = to_python(value);
      return d;
    }
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& value : j) l.append(to_python(value));
      return l;
    }
    case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: {
      // The program's JSON writes a number that is not finite as null.
      const double x = j.get<double>();
      return std::isfinite(x) ? py::object(py::float_(x)) : py::object(py::none());
    }
    default: return py::none();
  }
}

// Columns as numpy arrays: integer columns as int64, the others as float64 with NaN where a
// row has no value; a column with no value at all (accuracy of a regression) is left out.
py::dict to_arrays(const ex::ValueTable& table) {
  py::dict columns;
  for (const ex::ValueColumn& c : table) {
    const std::size_t rows = c.values.size();
    std::size_t present = 0;
    for (const auto& v : c.values) present += v.has_value();
    if (rows > 0 && present == 0) continue;
    if (c.integer && present == rows) {
      py::array_t<std::int64_t> a(static_cast<py::ssize_t>(rows));
      auto out = a.mutable_unchecked<1>();
      for (std::size_t r = 0; r < rows; ++r) out(static_cast<py::ssize_t>(r)) = static_cast<std::int64_t>(*c.values[r]);
      columns[py::str(c.name)] = a;
    } else {
      py::array_t<double> a(static_cast<py::ssize_t>(rows));
      auto out = a.mutable_unchecked<1>();
      for (std::size_t r = 0; r < rows; ++r)
        out(static_cast<py::ssize_t>(r)) = c.values[r].value_or(std::numeric_limits<double>::quiet_NaN());
      columns[py::str(c.name)] = a;
    }
  }
  return columns;
}

// The scenario a call describes: a TOML file, or TOML text made from a dictionary (relative
// paths in it relative to base_dir), then the settings ("key=value", as --set takes them).
timely::sim::Scenario scenario_of(const std::optional<std::string>& file, const std::optional<std::string>& text,
                                  const std::string& base_dir, const std::vector<std::string>& settings) {
  if (text) return ex::load_scenario_text(*text, "scenario", base_dir, settings);
  return ex::load_scenario(file ? std::optional<std::filesystem::path>(*file) : std::nullopt, settings);
}

py::dict simulate(std::optional<std::string> file, std::optional<std::string> text, std::string base_dir,
                  std::vector<std::string> settings, unsigned threads, double max_events, bool show,
                  py::object callback) {
  ex::Simulation result;
  nlohmann::ordered_json json;
  ex::ValueTable trials, curves;
  run_watched(
      [&](std::ostream& err) {
        const timely::sim::Scenario scenario = scenario_of(file, text, base_dir, settings);
        result = ex::simulate(scenario, threads, err, show, ex::RunLimits{max_events});
        json = ex::simulation_json(result, threads);
        trials = ex::trial_table(result);
        curves = ex::learning_table(result);
      },
      callback);
  py::dict out = to_python(json);
  out["per_trial"] = to_arrays(trials);
  if (!result.learning.empty()) out["learning_curves"] = to_arrays(curves);
  return out;
}

py::dict theory(std::optional<std::string> file, std::optional<std::string> text, std::string base_dir,
                std::vector<std::string> settings) {
  nlohmann::ordered_json json;
  run_watched(
      [&](std::ostream&) {
        const timely::sim::Scenario scenario = scenario_of(file, text, base_dir, settings);
        ex::validate(scenario);
        ex::check_theory_resources(scenario);
        const timely::sim::Graph graph = timely::sim::scenario_graph(scenario);
        json = ex::theory_json(scenario, timely::analysis::predict(scenario, graph));
      });
  return to_python(json);
}

// Runs a sweep and writes its files, fits.csv and figures as `timely sweep` does; the
// package reads the results table back from `out`.
void sweep(std::optional<std::string> file, std::optional<std::string> text, std::string name, std::string base_dir,
           std::string out, bool resume, bool force, bool quick, unsigned threads, double max_events, bool show,
           bool log_points, py::object callback) {
  run_watched(
      [&](std::ostream& err) {
        const ex::PlanOptions plan_options{quick, ex::RunLimits{max_events}, {}, threads};
        const ex::SweepPlan plan = text ? ex::sweep_plan_from_text(*text, name, base_dir, plan_options)
                                        : ex::load_sweep_plan(*file, plan_options);
        ex::SweepOptions options;
        options.out = out;
        options.resume = resume;
        options.force = force;
        options.threads = threads;
        options.show_progress = show;
        options.log_points = log_points;
        ex::run_sweep(plan, options, err);
        ex::report_sweep(ex::read_sweep_results(options.out), err);  // fits.csv and the figures
      },
      callback);
}

py::dict validate(bool quick, std::string out, unsigned threads, bool show, py::object callback) {
  std::size_t failed = 0;
  std::ostringstream summary;
  run_watched(
      [&](std::ostream& err) {
        ex::ValidateOptions options;
        options.quick = quick;
        options.out = out;
        options.threads = threads;
        options.show_progress = show;
        failed = ex::run_validate(options, summary, err);
      },
      callback);
  py::dict d;
  d["failed"] = failed;
  d["summary"] = summary.str();
  return d;
}

py::list keys() {
  py::list l;
  for (const ex::KeyInfo& k : ex::scenario_keys()) {
    py::dict d;
    d["name"] = std::string(k.name);
    d["accepts"] = std::string(k.accepts);
    d["meaning"] = std::string(k.meaning);
    l.append(d);
  }
  return l;
}

}  // namespace

PYBIND11_MODULE(_timely, m) {
  m.doc() = "timely's engine (use the timely package, not this module)";
  m.attr("version") = TIMELY_VERSION;
  using namespace py::literals;
  m.def("simulate", &simulate, "file"_a, "text"_a, "base_dir"_a, "settings"_a, "threads"_a, "max_events"_a, "show"_a,
        "callback"_a);
  m.def("theory", &theory, "file"_a, "text"_a, "base_dir"_a, "settings"_a);
  m.def("sweep", &sweep, "file"_a, "text"_a, "name"_a, "base_dir"_a, "out"_a, "resume"_a, "force"_a, "quick"_a,
        "threads"_a, "max_events"_a, "show"_a, "log_points"_a, "callback"_a);
  m.def("validate", &validate, "quick"_a, "out"_a, "threads"_a, "show"_a, "callback"_a);
  m.def("keys", &keys);
}
