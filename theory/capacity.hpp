#pragma once
// Gossip capacity regimes (docs/model.md §1 and §3.6; Mitra & Ulukus, arXiv 2404.19749).
// All staleness values are for the users model on the complete graph with push or pull
// (flow = capacity, see users_model.hpp).

#include <cstdint>
#include <string_view>

namespace timely::theory {

// How the gossip capacity lambda = kappa * g(n) scales with the number of users.
enum class Scaling { constant, log, linear, power };

// Exponents a of the power scaling g(n) = n^a that timely accepts.
inline constexpr double min_power_exponent = -1.0, max_power_exponent = 2.0;

// g(n): 1, ln n, n or n^exponent (docs/model.md §1). n >= 2; `exponent` is used by
// Scaling::power only and must lie in [min_power_exponent, max_power_exponent].
double scaling_factor(Scaling s, std::uint64_t n, double exponent = 0.0);

// lambda = kappa * g(n) (docs/model.md §1).
double gossip_capacity(double kappa, Scaling s, std::uint64_t n, double exponent = 0.0);

// Exact E[S_ik] = r H_{n-1} / (kappa g(n)) (docs/model.md §3.5 with the capacity of §3.6).
double users_staleness_regime(Scaling s, std::uint64_t n, double update_rate, double kappa, double exponent = 0.0);

// The large-n law of each regime (docs/model.md §3.6): constant (r/kappa) ln n, log r/kappa,
// linear (r/kappa) H_{n-1}/n, which tends to 0, power (r/kappa) ln n / n^a.
double users_staleness_regime_asymptote(Scaling s, std::uint64_t n, double update_rate, double kappa,
                                        double exponent = 0.0);

// The law above in words, for reports: "(r/kappa) ln n", "r/kappa", "(r/kappa) H_{n-1}/n -> 0",
// "(r/kappa) ln n / n^a".
std::string_view regime_law(Scaling s);

// Capacity needed for a guaranteed staleness bound: timely's reading of the Omega(n) result of
// Mitra & Ulukus, not the paper's theorem (docs/model.md §3.6): (n-1) r, one message to each
// other user per update.
double bounded_staleness_capacity(std::uint64_t n, double update_rate);

}  // namespace timely::theory
