#pragma once
// Exact, event-by-event time integration of the staleness of many observers of one source.
//
// Observers' views of the source are kept as counts per version, so a view that changes
// costs O(1) and the time-integrated distribution of staleness (hence its mean and
// quantiles) and the worst observer's staleness are exact — no sampling on a grid.
//
// Between two source updates (an "epoch" starting at t0) every version has a fixed
// staleness, so for the count c_v of observers at version v
//     integral_{t0}^{t1} c_v(t) dt = c_v(t1) (t1 - t0) - sum_k delta_k (t_k - t0)
// over the changes delta_k at times t_k. A move therefore adds +-(t - t0) to two cells of
// the staleness histogram, and closing an epoch adds c_v (t1 - t0) for the O(span)
// versions in use. Source updates are rare next to gossip, so this is O(1) per event.
#include <cstdint>
#include <vector>

#include "sim/worst_tracker.hpp"

namespace timely::sim {

class VersionHistogram {
 public:
  VersionHistogram() = default;
  // `observers` views, all at version 0 like the source. If `across` is given, it is told
  // whenever this source's worst-observer staleness changes.
  explicit VersionHistogram(std::uint32_t observers, WorstTracker* across = nullptr);

  // One observer's view goes from version `from` to the newer `to` (from < to <= version()).
  // Always inlined: it runs for every view a gossip improves, and GCC's inliner let it go out
  // of line in the complete graph's users loop when the loop changed elsewhere (12% more
  // instructions per event, callgrind).
  [[gnu::always_inline]] void move(std::uint32_t from, std::uint32_t to, double t) {
    const double since_epoch = t - epoch_start_;
    age_time_[version_ - from] += since_epoch;
    age_time_[version_ - to] -= since_epoch;
    --count(from);
    ++count(to);
    if (from == min_version_ && count(from) == 0) advance_min(t);
  }

  // The source makes a new version at time t.
  void source_update(double t);
  // Discard everything integrated so far; integrate from time t on (end of warm-up).
  void start_window(double t);
  // Integrate up to time t (end of the horizon).
  void close(double t);

  std::uint32_t version() const { return version_; }
  std::uint32_t min_view() const { return min_version_; }
  std::uint32_t observers() const { return observers_; }
  // age_time()[a]: time-integral of the number of observers whose staleness is a.
  const std::vector<double>& age_time() const { return age_time_; }
  // worst_time()[w]: time during which the worst observer's staleness, version() -
  // min_view(), was w.
  const std::vector<double>& worst_time() const { return worst_time_; }
  std::uint32_t worst() const { return version_ - min_version_; }

 private:
  std::uint32_t& count(std::uint32_t v) { return counts_[v & mask_]; }
  void close_epoch(double t);
  void settle_worst(double t);
  void advance_min(double t);
  void grow();

  std::vector<std::uint32_t> counts_;  // ring buffer over versions [min_version_, version_]
  std::uint32_t mask_ = 0;
  std::uint32_t observers_ = 0;
  std::uint32_t version_ = 0;
  std::uint32_t min_version_ = 0;
  double epoch_start_ = 0.0;
  std::vector<double> age_time_;
  std::vector<double> worst_time_;
  double worst_since_ = 0.0;
  WorstTracker* across_ = nullptr;
};

}  // namespace timely::sim
