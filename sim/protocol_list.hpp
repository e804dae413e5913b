#pragma once
// The learning protocols (docs/model.md §4): how the users' models learn together. A protocol
// is one type and one row of LearningProtocols below. The type provides
//   static constexpr LearningProtocolInfo info;  its name for learning.protocol, title, help,
//                                                 whether it measures staleness, what is observed,
//                                                 whether its bank pools the users' data
//   static void check(const Scenario&);          throws InputError naming the key and what it
//                                                 accepts when the scenario does not fit
//   template <LearningBank Bank>
//   static void run(const Scenario&, const Graph&, Bank&, Rng&, std::uint64_t index,
//                   LearningTrialResult&);       one trial: its event loop over the users' models
// and its run is written once over the LearningBank concept (sim/learning_bank.hpp), so it
// runs every model: the neural models (sim/learning.cpp) and the quadratic model
// (sim/quadratic.cpp) each compile every protocol of the list. The bank arrives built from
// the trial's engine `rng` (make_rng(seed, Stream::trial, index)); the run draws only from
// it, so results depend on (seed, trial) alone; afterwards the caller closes nothing: the run
// calls bank.close(horizon), and the caller moves the bank's metrics into the result. A bank
// built for a protocol with info.pools_data holds one user with all the users' data.
// Internal to sim/.
#include <algorithm>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <optional>
#include <queue>
#include <span>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "sim/event_engine.hpp"
#include "sim/learning_bank.hpp"
#include "sim/learning_clocks.hpp"
#include "sim/message_layer.hpp"
#include "sim/dpsgd.hpp"
#include "sim/modest.hpp"
#include "sim/protocols.hpp"
#include "sim/round_traffic.hpp"
#include "sim/sapo.hpp"
#include "sim/user_clocks.hpp"
#include "sim/window.hpp"

namespace timely::sim {

// Gossip learning: every user trains on its own update clock and mixes models at its gossip
// contacts (mixing.rule, in the gossip mode's direction), on the users model's clocks, which
// measure staleness in the same run; the gossip policies and the network layer come with the
// clocks (sim/learning_clocks.hpp).
struct GossipLearning {
  static constexpr LearningProtocolInfo info{
      "gossip", "gossip learning",
      "users train on their own clocks and mix models at gossip contacts (mixing.rule); staleness measured in the same run",
      true, Observed::users};
  static void check(const Scenario&) {}

  template <LearningBank Bank>
  static void run(const Scenario& s, const Graph& graph, Bank& bank, Rng& rng, std::uint64_t index,
                  LearningTrialResult& result) {
    // One instantiation of the event loop per (graph type, gossip mode), as for every trial.
    std::visit([&](const auto& g) {
      engine::with_mode(s.gossip.mode, [&](auto mode) {
        using G = std::decay_t<decltype(g)>;
        constexpr GossipMode Mode = decltype(mode)::value;
        engine::LearningClocks<G, Mode, Bank> m(s, g, bank, rng);
        engine::Window window(s.run.warmup, s.run.horizon);
        std::optional<engine::NetworkOutcome> network;
        const engine::ClockCounts counts = engine::run_clocks<Mode, PolicyLoop::learning>(m, s, index, rng, window, bank.message_bytes(), network);
        m.close(window.horizon());
        result.staleness = engine::users_result(m.staleness(), window, counts, network);
        result.local_updates = m.updates();
        result.gossips = m.gossips();
      });
    }, graph);
  }
};

// FedAvg (McMahan, Moore, Ramage, Hampson & Aguera y Arcas, arXiv 1602.05629): every
// 1/updates.rate time units a server samples max(1, round(mixing.fedavg_fraction n)) users
// without replacement; each starts from the server's model and makes one local update, and
// the server averages them weighted by their data. The gossip clocks play no part, and the
// server's model is the one observed. No staleness: there is no gossip. With latency, a finite
// bandwidth or per-user clocks, a round instead lasts what its clients take (run_timed).
struct FedAvg {
  static constexpr LearningProtocolInfo info{
      "fedavg", "FedAvg",
      "baseline: a server averages sampled clients each round (mixing.fedavg_fraction); no gossip, no staleness", false,
      Observed::server};
  static void check(const Scenario& s);  // sim/protocols.cpp

  // With the network layer's links or per-user clocks, rounds take the time their clients
  // take (docs/model.md §6.7): see run_timed.
  static bool timed(const Scenario& s) { return s.networked() || s.heterogeneous(); }

  template <LearningBank Bank>
  static void run(const Scenario& s, const Graph&, Bank& bank, Rng& rng, std::uint64_t, LearningTrialResult& result) {
    if (timed(s)) return run_timed(s, bank, rng, result);
    const std::uint32_t n = bank.size();
    const std::uint32_t m = clients(s, n);
    std::vector<std::uint32_t> chosen(n);
    engine::Window window(s.run.warmup, s.run.horizon);
    const double period = 1.0 / s.updates.rate;
    for (std::uint64_t k = 1;; ++k) {
      const double t = period * static_cast<double>(k);
      if (!window.admits(t, [&](double start) { bank.start_window(start); })) break;
      bank.before(t);
      // After divergence nothing else reads the engine (FedAvg measures no staleness).
      if (!bank.diverged()) {
        // Sampling without replacement (a partial Fisher-Yates shuffle), each draw followed by
        // that client's training, which may draw mini-batches from the same engine.
        std::iota(chosen.begin(), chosen.end(), 0u);
        bank.begin_round();
        for (std::uint32_t c = 0; c < m; ++c) {
          boost::random::uniform_int_distribution<std::uint32_t> pick(c, n - 1);
          std::swap(chosen[c], chosen[pick(rng)]);
          bank.train_client(chosen[c], t);
        }
        bank.end_round(std::span<const std::uint32_t>(chosen.data(), m), t);
      }
      result.local_updates += m;  // each client one local update
      ++result.rounds;
    }
    bank.close(s.run.horizon);
  }

  // A round starting at T: the server samples its clients, sends them its model one transfer
  // after another on its uplink (message bytes / bandwidth each, then the latency); each
  // client trains for its update interval c_i + Exp(mu_i) and sends its model back on its own
  // uplink. The server averages once every client's model has arrived, and the next round
  // starts then.
  template <LearningBank Bank>
  static void run_timed(const Scenario& s, Bank& bank, Rng& rng, LearningTrialResult& result) {
    const std::uint32_t n = bank.size(), m = clients(s, n);
    const UpdateIntervals interval = update_intervals(s, n);
    const std::vector<double> transfer = transfer_times(s, n + 1, bank.message_bytes());  // the server is node n
    const auto latency = [&] { return s.gossip.latency_law ? sample(*s.gossip.latency_law, rng) : s.gossip.latency; };
    std::vector<std::uint32_t> chosen(n);
    std::vector<std::pair<double, std::uint32_t>> back(m);  // (return time, client)
    RoundClock<Bank> clock(s, bank, n + 1, result);  // the server is node n
    RoundTraffic& traffic = clock.traffic();
    for (double t = 0.0;;) {
      std::iota(chosen.begin(), chosen.end(), 0u);
      double end = t;
      for (std::uint32_t c = 0; c < m; ++c) {
        boost::random::uniform_int_distribution<std::uint32_t> pick(c, n - 1);
        std::swap(chosen[c], chosen[pick(rng)]);
        const double received = t + (c + 1) * transfer[n] + latency();
        traffic.send(n, chosen[c], t, t + c * transfer[n], received);
        const double trained = received + interval.draw(chosen[c], rng);
        const double returned = trained + transfer[chosen[c]] + latency();
        traffic.send(chosen[c], n, trained, trained, returned);
        back[c] = {returned, chosen[c]};
        end = std::max(end, returned);
      }
      std::sort(back.begin(), back.end());
      bank.begin_round();
      bool stopped = false;
      for (const auto& [when, client] : back) {
        if (!clock.step(when)) { stopped = true; break; }
        bank.train_client(client, when);
      }
      if (stopped || !clock.step(end)) break;
      bank.end_round(std::span<const std::uint32_t>(chosen.data(), m), end);
      result.local_updates += m;
      ++result.rounds;
      t = end;
    }
    clock.finish();
  }

 private:
  static std::uint32_t clients(const Scenario& s, std::uint32_t n) {
    return std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::lround(s.learning.mixing.fedavg_fraction * n)));
  }
};

// Local training: every user trains at the ticks of its own update clock (c_i + Exp(mu_i),
// per-user laws included) and never communicates: the no-communication reference. No gossip
// runs, so no staleness is measured (with no gossip the users model's staleness only grows).
struct LocalTraining {
  static constexpr LearningProtocolInfo info{
      "local", "local training",
      "each user trains on its own shard on its own update clock and never communicates; no gossip, no staleness", false,
      Observed::users};
  static void check(const Scenario& s);  // sim/protocols.cpp

  template <LearningBank Bank>
  static void run(const Scenario& s, const Graph&, Bank& bank, Rng& rng, std::uint64_t, LearningTrialResult& result) {
    const std::uint32_t n = bank.size();
    const UpdateIntervals interval = update_intervals(s, n);
    using Tick = std::pair<double, std::uint32_t>;  // (time, user), earliest first
    std::vector<Tick> ticks;
    ticks.reserve(n);
    for (std::uint32_t u = 0; u < n; ++u) ticks.emplace_back(interval.draw(u, rng), u);
    std::priority_queue<Tick, std::vector<Tick>, std::greater<>> next(std::greater<>{}, std::move(ticks));
    engine::Window window(s.run.warmup, s.run.horizon);
    for (;;) {
      const auto [t, u] = next.top();
      if (!window.admits(t, [&](double start) { bank.start_window(start); })) break;
      next.pop();
      bank.before(t);
      bank.train(u, t);
      ++result.local_updates;
      next.emplace(t + interval.draw(u, rng), u);
    }
    bank.close(s.run.horizon);
  }
};

// The single-user reference: one user holds all the users' data (info.pools_data: the neural
// models' whole training set; the quadratic model's mean objective, optimum a_bar) and trains
// on a Poisson clock at the users' long-run update rate r = 1/(updates.delay + 1/updates.rate),
// with the same SGD settings and observation grid. It is what gossip would be with free,
// instant communication of data, and the reference of the plateau delay (docs/model.md §4),
// which run_learning_trial runs through this type on its own engine (Stream::baseline). No
// gossip, no staleness.
struct SingleUser {
  static constexpr LearningProtocolInfo info{
      "single-user", "single-user training on the pooled data",
      "reference: one user trains on all the users' data on a Poisson clock at the long-run update rate; no "
      "gossip, no staleness",
      false, Observed::users, /*pools_data=*/true};
  static void check(const Scenario& s);  // sim/protocols.cpp

  template <LearningBank Bank>
  static void run(const Scenario& s, const Graph&, Bank& bank, Rng& rng, std::uint64_t, LearningTrialResult& result) {
    // One clock, so no queue: the gaps are drawn in order from the engine, the first before
    // the first update (the plateau's bits depend on this order).
    boost::random::exponential_distribution<double> gap(s.update_rate());
    engine::Window window(s.run.warmup, s.run.horizon);
    for (double t = gap(rng);; t += gap(rng)) {
      if (!window.admits(t, [&](double start) { bank.start_window(start); })) break;
      bank.before(t);
      bank.train(0, t);
      ++result.local_updates;
      // Nothing is observed after a divergence, and no measured clock shares the engine: stop.
      if (bank.diverged()) break;
    }
    bank.close(s.run.horizon);
  }
};

// ---- the registry ----------------------------------------------------------------------

template <class... P>
struct ProtocolList {
  static constexpr std::size_t size = sizeof...(P);
};

// One row per protocol; LearningProtocolId{k} is the k-th (gossip_protocol, fedavg_protocol,
// local_protocol and single_user_protocol in sim/protocols.hpp name them). The first is the default.
using LearningProtocols = ProtocolList<GossipLearning, FedAvg, LocalTraining, SingleUser, Modest, Dpsgd, Sapo>;

template <class P, class First, class... Rest>
constexpr std::uint8_t protocol_index(ProtocolList<First, Rest...>) {
  if constexpr (std::is_same_v<P, First>) return 0;
  else return 1 + protocol_index<P>(ProtocolList<Rest...>{});
}
// The registry's id of protocol type P.
template <class P>
inline constexpr LearningProtocolId protocol_id{protocol_index<P>(LearningProtocols{})};
static_assert(protocol_id<GossipLearning> == gossip_protocol && protocol_id<FedAvg> == fedavg_protocol &&
              protocol_id<LocalTraining> == local_protocol && protocol_id<SingleUser> == single_user_protocol &&
              protocol_id<Modest> == modest_protocol && protocol_id<Dpsgd> == dpsgd_protocol &&
              protocol_id<Sapo> == sapo_protocol);

template <class F, class P, class... Rest>
decltype(auto) with_protocol_at(std::size_t index, F& f, ProtocolList<P, Rest...>) {
  if constexpr (sizeof...(Rest) == 0) {
    return f(std::type_identity<P>{});
  } else {
    if (index == 0) return f(std::type_identity<P>{});
    return with_protocol_at(index - 1, f, ProtocolList<Rest...>{});
  }
}

// f(std::type_identity<P>{}) for the scenario's protocol P: one instantiation of f per protocol.
template <class F>
decltype(auto) with_protocol(const Scenario& s, F&& f) {
  return with_protocol_at(learning_protocol_id(s).index, f, LearningProtocols{});
}

// One trial of protocol P on engine rng, on a bank that make_bank(rng, P::info) builds (its
// initial models may draw from rng): the n users with their own data, or, when
// P::info.pools_data, one user with the pooled data. The trial's protocol runs on
// make_rng(seed, Stream::trial, index) (run_protocol below); the plateau delay's reference
// runs SingleUser on the baseline stream (sim/learning.cpp).
template <class P, class MakeBank>
LearningTrialResult run_protocol_on(const Scenario& s, const Graph& graph, Rng rng, std::uint64_t index,
                                    MakeBank&& make_bank) {
  auto bank = make_bank(rng, P::info);
  static_assert(LearningBank<decltype(bank)>);
  LearningTrialResult result;
  P::run(s, graph, bank, rng, index, result);
  bank.take(result);
  return result;
}

// One trial of the scenario's protocol on the trial's engine.
template <class MakeBank>
LearningTrialResult run_protocol(const Scenario& s, const Graph& graph, std::uint64_t index, MakeBank&& make_bank) {
  return with_protocol(s, [&](auto type) {
    using P = typename decltype(type)::type;
    return run_protocol_on<P>(s, graph, make_rng(s.run.seed, Stream::trial, index), index, make_bank);
  });
}

}  // namespace timely::sim
