#pragma once
// The users model (Mitra & Ulukus; docs/model.md §1-2): every user is the source of its own
// versions, tracked for K of them, and every user's view of each tracked source is a vector
// clock merged at contacts. A ClockModel and a MessageModel (sim/clock_model.hpp). Internal
// to sim/.
#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cstdint>
#include <numeric>
#include <vector>

#include "sim/large_array.hpp"
#include "sim/random.hpp"
#include "sim/scenario.hpp"
#include "sim/trial.hpp"
#include "sim/user_clocks.hpp"
#include "sim/version_histogram.hpp"
#include "sim/window.hpp"

namespace timely::sim::engine {

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

  // ---- messages of the network layer (sim/message_layer.hpp, docs/model.md §7) ----
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
  // Sum over the sources of user i's staleness (0 for its own versions): the user's age
  // (sim/clock_model.hpp), which the network layer integrates for churn and an age-aware
  // gossip policy reads.
  std::uint64_t age(std::uint32_t i) const {
    std::uint64_t sum = 0;
    for (std::uint32_t s = 0; s < k_; ++s) sum += own_version(s) - views_[static_cast<std::size_t>(i) * k_ + s];
    return sum;
  }
  std::uint32_t own_version(std::uint32_t slot) const { return views_[static_cast<std::size_t>(tracked_[slot]) * k_ + slot]; }
  const UsersModel& users() const { return *this; }
  std::uint32_t source_slot(std::uint32_t clock_slot) const { return clock_slot; }

  // For the loops that draw ahead (sim/event_engine.hpp, run_drawn_ahead): user i's row of
  // K versions, soon to be merged, and the size of all rows. At most its first 4 lines
  // (K = 64): a longer row is read in order, which the hardware prefetcher follows.
  [[gnu::always_inline]] void prefetch_user(std::uint32_t i) const {
    prefetch_for_write(&views_[static_cast<std::size_t>(i) * k_], std::min<std::size_t>(sizeof(std::uint32_t) * k_, 256));
  }
  std::size_t state_bytes() const { return views_.size() * sizeof(std::uint32_t); }

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
  // views_[i*K + s]: user i's version of tracked source s. In 2 MiB-aligned huge pages once
  // large (sim/large_array.hpp): at K = 16 a row is one cache line.
  LargeVector<std::uint32_t> views_;
  std::vector<VersionHistogram> histograms_;
  std::vector<std::uint32_t> tracked_;
  Trace& trace_;
  MessagePool<std::uint32_t> messages_;
};

// ---- what a finished users model measured ---------------------------------------------

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

}  // namespace timely::sim::engine
