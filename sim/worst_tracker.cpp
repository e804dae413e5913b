#include "sim/worst_tracker.hpp"

#include <algorithm>

namespace timely::sim {

void WorstTracker::change(std::uint32_t from, std::uint32_t to, double t) {
  settle(t);
  if (to >= counts_.size()) {
    counts_.resize(std::max<std::size_t>(to + 1, 2 * counts_.size()), 0);
    max_time_.resize(counts_.size(), 0.0);
  }
  --counts_[from];
  ++counts_[to];
  if (to > max_) max_ = to;
  else
    while (counts_[max_] == 0) --max_;
}

void WorstTracker::start_window(double t) {
  std::fill(max_time_.begin(), max_time_.end(), 0.0);
  since_ = t;
}

}  // namespace timely::sim
