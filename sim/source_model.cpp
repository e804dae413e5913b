#include "sim/source_model.hpp"

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/draws.hpp"
#include "sim/event_engine.hpp"
#include "sim/gossip_policy.hpp"
#include "sim/large_array.hpp"
#include "sim/time_age.hpp"
#include "sim/topology.hpp"
#include "sim/users_model.hpp"
#include "sim/version_histogram.hpp"
#include "sim/window.hpp"

namespace timely::sim {
namespace {

using namespace engine;

// What a user holds is named by the source push it descends from (sim/source_model.hpp):
// pushes are numbered in time order, so a later push is newer information, and merging
// compares two 4-byte indices; the push's stamp and version are read from a table that is
// small beside the users (one entry a push). At 10^7 users and more nearly every event
// misses the caches (issue 29); 4 bytes a user instead of 12 puts three times as many users
// in each cache line, huge page and TLB entry. Push 0 is the start: stamp 0, version 0.
// Two pushes at one instant (a zero gap between clock ticks, probability about 2^-53 an
// event) are ordered by index, where comparing their equal stamps kept the older.
using UserStates = LargeVector<std::uint32_t>;

class Pushes {
 public:
  explicit Pushes(std::uint32_t users) : users_(users) {
    entries_.reserve(first_capacity);
    entries_.push_back(Entry{0.0, 0});
  }
  double stamp(std::uint32_t k) const { return entries_[k].stamp; }
  std::uint32_t version(std::uint32_t k) const { return entries_[k].version; }

  // A push of `version` at time t; its index. When the table is full, the entries no user
  // holds any more are dropped and the others renumbered in order (O(n), at most once every
  // n / 2 pushes), so the table never holds more than about 2 n entries.
  std::uint32_t add(double t, std::uint32_t version, UserStates& users) {
    if (entries_.size() == capacity_) compact(users);
    entries_.push_back(Entry{t, version});
    return static_cast<std::uint32_t>(entries_.size() - 1);
  }

  static constexpr double bytes_per_entry = 16;
  static constexpr std::size_t first_capacity = 1 << 12;

 private:
  struct Entry {
    double stamp;
    std::uint32_t version;
  };
  static_assert(sizeof(Entry) == bytes_per_entry);

  [[gnu::cold, gnu::noinline]] void compact(UserStates& users) {
    constexpr std::uint32_t unused = ~std::uint32_t{0};
    std::vector<std::uint32_t> renumber(entries_.size(), unused);
    for (std::uint32_t u = 0; u < users_; ++u) renumber[users[u]] = 0;
    std::uint32_t kept = 0;
    for (std::size_t k = 0; k < entries_.size(); ++k)
      if (renumber[k] == 0) {
        entries_[kept] = entries_[k];
        renumber[k] = kept++;
      }
    entries_.resize(kept);
    for (std::uint32_t u = 0; u < users_; ++u) users[u] = renumber[users[u]];
    // At least n / 2 free entries before the next compaction: O(1) per push amortised.
    capacity_ = std::max<std::size_t>(capacity_, kept + users_ / 2 + first_capacity);
  }

  std::uint32_t users_;
  std::vector<Entry> entries_;
  std::size_t capacity_ = std::max<std::size_t>(first_capacity, users_ / 2);
};

// What a gossip policy sees of the source model (sim/clock_model.hpp's GossipView): a
// user's age is how many versions it is behind the source.
template <class G>
struct SourceView {
  const G& g;
  const UserStates& users;
  const Pushes& pushes;
  const VersionHistogram& h;
  std::uint32_t size() const { return g.size(); }
  const G& graph() const { return g; }
  std::uint64_t age(std::uint32_t i) const { return h.version() - pushes.version(users[i]); }
};

// Tells a policy that listens (acquired(user, version, t)) that user j now holds version v.
template <class Policy>
[[gnu::always_inline]] inline void acquired(Policy& policy, std::uint32_t j, std::uint32_t v, double t) {
  if constexpr (requires { policy.acquired(j, v, t); }) policy.acquired(j, v, t);
}

// Flattened: every call in the loop is inlined. GCC had left the ziggurat gap, the event
// choice, the partner draw and the histogram's move as calls, which cost a quarter of the
// loop's time (perf, issue 12).
template <class G, GossipMode Mode, class Policy>
[[gnu::flatten]] TrialResult run_source(const Scenario& s, const G& graph, Policy& policy, Rng& rng) {
  const std::uint32_t n = graph.size();
  const double lambda_total = has_gossip_clocks<Policy>() ? s.gossip_rate() * n : 0.0;
  const double push_total = s.source.push_rate;
  const double total = lambda_total + push_total + s.source.rate;
  // Every user starts with push 0 (version 0, stamped 0). A later push never carries an
  // older version, so merging by push moves versions exactly as merging by version does, and
  // ties (same information) change nothing.
  UserStates users(n, 0);
  Pushes pushes(n);
  VersionHistogram h(n);
  TimeAgeIntegral time_age(n);
  const auto start_window = [&](double tw) {
    h.start_window(tw);
    time_age.start_window(tw);
  };
  Window window(s.run.warmup, s.run.horizon);
  boost::random::exponential_distribution<double> next_gap(total);
  // Whom the source pushes to: every user (empty), or the clustered graph's top-level heads
  // (source.targets = "heads"), built once per trial.
  const std::vector<std::uint32_t> targets =
      s.source.targets == SourceTargets::heads ? clustered_heads(s.network) : std::vector<std::uint32_t>{};
  // Gossip ticks (actor: the caller), source pushes (actor: the receiver, or its index in
  // targets), source updates.
  const EventChoice<3> choice({lambda_total, push_total, s.source.rate},
                              {n, targets.empty() ? n : static_cast<std::uint32_t>(targets.size()), 1});
  const SourceView<G> view{graph, users, pushes, h};
  static_assert(GossipPolicy<Policy, SourceView<G>>);
  TrialResult result;
  // `to` takes what `from` holds, which is newer: its stamp, and its version when that is newer too.
  const auto take = [&](std::uint32_t from, std::uint32_t to, double t) {
    const std::uint32_t k = users[from], old = users[to];
    time_age.replace(pushes.stamp(old), pushes.stamp(k), t);
    users[to] = k;
    const std::uint32_t a = pushes.version(k), b = pushes.version(old);
    if (a > b) {
      h.move(b, a, t);
      acquired(policy, to, a, t);
    }
  };
  // A contact of caller i with partner j.
  const auto contact_with = [&](std::uint32_t i, std::uint32_t j, double t) {
    ++result.gossip_sends;
    if constexpr (Mode != GossipMode::pull) {
      if (users[i] > users[j]) return take(i, j, t);
    }
    if constexpr (Mode != GossipMode::push) {
      if (users[j] > users[i]) take(j, i, t);
    }
  };
  const auto contact = [&](std::uint32_t i, double t) {
    const std::uint32_t j = policy.partner(view, i, t, rng);
    if constexpr (!Policy::always_contacts) {
      if (j == no_contact) return;
    }
    contact_with(i, j, t);
  };
  // The source pushes its newest version to user j.
  const auto push = [&](std::uint32_t j, double t) {
    const std::uint32_t k = pushes.add(t, h.version(), users);  // may renumber what users hold
    const std::uint32_t old = users[j];
    time_age.replace(pushes.stamp(old), t, t);
    users[j] = k;
    if (pushes.version(old) < h.version()) {
      h.move(pushes.version(old), h.version(), t);
      acquired(policy, j, h.version(), t);
    }
  };
  const auto source_update = [&](double t) {
    h.source_update(t);
    if constexpr (requires { policy.source_updated(t, h.version()); }) policy.source_updated(t, h.version());
  };
  double t = 0.0;
  bool drawn_ahead = false;
  if constexpr (DrawsAhead<Policy>) {
    drawn_ahead = worth_drawing_ahead(n * sizeof(std::uint32_t));
    if (drawn_ahead) {
      // The plain loop below, with its draws made draw_ahead events early and each event's
      // users prefetched then (sim/event_engine.hpp, run_drawn_ahead): the same draws in the
      // same order, so the same results to the bit.
      static_assert(!requires { policy.actor(view, 0u, t, rng); } && !requires { policy.acquired(0u, 0u, t); } &&
                    !requires { policy.source_updated(t, 0u); });
      const double horizon = window.horizon();
      double t_drawn = 0.0;
      const auto prefetch = [&](std::uint32_t u) { __builtin_prefetch(&users[u], 1, 3); };
      run_drawn_ahead(
          window, start_window,
          [&](DrawnEvent& e) {
            if (!draw_next(e, t_drawn, horizon, next_gap, choice, rng)) return false;
            if (e.kind == 0) {
              e.partner = policy.partner(view, e.actor, t_drawn, rng);
              prefetch(e.actor);
              prefetch(e.partner);
            } else if (e.kind == 1) {
              if (!targets.empty()) e.actor = targets[e.actor];
              prefetch(e.actor);
            }
            return true;
          },
          [&](const DrawnEvent& e) {
            t = e.t;
            ++result.events;
            if (e.kind == 0) contact_with(e.actor, e.partner, t);
            else if (e.kind == 1) push(e.actor, t);
            else source_update(t);
          });
    }
  }
  if (!drawn_ahead) {
    for (;;) {
      double t_next;
      if constexpr (OwnClock<Policy>) {
        // The policy's clock joins the superposition at its current rate, redrawn whenever that
        // changes (exact: every clock is memoryless).
        const double own = policy.own_rate();
        t_next = t + boost::random::exponential_distribution<double>(total + own)(rng);
        if (const double change = policy.next_change(); change <= t_next) {
          if (!window.admits(change, start_window)) break;
          t = change;
          policy.advance(t);
          continue;
        }
        if (own > 0.0 && boost::random::uniform_01<double>()(rng) * (total + own) < own) {
          if (!window.admits(t_next, start_window)) break;
          t = t_next;
          ++result.events;
          contact(policy.own_actor(rng), t);
          continue;
        }
      } else {
        t_next = t + next_gap(rng);
      }
      if (!window.admits(t_next, start_window)) break;
      t = t_next;
      ++result.events;
      const auto event = choice.draw(rng);
      if (event.kind == 0) {
        const std::uint32_t i = tick_actor(policy, view, event.actor, t, rng);
        if constexpr (!Policy::always_contacts) {
          if (i == no_contact) continue;
        }
        contact(i, t);
      } else if (event.kind == 1) {
        // The source pushes its newest version to a uniformly chosen user (or head).
        push(targets.empty() ? event.actor : targets[event.actor], t);
      } else {
        source_update(t);
      }
    }
  }
  h.close(window.horizon());
  result.mean_age_time = time_age.close(window.horizon()) / (static_cast<double>(n) * window.length());
  result.staleness_time = h.age_time();
  result.worst_time = h.worst_time();
  result.max_all_time = h.worst_time();  // one source: its worst observer is the worst pair
  result.mean_staleness = first_moment(result.staleness_time) / (static_cast<double>(n) * window.length());
  result.max_mean = first_moment(result.worst_time) / window.length();
  result.max_all_mean = result.max_mean;
  return result;
}

}  // namespace

double source_state_bytes(const Scenario& s) {
  const double n = s.network.n;
  const double pushes = s.source.push_rate * s.run.horizon;
  const double entries = std::min(pushes + 6.0 * std::sqrt(pushes) + 1.0, 1.5 * n + Pushes::first_capacity);
  return sizeof(std::uint32_t) * n + 2.0 * Pushes::bytes_per_entry * std::max<double>(entries, Pushes::first_capacity);
}

TrialResult run_source_trial(const Scenario& s, const Graph& graph, std::uint64_t index) {
  return dispatch(s, graph, index, [&](const auto& g, auto mode, Rng& rng) {
    return with_policy<PolicyLoop::source>(s, g.size(), [&](auto& policy) {
      return run_source<std::decay_t<decltype(g)>, decltype(mode)::value>(s, g, policy, rng);
    });
  });
}

}  // namespace timely::sim
