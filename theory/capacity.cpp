#include "theory/capacity.hpp"

#include "theory/arguments.hpp"
#include "theory/harmonic.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace timely::theory {

namespace {

// n >= 2 also keeps ln n > 0, so the log regime never divides by zero.
void check_users(std::uint64_t n) { detail::require_users(n, 2); }

using detail::require_positive;

}  // namespace

double scaling_factor(Scaling s, std::uint64_t n, double exponent) {
  check_users(n);
  const double nd = static_cast<double>(n);
  switch (s) {  // docs/model.md §1: gossip.scaling = constant | log | linear | power
    case Scaling::constant: return 1.0;
    case Scaling::log: return std::log(nd);
    case Scaling::linear: return nd;
    case Scaling::power:
      if (!(exponent >= min_power_exponent && exponent <= max_power_exponent))
        throw std::invalid_argument("timely::theory: power-scaling exponent must lie in [-1, 2], got " +
                                    std::to_string(exponent));
      return std::pow(nd, exponent);
  }
  throw std::invalid_argument("timely::theory: unknown Scaling");
}

double gossip_capacity(double kappa, Scaling s, std::uint64_t n, double exponent) {
  require_positive(kappa, "capacity constant kappa");
  return kappa * scaling_factor(s, n, exponent);  // docs/model.md §1: lambda = kappa g(n)
}

double users_staleness_regime(Scaling s, std::uint64_t n, double update_rate, double kappa, double exponent) {
  require_positive(update_rate, "update rate r");
  // docs/model.md §3.5-3.6: E[S_ik] = r H_{n-1}/lambda (exact, derived in §3.5) with lambda = kappa g(n).
  return update_rate * harmonic(n - 1) / gossip_capacity(kappa, s, n, exponent);
}

double users_staleness_regime_asymptote(Scaling s, std::uint64_t n, double update_rate, double kappa,
                                        double exponent) {
  check_users(n);
  require_positive(update_rate, "update rate r");
  require_positive(kappa, "capacity constant kappa");
  const double base = update_rate / kappa;
  // docs/model.md §3.6: H_{n-1} ~ ln n, divided by g(n).
  switch (s) {
    case Scaling::constant: return base * std::log(static_cast<double>(n));
    case Scaling::log: return base;  // Omega(log n) capacity: bounded mean staleness
    case Scaling::linear: return base * harmonic(n - 1) / static_cast<double>(n);
    // Grows for a < 0, tends to 0 for a > 0; a = 0 is the constant regime.
    case Scaling::power: return base * std::log(static_cast<double>(n)) / scaling_factor(s, n, exponent);
  }
  throw std::invalid_argument("timely::theory: unknown Scaling");
}

std::string_view regime_law(Scaling s) {
  switch (s) {
    case Scaling::constant: return "(r/kappa) ln n";
    case Scaling::log: return "r/kappa";
    case Scaling::linear: return "(r/kappa) H_{n-1}/n -> 0";
    case Scaling::power: return "(r/kappa) ln n / n^a";
  }
  throw std::invalid_argument("timely::theory: unknown Scaling");
}

double bounded_staleness_capacity(std::uint64_t n, double update_rate) {
  check_users(n);
  require_positive(update_rate, "update rate r");
  // docs/model.md §3.6: timely's reading of Mitra & Ulukus 2404.19749, whose exact statement was
  // not available: a version reaches all n-1 others before the next update only if n-1
  // messages go out per update.
  return static_cast<double>(n - 1) * update_rate;
}

}  // namespace timely::theory
