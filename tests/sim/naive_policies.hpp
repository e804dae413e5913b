#pragma once
// Deliberately naive simulations of the gossip policies fanout, burst and asuman
// (docs/model.md §1.1) on the complete graph, in push mode, written from their definitions
// alone: every clock is superposed into one Poisson stream of the total rate and each event is
// thinned to its kind and actor by a uniform draw; every set the rules speak of is found by
// scanning all users; every time average is the exact integral of the state's value between
// consecutive events, recomputed from scratch after every event. They share no code with the
// engine beyond the random generator's type and seeding and the Scenario struct, and use
// their own seed stream (run.seed ^ 0x5eed), so each trial is independent of the engine's.
#include <algorithm>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "sim/random.hpp"
#include "sim/scenario.hpp"

namespace timely::tests::naive {

// One trial's time averages over [run.warmup, run.horizon], and the gossip contacts made
// over the whole run [0, run.horizon].
struct UsersResult {
  double mean_staleness = 0.0;  // mean over the n (n-1) ordered pairs (observer j, source k), j != k
  double max_mean = 0.0;        // each source's worst observer, averaged over all n sources
  double max_all_mean = 0.0;    // worst over the pairs whose source is one of 0 .. max_all_sources-1
  std::uint64_t sends = 0;
};

struct SourceResult {
  double mean_staleness = 0.0;  // mean over users of the source's version minus theirs
  std::uint64_t sends = 0;
};

inline sim::Rng naive_rng(const sim::Scenario& s, std::uint64_t trial) {
  return sim::make_rng(s.run.seed ^ 0x5eed, sim::Stream::trial, trial);
}

// Uniform over 0 .. n-1.
inline std::uint32_t uniform_user(std::uint32_t n, sim::Rng& rng) {
  return boost::random::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng);
}

// Uniform over the n-1 users other than `actor`.
inline std::uint32_t uniform_other(std::uint32_t n, std::uint32_t actor, sim::Rng& rng) {
  std::uint32_t j = boost::random::uniform_int_distribution<std::uint32_t>(0, n - 2)(rng);
  return j >= actor ? j + 1 : j;
}

// Overlap of [a, b] with the window [warmup, horizon].
inline double window_overlap(const sim::Scenario& s, double a, double b) {
  return std::max(0.0, std::min(b, s.run.horizon) - std::max(a, s.run.warmup));
}

// ---- users model ------------------------------------------------------------------------

// Every user's own version and every user's view of every user's version.
struct VectorClocks {
  std::uint32_t n;
  std::vector<std::uint64_t> own;                // own[k]: k's version
  std::vector<std::vector<std::uint64_t>> view;  // view[j][k]: what j knows of k's version
  explicit VectorClocks(std::uint32_t users)
      : n(users), own(users, 0), view(users, std::vector<std::uint64_t>(users, 0)) {}

  void update(std::uint32_t u) {
    ++own[u];
    view[u][u] = own[u];
  }
  // Push from i to j: j merges i's view element by element.
  void push(std::uint32_t i, std::uint32_t j) {
    for (std::uint32_t k = 0; k < n; ++k) view[j][k] = std::max(view[j][k], view[i][k]);
  }
  std::uint64_t staleness(std::uint32_t observer, std::uint32_t source) const {
    return own[source] - view[observer][source];
  }
  // The three instantaneous values whose time averages UsersResult holds.
  struct Values {
    double mean, max_mean, max_all;
  };
  Values values(std::uint32_t max_all_sources) const {
    double sum = 0.0, worst_sum = 0.0, worst_all = 0.0;
    for (std::uint32_t k = 0; k < n; ++k) {
      double worst = 0.0;
      for (std::uint32_t j = 0; j < n; ++j) {
        if (j == k) continue;
        const double a = static_cast<double>(staleness(j, k));
        sum += a;
        worst = std::max(worst, a);
      }
      worst_sum += worst;
      if (k < max_all_sources) worst_all = std::max(worst_all, worst);
    }
    return {sum / (static_cast<double>(n) * (n - 1)), worst_sum / n, worst_all};
  }
};

// Runs the users model with `total` the rate of all clocks together; event(t, clocks, rng)
// applies one event at time t. Integrates the three values exactly over the window.
template <class Event>
UsersResult run_users(const sim::Scenario& s, double total, std::uint32_t max_all_sources, sim::Rng& rng,
                      VectorClocks& clocks, Event&& event) {
  boost::random::exponential_distribution<double> gap(total);
  UsersResult r;
  double t = 0.0;
  VectorClocks::Values now = clocks.values(max_all_sources);
  for (;;) {
    const double next = t + gap(rng);
    const double dt = window_overlap(s, t, next);
    r.mean_staleness += now.mean * dt;
    r.max_mean += now.max_mean * dt;
    r.max_all_mean += now.max_all * dt;
    if (next >= s.run.horizon) break;
    t = next;
    r.sends += event(t);
    now = clocks.values(max_all_sources);
  }
  const double window = s.run.horizon - s.run.warmup;
  r.mean_staleness /= window;
  r.max_mean /= window;
  r.max_all_mean /= window;
  return r;
}

// fanout's f: gossip.fanout, else round(kappa g(n) / mu) clipped to [1, n-1].
inline std::uint32_t fanout_of(const sim::Scenario& s) {
  if (s.gossip.fanout) return *s.gossip.fanout;
  const double f = std::round(s.gossip_rate() / s.updates.rate);
  return static_cast<std::uint32_t>(std::clamp(f, 1.0, static_cast<double>(s.network.n - 1)));
}

// fanout: no gossip clocks; at each local update of u (rate mu per user), after its version
// grows, u pushes its whole view to f distinct uniformly chosen other users at once.
inline UsersResult fanout_users_trial(const sim::Scenario& s, std::uint64_t trial) {
  const std::uint32_t n = s.network.n, f = fanout_of(s);
  sim::Rng rng = naive_rng(s, trial);
  VectorClocks clocks(n);
  return run_users(s, n * s.updates.rate, s.tracked_sources(), rng, clocks, [&](double) -> std::uint64_t {
    const std::uint32_t u = uniform_user(n, rng);
    clocks.update(u);
    // f distinct others: the first f of a uniformly shuffled list of the others.
    std::vector<std::uint32_t> others;
    for (std::uint32_t j = 0; j < n; ++j)
      if (j != u) others.push_back(j);
    for (std::uint32_t a = 0; a < f; ++a) {
      const std::uint32_t b = boost::random::uniform_int_distribution<std::uint32_t>(
          a, static_cast<std::uint32_t>(others.size()) - 1)(rng);
      std::swap(others[a], others[b]);
    }
    // u is not among its partners, so its view is the same for every one of them.
    for (std::uint32_t a = 0; a < f; ++a) clocks.push(u, others[a]);
    return f;
  });
}

// burst, users model: user u's deadline becomes t + T at each of its local updates; its
// gossip clock (rate R) pushes to a uniform other user only on ticks before its deadline.
inline UsersResult burst_users_trial(const sim::Scenario& s, std::uint64_t trial) {
  const std::uint32_t n = s.network.n;
  const double mu = s.updates.rate, R = *s.gossip.burst_rate, T = *s.gossip.burst_time;
  sim::Rng rng = naive_rng(s, trial);
  boost::random::uniform_01<double> unit;
  VectorClocks clocks(n);
  std::vector<double> deadline(n, -std::numeric_limits<double>::infinity());
  const double total = n * mu + n * R;
  return run_users(s, total, s.tracked_sources(), rng, clocks, [&](double t) -> std::uint64_t {
    const bool is_update = unit(rng) * total < n * mu;
    const std::uint32_t i = uniform_user(n, rng);
    if (is_update) {
      clocks.update(i);
      deadline[i] = t + T;
      return 0;
    }
    if (!(t < deadline[i])) return 0;  // a tick outside i's burst: no contact
    clocks.push(i, uniform_other(n, i, rng));
    return 1;
  });
}

// ---- source model -----------------------------------------------------------------------

// The users' versions and the source's.
struct SourceState {
  std::uint64_t source = 0;
  std::vector<std::uint64_t> version;
  explicit SourceState(std::uint32_t n) : version(n, 0) {}
  double mean_age() const {
    double sum = 0.0;
    for (const std::uint64_t v : version) sum += static_cast<double>(source - v);
    return sum / static_cast<double>(version.size());
  }
};

// Runs the source model with `total` the rate of all clocks together; event(t) applies one
// event at time t and returns the contacts it made.
template <class Event>
SourceResult run_source(const sim::Scenario& s, double total, sim::Rng& rng, const SourceState& state,
                        Event&& event) {
  boost::random::exponential_distribution<double> gap(total);
  SourceResult r;
  double t = 0.0;
  for (;;) {
    const double next = t + gap(rng);
    r.mean_staleness += state.mean_age() * window_overlap(s, t, next);
    if (next >= s.run.horizon) break;
    t = next;
    r.sends += event(t);
  }
  r.mean_staleness /= s.run.horizon - s.run.warmup;
  return r;
}

// burst, source model: user j's deadline becomes t + T whenever it acquires a strictly newer
// version (from the source's push or a gossip push); each user's gossip clock (rate R) pushes
// its version to a uniform other user only on ticks before its deadline.
inline SourceResult burst_source_trial(const sim::Scenario& s, std::uint64_t trial) {
  const std::uint32_t n = s.network.n;
  const double R = *s.gossip.burst_rate, T = *s.gossip.burst_time;
  const double update = s.source.rate, push = s.source.push_rate, ticks = n * R, total = update + push + ticks;
  sim::Rng rng = naive_rng(s, trial);
  boost::random::uniform_01<double> unit;
  SourceState state(n);
  std::vector<double> deadline(n, -std::numeric_limits<double>::infinity());
  const auto receive = [&](std::uint32_t j, std::uint64_t v, double t) {
    if (v > state.version[j]) {
      state.version[j] = v;
      deadline[j] = t + T;
    }
  };
  return run_source(s, total, rng, state, [&](double t) -> std::uint64_t {
    const double u = unit(rng) * total;
    if (u < update) {
      ++state.source;
      return 0;
    }
    if (u < update + push) {
      receive(uniform_user(n, rng), state.source, t);
      return 0;
    }
    const std::uint32_t i = uniform_user(n, rng);
    if (!(t < deadline[i])) return 0;
    receive(uniform_other(n, i, rng), state.version[i], t);
    return 1;
  });
}

// asuman, source model: the budget clock (rate B = n lambda) and a winner set W with a signal
// time tau, both set at each source update only (W: the users holding the newest version M
// among users; tau = t + c (V - M)). A budget tick is the winners' with probability `share`
// (a uniform member of W pushes to a uniform other user, if t >= tau; else nothing), and
// otherwise blind (a uniform user pushes to a uniform other user).
inline SourceResult asuman_source_trial(const sim::Scenario& s, std::uint64_t trial) {
  const std::uint32_t n = s.network.n;
  const double c = *s.gossip.asuman_delay, share = *s.gossip.asuman_share;
  const double update = s.source.rate, push = s.source.push_rate, budget = n * s.gossip_rate();
  const double total = update + push + budget;
  sim::Rng rng = naive_rng(s, trial);
  boost::random::uniform_01<double> unit;
  SourceState state(n);
  std::vector<std::uint32_t> winners(n);
  for (std::uint32_t i = 0; i < n; ++i) winners[i] = i;
  double tau = 0.0;
  const auto gossip = [&](std::uint32_t i) {
    const std::uint32_t j = uniform_other(n, i, rng);
    state.version[j] = std::max(state.version[j], state.version[i]);
  };
  return run_source(s, total, rng, state, [&](double t) -> std::uint64_t {
    const double u = unit(rng) * total;
    if (u < update) {
      const std::uint64_t V = ++state.source;
      std::uint64_t M = 0;
      for (const std::uint64_t v : state.version) M = std::max(M, v);
      winners.clear();
      for (std::uint32_t i = 0; i < n; ++i)
        if (state.version[i] == M) winners.push_back(i);
      tau = t + c * static_cast<double>(V - M);
      return 0;
    }
    if (u < update + push) {
      const std::uint32_t j = uniform_user(n, rng);
      state.version[j] = state.source;
      return 0;
    }
    if (unit(rng) < share) {
      if (!(t >= tau)) return 0;
      gossip(winners[boost::random::uniform_int_distribution<std::size_t>(0, winners.size() - 1)(rng)]);
      return 1;
    }
    gossip(uniform_user(n, rng));
    return 1;
  });
}

}  // namespace timely::tests::naive
