#pragma once
// Checks of a scenario that involve several keys (experiments/scenario_keys.hpp checks each
// key's own range when it is set).
#include "sim/scenario.hpp"

namespace timely::experiments {

// Checks that involve several keys (warm-up below horizon, tracked sources at most n, the
// users and churn files against n, per-user clocks and the network layer against the
// staleness model and FedAvg); single-key ranges are checked when a key is set. What a run
// costs is check_resources' (experiments/scenario_resources.hpp).
void validate(const sim::Scenario& scenario);

}  // namespace timely::experiments
