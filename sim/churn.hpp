#pragma once
// Churn traces (docs/model.md §7.3): each user's online intervals, read from the CSV file that
// churn.trace_file names.
#include <memory>
#include <string>

#include "sim/scenario.hpp"

namespace timely::sim {

// Reads a trace: a header line `user,start,end`, then one line per online interval [start, end)
// with a user id in [0, 10^7) and 0 <= start < end <= 1e12. `#` comment lines, blank lines,
// spaces around cells, CRLF line ends and a UTF-8 byte-order mark are accepted. Each user's
// intervals are sorted and touching ones merged; overlapping ones are refused. online is sized
// by the largest user id + 1. Throws InputError naming churn.trace_file, the file and the line.
std::shared_ptr<const ChurnTrace> read_churn_trace(const std::string& path);

}  // namespace timely::sim
