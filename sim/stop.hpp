#pragma once
// Stopping a trial midway from outside (the Python module's Ctrl-C, through
// experiments/run_control.hpp). The code that runs trials on a thread installs the flag
// with a StopScope; a trial made on that thread reads it once and checks it at 256 points
// of its simulated time, outside the per-event path, and throws Stopped when it is set. With
// no flag installed (the command line), nothing is checked.
#include <atomic>
#include <stdexcept>

namespace timely::sim {

// A run stopped from outside: its results are incomplete and must be discarded.
struct Stopped : std::runtime_error {
  Stopped() : std::runtime_error("interrupted") {}
};

class StopScope {
 public:
  explicit StopScope(const std::atomic<bool>* flag);
  ~StopScope();
  StopScope(const StopScope&) = delete;
  StopScope& operator=(const StopScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

// The flag installed on this thread, or nullptr.
const std::atomic<bool>* stop_flag();

}  // namespace timely::sim
