#pragma once
// What a round protocol's messages cost (MoDeST, D-PSGD, FedAvg with timed rounds), counted
// as the network layer counts gossip's (docs/model.md §7.4), into the same Communication:
// a model transfer is sent when it starts on its sender's uplink (its bytes are counted then),
// delivered when it arrives, lost when it never does; a ping is a request without payload.
// Round protocols work out a round's transfers before they happen, so each is held until
// the protocol's clock passes its start: the bytes an observation reads are those of the
// transfers started by then, and a transfer that would start after the horizon is not
// counted. Internal to sim/.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <queue>
#include <vector>

#include "sim/learning.hpp"
#include "sim/trial.hpp"
#include "sim/window.hpp"

namespace timely::sim {

class RoundTraffic {
 public:
  // `nodes` senders and receivers (users, and FedAvg's server as node n), each message
  // `bytes` long; counts into `comm`, which the bank reads at every observation.
  RoundTraffic(std::uint32_t nodes, double bytes, Communication& comm)
      : comm_(comm), bytes_(bytes), sent_by_(nodes, 0.0), received_by_(nodes, 0.0) {}

  // A model from `from` to `to`, ready at `ready`, whose transfer starts at `start` (the
  // uplink was busy until then) and arrives at `arrival` (infinity: lost).
  void send(std::uint32_t from, std::uint32_t to, double ready, double start, double arrival) {
    pending_.push({start, ready, arrival, from, to, true});
  }
  // A ping from a user at `start`, answered or not.
  void ping(double start, bool answered) { pending_.push({start, start, answered ? start : never, 0, 0, false}); }

  // Counts every message started by t, in start order. Before each it calls at(start), the
  // protocol's own step to that time (its window, then the bank's observations), which
  // returns false past the horizon: counting stops there.
  template <class At>
  void advance(double t, At&& at) {
    while (!pending_.empty() && pending_.top().start <= t) {
      const Message m = pending_.top();
      if (!at(m.start)) return;
      pending_.pop();
      count(m);
    }
  }

  // The end of the run: every message started by the horizon counted (at(horizon) must have
  // been reached or refused already), the most loaded nodes found.
  template <class At>
  void finish(double horizon, At&& at) {
    advance(horizon, at);
    comm_.bytes_sent_per_user_max = *std::max_element(sent_by_.begin(), sent_by_.end());
    comm_.bytes_received_per_user_max = *std::max_element(received_by_.begin(), received_by_.end());
  }

 private:
  static constexpr double never = std::numeric_limits<double>::infinity();
  struct Message {
    double start, ready, arrival;
    std::uint32_t from, to;
    bool payload;
    bool operator>(const Message& o) const { return start > o.start; }
  };

  void count(const Message& m) {
    if (!m.payload) {
      ++comm_.requests_sent;
      if (!(m.arrival < never)) ++comm_.messages_lost;
      return;
    }
    ++comm_.messages_sent;
    comm_.bytes_sent += bytes_;
    sent_by_[m.from] += bytes_;
    if (m.start > m.ready) {
      ++comm_.queued;
      comm_.queueing_delay += m.start - m.ready;
    }
    if (m.arrival < never) {
      ++comm_.messages_delivered;
      comm_.bytes_received += bytes_;
      received_by_[m.to] += bytes_;
      comm_.latency_total += m.arrival - m.start;
    } else {
      ++comm_.messages_lost;
    }
  }

  Communication& comm_;
  double bytes_;
  std::vector<double> sent_by_, received_by_;
  std::priority_queue<Message, std::vector<Message>, std::greater<>> pending_;
};

// A round protocol's clock over a bank (sim/learning_bank.hpp), with its messages counted in
// the trial's communication: reach(t) moves the window (false past the horizon) and takes the
// observations due by t; step(t) first counts the messages started by t, so that those
// observations read the bytes sent by then; finish() at the end of the run.
template <class Bank>
class RoundClock {
 public:
  // Messages of `bytes` each: by default, a model.
  RoundClock(const Scenario& s, Bank& bank, std::uint32_t nodes, LearningTrialResult& result)
      : RoundClock(s, bank, nodes, result, bank.message_bytes()) {}
  RoundClock(const Scenario& s, Bank& bank, std::uint32_t nodes, LearningTrialResult& result, double bytes)
      : bank_(bank), window_(s.run.warmup, s.run.horizon), horizon_(s.run.horizon),
        traffic_(nodes, bytes, result.staleness.communication.emplace()) {
    bank.count_bytes(&result.staleness.communication->bytes_sent);
  }
  RoundClock(const RoundClock&) = delete;
  RoundClock& operator=(const RoundClock&) = delete;

  RoundTraffic& traffic() { return traffic_; }
  bool reach(double t) {
    if (!window_.admits(t, [&](double start) { bank_.start_window(start); })) return false;
    bank_.before(t);
    return true;
  }
  bool step(double t) {
    traffic_.advance(t, [&](double x) { return reach(x); });
    return reach(t);
  }
  // Every message started by the horizon counted; then the bank closes the run.
  void finish() {
    traffic_.finish(horizon_, [&](double x) { return reach(x); });
    bank_.close(horizon_);
  }

 private:
  Bank& bank_;
  engine::Window window_;
  double horizon_;
  RoundTraffic traffic_;
};

}  // namespace timely::sim
