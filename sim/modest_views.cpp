#include "sim/modest_views.hpp"

#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <functional>
#include <numeric>

#include "sim/user_clocks.hpp"

namespace timely::sim::modest {

ViewSync::ViewSync(const Scenario& s, std::uint32_t n, std::uint32_t sample_size, const Availability& avail,
                   std::uint64_t trial)
    : s_(s), avail_(avail), views_(n), rng_(make_rng(s.run.seed, Stream::views, trial)),
      fanout_(std::min<std::uint32_t>(10 * sample_size, n - 1)), own_(n, 0), pool_(n) {
  std::iota(pool_.begin(), pool_.end(), 0u);
  place_ = pool_;
  for (std::uint32_t u = 0; u < n; ++u)
    for (const auto& [start, end] : avail.spans(u)) {
      if (start > 0.0) transitions_.push_back({start, u, true});
      if (end < s.run.horizon) transitions_.push_back({end, u, false});
    }
  std::sort(transitions_.begin(), transitions_.end(), [](const Transition& a, const Transition& b) {
    return a.time != b.time ? a.time < b.time : a.user < b.user;
  });
}

void ViewSync::emit(double t) {
  const auto later = [](const Announcement& a, const Announcement& b) { return a.arrival > b.arrival; };
  boost::random::uniform_01<double> uniform;
  const std::uint32_t n = views_.size();
  for (; next_ < transitions_.size() && transitions_[next_].time <= t; ++next_) {
    const Transition& x = transitions_[next_];
    // The user's own entry changes at once (delivered to itself at the transition).
    own_[x.user] = next_counter(own_[x.user], x.join);
    const ViewEntry entry{own_[x.user], views_.at(x.user, x.user).last_active};
    in_flight_.push_back({x.time, x.user, x.user, entry});
    std::push_heap(in_flight_.begin(), in_flight_.end(), later);
    // fanout_ distinct others: a partial Fisher-Yates shuffle of the users but x.user, kept
    // last in the pool.
    swap_places(place_[x.user], n - 1);
    for (std::uint32_t i = 0; i < fanout_; ++i) {
      swap_places(i, boost::random::uniform_int_distribution<std::uint32_t>(i, n - 2)(rng_));
      const double latency = s_.gossip.latency_law ? sample(*s_.gossip.latency_law, rng_) : s_.gossip.latency;
      if (s_.gossip.loss > 0.0 && uniform(rng_) < s_.gossip.loss) continue;
      in_flight_.push_back({x.time + latency, pool_[i], x.user, entry});
      std::push_heap(in_flight_.begin(), in_flight_.end(), later);
    }
  }
}

void ViewSync::swap_places(std::uint32_t i, std::uint32_t j) {
  std::swap(pool_[i], pool_[j]);
  place_[pool_[i]] = i;
  place_[pool_[j]] = j;
}

void ViewSync::deliver(const Announcement& a) {
  if (a.receiver != a.user && !avail_.online(a.receiver, a.arrival)) return;
  ViewEntry& e = views_.at(a.receiver, a.user);
  e = merge(e, a.entry);
}

void ViewSync::advance(double t) {
  emit(t);
  const auto later = [](const Announcement& a, const Announcement& b) { return a.arrival > b.arrival; };
  while (!in_flight_.empty() && in_flight_.front().arrival <= t) {
    std::pop_heap(in_flight_.begin(), in_flight_.end(), later);
    deliver(in_flight_.back());
    in_flight_.pop_back();
  }
}

void ViewSync::catch_up(std::uint32_t user, double t) {
  emit(t);
  for (const Announcement& a : in_flight_)
    if (a.receiver == user && a.arrival <= t) deliver(a);
}

}  // namespace timely::sim::modest
