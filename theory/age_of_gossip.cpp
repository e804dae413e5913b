#include "theory/age_of_gossip.hpp"

#include "theory/arguments.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace timely::theory {

namespace {

void check_source_args(std::uint64_t n, std::uint64_t n_min, SourceRates s, double flow) {
  detail::require_users(n, n_min);
  detail::require_positive(s.version_rate, "source version rate lambda_e");
  detail::require_positive(s.push_rate, "source push rate lambda_0");
  detail::require_positive(flow, "gossip flow");
}

}  // namespace

namespace {

enum class Quantity { age, freshness };

// The set recursion of docs/model.md §3.1 on a graph where, by symmetry, a freshest set of j
// users depends on j alone and grows by one user at rate grow(j); the source hits it at rate
// j lambda_0 / n. Solved from the whole set, j = n, down to one user.
//   age:       v_j = (lambda_e + b_j v_{j+1}) / (j lambda_0 / n + b_j),  v_n = lambda_e / lambda_0
//   freshness: F_j = (j lambda_0 / n + b_j F_{j+1}) / (lambda_e + j lambda_0 / n + b_j),
//              F_n = lambda_0 / (lambda_e + lambda_0)
template <class Grow>
double down_the_sizes(std::uint64_t n, SourceRates s, Quantity quantity, Grow grow) {
  const double nd = static_cast<double>(n);
  const bool fresh = quantity == Quantity::freshness;
  double v = fresh ? s.push_rate / (s.version_rate + s.push_rate) : s.version_rate / s.push_rate;
  for (std::uint64_t j = n - 1; j >= 1; --j) {
    const double jd = static_cast<double>(j);
    const double b = grow(jd, nd);
    const double in = jd * s.push_rate / nd;
    v = fresh ? (in + b * v) / (s.version_rate + in + b) : (s.version_rate + b * v) / (in + b);
  }
  return v;
}

// docs/model.md §3.2 (Yates 2102.02893, complete graph): each ordered pair carries flow/(n-1),
// so the j(n-j) pairs entering a set of j give b_j = j(n-j) flow/(n-1).
double complete_recursion(std::uint64_t n, SourceRates s, double flow, Quantity quantity) {
  check_source_args(n, 2, s, flow);
  return down_the_sizes(n, s, quantity, [flow](double j, double nd) { return j * (nd - j) * flow / (nd - 1.0); });
}

// docs/model.md §3.3 (Yates 2102.02893, ring): the freshest set is an arc; its two ends each
// receive flow/2 from outside, so it grows at rate flow whatever its length j < n.
double ring_recursion(std::uint64_t n, SourceRates s, double flow, Quantity quantity) {
  check_source_args(n, 3, s, flow);
  return down_the_sizes(n, s, quantity, [flow](double, double) { return flow; });
}

}  // namespace

double source_age_complete(std::uint64_t n, SourceRates s, double flow) {
  return complete_recursion(n, s, flow, Quantity::age);
}
double source_age_ring(std::uint64_t n, SourceRates s, double flow) { return ring_recursion(n, s, flow, Quantity::age); }
double source_freshness_complete(std::uint64_t n, SourceRates s, double flow) {
  return complete_recursion(n, s, flow, Quantity::freshness);
}
double source_freshness_ring(std::uint64_t n, SourceRates s, double flow) {
  return ring_recursion(n, s, flow, Quantity::freshness);
}

}  // namespace timely::theory
