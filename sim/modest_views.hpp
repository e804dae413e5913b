#pragma once
// MoDeST's views (de Vos et al., arXiv 2302.13837; sacs-epfl/plexus; timely's reading in
// docs/model.md §4.1): each user's map from every user to (last round seen active, join/leave
// counter), merged entry by entry by maximum, carried on every model transfer; a user's joins
// and leaves are announced to 10 s random users. A user samples only the users its view marks
// as joined. Internal to sim/.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "sim/modest_sampling.hpp"
#include "sim/random.hpp"
#include "sim/scenario.hpp"

namespace timely::sim::modest {

// One user's knowledge of another. The counter counts the user's joins and leaves: even is
// joined (0: bootstrapped), odd is left. Rounds are 32 bits (saturating): no run has 4e9 rounds.
struct ViewEntry {
  std::uint32_t counter = 0;
  std::uint32_t last_active = 0;  // the last round the user was seen to send a model in

  bool joined() const { return counter % 2 == 0; }
  friend bool operator==(const ViewEntry&, const ViewEntry&) = default;
};

// The merge: per field, the maximum. So a newer join or leave (a higher counter) wins whatever
// the rounds say, and merging is idempotent, commutative and associative (a join
// semilattice): the order in which views meet does not matter.
inline ViewEntry merge(ViewEntry a, ViewEntry b) {
  return {std::max(a.counter, b.counter), std::max(a.last_active, b.last_active)};
}
inline void merge_into(std::span<ViewEntry> into, std::span<const ViewEntry> from) {
  for (std::size_t u = 0; u < into.size(); ++u) into[u] = merge(into[u], from[u]);
}

// Every user's view of every user, dense: n^2 entries of 8 bytes, so MoDeST with churn refuses
// network.n above max_users (sim/protocols.cpp). Initially complete and consistent: everyone
// known as joined (as bootstrapped), seen active at round 0.
class Views {
 public:
  static constexpr std::uint32_t max_users = 2048;  // 32 MiB per trial

  explicit Views(std::uint32_t n) : n_(n), entries_(static_cast<std::size_t>(n) * n) {}
  std::uint32_t size() const { return n_; }
  std::span<const ViewEntry> of(std::uint32_t viewer) const {
    return {entries_.data() + static_cast<std::size_t>(viewer) * n_, n_};
  }
  std::span<ViewEntry> of(std::uint32_t viewer) { return {entries_.data() + static_cast<std::size_t>(viewer) * n_, n_}; }
  ViewEntry& at(std::uint32_t viewer, std::uint32_t user) { return entries_[static_cast<std::size_t>(viewer) * n_ + user]; }
  bool joined(std::uint32_t viewer, std::uint32_t user) const {
    return entries_[static_cast<std::size_t>(viewer) * n_ + user].joined();
  }
  // A model transfer: the receiver merges the sender's view.
  void carry(std::uint32_t from, std::uint32_t to) {
    if (from != to) merge_into(of(to), of(from));
  }
  // A user sending a model in `round` marks itself active then.
  void mark_active(std::uint32_t user, std::uint64_t round) {
    ViewEntry& e = at(user, user);
    e.last_active = std::max(e.last_active, static_cast<std::uint32_t>(std::min<std::uint64_t>(round, UINT32_MAX)));
  }

 private:
  std::uint32_t n_;
  std::vector<ViewEntry> entries_;
};

// The smallest counter above c with the given parity: a join makes it even, a leave odd.
inline std::uint32_t next_counter(std::uint32_t c, bool join) { return (c + 1) % 2 == (join ? 0u : 1u) ? c + 1 : c + 2; }

// The views of one trial under churn, with the announcements of joins and leaves in flight.
// Each transition of the churn (coming online: a join; going offline: a leave) is announced by
// its user to min(10 s, n - 1) distinct uniformly random other users, each arriving after one
// latency draw (gossip.latency or its law) unless lost (gossip.loss); a receiver online at
// the arrival merges the user's entry. The user's own entry changes at the transition. The
// draws come from the trial's views stream, so they never shift the rounds' own draws.
//
// Time: the rounds are simulated one after another, not as one event queue, so a view is
// brought up to date when it is read: `advance(t)` at a round's start delivers every
// announcement arriving by t to everyone; `catch_up(user, t)` before a read inside the round
// delivers the ones to that user arriving by t. Deliveries are merges, so delivering one twice
// changes nothing.
class ViewSync {
 public:
  ViewSync(const Scenario& s, std::uint32_t n, std::uint32_t sample_size, const Availability& avail, std::uint64_t trial);

  Views& views() { return views_; }
  const Views& views() const { return views_; }
  void advance(double t);
  void catch_up(std::uint32_t user, double t);

 private:
  struct Transition {
    double time;
    std::uint32_t user;
    bool join;
  };
  struct Announcement {
    double arrival;
    std::uint32_t receiver, user;
    ViewEntry entry;
  };
  void emit(double t);  // the announcements of every transition up to t
  void deliver(const Announcement& a);
  void swap_places(std::uint32_t i, std::uint32_t j);

  const Scenario& s_;
  const Availability& avail_;
  Views views_;
  Rng rng_;
  std::uint32_t fanout_;
  std::vector<Transition> transitions_;  // sorted by time
  std::size_t next_ = 0;
  std::vector<Announcement> in_flight_;  // a min-heap by arrival
  std::vector<std::uint32_t> own_;       // each user's own counter, as of the last transition emitted
  std::vector<std::uint32_t> pool_;      // the users, permuted in place to draw receivers
  std::vector<std::uint32_t> place_;     // place_[u]: u's index in pool_
};

}  // namespace timely::sim::modest
