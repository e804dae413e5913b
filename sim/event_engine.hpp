#pragma once
// The event loops shared by the staleness trials (trial.cpp) and the learning trials
// (learning.cpp, quadratic.cpp): superposed and renewal clocks over any ClockModel
// (sim/clock_model.hpp: the users model, learning's clocks, either inside the network
// layer), every gossip tick through the scenario's gossip policy (sim/gossip_policy.hpp),
// and the one-per-trial dispatch on (graph type, gossip mode). Internal to sim/: not part of
// the library's interface.
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

// The loops are kept out of line (noinline): inlined into their caller, GCC's inliner ran out
// of budget and left the model's gossip() as a call per event (callgrind: +8% instructions
// on the ring).

// Poisson update clocks: every clock joins the superposition (docs/model.md §1).
template <ClockModel Model, class Policy>
[[gnu::noinline]] std::uint64_t run_poisson_updates(Model& m, Policy& policy, const Scenario& s, Rng& rng, Window& window) {
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
      gossip_tick(m, policy, event.actor, t, rng);
    }
  }
  return events;
}

// Renewal update clocks are not memoryless, so they wait in a priority queue; gossip clocks
// stay superposed. The drawn gossip time stays valid across updates because the superposed
// Poisson process is independent of them and memoryless. next_due(slot, t) is the time of
// the slot's next update after one at t (t = 0: its first), gossip_gap() the time to the
// next gossip tick, gossiper() the user whose clock ticks.
template <ClockModel Model, class Policy, class NextDue, class GossipGap, class Gossiper>
[[gnu::noinline]] std::uint64_t run_queued_updates(Model& m, Policy& policy, Rng& rng, Window& window, NextDue&& next_due,
                                 GossipGap&& gossip_gap, Gossiper&& gossiper) {
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
      gossip_tick(m, policy, gossiper(), t, rng);
      next_gossip = t + gossip_gap();
    }
  }
  return events;
}

// Equal renewal clocks c + Exp(mu) and equal gossip rates.
template <ClockModel Model, class Policy>
std::uint64_t run_renewal_updates(Model& m, Policy& policy, const Scenario& s, Rng& rng, Window& window) {
  const double c = s.updates.delay, lambda_total = s.gossip_rate() * m.size();
  boost::random::exponential_distribution<double> next_gap(lambda_total), update_gap(s.updates.rate);
  boost::random::uniform_int_distribution<std::uint32_t> pick_user(0, m.size() - 1);
  return run_queued_updates(
      m, policy, rng, window, [&](std::uint32_t, double t) { return t + c + update_gap(rng); },
      [&] { return next_gap(rng); }, [&] { return pick_user(rng); });
}

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

// Heterogeneous users (docs/model.md §1): user i updates after c_i + Exp(mu_i) and gossips at
// lambda_i. Gossip clocks are superposed (total sum lambda_i, the actor drawn in proportion
// to its rate from an alias table). Poisson update clocks (every c_i = 0) join the
// superposition the same way; renewal clocks wait in a priority queue, as in the
// homogeneous case.
template <ClockModel Model, class Policy>
[[gnu::noinline]] std::uint64_t run_heterogeneous(Model& m, Policy& policy, const UserClocks& clocks, Rng& rng, Window& window) {
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
        gossip_tick(m, policy, gossiper.sample(rng), t, rng);
      }
    }
    return events;
  }
  return run_queued_updates(
      m, policy, rng, window,
      [&](std::uint32_t slot, double t) {
        const std::uint32_t user = clock_user(m, slot);
        return t + clocks.update_delay[user] + unit(rng) / clocks.update_rate[user];
      },
      [&] { return unit(rng) / gossip_total; }, [&] { return gossiper.sample(rng); });
}

// The scenario's clocks (heterogeneous, renewal or Poisson) with its gossip policy: one
// instantiation of the chosen loop per policy that runs in `Loop` (the users model or learning).
template <PolicyLoop Loop, ClockModel Model>
std::uint64_t run_updates_and_gossip(Model& m, const Scenario& s, Rng& rng, Window& window) {
  return with_policy<Loop>(s, m.size(), [&](auto& policy) {
    if (s.heterogeneous()) return run_heterogeneous(m, policy, user_clocks(s), rng, window);
    return s.updates.delay > 0.0 ? run_renewal_updates(m, policy, s, rng, window)
                                 : run_poisson_updates(m, policy, s, rng, window);
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
