#pragma once
// Figures of network studies (docs/model.md §7): staleness and final accuracy against each
// swept network key, and learning accuracy against the bytes sent per user.
#include <ostream>
#include <string>
#include <vector>

#include "experiments/sweep_report.hpp"

namespace timely::experiments {

// Draws what applies to the sweep's axes and columns; a figure that cannot be drawn is
// reported to `log` and skipped. Appends the names drawn.
void report_network(const SweepResults& results, std::vector<std::string>& drawn, std::ostream& log,
                    const plots::Drawing& drawing = {});

}  // namespace timely::experiments
