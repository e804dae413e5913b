#pragma once
// Per-user clocks (docs/model.md §1, "Heterogeneous users"; the system model of Mitra &
// Ulukus, arXiv 2404.19749): user i's inter-update times are c_i + Exp(mu_i) and its gossip
// clock ticks at lambda_i = kappa_i g(n). The per-user values come from a users file (one
// row per user) or are drawn once per run from a distribution, each key from its own
// stream, so that every trial and the theory see the same users.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/mersenne_twister.hpp>

namespace timely::sim {

struct Scenario;

enum class DistributionKind { uniform, lognormal, two_point, exponential };

// A law for one per-user quantity. Parameters by kind:
//   uniform:   a = low, b = high                      (low <= high)
//   lognormal: a = median, b = sigma                  (exp(N(ln median, sigma^2)))
//   two_point: a = value, b = slow_value, c = slow_fraction: each user is "slow" with
//              probability slow_fraction, independently ("stragglers").
//   exponential: a = mean                             (delays and latencies only)
struct Distribution {
  DistributionKind kind = DistributionKind::uniform;
  double a = 0.0, b = 0.0, c = 0.0;
  double mean() const;
  double smallest() const;  // lower end of the support (0 for the log-normal)
};
std::string_view to_string(DistributionKind);
// One draw of the law from rng (boost::random's distributions: the same on every platform).
double sample(const Distribution& law, boost::random::mt19937_64& rng);
std::optional<DistributionKind> parse_distribution_kind(std::string_view);
// The law as the TOML inline table that gives it, e.g. { dist = "uniform", low = 0.5, high = 1.5 }.
std::string describe(const Distribution&);

// The columns of a users file; an empty column was absent and takes the scenario value.
struct UsersTable {
  std::string path;
  std::size_t rows = 0;
  std::vector<double> update_rate, update_delay, gossip_capacity;
};

// Reads a users file: a header row naming some of update_rate, update_delay,
// gossip_capacity (in any order), then one row of numbers per user. Rates must lie in
// [1e-9, 1e9], delays in [0, 1e9]. Throws InputError naming the file and line.
std::shared_ptr<const UsersTable> read_users_file(const std::string& path);

// Every user's clocks, resolved: size n each.
struct UserClocks {
  std::vector<double> update_rate;  // mu_i
  std::vector<double> update_delay; // c_i
  std::vector<double> gossip_rate;  // lambda_i = kappa_i g(n)
  // r_i = 1/(c_i + 1/mu_i), the long-run update rate (renewal theorem).
  double long_run_rate(std::uint32_t i) const { return 1.0 / (update_delay[i] + 1.0 / update_rate[i]); }
  bool renewal() const;  // some c_i > 0
  double min_gossip_rate() const;
};

// Resolves the scenario's users: a file column first, then a distribution, then the
// scenario's number. Deterministic in (run.seed, key).
UserClocks user_clocks(const Scenario& scenario);

// Every user's local-update interval c_i + Exp(mu_i), for protocols that time updates
// themselves (local training, MoDeST, D-PSGD): the scenario's numbers, or the per-user ones.
struct UpdateIntervals {
  std::vector<double> delay, rate;
  // One interval of user u from rng (a unit exponential scaled: the same draws whatever mu_u).
  double draw(std::uint32_t u, boost::random::mt19937_64& rng) const {
    return delay[u] + boost::random::exponential_distribution<double>(1.0)(rng) / rate[u];
  }
};
UpdateIntervals update_intervals(const Scenario& scenario, std::uint32_t n);

// The time each node's uplink takes to send `bytes` (docs/model.md §7.1): bytes / B_i, with
// B_i = gossip.bandwidth, or drawn once per run from gossip.bandwidth's law (its own stream,
// at least 1 byte per time unit); all 0 without a bandwidth. Nodes past the n users (FedAvg's
// server) get the law's mean.
std::vector<double> transfer_times(const Scenario& scenario, std::uint32_t nodes, double bytes);

// The tracked sources of a heterogeneous users model: K users drawn once per run (stream
// (run.seed, users)), in increasing order, so that every trial tracks the same users and
// each has its own confidence interval. All users, in order, when K = n.
std::vector<std::uint32_t> heterogeneous_tracked(const Scenario& scenario);

}  // namespace timely::sim
