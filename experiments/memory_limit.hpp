#pragma once
// How much memory this process may still allocate: the smallest of physical memory, the
// cgroup's limit and the address-space and data-segment rlimits, each less what the process
// already holds against it. experiments/scenario_resources.cpp checks a run's estimate
// (sim/cost.hpp, cost::memory) against it before anything is allocated.
#include <string>

namespace timely::experiments {

struct MemoryLimit {
  double bytes = 0.0;  // what may still be allocated under the binding limit
  std::string what;    // which limit binds, e.g. "RLIMIT_AS (4.0 GiB, 0.1 GiB in use)"
};

// The binding limit now. Reads /proc/self/status, /proc/self/cgroup and /sys/fs/cgroup;
// a limit it cannot read does not bind.
MemoryLimit memory_limit();

}  // namespace timely::experiments
