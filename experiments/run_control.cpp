#include "experiments/run_control.hpp"

namespace timely::experiments {
namespace {
thread_local RunControl* installed = nullptr;
}

void RunControl::report(const std::string& label, double fraction, const std::string& status) {
  const std::lock_guard lock(mutex_);
  latest_.label = label;
  latest_.fraction = fraction;
  latest_.status = status;
  ++latest_.count;
}

RunControl::Report RunControl::latest() const {
  const std::lock_guard lock(mutex_);
  return latest_;
}

ControlScope::ControlScope(RunControl& control) : previous_(installed) { installed = &control; }
ControlScope::~ControlScope() { installed = previous_; }

RunControl* current_control() { return installed; }

}  // namespace timely::experiments
