#pragma once
// The observation window of a trial and its stop checkpoints. Internal to sim/.
#include <algorithm>
#include <atomic>

#include "sim/stop.hpp"

namespace timely::sim::engine {

// The observation window [warmup, horizon]: `start` is called when the first event falls
// after the warm-up. Exponential clocks are memoryless, so a drawn event time stays valid
// across the window start. The per-event test is one comparison with the next boundary;
// the stop checkpoints (sim/stop.hpp) are boundaries too, so they cost nothing per event.
class Window {
 public:
  Window(double warmup, double horizon) : warmup_(warmup), horizon_(horizon) {
    step_ = horizon_ / checkpoints;
    if (!(step_ > 0.0)) stop_ = nullptr;  // a horizon too small to divide: no checkpoints
    if (stop_) {  // checkpoints every 1/256 of the horizon (sim/stop.hpp)
      checkpoint_ = step_;
      boundary_ = std::min(warmup_, checkpoint_);
    }
  }
  // True if an event at t_next is to be simulated; starts the window on the way. Throws
  // Stopped at a checkpoint once the stop flag is set.
  template <class StartFn>
  bool admits(double t_next, StartFn&& start) {
    if (t_next <= boundary_) return true;
    return crosses(t_next, start);
  }
  double length() const { return horizon_ - warmup_; }
  double horizon() const { return horizon_; }

 private:
  static constexpr double checkpoints = 256.0;

  // The next event falls after the boundary: the window's start or end, or a checkpoint.
  // Out of line and cold: it runs a few hundred times per trial, and the event loops stay
  // small (see VersionHistogram::move for what GCC's inliner did to them otherwise).
  template <class StartFn>
  [[gnu::noinline, gnu::cold]] bool crosses(double t_next, StartFn& start) {
    for (;;) {
      const double edge = started_ ? horizon_ : warmup_;
      if (boundary_ < edge) {  // a checkpoint
        if (stop_->load(std::memory_order_relaxed)) throw Stopped();
        checkpoint_ += step_;
        boundary_ = std::min(checkpoint_, edge);
      } else if (!started_) {
        start(warmup_);
        started_ = true;
        boundary_ = stop_ ? std::min(checkpoint_, horizon_) : horizon_;
      } else {
        return false;
      }
      if (t_next <= boundary_) return true;
    }
  }

  double warmup_, horizon_;
  const std::atomic<bool>* stop_ = stop_flag();
  double step_ = 0.0, checkpoint_ = 0.0;
  double boundary_ = warmup_;
  bool started_ = false;
};

}  // namespace timely::sim::engine
