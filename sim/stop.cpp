#include "sim/stop.hpp"

namespace timely::sim {
namespace {
thread_local const std::atomic<bool>* installed = nullptr;
}

StopScope::StopScope(const std::atomic<bool>* flag) : previous_(installed) { installed = flag; }
StopScope::~StopScope() { installed = previous_; }

const std::atomic<bool>* stop_flag() { return installed; }

}  // namespace timely::sim
