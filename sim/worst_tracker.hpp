#pragma once
// The worst staleness over all tracked pairs, max_k max_i S_ik(t), integrated exactly in time.
//
// Each source reports when its own worst observer's staleness changes (a source update or
// the last holder of its oldest version catching up: rare next to gossip events). Counts of
// sources per worst value give the maximum in O(1) amortised time, and the time spent at
// each value of the maximum is kept so that P(max > B) can be read for any bound B.
#include <cstdint>
#include <vector>

namespace timely::sim {

class WorstTracker {
 public:
  WorstTracker() = default;
  explicit WorstTracker(std::uint32_t sources) : counts_(16, 0), max_time_(16, 0.0) { counts_[0] = sources; }

  void change(std::uint32_t from, std::uint32_t to, double t);
  void start_window(double t);
  void close(double t) { settle(t); }

  std::uint32_t max() const { return max_; }
  // max_time()[w]: time during which the maximum over sources was w.
  const std::vector<double>& max_time() const { return max_time_; }

 private:
  void settle(double t) {
    max_time_[max_] += t - since_;
    since_ = t;
  }
  std::vector<std::uint32_t> counts_;  // sources whose worst observer has staleness w
  std::uint32_t max_ = 0;
  double since_ = 0.0;
  std::vector<double> max_time_;
};

}  // namespace timely::sim
