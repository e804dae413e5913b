#pragma once
// Age in time of the source model (docs/model.md §2 "age in time"): user i holds information
// that left the source at time u_i (the source's push that began the chain of contacts it
// came through), and its age at time t is t - u_i: Yates' age of gossip (arXiv 2102.02893),
// the classical age of information, beside the version age that counts versions missed.
//
// The time average over users is integrated exactly, event by event: between changes the
// sum of ages D(t) = sum_i (t - u_i) grows at rate n, so integral D = D (t1 - t0) + n (t1 -
// t0)^2 / 2; a change of one u_i shifts D by the difference. The integration is lazy (only
// at changes and at the window's ends), O(1) each. Internal to sim/.
#include <cstdint>

namespace timely::sim {

class TimeAgeIntegral {
 public:
  explicit TimeAgeIntegral(std::uint32_t users) : users_(users) {}

  // One user's time stamp goes from `from` to the newer `to` at time t.
  [[gnu::always_inline]] void replace(double from, double to, double t) {
    advance(t);
    sum_ -= to - from;
  }
  // Discards what was integrated so far (end of warm-up at t).
  void start_window(double t) {
    advance(t);
    integral_ = 0.0;
  }
  // Integrates up to t and returns the integral of the sum of ages since the window began.
  double close(double t) {
    advance(t);
    return integral_;
  }

 private:
  [[gnu::always_inline]] void advance(double t) {
    const double dt = t - last_;
    integral_ += dt * (sum_ + 0.5 * users_ * dt);
    sum_ += users_ * dt;
    last_ = t;
  }

  double users_;
  double sum_ = 0.0;  // D(last_): every user starts with the source's information at t = 0
  double last_ = 0.0;
  double integral_ = 0.0;
};

}  // namespace timely::sim
