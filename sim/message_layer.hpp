#pragma once
// The message layer, which the documents call the network layer (docs/model.md §7; not the
// graph of the network.* keys, sim/topology.hpp, nor the neural network, models/mlp.hpp):
// gossip ticks send messages that take an uplink transfer (size / bandwidth, one at a time
// per user), may be lost, arrive after a latency, and reach only online users. Internal to
// sim/, used only when Scenario::networked(): with every network key at its default the
// engine never enters this file, so results are bit-identical to a run without it.
//
// Networked<Model, Mode> wraps a MessageModel (sim/clock_model.hpp: the users model, or
// learning's LearningClocks) and is itself a ClockModel: the clock loops of event_engine.hpp
// run unchanged, draw the same ticks and partners from the trial's engine, and ask the same
// gossip policy. Its gossip(i, j, t) sends instead of merging, and its before_event(t) first
// processes, in time order, every network event (transfer ends, arrivals, churn
// transitions) due before t, each preceded by the wrapped model's before_event at its own
// time (so learning observes at the right moments). Every draw of the layer comes from the
// trial's network stream.
#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "sim/clock_model.hpp"
#include "sim/event_engine.hpp"
#include "sim/random.hpp"
#include "sim/scenario.hpp"
#include "sim/send_queues.hpp"
#include "sim/trial.hpp"
#include "sim/user_clocks.hpp"
#include "sim/users_model.hpp"

namespace timely::sim::engine {

template <MessageModel Model, GossipMode Mode>
class Networked {
 public:
  // Counts into `comm`, which must outlive the model's last observation (learning reads the
  // bytes sent at every observation, the last one when the caller closes the model).
  Networked(Model& m, const Scenario& s, std::uint64_t index, double message_bytes, Communication& comm)
      : m_(m), s_(s), comm_(comm), rng_(make_rng(s.run.seed, Stream::network, index)), n_(m.size()), bytes_(message_bytes),
        transfer_(transfer_times(s, m.size(), message_bytes)),
        churn_(s.churn.model != ChurnModel::none), online_(n_, 1), epoch_(n_, 0), busy_(n_, 0),
        current_(n_, none), queue_(n_), sent_by_(n_, 0.0), received_by_(n_, 0.0), is_source_(n_, 0),
        next_interval_(s.churn.model == ChurnModel::trace ? n_ : 0, 0) {
    if constexpr (requires { m.count_bytes(&comm_.bytes_sent); }) m.count_bytes(&comm_.bytes_sent);
    const auto& users = m.users();
    for (std::uint32_t slot = 0; slot < users.tracked(); ++slot) is_source_[users.tracked_user(slot)] = 1;
    if (churn_) start_churn();
  }

  // ---- the engine's model interface, forwarded ----
  std::uint32_t tracked() const { return m_.tracked(); }
  std::uint32_t size() const { return n_; }
  const auto& graph() const { return m_.graph(); }
  std::uint64_t age(std::uint32_t i) const { return m_.age(i); }
  std::uint32_t tracked_user(std::uint32_t slot) const
    requires requires(const Model& x) { x.tracked_user(slot); }
  {
    return m_.tracked_user(slot);
  }

  void before_event(double t) {
    advance(t);
    m_.before_event(t);
  }
  void start_window(double t) {
    advance(t);
    m_.start_window(t);
    integrate(t);
    window_start_ = t;
    window_started_ = true;
  }

  // An update tick of the clock in `slot`: skipped while the user is offline if
  // churn.offline_updates = false (docs/model.md §7.3).
  void update(std::uint32_t slot, double t) {
    const std::uint32_t user = clock_user(m_, slot);
    if (!online_[user] && !s_.churn.offline_updates) return;
    const std::uint32_t source = m_.source_slot(slot);
    if (churn_ && source != none) {
      integrate(t);
      staleness_online_ += online_count_ - online_[user];  // every online observer falls one behind
    }
    m_.update(slot, t);
  }

  // A gossip tick of user i with partner j: the mode's first message (docs/model.md §7.1).
  void gossip(std::uint32_t i, std::uint32_t j, double t) {
    if (!online_[i]) {
      ++comm_.ticks_offline;
      return;
    }
    if constexpr (Mode == GossipMode::pull) send_request(i, j, t);
    else send(i, j, Mode == GossipMode::exchange ? Kind::opening : Kind::state, t);
  }

  // Processes every network event up to and including t (the end of the run).
  void finish(double t) {
    advance_to(t, true);
    integrate(t);
    comm_.bytes_sent_per_user_max = *std::max_element(sent_by_.begin(), sent_by_.end());
    comm_.bytes_received_per_user_max = *std::max_element(received_by_.begin(), received_by_.end());
  }

  std::uint64_t events() const { return events_; }


  std::optional<Availability> availability() const {
    if (!churn_) return std::nullopt;
    Availability a;
    const double length = last_ - window_start_;
    a.online_fraction = length > 0.0 ? online_time_ / (static_cast<double>(n_) * length) : 0.0;
    if (observer_time_ > 0.0) a.mean_staleness_online = staleness_online_time_ / observer_time_;
    return a;
  }

 private:
  static constexpr std::uint32_t none = ~std::uint32_t{0};
  // state: the sender's state, merged on arrival (push, pull's reply, exchange's reply);
  // opening: exchange's first message, answered with a reply before it is merged;
  // request: pull's request, no payload, answered with the partner's state.
  enum class Kind : std::uint8_t { state, opening, request };
  enum class Event : std::uint8_t { transfer_end, arrival, churn };

  struct Message {
    std::uint32_t from, to, payload;
    Kind kind;
    bool aborted;             // the sender went offline during the transfer
    bool receiver_ready;      // the receiver was online when the transfer started
    std::uint32_t to_epoch;   // the receiver's offline count then
    double start;
  };
  struct Pending {  // a send waiting for a busy uplink
    std::uint32_t to;
    Kind kind;
    double since;
  };
  struct Due {
    double t;
    std::uint64_t order;  // ties (measure zero, but constant latencies can make them) in FIFO order
    Event event;
    std::uint32_t index;
    bool operator>(const Due& o) const { return t != o.t ? t > o.t : order > o.order; }
  };
  static_assert(sizeof(Due) == 24, "network_layer_bytes (below) counts 24 bytes a due event");

  void schedule(double t, Event e, std::uint32_t index) { due_.push(Due{t, order_++, e, index}); }

  void advance(double t) { advance_to(t, false); }
  void advance_to(double t, bool inclusive) {
    while (!due_.empty() && (due_.top().t < t || (inclusive && due_.top().t <= t))) {
      const Due d = due_.top();
      due_.pop();
      m_.before_event(d.t);
      ++events_;
      switch (d.event) {
        case Event::transfer_end: end_transfer(d.index, d.t); break;
        case Event::arrival: arrive(d.index, d.t); break;
        case Event::churn: toggle(d.index, d.t); break;
      }
    }
  }

  // ---- sending ----
  void send(std::uint32_t from, std::uint32_t to, Kind kind, double t) {
    if (!busy_[from]) {
      start_transfer(from, to, kind, t, t);
    } else if (s_.gossip.busy == BusyPolicy::queue) {
      queue_.push_back(from, Pending{to, kind, t});
    } else {
      ++comm_.ticks_dropped;
    }
  }

  void start_transfer(std::uint32_t from, std::uint32_t to, Kind kind, double t, double since) {
    const std::uint32_t id = new_message(from, to, kind, m_.snapshot(from), t);
    ++comm_.messages_sent;
    comm_.bytes_sent += bytes_;
    sent_by_[from] += bytes_;
    if (since < t) {
      comm_.queueing_delay += t - since;
      ++comm_.queued;
    }
    if (transfer_[from] > 0.0) {
      busy_[from] = 1;
      current_[from] = id;
      schedule(t + transfer_[from], Event::transfer_end, id);
    } else {
      depart(id, t);
    }
  }

  void end_transfer(std::uint32_t id, double t) {
    Message& msg = messages_[id];
    if (msg.aborted) {  // the sender went offline; its uplink was freed then
      lose(id);
      return;
    }
    const std::uint32_t from = msg.from;
    busy_[from] = 0;
    current_[from] = none;
    depart(id, t);
    if (!queue_.empty(from)) {
      const Pending next = queue_.pop_front(from);
      start_transfer(from, next.to, next.kind, t, next.since);
    }
  }

  // Pull's request: no payload and no uplink time, but loss, latency and churn apply.
  void send_request(std::uint32_t from, std::uint32_t to, double t) {
    ++comm_.requests_sent;
    depart(new_message(from, to, Kind::request, none, t), t);
  }

  // The transfer is over: lost with probability gossip.loss, else in flight for a latency.
  void depart(std::uint32_t id, double t) {
    if (s_.gossip.loss > 0.0 && boost::random::bernoulli_distribution<double>(s_.gossip.loss)(rng_)) {
      lose(id);
      return;
    }
    const double latency = s_.gossip.latency_law ? sample(*s_.gossip.latency_law, rng_) : s_.gossip.latency;
    if (latency > 0.0) schedule(t + latency, Event::arrival, id);
    else arrive(id, t);
  }

  void arrive(std::uint32_t id, double t) {
    const Message msg = messages_[id];
    if (!msg.receiver_ready || epoch_[msg.to] != msg.to_epoch) {  // offline at some moment since the start
      lose(id);
      return;
    }
    free_messages_.push_back(id);
    if (msg.kind == Kind::request) {
      send(msg.to, msg.from, Kind::state, t);
      return;
    }
    if (msg.kind == Kind::opening) send(msg.to, msg.from, Kind::state, t);  // the reply first: the state before merging
    ++comm_.messages_delivered;
    comm_.bytes_received += bytes_;
    received_by_[msg.to] += bytes_;
    comm_.latency_total += t - msg.start;
    if (churn_) integrate(t);
    const std::uint64_t gain = m_.deliver(msg.to, msg.payload, t);
    if (churn_) staleness_online_ -= static_cast<std::int64_t>(gain);  // the receiver is online
    m_.release(msg.payload);
  }

  void lose(std::uint32_t id) {
    ++comm_.messages_lost;
    if (messages_[id].payload != none) m_.release(messages_[id].payload);
    free_messages_.push_back(id);
  }

  std::uint32_t new_message(std::uint32_t from, std::uint32_t to, Kind kind, std::uint32_t payload, double t) {
    const Message msg{from, to, payload, kind, false, online_[to] != 0, epoch_[to], t};
    if (!free_messages_.empty()) {
      const std::uint32_t id = free_messages_.back();
      free_messages_.pop_back();
      messages_[id] = msg;
      return id;
    }
    messages_.push_back(msg);
    return static_cast<std::uint32_t>(messages_.size() - 1);
  }

  // ---- churn (docs/model.md §7.3) ----
  void start_churn() {
    const auto& users = m_.users();
    if (s_.churn.model == ChurnModel::markov) {
      const double a = s_.churn.online_mean / (s_.churn.online_mean + s_.churn.offline_mean);
      for (std::uint32_t u = 0; u < n_; ++u) {
        online_[u] = boost::random::bernoulli_distribution<double>(a)(rng_) ? 1 : 0;
        schedule(period(online_[u]), Event::churn, u);
      }
    } else {
      const auto& trace = *s_.churn.trace;
      for (std::uint32_t u = 0; u < n_; ++u) {
        online_[u] = 0;
        if (u >= trace.users()) continue;
        const auto& spans = trace.online[u];
        if (!spans.empty() && spans.front().first <= 0.0) {
          online_[u] = 1;
          schedule(spans.front().second, Event::churn, u);
          next_interval_[u] = 1;
        } else if (!spans.empty()) {
          schedule(spans.front().first, Event::churn, u);
        }
      }
    }
    online_count_ = 0;
    for (std::uint32_t u = 0; u < n_; ++u) online_count_ += online_[u];
    // Observers of source s: the online users other than s (all views are 0 at time 0).
    for (std::uint32_t slot = 0; slot < users.tracked(); ++slot)
      observers_online_ += online_count_ - online_[users.tracked_user(slot)];
  }

  double period(bool online) {
    const double mean = online ? s_.churn.online_mean : s_.churn.offline_mean;
    return boost::random::exponential_distribution<double>(1.0 / mean)(rng_);
  }

  void toggle(std::uint32_t u, double t) {
    integrate(t);
    const auto& users = m_.users();
    const std::int64_t sources_observed = users.tracked() - is_source_[u];
    const auto age = static_cast<std::int64_t>(users.age(u));
    if (online_[u]) {
      online_[u] = 0;
      ++epoch_[u];
      --online_count_;
      observers_online_ -= sources_observed;
      staleness_online_ -= age;
      comm_.ticks_dropped += queue_.clear(u);
      if (busy_[u]) {
        messages_[current_[u]].aborted = true;
        busy_[u] = 0;
        current_[u] = none;
      }
    } else {
      online_[u] = 1;
      ++online_count_;
      observers_online_ += sources_observed;
      staleness_online_ += age;
    }
    if (s_.churn.model == ChurnModel::markov) {
      schedule(t + period(online_[u]), Event::churn, u);
    } else {
      const auto& spans = s_.churn.trace->online[u];
      if (online_[u]) {
        schedule(spans[next_interval_[u]].second, Event::churn, u);
        ++next_interval_[u];
      } else if (next_interval_[u] < spans.size()) {
        schedule(spans[next_interval_[u]].first, Event::churn, u);
      }
    }
  }

  // Time integrals of the online staleness, the online observers and the online users,
  // over the window (docs/model.md §7.3), exact between events.
  void integrate(double t) {
    if (!churn_) return;
    if (window_started_ && t > last_) {
      const double dt = t - last_;
      staleness_online_time_ += static_cast<double>(staleness_online_) * dt;
      observer_time_ += static_cast<double>(observers_online_) * dt;
      online_time_ += static_cast<double>(online_count_) * dt;
    }
    last_ = std::max(last_, t);
  }

  Model& m_;
  const Scenario& s_;
  Communication& comm_;
  Rng rng_;
  std::uint32_t n_;
  double bytes_;
  std::vector<double> transfer_;  // each user's uplink time for one message
  bool churn_;
  std::vector<std::uint8_t> online_;
  std::vector<std::uint32_t> epoch_;  // times each user went offline
  std::vector<std::uint8_t> busy_;
  std::vector<std::uint32_t> current_;  // the message each busy uplink transfers
  SendQueues<Pending> queue_;
  std::vector<double> sent_by_, received_by_;
  std::vector<std::uint8_t> is_source_;
  std::vector<std::size_t> next_interval_;  // trace only: the user's next interval to open
  std::vector<Message> messages_;
  std::vector<std::uint32_t> free_messages_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
  std::uint64_t order_ = 0, events_ = 0;
  // Churn: online users, the online observers summed over the sources, and their staleness.
  std::int64_t online_count_ = 0, observers_online_ = 0, staleness_online_ = 0;
  double staleness_online_time_ = 0.0, observer_time_ = 0.0, online_time_ = 0.0;
  double last_ = 0.0, window_start_ = 0.0;
  bool window_started_ = false;
};

// The bytes the layer keeps per user (the members above: uplink time, online flag, offline
// count, busy flag, current message, queue ends, bytes sent and received, source flag, and a
// trace's next interval), and per user with Markov churn (each user's next transition waits
// in the event heap, 24 bytes, which a vector may hold twice while it grows). Messages in
// flight are counted by sim/cost.hpp (message_memory).
inline double network_layer_bytes(const Scenario& s) {
  const double per_user = sizeof(double) + 1 + sizeof(std::uint32_t) + 1 + sizeof(std::uint32_t) +
                          SendQueues<int>::bytes_per_user + 2 * sizeof(double) + 1 +
                          (s.churn.model == ChurnModel::trace ? sizeof(std::size_t) : 0) +
                          (s.churn.model == ChurnModel::markov ? 2 * 24.0 : 0.0);
  return per_user * static_cast<double>(s.network.n);
}

// What a networked run adds to its result.
struct NetworkOutcome {
  std::uint64_t events = 0;  // clock events and network events
  Communication communication;
  std::optional<Availability> availability;
};

// Runs the clocks of the scenario through the network layer; the caller closes the model
// at the horizon afterwards. Returns the clocks' counts; out.events adds the network's events.
template <GossipMode Mode, PolicyLoop Loop, MessageModel Model>
ClockCounts run_networked(Model& m, const Scenario& s, std::uint64_t index, Rng& rng, Window& window,
                          double message_bytes, NetworkOutcome& out) {
  Networked<Model, Mode> net(m, s, index, message_bytes, out.communication);
  ClockCounts counts = run_updates_and_gossip<Loop>(net, s, rng, window);
  net.finish(window.horizon());
  counts.events += net.events();
  out.events = counts.events;
  out.availability = net.availability();
  return counts;
}

// The clocks of one trial, through the network layer when the scenario asks for it
// (`network` is then set, and must outlive the model's close); otherwise exactly the
// engine's loops. `Loop` says whose clocks they are (the users model's or learning's), for
// the gossip policies that run in it. Events include the network layer's.
template <GossipMode Mode, PolicyLoop Loop, MessageModel Model>
ClockCounts run_clocks(Model& m, const Scenario& s, std::uint64_t index, Rng& rng, Window& window,
                       double message_bytes, std::optional<NetworkOutcome>& network) {
  if (!s.networked()) return run_updates_and_gossip<Loop>(m, s, rng, window);
  return run_networked<Mode, Loop>(m, s, index, rng, window, message_bytes, network.emplace());
}

// users_result, with what the network layer counted.
template <class Users>
TrialResult users_result(const Users& m, const Window& window, ClockCounts counts,
                         const std::optional<NetworkOutcome>& network) {
  TrialResult result = users_result(m, window, counts.events);
  result.gossip_sends = counts.sends;
  if (network) {
    result.communication = network->communication;
    result.availability = network->availability;
  }
  return result;
}

}  // namespace timely::sim::engine
