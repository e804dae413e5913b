#pragma once
// The event loops shared by the staleness trials (trial.cpp) and the learning trials
// (learning.cpp, quadratic.cpp): superposed and renewal clocks over any ClockModel
// (sim/clock_model.hpp: the users model, learning's clocks, either inside the network
// layer), every gossip tick through the scenario's gossip policy (sim/gossip_policy.hpp),
// and the one-per-trial dispatch on (graph type, gossip mode). Internal to sim/: not part of
// the library's interface.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <queue>
#include <stdexcept>
#include <type_traits>
#include <variant>
#include <vector>

#include <unistd.h>

#include "sim/alias_table.hpp"
#include "sim/clock_model.hpp"
#include "sim/draws.hpp"
#include "sim/gossip_policy.hpp"
#include "sim/random.hpp"
#include "sim/scenario.hpp"
#include "sim/topology.hpp"
#include "sim/user_clocks.hpp"
#include "sim/window.hpp"

namespace timely::sim::engine {

// What the clocks of one trial counted.
struct ClockCounts {
  std::uint64_t events = 0;  // clock events (the network layer adds its own)
  std::uint64_t sends = 0;   // contacts the gossip policy made (TrialResult::gossip_sends)
};

// The user whose update clock drives `slot`: models whose every user updates (learning)
// use slot = user; the users model maps its tracked slots.
template <ClockModel Model>
std::uint32_t clock_user(const Model& m, std::uint32_t slot) {
  if constexpr (requires { m.tracked_user(slot); }) {
    return m.tracked_user(slot);
  } else {
    return slot;
  }
}

// The update clocks a loop runs: the model's tracked slots, or, for a policy that acts after
// every local update (fanout, burst), every user's, since an untracked user's update then
// sends tracked versions too; its tick only runs the policy. Clock c is then user c.
template <ClockModel Model, class Policy>
class UpdateClocks {
 public:
  static constexpr bool every_user = acts_after_updates<Policy, Model>();
  explicit UpdateClocks(const Model& m) {
    if constexpr (every_user) {
      slot_of_.assign(m.size(), none);
      for (std::uint32_t slot = 0; slot < m.tracked(); ++slot) slot_of_[clock_user(m, slot)] = slot;
    }
  }
  static std::uint32_t count(const Model& m) { return every_user ? m.size() : m.tracked(); }
  static std::uint32_t user(const Model& m, std::uint32_t clock) { return every_user ? clock : clock_user(m, clock); }
  // A tick of `clock` at t: the model's update, then the policy's. Returns the contacts made.
  [[gnu::always_inline]] std::uint32_t tick(Model& m, Policy& policy, std::uint32_t clock, double t, Rng& rng) const {
    if constexpr (every_user) {
      if (slot_of_[clock] != none) m.update(slot_of_[clock], t);
      return policy_after_update(policy, m, clock, t, rng);
    } else {
      m.update(clock, t);
      return 0;
    }
  }

 private:
  static constexpr std::uint32_t none = ~std::uint32_t{0};
  std::vector<std::uint32_t> slot_of_;  // every_user: user -> tracked slot, or none
};

// The next event of clocks at total rate `total` (gaps from fixed_gap) superposed with a
// policy's own clock (OwnClock), from time t: sets t to it, or answers stop at the window's
// end. The own clock's rate changes at next_change(); the policy is advanced there and the
// gap redrawn, which is exact because every clock is memoryless. Without an own clock this
// is exactly the draw and window test the loops made before policies had clocks.
enum class Next : std::uint8_t { fixed, own, stop };
template <class Policy, class Gap, class Start>
[[gnu::always_inline]] inline Next next_event(Policy& policy, double total, Gap& fixed_gap, double& t, Window& window,
                                              Rng& rng, Start&& start) {
  if constexpr (OwnClock<Policy>) {
    for (;;) {
      const double own = policy.own_rate();
      const double t_next = t + boost::random::exponential_distribution<double>(total + own)(rng);
      if (const double change = policy.next_change(); change <= t_next) {
        if (!window.admits(change, start)) return Next::stop;
        t = change;
        policy.advance(t);
        continue;
      }
      if (!window.admits(t_next, start)) return Next::stop;
      t = t_next;
      return own > 0.0 && boost::random::uniform_01<double>()(rng) * (total + own) < own ? Next::own : Next::fixed;
    }
  } else {
    const double t_next = t + fixed_gap(rng);
    if (!window.admits(t_next, start)) return Next::stop;
    t = t_next;
    return Next::fixed;
  }
}

// ---- drawing ahead (issue 29) --------------------------------------------------------
// At 10^7 users and more almost every event's state misses the caches, and a loop that
// draws an event, then touches its users, waits for one DRAM access at a time. Under a
// DrawsAhead policy the draws do not depend on the state, so the loops draw the events
// `draw_ahead` places ahead (the same draws, in the same order, from the same engine) and
// prefetch the state each will touch when it is drawn: many misses are then in flight at
// once (memory-level parallelism), and the state is in cache when its event runs.
//
// The engine's stream is untouched: event k's draws are made before event k+1's, as in the
// plain loop, and the drawing stops at the first event past the horizon, which the plain
// loop draws too (its gap) before it stops. So the engine ends in the same state (nothing
// reads it after the loop, but nothing could tell).
//
// 16 events ahead: about 25 lines in flight (gossip touches two users), near what one core
// tracks; measured against 8, 32 and 64 with timely_scaling_bench (docs/performance.md).
inline constexpr std::uint32_t draw_ahead = 16;

// Whether drawing ahead pays for state of `bytes`: only once it outgrows the core's L2
// cache (sysconf; 1 MiB where unknown). Below, every access hits and the ring of drawn
// events only costs (source model at 10^3 users: about 0.75 of the plain loop's rate;
// docs/performance.md). Either loop gives the same bits, so tests and benchmarks may move
// the threshold (draw_ahead_from_bytes: 0 always draws ahead, SIZE_MAX never).
inline std::atomic<std::size_t>& draw_ahead_from_bytes() {
  static std::atomic<std::size_t> bytes{[] {
    long size = 0;
#ifdef _SC_LEVEL2_CACHE_SIZE
    size = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    return size > 0 ? static_cast<std::size_t>(size) : std::size_t{1} << 20;
  }()};
  return bytes;
}
inline bool worth_drawing_ahead(std::size_t bytes) {
  return bytes > draw_ahead_from_bytes().load(std::memory_order_relaxed);
}

struct DrawnEvent {
  double t;
  std::uint32_t kind, actor, partner;
};

// Draws the next event of superposed clocks into e: its time t (the gap first, as the plain
// loops draw it) and, when that is not past the horizon, its kind and actor. False past the
// horizon, with no draw after the gap.
template <class Gap, class Choice>
[[gnu::always_inline]] inline bool draw_next(DrawnEvent& e, double& t, double horizon, Gap& gap, const Choice& choice,
                                             Rng& rng) {
  t += gap(rng);
  e.t = t;
  if (t > horizon) return false;
  const auto event = choice.draw(rng);
  e.kind = event.kind;
  e.actor = event.actor;
  return true;
}

// Runs the events that draw(e) makes, in order: draw fills e (its time first) and returns
// false for the first event past the horizon, and makes no draw after that; run(e) runs one
// event. The window is tested in event order, so its start and checkpoints come exactly as
// in the plain loops. Requires warmup <= horizon (validation refuses the rest), where the
// window admits exactly the times up to the horizon.
template <std::uint32_t Depth = draw_ahead, class Draw, class Run, class Start>
[[gnu::always_inline]] inline void run_drawn_ahead(Window& window, Start&& start, Draw&& draw, Run&& run) {
  std::array<DrawnEvent, Depth> ahead;
  std::uint32_t last = 0;  // the slot of the last event drawn
  bool more = true;
  for (std::uint32_t k = 0; k < Depth && more; ++k) {
    more = draw(ahead[k]);
    last = k;
  }
  for (std::uint32_t at = 0;; at = at + 1 == Depth ? 0 : at + 1) {
    const DrawnEvent e = ahead[at];
    if (!window.admits(e.t, start)) return;
    if (more) {
      more = draw(ahead[at]);
      last = at;
    } else if (at == last) [[unlikely]] {
      throw std::logic_error("run_drawn_ahead: the window admitted an event past the horizon (warmup > horizon?)");
    }
    run(e);
  }
}

// The loops are kept out of line (noinline): inlined into their caller, GCC's inliner ran out
// of budget and left the model's gossip() as a call per event (callgrind: +8% instructions
// on the ring).

// Poisson update clocks: every clock joins the superposition (docs/model.md §1), and a
// policy's own clock too.
template <ClockModel Model, class Policy>
[[gnu::noinline]] ClockCounts run_poisson_updates(Model& m, Policy& policy, const Scenario& s, Rng& rng, Window& window) {
  const UpdateClocks<Model, Policy> clocks(m);
  const double mu = s.updates.rate, lambda = has_gossip_clocks<Policy>() ? s.gossip_rate() : 0.0;
  const double update_total = mu * clocks.count(m), gossip_total = lambda * m.size();
  boost::random::exponential_distribution<double> next_gap(update_total + gossip_total);
  const EventChoice<2> choice({update_total, gossip_total}, {clocks.count(m), m.size()});
  ClockCounts counts;
  if constexpr (DrawsAhead<Policy> && requires(const Model& cm, std::uint32_t u) {
                  cm.prefetch_user(u);
                  { cm.state_bytes() } -> std::convertible_to<std::size_t>;
                }) {
    // The loop below with its draws made draw_ahead events early, and both users of each
    // contact prefetched then (run_drawn_ahead): the same draws in the same order. Only
    // models that say what to prefetch (the users model) and make no draws of their own.
    static_assert(!UpdateClocks<Model, Policy>::every_user);
    if (worth_drawing_ahead(m.state_bytes())) {
      const double horizon = window.horizon();
      double t_drawn = 0.0;
      run_drawn_ahead(
          window, [&](double tw) { m.start_window(tw); },
          [&](DrawnEvent& e) {
            if (!draw_next(e, t_drawn, horizon, next_gap, choice, rng)) return false;
            if (e.kind == 1) {
              e.partner = policy.partner(m, e.actor, t_drawn, rng);
              m.prefetch_user(e.actor);
              m.prefetch_user(e.partner);
            }
            return true;
          },
          [&](const DrawnEvent& e) {
            m.before_event(e.t);
            ++counts.events;
            if (e.kind == 0) {
              counts.sends += clocks.tick(m, policy, e.actor, e.t, rng);
            } else {
              m.gossip(e.actor, e.partner, e.t);
              ++counts.sends;
            }
          });
      return counts;
    }
  }
  double t = 0.0;
  for (;;) {
    const Next next = next_event(policy, update_total + gossip_total, next_gap, t, window, rng,
                                 [&](double tw) { m.start_window(tw); });
    if (next == Next::stop) break;
    m.before_event(t);
    ++counts.events;
    if constexpr (OwnClock<Policy>) {
      if (next == Next::own) {
        const std::uint32_t i = policy.own_actor(rng);
        m.gossip(i, policy.partner(m, i, t, rng), t);
        ++counts.sends;
        continue;
      }
    }
    const auto event = choice.draw(rng);
    if (event.kind == 0) {
      counts.sends += clocks.tick(m, policy, event.actor, t, rng);
    } else {
      counts.sends += gossip_tick(m, policy, event.actor, t, rng);
    }
  }
  return counts;
}

// Renewal update clocks are not memoryless, so they wait in a priority queue; gossip clocks
// stay superposed. The drawn gossip time stays valid across updates because the superposed
// Poisson process is independent of them and memoryless. next_due(clock, t) is the time of
// the clock's next update after one at t (t = 0: its first), gossip_gap() the time to the
// next gossip tick (infinite without gossip clocks), gossiper() the user whose clock ticks.
template <ClockModel Model, class Policy, class NextDue, class GossipGap, class Gossiper>
[[gnu::noinline]] ClockCounts run_queued_updates(Model& m, Policy& policy, Rng& rng, Window& window, NextDue&& next_due,
                                                 GossipGap&& gossip_gap, Gossiper&& gossiper) {
  const UpdateClocks<Model, Policy> clocks(m);
  using Due = std::pair<double, std::uint32_t>;
  std::vector<Due> storage;
  storage.reserve(clocks.count(m));
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due(std::greater<>{}, std::move(storage));
  for (std::uint32_t c = 0; c < clocks.count(m); ++c) due.emplace(next_due(c, 0.0), c);
  ClockCounts counts;
  double next_gossip = gossip_gap();
  for (;;) {
    const bool is_update = due.top().first < next_gossip;
    const double t = is_update ? due.top().first : next_gossip;
    if (!window.admits(t, [&](double tw) { m.start_window(tw); })) break;
    m.before_event(t);
    ++counts.events;
    if (is_update) {
      const std::uint32_t c = due.top().second;
      due.pop();
      counts.sends += clocks.tick(m, policy, c, t, rng);
      due.emplace(next_due(c, t), c);
    } else {
      counts.sends += gossip_tick(m, policy, gossiper(), t, rng);
      next_gossip = t + gossip_gap();
    }
  }
  return counts;
}

// Equal renewal clocks c + Exp(mu) and equal gossip rates.
template <ClockModel Model, class Policy>
ClockCounts run_renewal_updates(Model& m, Policy& policy, const Scenario& s, Rng& rng, Window& window) {
  const double c = s.updates.delay, lambda_total = s.gossip_rate() * m.size();
  boost::random::exponential_distribution<double> next_gap(lambda_total), update_gap(s.updates.rate);
  boost::random::uniform_int_distribution<std::uint32_t> pick_user(0, m.size() - 1);
  return run_queued_updates(
      m, policy, rng, window, [&](std::uint32_t, double t) { return t + c + update_gap(rng); },
      [&] { return has_gossip_clocks<Policy>() ? next_gap(rng) : std::numeric_limits<double>::infinity(); },
      [&] { return pick_user(rng); });
}

// Heterogeneous users (docs/model.md §1): user i updates after c_i + Exp(mu_i) and gossips at
// lambda_i. Gossip clocks are superposed (total sum lambda_i, the actor drawn in proportion
// to its rate from an alias table). Poisson update clocks (every c_i = 0) join the
// superposition the same way; renewal clocks wait in a priority queue, as in the
// homogeneous case.
template <ClockModel Model, class Policy>
[[gnu::noinline]] ClockCounts run_heterogeneous(Model& m, Policy& policy, const UserClocks& user_clocks, Rng& rng,
                                                Window& window) {
  using Clocks = UpdateClocks<Model, Policy>;
  const Clocks clocks(m);
  std::vector<double> gossip_rate = user_clocks.gossip_rate;
  if constexpr (!has_gossip_clocks<Policy>()) std::fill(gossip_rate.begin(), gossip_rate.end(), 0.0);
  const double gossip_total = std::accumulate(gossip_rate.begin(), gossip_rate.end(), 0.0);
  const std::optional<AliasTable> gossiper = gossip_total > 0.0 ? std::optional<AliasTable>(gossip_rate) : std::nullopt;
  boost::random::exponential_distribution<double> unit(1.0);
  if (!user_clocks.renewal()) {
    std::vector<double> rates(clocks.count(m));
    for (std::uint32_t c = 0; c < clocks.count(m); ++c) rates[c] = user_clocks.update_rate[Clocks::user(m, c)];
    const AliasTable updater(rates);
    const double update_total = std::accumulate(rates.begin(), rates.end(), 0.0);
    const double total = update_total + gossip_total;
    boost::random::uniform_01<double> uniform;
    ClockCounts counts;
    double t = 0.0;
    for (;;) {
      const double t_next = t + unit(rng) / total;
      if (!window.admits(t_next, [&](double tw) { m.start_window(tw); })) break;
      m.before_event(t_next);
      t = t_next;
      ++counts.events;
      if (uniform(rng) * total < update_total) {
        counts.sends += clocks.tick(m, policy, updater.sample(rng), t, rng);
      } else {
        counts.sends += gossip_tick(m, policy, gossiper->sample(rng), t, rng);
      }
    }
    return counts;
  }
  return run_queued_updates(
      m, policy, rng, window,
      [&](std::uint32_t c, double t) {
        const std::uint32_t user = Clocks::user(m, c);
        return t + user_clocks.update_delay[user] + unit(rng) / user_clocks.update_rate[user];
      },
      [&] { return gossiper ? unit(rng) / gossip_total : std::numeric_limits<double>::infinity(); },
      [&] { return gossiper->sample(rng); });
}

// The scenario's clocks (heterogeneous, renewal or Poisson) with its gossip policy: one
// instantiation of the chosen loop per policy that runs in `Loop` (the users model or
// learning). A policy with its own clock runs on Poisson clocks only (its check refuses the
// others).
template <PolicyLoop Loop, ClockModel Model>
ClockCounts run_updates_and_gossip(Model& m, const Scenario& s, Rng& rng, Window& window) {
  return with_policy<Loop>(s, m.size(), [&](auto& policy) {
    using Policy = std::decay_t<decltype(policy)>;
    if constexpr (OwnClock<Policy>) {
      if (s.heterogeneous() || s.updates.delay > 0.0)
        throw std::logic_error("gossip.policy: a policy with its own clock reached renewal or per-user clocks");
      return run_poisson_updates(m, policy, s, rng, window);
    } else {
      if (s.heterogeneous()) return run_heterogeneous(m, policy, user_clocks(s), rng, window);
      return s.updates.delay > 0.0 ? run_renewal_updates(m, policy, s, rng, window)
                                   : run_poisson_updates(m, policy, s, rng, window);
    }
  });
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
