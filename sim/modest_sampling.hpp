#pragma once
// MoDeST's sampling (de Vos et al., arXiv 2302.13837; the public code sacs-epfl/plexus;
// docs/model.md §4.1): every user orders the users it knows by a hash of (user, round) and
// pings them in that order until enough answer, so users that know the same users derive the
// same sample without a server. And who answers: each user's online intervals under churn.
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/random.hpp"
#include "sim/scenario.hpp"

namespace timely::sim::modest {

// User u's place in round k's order: SplitMix64's finaliser (Steele, Lea & Flood, "Fast
// splittable pseudorandom number generators", OOPSLA 2014) of (k, u) packed into one word, the
// same on every platform. Ties (equal ranks) are broken by the user id.
std::uint64_t rank(std::uint32_t user, std::uint64_t round);

// The users 0..n-1 in round k's order, into `out` (resized to n; no allocation once sized).
void round_order(std::uint32_t n, std::uint64_t round, std::vector<std::uint32_t>& out);

// Each user's online intervals over the run (docs/model.md §7.3): the churn trace's, or drawn
// from the Markov model (each user online at time 0 with probability on / (on + off), then
// alternating exponential periods) on the trial's churn stream; without churn, always online.
class Availability {
 public:
  Availability(const Scenario& s, std::uint32_t n, std::uint64_t trial);
  bool online(std::uint32_t user, double t) const;
  // The end of the online interval holding t (user online at t).
  double online_until(std::uint32_t user, double t) const;
  // The start of the user's first online interval after t (infinity if none).
  double next_online(std::uint32_t user, double t) const;
  bool churns() const { return !always_; }
  // The user's online intervals [start, end), sorted (empty without churn).
  const std::vector<std::pair<double, double>>& spans(std::uint32_t user) const { return spans_[user]; }

 private:
  bool always_ = true;
  std::vector<std::vector<std::pair<double, double>>> spans_;  // per user, sorted, disjoint [start, end)
};

}  // namespace timely::sim::modest
