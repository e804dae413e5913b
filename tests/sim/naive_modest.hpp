#pragma once
// A deliberately naive simulation of the timing of MoDeST's rounds (docs/model.md §4.1), written
// from the rules alone: no learning, only who holds the round's model when, who answers a ping,
// which transfers arrive and when an aggregator averages or the round is abandoned. Every
// availability question is answered by scanning all of a user's online periods; the pinging
// slots are a plain vector scanned for the earliest; every aggregator's count is recounted
// from scratch over all arrivals. It shares no code with sim/modest.hpp: beyond the Scenario
// struct, the random generator's type and seeding and boost's distributions, it uses only the
// round order (sim::modest::round_order, tested on its own in tests/sim/modest_test.cpp) and
// the users' uplink times (sim::transfer_times, drawn once per run; tested in
// tests/sim/dpsgd_test.cpp), so that both simulate the same uplinks. Its
// draws come from its own seed (run.seed ^ 0x6d6f64), so each trial is independent of the
// engine's, and its churn is drawn by its own code from the same law (docs/model.md §7.3).
//
// Views (docs/model.md §4.1), written from the rules alone too: every user's join/leave counter
// of every user in a full n x n table (the last round seen active changes no sample, so it is
// left out); every churn transition announced to 10 s distinct others drawn by rejection, each
// announcement a row of a list sorted by arrival and delivered by scanning that list.
//
// Aggregators (modest.aggregators = a): each trainer pings for a of them and sends its model
// to every one that answered, the highest uplink first (equal uplinks: in answer order); every
// aggregator's count is recounted over the arrivals at it; the earliest one that averages
// while online wins, the others are dropped.
//
// Supported: churn none or markov, a latency that is a number (gossip.latency), any bandwidth
// (a number or a per-user law) and loss, homogeneous update clocks (updates.delay +
// Exp(updates.rate)).
#include <algorithm>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/modest_sampling.hpp"
#include "sim/random.hpp"
#include "sim/scenario.hpp"
#include "sim/user_clocks.hpp"

namespace timely::tests::naive {

// One trial's rounds: completed (the aggregation at or before the horizon) and abandoned, and
// the sample overlap summed over the accepted trainers of completed rounds, with their count.
struct ModestRoundsResult {
  std::uint64_t rounds = 0;
  std::uint64_t abandoned = 0;
  double overlap_total = 0.0;
  std::uint64_t overlaps = 0;
};

namespace modest_detail {

inline constexpr double never = std::numeric_limits<double>::infinity();

// Each user's online periods [start, end), scanned in full for every question.
struct OnlinePeriods {
  std::vector<std::vector<std::pair<double, double>>> of;

  bool online(std::uint32_t u, double t) const {
    for (const auto& [start, end] : of[u])
      if (start <= t && t < end) return true;
    return false;
  }
  // The end of the online period holding t; t itself when offline at t.
  double online_until(std::uint32_t u, double t) const {
    for (const auto& [start, end] : of[u])
      if (start <= t && t < end) return end;
    return t;
  }
  // t if online at t, else the earliest start of a period after t (never if none).
  double next_online(std::uint32_t u, double t) const {
    if (online(u, t)) return t;
    double first = never;
    for (const auto& [start, end] : of[u])
      if (start > t) first = std::min(first, start);
    return first;
  }
};

// Markov churn (docs/model.md §7.3): online at 0 with probability on / (on + off), then
// alternating exponential periods of means on and off, up to the horizon. No churn: always on.
inline OnlinePeriods draw_periods(const sim::Scenario& s, sim::Rng& rng) {
  OnlinePeriods p;
  p.of.resize(s.network.n);
  if (s.churn.model == sim::ChurnModel::none) {
    for (auto& periods : p.of) periods.emplace_back(0.0, never);
    return p;
  }
  if (s.churn.model != sim::ChurnModel::markov) throw std::invalid_argument("naive MoDeST: churn none or markov only");
  const double on = s.churn.online_mean, off = s.churn.offline_mean;
  boost::random::uniform_01<double> uniform;
  for (auto& periods : p.of) {
    bool up = uniform(rng) < on / (on + off);
    double t = 0.0;
    while (t < s.run.horizon) {
      const double length = boost::random::exponential_distribution<double>(1.0 / (up ? on : off))(rng);
      if (up) periods.emplace_back(t, t + length);
      t += length;
      up = !up;
    }
  }
  return p;
}

// A join or leave of `user` announced to `receiver`: its counter after the transition.
struct Announcement {
  double arrival;
  std::uint32_t receiver, user, counter;
};

// Every transition of the churn (a period's start after 0: a join; its end before the horizon:
// a leave), announced to its user itself at once and to min(10 s, n - 1) distinct others
// after the latency unless lost; sorted by arrival.
inline std::vector<Announcement> announcements(const sim::Scenario& s, const OnlinePeriods& on, std::uint32_t sample,
                                               sim::Rng& rng) {
  const std::uint32_t n = s.network.n, fanout = std::min(10 * sample, n - 1);
  boost::random::uniform_01<double> uniform;
  std::vector<Announcement> out;
  for (std::uint32_t u = 0; u < n; ++u) {
    std::uint32_t counter = 0;  // even: joined; everyone starts joined
    const auto announce = [&](double t) {
      out.push_back({t, u, u, counter});
      std::vector<bool> chosen(n, false);
      chosen[u] = true;
      for (std::uint32_t k = 0; k < fanout; ++k) {
        std::uint32_t r = u;
        while (chosen[r]) r = static_cast<std::uint32_t>(uniform(rng) * n);
        chosen[r] = true;
        if (uniform(rng) < s.gossip.loss) continue;
        out.push_back({t + s.gossip.latency, r, u, counter});
      }
    };
    for (const auto& [start, end] : on.of[u]) {
      if (start > 0.0) {
        counter += counter % 2 == 0 ? 2 : 1;
        announce(start);
      }
      if (end < s.run.horizon) {
        counter += counter % 2 == 0 ? 1 : 2;
        announce(end);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Announcement& a, const Announcement& b) { return a.arrival < b.arrival; });
  return out;
}

inline std::vector<std::uint32_t> order_of(std::uint32_t n, std::uint64_t round) {
  std::vector<std::uint32_t> order;
  sim::modest::round_order(n, round, order);
  return order;
}

}  // namespace modest_detail

// One trial of MoDeST's rounds, timing only; `message_bytes` is the size of one model.
inline ModestRoundsResult modest_rounds_trial(const sim::Scenario& s, double message_bytes, std::uint64_t trial) {
  using modest_detail::never;
  if (s.gossip.latency_law) throw std::invalid_argument("naive MoDeST: a latency that is a number only");
  if (s.heterogeneous()) throw std::invalid_argument("naive MoDeST: homogeneous update clocks only");
  const std::uint32_t n = s.network.n;
  const sim::ModestSpec& m = s.learning.modest;
  const std::uint32_t sample = std::min(m.sample, n);
  const std::uint32_t need = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::floor(sample * m.success_fraction)));
  const std::vector<double> transfer = sim::transfer_times(s, n, message_bytes);  // each user's, per model
  const double latency = s.gossip.latency, horizon = s.run.horizon;

  sim::Rng churn_rng = sim::make_rng(s.run.seed ^ 0x6d6f64, sim::Stream::churn, trial);
  sim::Rng rng = sim::make_rng(s.run.seed ^ 0x6d6f64, sim::Stream::trial, trial);
  const modest_detail::OnlinePeriods on = modest_detail::draw_periods(s, churn_rng);
  boost::random::uniform_01<double> uniform;

  // Views: counter[v][u] is v's counter of u; a user is in v's samples while it is even.
  sim::Rng views_rng = sim::make_rng(s.run.seed ^ 0x6d6f64, sim::Stream::views, trial);
  const std::vector<modest_detail::Announcement> heard = modest_detail::announcements(s, on, sample, views_rng);
  std::vector<std::vector<std::uint32_t>> counter(n, std::vector<std::uint32_t>(n, 0));
  const auto hear = [&](const modest_detail::Announcement& a) {
    if (a.receiver == a.user || on.online(a.receiver, a.arrival))
      counter[a.receiver][a.user] = std::max(counter[a.receiver][a.user], a.counter);
  };
  std::size_t heard_by_all = 0;  // the announcements up to the last round's start, delivered to all
  const auto everyone_hears = [&](double t) {
    for (; heard_by_all < heard.size() && heard[heard_by_all].arrival <= t; ++heard_by_all) hear(heard[heard_by_all]);
  };
  const auto v_hears = [&](std::uint32_t v, double t) {
    for (std::size_t i = heard_by_all; i < heard.size() && heard[i].arrival <= t; ++i)
      if (heard[i].receiver == v) hear(heard[i]);
  };
  const auto carry = [&](std::uint32_t from, std::uint32_t to) {
    for (std::uint32_t u = 0; u < n; ++u) counter[to][u] = std::max(counter[to][u], counter[from][u]);
  };
  // The first `sample` users of `order` that v's view has joined.
  const auto sample_of = [&](std::uint32_t v, const std::vector<std::uint32_t>& order) {
    std::vector<std::uint32_t> out;
    for (const std::uint32_t u : order)
      if (out.size() < sample && counter[v][u] % 2 == 0) out.push_back(u);
    return out;
  };
  const auto lost = [&] { return uniform(rng) < s.gossip.loss; };
  const auto training = [&] {
    return s.updates.delay + boost::random::exponential_distribution<double>(s.updates.rate)(rng);
  };

  // Pinger `from` pings `order` from time t with `slots` pings in flight; the answers (time,
  // user), in time order.
  const auto ping = [&](std::uint32_t from, double t, std::uint32_t slots,
                        const std::vector<std::uint32_t>& order) {
    std::vector<double> free_at(slots, t);
    std::vector<std::pair<double, std::uint32_t>> answers;
    for (const std::uint32_t c : order) {
      if (answers.size() == slots) break;
      if (counter[from][c] % 2 == 1) continue;  // left, in from's view
      std::size_t earliest = 0;
      for (std::size_t i = 1; i < free_at.size(); ++i)
        if (free_at[i] < free_at[earliest]) earliest = i;
      const double a = free_at[earliest];
      free_at.erase(free_at.begin() + static_cast<std::ptrdiff_t>(earliest));
      if (c == from && on.online(from, a)) {
        answers.emplace_back(a, c);
        continue;
      }
      const bool ping_lost = lost(), answer_lost = lost();
      if (on.online(c, a + latency) && !ping_lost && !answer_lost) {
        answers.emplace_back(a + latency + latency, c);
        continue;
      }
      free_at.push_back(a + m.ping_timeout);
    }
    std::sort(answers.begin(), answers.end());
    return answers;
  };

  // A model sent from `from` to `to` at t over from's uplink: its arrival, or never.
  std::vector<double> uplink_free(n, 0.0);
  const auto send = [&](std::uint32_t from, std::uint32_t to, double t) {
    if (from == to) return t;  // its own trainer or aggregator: no message
    const double start = std::max(t, uplink_free[from]);
    uplink_free[from] = start + transfer[from];
    const double arrival = start + transfer[from] + latency;
    const bool delivered = !lost() && on.online(from, start) && on.online_until(from, start) >= start + transfer[from] &&
                           on.online(to, arrival);
    return delivered ? arrival : never;
  };

  // Among `users`, the one online first from t on (ties: the earlier in `users`), and when.
  const auto first_online = [&](const std::vector<std::uint32_t>& users, double t) {
    std::pair<std::uint32_t, double> best{users.front(), never};
    for (const std::uint32_t u : users)
      if (on.next_online(u, t) < best.second) best = {u, on.next_online(u, t)};
    return best;
  };

  ModestRoundsResult result;
  std::uint64_t k = 0;
  std::uint32_t holder = 0;
  double T = never;
  std::tie(holder, T) = first_online(modest_detail::order_of(n, 0), 0.0);
  while (T < horizon) {
    // 1-3. The holder's sample, the model sent to each as it answers, the trainings.
    everyone_hears(T);
    const auto answers = ping(holder, T, sample, modest_detail::order_of(n, k));
    std::vector<std::uint32_t> holders{holder};  // who holds round k's model
    std::vector<std::pair<double, std::uint32_t>> trained;  // (done, trainer), in answer order
    for (const auto& [answered, j] : answers) {
      const double received = send(holder, j, answered);
      if (!(received < horizon)) continue;
      carry(holder, j);
      holders.push_back(j);
      const double done = received + training();
      if (on.online_until(j, received) < done) continue;
      trained.emplace_back(done, j);
    }
    // 4. Each trainer finds its aggregators in round k+1's order and sends its model to each,
    // one after another, the highest uplink first (equal uplinks: in answer order).
    const std::vector<std::uint32_t> next_order = modest_detail::order_of(n, k + 1);
    struct Arrival {
      double time;
      std::uint32_t aggregator, trainer;
      std::vector<std::uint32_t> sample;  // what the trainer's view samples for round k+1
    };
    std::vector<Arrival> arrivals;
    for (const auto& [done, j] : trained) {
      v_hears(j, done);
      std::vector<std::uint32_t> its_sample = sample_of(j, next_order);
      auto found = ping(j, done, m.aggregators, next_order);
      std::stable_sort(found.begin(), found.end(),
                       [&](const auto& x, const auto& y) { return transfer[x.second] < transfer[y.second]; });
      if (found.empty()) {
        arrivals.push_back({never, n, j, its_sample});
        continue;
      }
      for (const auto& [answered, b] : found) arrivals.push_back({send(j, b, answered), b, j, its_sample});
    }
    std::stable_sort(arrivals.begin(), arrivals.end(), [](const Arrival& x, const Arrival& y) { return x.time < y.time; });
    // 5. Each aggregator, from its first arrival: when it averages, if it does.
    bool aggregates = false;
    std::uint32_t winner = 0;
    double when_won = never;
    std::vector<double> accepted_won;
    std::vector<std::vector<std::uint32_t>> samples_won;
    std::vector<std::uint32_t> seen;
    for (const Arrival& first : arrivals) {
      if (first.time == never) continue;
      const std::uint32_t b = first.aggregator;
      if (std::find(seen.begin(), seen.end(), b) != seen.end()) continue;
      seen.push_back(b);
      const double deadline = first.time + m.timeout;
      std::vector<double> accepted;
      std::vector<std::vector<std::uint32_t>> samples;
      double when = deadline;
      for (const Arrival& a : arrivals) {
        if (a.aggregator != b || !(a.time <= deadline)) continue;
        accepted.push_back(a.time);
        samples.push_back(a.sample);
        if (accepted.size() == need) {
          when = a.time;
          break;
        }
      }
      if (accepted.size() < need && accepted.size() < m.min_models) continue;
      if (!on.online(b, when)) continue;
      if (when < when_won) {
        aggregates = true;
        winner = b;
        when_won = when;
        accepted_won = accepted;
        samples_won = samples;
      }
    }
    // The trainers' views reach their aggregators in arrival order; the winner derives round
    // k+1's sample when it averages.
    std::vector<std::uint32_t> winner_sample;
    bool derived = false;
    for (const Arrival& a : arrivals) {
      if (a.time == never) continue;
      if (aggregates && !derived && a.time > when_won) {
        v_hears(winner, when_won);
        winner_sample = sample_of(winner, next_order);
        derived = true;
      }
      carry(a.trainer, a.aggregator);
    }
    if (aggregates && !derived) {
      v_hears(winner, when_won);
      winner_sample = sample_of(winner, next_order);
    }
    // 6. The round completes (if within the horizon), or is abandoned and restarted.
    if (aggregates) {
      bool late = when_won > horizon;
      for (const double a : accepted_won) late = late || a > horizon;
      if (late) break;
      ++result.rounds;
      for (const auto& its : samples_won) {
        std::size_t common = 0;
        for (const std::uint32_t u : its) common += std::count(winner_sample.begin(), winner_sample.end(), u);
        result.overlap_total += static_cast<double>(common) / sample;
        ++result.overlaps;
      }
      holder = winner;
      T = when_won;
      ++k;
      continue;
    }
    ++result.abandoned;
    double earliest = T;
    for (const Arrival& a : arrivals)
      if (a.time < never) {
        earliest = a.time;
        break;
      }
    const double restart = std::max(earliest + m.timeout, T + m.ping_timeout);
    k += 2;
    std::tie(holder, T) = first_online(holders, restart);
    if (!(T < horizon)) std::tie(holder, T) = first_online(modest_detail::order_of(n, k), restart);
  }
  return result;
}

}  // namespace timely::tests::naive
