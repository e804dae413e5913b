#pragma once
// The links of a protocol that works out its own transfers (MoDeST's models, SAPO's rollouts;
// docs/model.md §4.1, §4.3): a message waits for its sender's uplink, takes bytes / B_i there,
// then the latency; it is lost with gossip.loss, if its sender goes offline during the transfer
// or its receiver is offline when it arrives. Every draw comes from the engine given, in the
// order latency, then loss. Internal to sim/.
#include <algorithm>
#include <boost/random/uniform_01.hpp>
#include <cstdint>
#include <limits>
#include <vector>

#include "sim/modest_sampling.hpp"
#include "sim/round_traffic.hpp"
#include "sim/user_clocks.hpp"

namespace timely::sim {

class Uplinks {
 public:
  // `n` users whose messages are `bytes` long, counted in `traffic`.
  Uplinks(const Scenario& s, std::uint32_t n, double bytes, const modest::Availability& avail, Rng& rng,
          RoundTraffic& traffic)
      : s_(s), avail_(avail), rng_(rng), traffic_(traffic), transfer_(transfer_times(s, n, bytes)),
        uplink_free_(n, 0.0) {}

  // One latency, from gossip.latency's law or its number.
  double latency() { return s_.gossip.latency_law ? sample(*s_.gossip.latency_law, rng_) : s_.gossip.latency; }
  // Whether one message is lost (gossip.loss).
  bool lost() { return s_.gossip.loss > 0.0 && uniform_(rng_) < s_.gossip.loss; }
  // User u's uplink time for one message.
  double transfer(std::uint32_t u) const { return transfer_[u]; }

  // A message from `from` to `to`, ready at t: queued, sent and counted. Returns its arrival,
  // or infinity if it is lost.
  double send(std::uint32_t from, std::uint32_t to, double t) {
    const double start = std::max(t, uplink_free_[from]);
    uplink_free_[from] = start + transfer_[from];
    double arrival = start + transfer_[from] + latency();
    if (lost() || !avail_.online(from, start) || avail_.online_until(from, start) < start + transfer_[from] ||
        !avail_.online(to, arrival))
      arrival = std::numeric_limits<double>::infinity();
    traffic_.send(from, to, t, start, arrival);
    return arrival;
  }

 private:
  const Scenario& s_;
  const modest::Availability& avail_;
  Rng& rng_;
  RoundTraffic& traffic_;
  std::vector<double> transfer_;     // each user's uplink time for one message
  std::vector<double> uplink_free_;  // when each uplink is next free
  boost::random::uniform_01<double> uniform_;
};

}  // namespace timely::sim
