#pragma once
// The event engine shared by the staleness trials (trial.cpp) and the learning trials
// (learning.cpp): the observation window, superposed and renewal clocks, the users model's
// vector clocks, and the one-per-trial dispatch on (graph type, gossip mode). Internal to
// sim/: not part of the library's interface.
//
// A model plugged into the loops provides: tracked() update clocks, size() users, graph(),
// update(slot, t), gossip(i, j, t), start_window(t), and before_event(t), which runs before
// every event (learning observes its metrics there; the staleness models do nothing).
#include <algorithm>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <functional>
#include <numeric>
#include <queue>
#include <type_traits>
#include <variant>
#include <vector>

#include "sim/random.hpp"
#include "sim/stop.hpp"
#include "sim/scenario.hpp"
#include "sim/topology.hpp"
#include "sim/alias_table.hpp"
#include "sim/draws.hpp"
#include "sim/trial.hpp"
#include "sim/user_clocks.hpp"
#include "sim/version_histogram.hpp"

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

// One contact between i (holding version a) and j (holding b) of one source: who learns
// depends on the mode (docs/model.md §1). Knowledge only moves forward (maximum).
template <GossipMode Mode, class JLearns, class ILearns>
inline void merge(std::uint32_t a, std::uint32_t b, JLearns&& j_learns, ILearns&& i_learns) {
  if constexpr (Mode != GossipMode::pull) {
    if (a > b) { j_learns(); return; }
  }
  if constexpr (Mode != GossipMode::push) {
    if (b > a) i_learns();
  }
}

// Sample-path recording, compiled away when not asked for (NoTrace's calls are empty).
struct NoTrace {
  void update(std::uint32_t, std::uint32_t, double) {}
  void view(std::uint32_t, std::uint32_t, std::uint32_t, double) {}
};

// Records S_ik(t) for one observer i of the source in slot 0.
struct PairTrace {
  std::uint32_t observer = 0;
  std::uint32_t own = 0, seen = 0;
  std::vector<StalenessStep> steps{{0.0, 0}};
  void update(std::uint32_t slot, std::uint32_t version, double t) {
    if (slot != 0) return;
    own = version;
    steps.push_back({t, own - seen});
  }
  void view(std::uint32_t i, std::uint32_t slot, std::uint32_t version, double t) {
    if (slot != 0 || i != observer) return;
    seen = version;
    steps.push_back({t, own - seen});
  }
};

// Fixed-size blocks for the payloads of messages in flight (network layer): reused through
// a free list, so a long run allocates only as many blocks as were ever in flight at once.
template <class T>
class MessagePool {
 public:
  std::uint32_t acquire(std::size_t width) {
    width_ = width;
    if (!free_.empty()) {
      const std::uint32_t id = free_.back();
      free_.pop_back();
      return id;
    }
    data_.resize(data_.size() + width_);
    return static_cast<std::uint32_t>(data_.size() / width_ - 1);
  }
  void release(std::uint32_t id) { free_.push_back(id); }
  T* data(std::uint32_t id) { return data_.data() + static_cast<std::size_t>(id) * width_; }

 private:
  std::size_t width_ = 1;
  std::vector<T> data_;
  std::vector<std::uint32_t> free_;
};

// ---- users model (Mitra & Ulukus): every user is the source of its own versions --------

template <class G, GossipMode Mode, class Trace = NoTrace>
class UsersModel {
 public:
  UsersModel(const Scenario& s, const G& graph, Rng& rng, Trace& trace)
      : graph_(graph), n_(graph.size()), k_(s.tracked_sources()), across_(k_),
        views_(static_cast<std::size_t>(n_) * k_, 0), histograms_(k_, VersionHistogram(n_ - 1, &across_)),
        tracked_(k_), trace_(trace) {
    if (s.heterogeneous()) tracked_ = heterogeneous_tracked(s);  // the same users in every trial
    else choose_tracked(rng);
  }
  UsersModel(const UsersModel&) = delete;  // histograms point at across_

  static constexpr std::uint32_t none = ~std::uint32_t{0};

  // A tracked source (slot) makes a new version.
  void update(std::uint32_t slot, double t) {
    histograms_[slot].source_update(t);
    trace_.update(slot, ++views_[static_cast<std::size_t>(tracked_[slot]) * k_ + slot], t);
  }

  // User i gossips with partner j: knowledge merges by element-wise maximum (vector clock).
  void gossip(std::uint32_t i, std::uint32_t j, double t) {
    std::uint32_t* vi = &views_[static_cast<std::size_t>(i) * k_];
    std::uint32_t* vj = &views_[static_cast<std::size_t>(j) * k_];
    for (std::uint32_t s = 0; s < k_; ++s) {
      const std::uint32_t a = vi[s], b = vj[s];
      merge<Mode>(a, b, [&] { learn(j, s, b, a, t); vj[s] = a; }, [&] { learn(i, s, a, b, t); vi[s] = b; });
    }
  }

  // ---- messages of the network layer (sim/network.hpp, docs/model.md §7) ----
  // A copy of user i's K versions, held until released.
  std::uint32_t snapshot(std::uint32_t i) {
    const std::uint32_t id = messages_.acquire(k_);
    std::copy_n(&views_[static_cast<std::size_t>(i) * k_], k_, messages_.data(id));
    return id;
  }
  // User r merges a message (element-wise maximum); returns by how much r's staleness,
  // summed over the sources, fell.
  std::uint64_t deliver(std::uint32_t r, std::uint32_t id, double t) {
    std::uint32_t* vr = &views_[static_cast<std::size_t>(r) * k_];
    const std::uint32_t* m = messages_.data(id);
    std::uint64_t gain = 0;
    for (std::uint32_t s = 0; s < k_; ++s)
      if (m[s] > vr[s]) {
        gain += m[s] - vr[s];
        learn(r, s, vr[s], m[s], t);
        vr[s] = m[s];
      }
    return gain;
  }
  void release(std::uint32_t id) { messages_.release(id); }
  // Sum over the sources of user i's staleness (0 for its own versions).
  std::uint64_t staleness_sum(std::uint32_t i) const {
    std::uint64_t sum = 0;
    for (std::uint32_t s = 0; s < k_; ++s) sum += own_version(s) - views_[static_cast<std::size_t>(i) * k_ + s];
    return sum;
  }
  std::uint32_t own_version(std::uint32_t slot) const { return views_[static_cast<std::size_t>(tracked_[slot]) * k_ + slot]; }
  const UsersModel& users() const { return *this; }
  std::uint32_t source_slot(std::uint32_t clock_slot) const { return clock_slot; }

  void before_event(double) {}
  void start_window(double t) {
    for (auto& h : histograms_) h.start_window(t);
    across_.start_window(t);
  }
  void close(double t) {
    for (auto& h : histograms_) h.close(t);
    across_.close(t);
  }
  const std::vector<VersionHistogram>& histograms() const { return histograms_; }
  const WorstTracker& across() const { return across_; }
  std::uint32_t tracked() const { return k_; }
  std::uint32_t tracked_user(std::uint32_t slot) const { return tracked_[slot]; }
  std::uint32_t size() const { return n_; }
  const G& graph() const { return graph_; }

 private:
  void learn(std::uint32_t observer, std::uint32_t slot, std::uint32_t from, std::uint32_t to, double t) {
    histograms_[slot].move(from, to, t);
    trace_.view(observer, slot, to, t);
  }

  // K distinct sources, uniformly (partial Fisher-Yates); all of them when K = n. On
  // homogeneous networks any K are equivalent; sampling keeps the estimate unbiased on
  // the others.
  void choose_tracked(Rng& rng) {
    if (k_ == n_) { std::iota(tracked_.begin(), tracked_.end(), 0u); return; }
    std::vector<std::uint32_t> users(n_);
    std::iota(users.begin(), users.end(), 0u);
    for (std::uint32_t s = 0; s < k_; ++s) {
      boost::random::uniform_int_distribution<std::uint32_t> pick(s, n_ - 1);
      std::swap(users[s], users[pick(rng)]);
      tracked_[s] = users[s];
    }
  }

  const G& graph_;
  std::uint32_t n_, k_;
  WorstTracker across_;
  std::vector<std::uint32_t> views_;  // views_[i*K + s]: user i's version of tracked source s
  std::vector<VersionHistogram> histograms_;
  std::vector<std::uint32_t> tracked_;
  Trace& trace_;
  MessagePool<std::uint32_t> messages_;
};

// ---- learning on the clocks (docs/model.md §4, §6) -------------------------------------

// Every user updates on its own clock, gossip mixes models in the mode's direction, and the
// users model measures staleness in the same run. The Learner holds the models:
// train(user, t), mix_into(receiver, sender, t), mix_both(i, j, t), and the hooks before(t)
// (before every event), start_window(t) and close(t).
template <class G, GossipMode Mode, class Learner>
class LearningClocks {
 public:
  LearningClocks(const Scenario& s, const G& graph, Learner& learner, Rng& rng)
      : staleness_(s, graph, rng, no_trace_), learner_(learner), slot_of_(graph.size(), none) {
    for (std::uint32_t slot = 0; slot < staleness_.tracked(); ++slot) slot_of_[staleness_.tracked_user(slot)] = slot;
  }
  std::uint32_t tracked() const { return staleness_.size(); }  // every user updates on its own clock
  std::uint32_t size() const { return staleness_.size(); }
  const G& graph() const { return staleness_.graph(); }
  void before_event(double t) { learner_.before(t); }
  void start_window(double t) {
    staleness_.start_window(t);
    learner_.start_window(t);
  }

  void update(std::uint32_t user, double t) {
    learner_.train(user, t);
    ++updates_;
    if (slot_of_[user] != none) staleness_.update(slot_of_[user], t);
  }

  void gossip(std::uint32_t i, std::uint32_t j, double t) {
    staleness_.gossip(i, j, t);
    ++gossips_;
    if constexpr (Mode == GossipMode::push) learner_.mix_into(j, i, t);
    else if constexpr (Mode == GossipMode::pull) learner_.mix_into(i, j, t);
    else learner_.mix_both(i, j, t);
  }

  void close(double t) {
    staleness_.close(t);
    learner_.close(t);
  }

  // ---- messages of the network layer: the sender's versions and its model ----
  std::uint32_t snapshot(std::uint32_t user) {
    const std::uint32_t id = staleness_.snapshot(user);
    if (id >= model_of_.size()) model_of_.resize(id + 1);
    model_of_[id] = learner_.snapshot(user);
    return id;
  }
  std::uint64_t deliver(std::uint32_t r, std::uint32_t id, double t) {
    ++gossips_;
    learner_.mix_message(r, model_of_[id], t);
    return staleness_.deliver(r, id, t);
  }
  void release(std::uint32_t id) {
    learner_.release(model_of_[id]);
    staleness_.release(id);
  }
  double message_bytes() const { return learner_.message_bytes(); }
  void count_bytes(const double* bytes_sent) { learner_.count_bytes(bytes_sent); }
  const UsersModel<G, Mode>& users() const { return staleness_; }
  std::uint32_t source_slot(std::uint32_t user) const { return slot_of_[user]; }

  const UsersModel<G, Mode>& staleness() const { return staleness_; }
  std::uint64_t updates() const { return updates_; }
  std::uint64_t gossips() const { return gossips_; }

 private:
  static constexpr std::uint32_t none = ~std::uint32_t{0};
  NoTrace no_trace_;
  UsersModel<G, Mode> staleness_;
  Learner& learner_;
  std::vector<std::uint32_t> slot_of_;  // user -> tracked slot, or none
  std::vector<std::uint32_t> model_of_;  // message -> the learner's copy of the sender's model
  std::uint64_t updates_ = 0, gossips_ = 0;
};

// Poisson update clocks: every clock joins the superposition (docs/model.md §1).
template <class Model>
std::uint64_t run_poisson_updates(Model& m, const Scenario& s, Rng& rng, Window& window) {
  const double mu = s.updates.rate, lambda = s.gossip_rate();
  const double update_total = mu * m.tracked(), gossip_total = lambda * m.size();
  boost::random::exponential_distribution<double> next_gap(update_total + gossip_total);
  const EventChoice<2> choice({update_total, gossip_total}, {m.tracked(), m.size()});
  std::uint64_t events = 0;
  double t = 0.0;
  for (;;) {
    const double t_next = t + next_gap(rng);
    if (!window.admits(t_next, [&](double tw) { m.start_window(tw); })) break;
    m.before_event(t_next);
    t = t_next;
    ++events;
    const auto event = choice.draw(rng);
    if (event.kind == 0) {
      m.update(event.actor, t);
    } else {
      m.gossip(event.actor, m.graph().pick(event.actor, rng), t);
    }
  }
  return events;
}

// Renewal update clocks are not memoryless, so they wait in a priority queue; gossip clocks
// stay superposed. The drawn gossip time stays valid across updates because the superposed
// Poisson process is independent of them and memoryless. next_due(slot, t) is the time of
// the slot's next update after one at t (t = 0: its first), gossip_gap() the time to the
// next gossip tick, gossiper() the user whose clock ticks.
template <class Model, class NextDue, class GossipGap, class Gossiper>
std::uint64_t run_queued_updates(Model& m, Rng& rng, Window& window, NextDue&& next_due, GossipGap&& gossip_gap,
                                 Gossiper&& gossiper) {
  using Due = std::pair<double, std::uint32_t>;
  std::vector<Due> storage;
  storage.reserve(m.tracked());
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due(std::greater<>{}, std::move(storage));
  for (std::uint32_t slot = 0; slot < m.tracked(); ++slot) due.emplace(next_due(slot, 0.0), slot);
  std::uint64_t events = 0;
  double next_gossip = gossip_gap();
  for (;;) {
    const bool is_update = due.top().first < next_gossip;
    const double t = is_update ? due.top().first : next_gossip;
    if (!window.admits(t, [&](double tw) { m.start_window(tw); })) break;
    m.before_event(t);
    ++events;
    if (is_update) {
      const std::uint32_t slot = due.top().second;
      due.pop();
      m.update(slot, t);
      due.emplace(next_due(slot, t), slot);
    } else {
      const std::uint32_t i = gossiper();
      m.gossip(i, m.graph().pick(i, rng), t);
      next_gossip = t + gossip_gap();
    }
  }
  return events;
}

// Equal renewal clocks c + Exp(mu) and equal gossip rates.
template <class Model>
std::uint64_t run_renewal_updates(Model& m, const Scenario& s, Rng& rng, Window& window) {
  const double c = s.updates.delay, lambda_total = s.gossip_rate() * m.size();
  boost::random::exponential_distribution<double> next_gap(lambda_total), update_gap(s.updates.rate);
  boost::random::uniform_int_distribution<std::uint32_t> pick_user(0, m.size() - 1);
  return run_queued_updates(
      m, rng, window, [&](std::uint32_t, double t) { return t + c + update_gap(rng); }, [&] { return next_gap(rng); },
      [&] { return pick_user(rng); });
}

// Sum over a of a * time_at[a]: the time-integral of a staleness.
inline double first_moment(const std::vector<double>& time_at) {
  double integral = 0.0;
  for (std::size_t a = 1; a < time_at.size(); ++a) integral += static_cast<double>(a) * time_at[a];
  return integral;
}

inline void add_into(std::vector<double>& into, const std::vector<double>& add) {
  if (into.size() < add.size()) into.resize(add.size(), 0.0);
  for (std::size_t a = 0; a < add.size(); ++a) into[a] += add[a];
}

// The staleness a finished users model measured over the window (docs/model.md §2).
template <class Users>
TrialResult users_result(const Users& m, const Window& window, std::uint64_t events) {
  TrialResult result;
  result.events = events;
  const double observers = static_cast<double>(m.size() - 1);
  for (std::uint32_t slot = 0; slot < m.tracked(); ++slot) {
    const auto& h = m.histograms()[slot];
    add_into(result.staleness_time, h.age_time());
    add_into(result.worst_time, h.worst_time());
    result.source_user.push_back(m.tracked_user(slot));
    result.source_mean.push_back(first_moment(h.age_time()) / (observers * window.length()));
  }
  result.max_all_time = m.across().max_time();
  const double pairs = static_cast<double>(m.tracked()) * (m.size() - 1);
  result.mean_staleness = first_moment(result.staleness_time) / (pairs * window.length());
  result.max_mean = first_moment(result.worst_time) / (m.tracked() * window.length());
  result.max_all_mean = first_moment(result.max_all_time) / window.length();
  return result;
}

// The user whose update clock drives `slot`: models whose every user updates (learning)
// use slot = user; the users model maps its tracked slots.
template <class Model>
std::uint32_t clock_user(const Model& m, std::uint32_t slot) {
  if constexpr (requires { m.tracked_user(slot); }) {
    return m.tracked_user(slot);
  } else {
    return slot;
  }
}

// Heterogeneous users (docs/model.md §1): user i updates after c_i + Exp(mu_i) and gossips at
// lambda_i. Gossip clocks are superposed (total sum lambda_i, the actor drawn in proportion
// to its rate from an alias table). Poisson update clocks (every c_i = 0) join the
// superposition the same way; renewal clocks wait in a priority queue, as in the
// homogeneous case.
template <class Model>
std::uint64_t run_heterogeneous(Model& m, const UserClocks& clocks, Rng& rng, Window& window) {
  const std::uint32_t slots = m.tracked();
  const AliasTable gossiper(clocks.gossip_rate);
  const double gossip_total = std::accumulate(clocks.gossip_rate.begin(), clocks.gossip_rate.end(), 0.0);
  boost::random::exponential_distribution<double> unit(1.0);
  std::uint64_t events = 0;
  if (!clocks.renewal()) {
    std::vector<double> rates(slots);
    for (std::uint32_t slot = 0; slot < slots; ++slot) rates[slot] = clocks.update_rate[clock_user(m, slot)];
    const AliasTable updater(rates);
    const double update_total = std::accumulate(rates.begin(), rates.end(), 0.0);
    const double total = update_total + gossip_total;
    boost::random::uniform_01<double> uniform;
    double t = 0.0;
    for (;;) {
      const double t_next = t + unit(rng) / total;
      if (!window.admits(t_next, [&](double tw) { m.start_window(tw); })) break;
      m.before_event(t_next);
      t = t_next;
      ++events;
      if (uniform(rng) * total < update_total) {
        m.update(updater.sample(rng), t);
      } else {
        const std::uint32_t i = gossiper.sample(rng);
        m.gossip(i, m.graph().pick(i, rng), t);
      }
    }
    return events;
  }
  return run_queued_updates(
      m, rng, window,
      [&](std::uint32_t slot, double t) {
        const std::uint32_t user = clock_user(m, slot);
        return t + clocks.update_delay[user] + unit(rng) / clocks.update_rate[user];
      },
      [&] { return unit(rng) / gossip_total; }, [&] { return gossiper.sample(rng); });
}

template <class Model>
std::uint64_t run_updates_and_gossip(Model& m, const Scenario& s, Rng& rng, Window& window) {
  if (s.heterogeneous()) return run_heterogeneous(m, user_clocks(s), rng, window);
  return s.updates.delay > 0.0 ? run_renewal_updates(m, s, rng, window) : run_poisson_updates(m, s, rng, window);
}


template <GossipMode Mode>
using ModeTag = std::integral_constant<GossipMode, Mode>;

template <class F>
auto with_mode(GossipMode mode, F&& f) {
  switch (mode) {
    case GossipMode::pull: return f(ModeTag<GossipMode::pull>{});
    case GossipMode::exchange: return f(ModeTag<GossipMode::exchange>{});
    case GossipMode::push: break;
  }
  return f(ModeTag<GossipMode::push>{});
}


// One dispatch per trial on the graph type and the gossip mode, so every event loop is
// compiled for its (graph, mode) pair; f(graph, mode_tag, rng) runs with the trial's engine.
template <class F>
auto dispatch(const Scenario& s, const Graph& graph, std::uint64_t index, F&& f) {
  Rng rng = make_rng(s.run.seed, Stream::trial, index);
  return std::visit([&](const auto& g) { return with_mode(s.gossip.mode, [&](auto mode) { return f(g, mode, rng); }); },
                    graph);
}

}  // namespace timely::sim::engine
