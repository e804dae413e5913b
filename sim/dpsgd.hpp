#pragma once
// D-PSGD (Lian, Zhang, Zhang, Hsieh, Zhang & Liu, "Can decentralized algorithms outperform
// centralized algorithms?", arXiv 1705.09056; docs/model.md §4.2): synchronous rounds in which
// every user makes a local update and then averages with its graph neighbours. The baseline
// MoDeST's paper compares with. Internal to sim/.
#include <algorithm>
#include <boost/random/exponential_distribution.hpp>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "sim/learning_bank.hpp"
#include "sim/protocols.hpp"
#include "sim/round_traffic.hpp"
#include "sim/topology.hpp"
#include "sim/user_clocks.hpp"
#include "sim/window.hpp"

namespace timely::sim {

struct Dpsgd {
  static constexpr LearningProtocolInfo info{
      "dpsgd", "D-PSGD",
      "synchronous rounds: every user trains, then averages with its graph neighbours (Metropolis-Hastings "
      "weights); a round waits for its slowest user",
      false, Observed::users, /*pools_data=*/false, /*reports_rounds=*/true};
  static void check(const Scenario& s);  // sim/protocols.cpp

  // The Metropolis-Hastings weights of the graph (Xiao & Boyd, "Fast linear iterations for
  // distributed averaging", 2004): w_ij = 1 / (1 + max(d_i, d_j)) for neighbours, the rest on
  // w_ii; symmetric and doubly stochastic on any graph, 1/(d+1) on a d-regular one.
  struct Mixing {
    std::vector<std::uint32_t> offsets, users;  // user i's row: users[offsets[i] .. offsets[i+1]), itself first
    std::vector<double> weights;
  };
  static Mixing mixing_of(const Graph& graph) {
    const std::uint32_t n = std::visit([](const auto& g) { return g.size(); }, graph);
    std::vector<std::vector<std::uint32_t>> adjacent(n);
    for (std::uint32_t i = 0; i < n; ++i) adjacent[i] = neighbours(graph, i);
    Mixing w;
    w.offsets.push_back(0);
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::size_t self = w.users.size();
      w.users.push_back(i);
      w.weights.push_back(1.0);
      for (const std::uint32_t j : adjacent[i]) {
        const double wij = 1.0 / (1.0 + static_cast<double>(std::max(adjacent[i].size(), adjacent[j].size())));
        w.users.push_back(j);
        w.weights.push_back(wij);
        w.weights[self] -= wij;
      }
      w.offsets.push_back(static_cast<std::uint32_t>(w.users.size()));
    }
    return w;
  }

  // Round r starts at T: user i's update ends at T + c_i + Exp(mu_i); then it sends its model
  // to each neighbour, one transfer after another on its uplink (message bytes / bandwidth
  // each), and each arrives a latency later. The round ends when the last model has arrived;
  // then every user takes the weighted average of its own and its neighbours' models at once.
  template <LearningBank Bank>
  static void run(const Scenario& s, const Graph& graph, Bank& bank, Rng& rng, std::uint64_t, LearningTrialResult& result) {
    const std::uint32_t n = bank.size();
    const UpdateIntervals interval = update_intervals(s, n);
    const Mixing w = mixing_of(graph);
    const std::vector<double> transfer = transfer_times(s, n, bank.message_bytes());
    RoundClock<Bank> clock(s, bank, n, result);
    std::vector<std::pair<double, std::uint32_t>> done(n);
    std::vector<std::uint32_t> ids(n), row_ids;
    row_ids.reserve(n);
    RoundCounts& counts = result.round_counts.emplace();
    for (double t = 0.0;;) {
      double end = t;
      for (std::uint32_t i = 0; i < n; ++i) {
        done[i] = {t + interval.draw(i, rng), i};
        double start = done[i].first;
        for (std::uint32_t k = w.offsets[i] + 1; k < w.offsets[i + 1]; ++k, start += transfer[i]) {
          const double arrival = start + transfer[i] + (s.gossip.latency_law ? sample(*s.gossip.latency_law, rng) : s.gossip.latency);
          clock.traffic().send(i, w.users[k], done[i].first, start, arrival);
          end = std::max(end, arrival);
        }
        end = std::max(end, done[i].first);
      }
      std::sort(done.begin(), done.end());
      bool stopped = false;
      for (const auto& [when, user] : done) {
        if (!clock.step(when)) { stopped = true; break; }
        bank.train(user, when);
        ++result.local_updates;
      }
      if (stopped || !clock.step(end)) break;
      for (std::uint32_t i = 0; i < n; ++i) ids[i] = bank.snapshot(i);
      for (std::uint32_t i = 0; i < n; ++i) {
        const std::span<const std::uint32_t> row(w.users.data() + w.offsets[i], w.offsets[i + 1] - w.offsets[i]);
        row_ids.clear();
        for (const std::uint32_t j : row) row_ids.push_back(ids[j]);
        bank.combine(i, row_ids, std::span<const double>(w.weights.data() + w.offsets[i], row.size()), end);
      }
      for (const std::uint32_t id : ids) bank.release(id);
      result.gossips += w.users.size() - n;  // every model sent to a neighbour
      ++result.rounds;
      // Every user averaged its neighbourhood's models; each trained from its own model (age 0).
      counts.aggregations += n;
      counts.models_aggregated += w.users.size();
      counts.trainings_started += n;
      t = end;
    }
    clock.finish();
  }
};

}  // namespace timely::sim
