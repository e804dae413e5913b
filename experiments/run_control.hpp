#pragma once
// A run watched and stoppable by the code that started it on another thread: the Python
// module (python/) runs commands on a thread of its own, shows their progress through a
// callback and stops them on Ctrl-C. The command line needs none of this: a run with no
// control installed behaves as it always did.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "sim/stop.hpp"

namespace timely::experiments {

class RunControl {
 public:
  // Asks the run to stop: no further trial starts, the ones running stop at their next
  // checkpoint (sim/stop.hpp), and the run throws Interrupted. A sweep's finished points stay
  // on disk, so --resume continues it.
  void request_stop() { stop_.store(true, std::memory_order_relaxed); }
  bool stop_requested() const { return stop_.load(std::memory_order_relaxed); }
  const std::atomic<bool>* stop_flag() const { return &stop_; }

  struct Report {
    std::string label;   // "simulate", a sweep's name, a validation stage's
    double fraction = 0.0;
    std::string status;  // "3/8", "points 2/9, trials 17/72"
    std::uint64_t count = 0;  // how many reports so far: a watcher sees what is new
  };
  // Called by Progress (any thread); read by the watcher.
  void report(const std::string& label, double fraction, const std::string& status);
  Report latest() const;

 private:
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  Report latest_;
};

// A run stopped by RunControl::request_stop (between trials, or inside one at a checkpoint).
using Interrupted = sim::Stopped;

// Installs `control` for what runs on this thread until the scope ends: the Progress bars
// and trial pools made here report to it (their worker threads included).
class ControlScope {
 public:
  explicit ControlScope(RunControl& control);
  ~ControlScope();
  ControlScope(const ControlScope&) = delete;
  ControlScope& operator=(const ControlScope&) = delete;

 private:
  RunControl* previous_;
};

// The control installed on this thread, or nullptr.
RunControl* current_control();

}  // namespace timely::experiments
