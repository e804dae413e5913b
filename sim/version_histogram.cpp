#include "sim/version_histogram.hpp"

#include <algorithm>

namespace timely::sim {

VersionHistogram::VersionHistogram(std::uint32_t observers, WorstTracker* across)
    : counts_(16, 0), mask_(15), observers_(observers), age_time_(16, 0.0), worst_time_(16, 0.0), across_(across) {
  counts_[0] = observers;
}

void VersionHistogram::settle_worst(double t) {
  worst_time_[worst()] += t - worst_since_;
  worst_since_ = t;
}

void VersionHistogram::advance_min(double t) {
  settle_worst(t);
  const std::uint32_t before = worst();
  while (min_version_ < version_ && count(min_version_) == 0) ++min_version_;
  if (across_) across_->change(before, worst(), t);
}

void VersionHistogram::close_epoch(double t) {
  const double length = t - epoch_start_;
  for (std::uint32_t v = min_version_; v <= version_; ++v)
    age_time_[version_ - v] += static_cast<double>(count(v)) * length;
  epoch_start_ = t;
  settle_worst(t);
}

void VersionHistogram::grow() {
  // Re-lay the ring buffer at twice the size; happens O(log(max span)) times per run.
  std::vector<std::uint32_t> bigger(counts_.size() * 2, 0);
  const std::uint32_t new_mask = static_cast<std::uint32_t>(bigger.size() - 1);
  for (std::uint32_t v = min_version_; v < version_; ++v) bigger[v & new_mask] = count(v);
  counts_.swap(bigger);
  mask_ = new_mask;
}

void VersionHistogram::source_update(double t) {
  close_epoch(t);
  ++version_;
  const std::uint32_t span = version_ - min_version_ + 1;
  if (span > counts_.size()) grow();
  count(version_) = 0;
  if (span > age_time_.size()) {
    age_time_.resize(std::max<std::size_t>(span, 2 * age_time_.size()), 0.0);
    worst_time_.resize(age_time_.size(), 0.0);
  }
  if (across_) across_->change(worst() - 1, worst(), t);
}

void VersionHistogram::start_window(double t) {
  std::fill(age_time_.begin(), age_time_.end(), 0.0);
  epoch_start_ = t;
  std::fill(worst_time_.begin(), worst_time_.end(), 0.0);
  worst_since_ = t;
}

void VersionHistogram::close(double t) { close_epoch(t); }

}  // namespace timely::sim
