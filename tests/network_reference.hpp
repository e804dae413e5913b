#pragma once
// An independent, deliberately naive reference simulator of the users staleness model
// (docs/model.md §2) with the network of docs/model.md §7: latency, uplink bandwidth with a
// FIFO queue or drops, loss, and Markov churn. It shares no code with sim/: it exists so
// that the engine (sim/message_layer.hpp) can be compared with a second implementation written
// straight from the text of §7.
//
// Deliberately naive, so that it is easy to check by reading:
//   - every event (each user's update tick, each user's gossip tick, each churn transition,
//     each transfer end, each arrival) is an entry of one plain std::vector, and the next
//     event is found by scanning the whole vector for the smallest time (ties: the earliest
//     scheduled);
//   - every clock is drawn separately: user i's update clock and gossip clock each hold
//     their own next tick, redrawn as Exp(rate) after each tick (no superposition);
//   - a payload message carries a full copy of its sender's whole view vector, taken when
//     its transfer starts;
//   - the staleness sums are recomputed from the full n x n view matrix at every event,
//     and integrated exactly over the time since the previous event.
// Randomness comes from std::mt19937_64 and the standard distributions: the reference
// shares no random stream with timely, only the distributions agree. The simulator
// (namespace ref_detail, run_reference) uses nothing of timely; at the end of the file an
// adapter copies a sim::Scenario's keys into a RefConfig, and helpers compare per-trial
// values within 99.9% confidence intervals.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "analysis/statistics.hpp"
#include "sim/scenario.hpp"

namespace timely::test {

enum class RefMode { push, pull, exchange };

struct RefConfig {
  std::uint32_t n = 0;
  std::vector<std::vector<std::uint32_t>> neighbours;  // partner uniform among them
  RefMode mode = RefMode::push;
  double update_rate = 1.0;  // mu: Poisson update clock of every user
  double gossip_rate = 1.0;  // lambda: Poisson gossip clock of every user
  // Links.
  double latency = 0.0;              // constant propagation delay, or the mean of an exponential one
  bool exponential_latency = false;  // latency ~ Exp(mean = latency), drawn per message
  double message_bytes = 0.0;        // payload bytes; 0: a vector clock, 4 n bytes
  double bandwidth = 0.0;            // uplink bytes per unit time; 0: transfers take no time
  bool drop_when_busy = false;       // false: FIFO queue at a busy uplink; true: drop the send
  double loss = 0.0;                 // probability that a message is lost at its transfer end
  // A pull request takes no uplink time (§7.1). false: it is sent at once even while the
  // uplink is busy (never queued nor dropped), as the engine reads §7.1; true: it waits in
  // the FIFO queue behind the payloads like any send (the other literal reading).
  bool requests_wait_for_uplink = false;
  // Markov churn.
  bool churn = false;
  double online_mean = 100.0, offline_mean = 10.0;
  bool offline_updates = true;
  // Window of the time averages; the counters run over [0, horizon].
  double warmup = 100.0, horizon = 1000.0;
};

struct RefResult {
  double mean_staleness = 0.0;         // time average over [warmup, horizon] of the mean over pairs i != k
  double mean_staleness_online = 0.0;  // the same over pairs whose observer is online (pooled ratio)
  double availability = 0.0;           // time average of the fraction of users online
  // Counts over [0, horizon].
  std::uint64_t messages_sent = 0;       // payload transfers started
  std::uint64_t messages_delivered = 0;  // payload messages merged
  std::uint64_t messages_lost = 0;       // payload messages and requests lost
  std::uint64_t requests_sent = 0;       // pull requests sent
  std::uint64_t sends_dropped = 0;       // sends dropped at a busy uplink or with a cleared queue
  std::uint64_t ticks_offline = 0;       // gossip ticks of offline users
  std::uint64_t events = 0;
};

inline std::vector<std::vector<std::uint32_t>> ref_complete_graph(std::uint32_t n) {
  std::vector<std::vector<std::uint32_t>> nb(n);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t j = 0; j < n; ++j)
      if (j != i) nb[i].push_back(j);
  return nb;
}

inline std::vector<std::vector<std::uint32_t>> ref_ring(std::uint32_t n) {
  std::vector<std::vector<std::uint32_t>> nb(n);
  for (std::uint32_t i = 0; i < n; ++i) nb[i] = {(i + n - 1) % n, (i + 1) % n};
  return nb;
}

namespace ref_detail {

// What a message is for: it decides what its arrival does.
enum class Purpose { push, pull_request, pull_reply, exchange_out, exchange_reply };

struct Message {
  std::uint32_t from = 0, to = 0;
  Purpose purpose = Purpose::push;
  std::vector<std::uint64_t> payload;  // copy of the sender's view at transfer start (empty for a request)
  double start = 0.0;                  // transfer start
};

enum class Kind { update, gossip, churn, transfer_end, arrival };

struct Event {
  double time;
  std::uint64_t seq;  // order of scheduling, breaks ties
  Kind kind;
  std::uint32_t user;
  Message message;  // transfer_end and arrival only
};

struct PendingSend {
  std::uint32_t to;
  Purpose purpose;
};

class Reference {
 public:
  Reference(const RefConfig& c, std::uint64_t seed) : c_(c), rng_(seed) {
    if (c.n < 2 || c.neighbours.size() != c.n) throw std::invalid_argument("reference: bad graph");
    const std::uint32_t n = c.n;
    view_.assign(n, std::vector<std::uint64_t>(n, 0));
    online_.assign(n, true);
    online_since_.assign(n, -std::numeric_limits<double>::infinity());
    busy_.assign(n, false);
    queue_.assign(n, {});
    bytes_ = c.message_bytes > 0.0 ? c.message_bytes : 4.0 * n;
    for (std::uint32_t i = 0; i < n; ++i) {
      schedule(exp_rate(c.update_rate), Kind::update, i);
      schedule(exp_rate(c.gossip_rate), Kind::gossip, i);
      if (c.churn) {
        // Stationary start: online with probability a; the residual period is exponential again.
        const double a = c.online_mean / (c.online_mean + c.offline_mean);
        online_[i] = std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < a;
        schedule(exp_mean(online_[i] ? c.online_mean : c.offline_mean), Kind::churn, i);
      }
    }
  }

  RefResult run() {
    double now = 0.0;
    while (true) {
      // Scan the whole list for the earliest event.
      std::size_t best = 0;
      for (std::size_t e = 1; e < events_.size(); ++e)
        if (events_[e].time < events_[best].time ||
            (events_[e].time == events_[best].time && events_[e].seq < events_[best].seq))
          best = e;
      const double next = events_[best].time;
      integrate(now, std::min(next, c_.horizon));
      if (next > c_.horizon) break;
      now = next;
      Event ev = std::move(events_[best]);
      events_.erase(events_.begin() + static_cast<std::ptrdiff_t>(best));
      ++result_.events;
      handle(ev);
    }
    const double window = c_.horizon - c_.warmup;
    const double n = c_.n;
    result_.mean_staleness = all_integral_ / (n * (n - 1) * window);
    result_.mean_staleness_online = online_pairs_time_ > 0.0 ? online_integral_ / online_pairs_time_ : 0.0;
    result_.availability = online_time_ / (n * window);
    return result_;
  }

 private:
  double exp_rate(double rate) { return std::exponential_distribution<double>(rate)(rng_); }
  double exp_mean(double mean) { return std::exponential_distribution<double>(1.0 / mean)(rng_); }

  void schedule(double time, Kind kind, std::uint32_t user, Message m = {}) {
    events_.push_back(Event{time, seq_++, kind, user, std::move(m)});
  }

  // Staleness sums recomputed from the whole view matrix; they are constant until the next event.
  void integrate(double from, double to) {
    const double a = std::max(from, c_.warmup), b = std::min(to, c_.horizon);
    if (b <= a) return;
    const double dt = b - a;
    const std::uint32_t n = c_.n;
    double all = 0.0, online = 0.0, online_users = 0.0;
    for (std::uint32_t i = 0; i < n; ++i) {
      double row = 0.0;
      for (std::uint32_t k = 0; k < n; ++k)
        if (k != i) row += static_cast<double>(view_[k][k] - view_[i][k]);
      all += row;
      if (online_[i]) {
        online += row;
        online_users += 1.0;
      }
    }
    all_integral_ += all * dt;
    online_integral_ += online * dt;
    online_pairs_time_ += online_users * (n - 1) * dt;
    online_time_ += online_users * dt;
  }

  void merge(std::uint32_t into, const std::vector<std::uint64_t>& payload) {
    for (std::uint32_t k = 0; k < c_.n; ++k) view_[into][k] = std::max(view_[into][k], payload[k]);
  }

  double transfer_time(const Message& m) const {
    if (m.purpose == Purpose::pull_request || c_.bandwidth <= 0.0) return 0.0;
    return bytes_ / c_.bandwidth;
  }

  // A user asks to send: start the transfer on a free uplink, else queue or drop it.
  void send(std::uint32_t from, std::uint32_t to, Purpose purpose, double now) {
    if (busy_[from] && (purpose != Purpose::pull_request || c_.requests_wait_for_uplink)) {
      if (c_.drop_when_busy)
        ++result_.sends_dropped;
      else
        queue_[from].push_back({to, purpose});
      return;
    }
    start_transfer(from, to, purpose, now);
  }

  void start_transfer(std::uint32_t from, std::uint32_t to, Purpose purpose, double now) {
    Message m;
    m.from = from;
    m.to = to;
    m.purpose = purpose;
    m.start = now;
    if (purpose == Purpose::pull_request) {
      ++result_.requests_sent;
    } else {
      m.payload = view_[from];  // the snapshot: a full copy of the sender's view
      ++result_.messages_sent;
    }
    const double d = transfer_time(m);
    if (d == 0.0) {
      transfer_end(std::move(m), now);  // no uplink time: the uplink stays free
    } else {
      busy_[from] = true;
      schedule(now + d, Kind::transfer_end, from, std::move(m));
    }
  }

  // Loss, then latency.
  void transfer_end(Message m, double now) {
    if (c_.loss > 0.0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < c_.loss) {
      ++result_.messages_lost;
      return;
    }
    double latency = c_.latency;
    if (c_.exponential_latency && c_.latency > 0.0) latency = exp_mean(c_.latency);
    const std::uint32_t to = m.to;
    schedule(now + latency, Kind::arrival, to, std::move(m));
  }

  // The uplink finished a (timed) transfer: free it and start the queued sends in order.
  void uplink_free(std::uint32_t user, double now) {
    busy_[user] = false;
    while (!busy_[user] && !queue_[user].empty()) {
      const PendingSend p = queue_[user].front();
      queue_[user].pop_front();
      start_transfer(user, p.to, p.purpose, now);
    }
  }

  void arrive(const Message& m, double now) {
    const std::uint32_t r = m.to;
    // The receiver must have been online from the transfer start until now.
    if (!online_[r] || online_since_[r] > m.start) {
      ++result_.messages_lost;
      return;
    }
    switch (m.purpose) {
      case Purpose::push:
      case Purpose::pull_reply:
      case Purpose::exchange_reply:
        ++result_.messages_delivered;
        merge(r, m.payload);
        break;
      case Purpose::pull_request:
        send(r, m.from, Purpose::pull_reply, now);
        break;
      case Purpose::exchange_out:
        ++result_.messages_delivered;
        send(r, m.from, Purpose::exchange_reply, now);  // reply first: it carries r's state before the merge
        merge(r, m.payload);
        break;
    }
  }

  void handle(Event& ev) {
    const double now = ev.time;
    const std::uint32_t i = ev.user;
    switch (ev.kind) {
      case Kind::update:
        if (online_[i] || c_.offline_updates) ++view_[i][i];
        schedule(now + exp_rate(c_.update_rate), Kind::update, i);
        break;
      case Kind::gossip: {
        if (!online_[i]) {
          ++result_.ticks_offline;
        } else {
          const auto& nb = c_.neighbours[i];
          const std::uint32_t j = nb[std::uniform_int_distribution<std::size_t>(0, nb.size() - 1)(rng_)];
          const Purpose p = c_.mode == RefMode::push ? Purpose::push
                            : c_.mode == RefMode::pull ? Purpose::pull_request
                                                       : Purpose::exchange_out;
          send(i, j, p, now);
        }
        schedule(now + exp_rate(c_.gossip_rate), Kind::gossip, i);
        break;
      }
      case Kind::churn:
        if (online_[i]) {
          online_[i] = false;
          // The transfer in progress is lost, the queue is dropped.
          for (std::size_t e = 0; e < events_.size(); ++e)
            if (events_[e].kind == Kind::transfer_end && events_[e].user == i) {
              events_.erase(events_.begin() + static_cast<std::ptrdiff_t>(e));
              ++result_.messages_lost;
              break;
            }
          busy_[i] = false;
          result_.sends_dropped += queue_[i].size();
          queue_[i].clear();
          schedule(now + exp_mean(c_.offline_mean), Kind::churn, i);
        } else {
          online_[i] = true;
          online_since_[i] = now;
          schedule(now + exp_mean(c_.online_mean), Kind::churn, i);
        }
        break;
      case Kind::transfer_end:
        transfer_end(std::move(ev.message), now);
        uplink_free(i, now);
        break;
      case Kind::arrival:
        arrive(ev.message, now);
        break;
    }
  }

  RefConfig c_;
  std::mt19937_64 rng_;
  double bytes_ = 0.0;
  std::vector<std::vector<std::uint64_t>> view_;  // view_[i][k]: k's version that i holds; view_[k][k] is k's own
  std::vector<bool> online_;
  std::vector<double> online_since_;  // start of the current online period
  std::vector<bool> busy_;            // uplink sending
  std::vector<std::deque<PendingSend>> queue_;
  std::vector<Event> events_;
  std::uint64_t seq_ = 0;
  double all_integral_ = 0.0, online_integral_ = 0.0, online_pairs_time_ = 0.0, online_time_ = 0.0;
  RefResult result_;
};

}  // namespace ref_detail

// One trial of the reference; its randomness comes from `seed` alone.
inline RefResult run_reference(const RefConfig& config, std::uint64_t seed) {
  return ref_detail::Reference(config, seed).run();
}

// `trials` independent trials, trial t seeded with seed + t.
inline std::vector<RefResult> run_reference_trials(const RefConfig& config, std::uint32_t trials, std::uint64_t seed) {
  std::vector<RefResult> out;
  for (std::uint32_t t = 0; t < trials; ++t) out.push_back(run_reference(config, seed + t));
  return out;
}

// ---- Adapter and comparison helpers for the tests ------------------------------------------
// The adapter only copies a sim::Scenario's keys into a RefConfig (so that both simulators
// surely run the same scenario); no engine code runs in the reference.

inline RefConfig reference_config(const sim::Scenario& s) {
  if (s.updates.delay != 0.0 || s.heterogeneous() || s.staleness.model != sim::StalenessModel::users ||
      s.staleness.tracked != 0 || s.churn.model == sim::ChurnModel::trace)
    throw std::invalid_argument("reference: only the users model with Poisson, equal clocks and Markov churn");
  if (s.gossip.latency_law && s.gossip.latency_law->kind != sim::DistributionKind::exponential)
    throw std::invalid_argument("reference: latency is constant or exponential");
  RefConfig c;
  c.n = s.network.n;
  if (s.network.topology == sim::TopologyKind::complete)
    c.neighbours = ref_complete_graph(c.n);
  else if (s.network.topology == sim::TopologyKind::ring)
    c.neighbours = ref_ring(c.n);
  else
    throw std::invalid_argument("reference: complete graph or ring");
  c.mode = s.gossip.mode == sim::GossipMode::push   ? RefMode::push
           : s.gossip.mode == sim::GossipMode::pull ? RefMode::pull
                                                    : RefMode::exchange;
  c.update_rate = s.updates.rate;
  c.gossip_rate = s.gossip_rate();
  c.exponential_latency = s.gossip.latency_law.has_value();
  c.latency = s.gossip.latency_law ? s.gossip.latency_law->a : s.gossip.latency;
  c.message_bytes = s.gossip.message_bytes;
  c.bandwidth = s.gossip.bandwidth;
  c.drop_when_busy = s.gossip.busy == sim::BusyPolicy::drop;
  c.loss = s.gossip.loss;
  c.churn = s.churn.model == sim::ChurnModel::markov;
  c.online_mean = s.churn.online_mean;
  c.offline_mean = s.churn.offline_mean;
  c.offline_updates = s.churn.offline_updates;
  c.warmup = s.run.warmup;
  c.horizon = s.run.horizon;
  return c;
}

inline constexpr double agreement_level = 0.999;

// Mean and 99.9% Student-t CI half-width of a sample of per-trial values.
struct Estimate {
  double mean, half_width;
};
inline Estimate estimate(const std::vector<double>& samples) {
  const auto s = analysis::summarize(samples, agreement_level);
  return {s.mean, s.ci_half_width.value_or(std::numeric_limits<double>::infinity())};
}

template <class T, class F>
std::vector<double> column(const std::vector<T>& trials, F f) {
  std::vector<double> out;
  for (const T& t : trials) out.push_back(f(t));
  return out;
}

// A per-trial quantity against an exact value: within its 99.9% CI, and the CI narrow
// enough (relative half-width below max_relative_width) for the check to have power.
inline void require_near_exact(const char* what, const std::vector<double>& samples, double exact,
                               double max_relative_width) {
  const Estimate e = estimate(samples);
  INFO(what << ": simulated " << e.mean << " +- " << e.half_width << " (99.9% CI), exact " << exact);
  CHECK(e.half_width < max_relative_width * std::abs(exact));
  CHECK(std::abs(e.mean - exact) <= e.half_width);
}

// Two simulations of the same quantity, both with sampling error: the difference within
// the combined 99.9% half-width sqrt(h_a^2 + h_b^2), which must be narrow enough.
inline void require_same_mean(const char* what, const std::vector<double>& engine,
                              const std::vector<double>& reference, double max_relative_width) {
  const Estimate a = estimate(engine), b = estimate(reference);
  const double combined = std::hypot(a.half_width, b.half_width);
  INFO(what << ": engine " << a.mean << " +- " << a.half_width << ", reference " << b.mean << " +- "
            << b.half_width << " (99.9% CIs), difference " << a.mean - b.mean << ", combined half-width "
            << combined);
  CHECK(combined < max_relative_width * std::abs(b.mean));
  CHECK(std::abs(a.mean - b.mean) <= combined);
}

}  // namespace timely::test
