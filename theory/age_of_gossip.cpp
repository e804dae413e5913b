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

double source_age_complete(std::uint64_t n, SourceRates s, double flow) {
  check_source_args(n, 2, s, flow);
  const double nd = static_cast<double>(n);
  // docs/model.md §3.2 (Yates 2102.02893, complete graph): by symmetry v_S depends only on
  // j = |S|. Each ordered pair carries flow/(n-1), so the j(n-j) pairs entering S give
  // b_j = j(n-j) flow/(n-1); the source hits S at rate j lambda_0/n.
  double v = s.version_rate / s.push_rate;  // v_n: only source pushes reset the whole set
  for (std::uint64_t j = n - 1; j >= 1; --j) {
    const double jd = static_cast<double>(j);
    const double b = jd * (nd - jd) * flow / (nd - 1.0);
    v = (s.version_rate + b * v) / (jd * s.push_rate / nd + b);
  }
  return v;
}

double source_age_ring(std::uint64_t n, SourceRates s, double flow) {
  check_source_args(n, 3, s, flow);
  const double nd = static_cast<double>(n);
  // docs/model.md §3.3 (Yates 2102.02893, ring): the freshest set is an arc; its two ends each
  // receive flow/2 from outside, so it grows at rate flow whatever its length j < n.
  double v = s.version_rate / s.push_rate;  // v_n
  for (std::uint64_t j = n - 1; j >= 1; --j) {
    const double jd = static_cast<double>(j);
    v = (s.version_rate + flow * v) / (jd * s.push_rate / nd + flow);
  }
  return v;
}

double source_freshness_complete(std::uint64_t n, SourceRates s, double flow) {
  check_source_args(n, 2, s, flow);
  const double nd = static_cast<double>(n);
  // docs/model.md §3.1 with the symmetry of §3.2: F_j for |S| = j; the whole set is fresh
  // after a push until the next version, F_n = lambda_0 / (lambda_e + lambda_0).
  double f = s.push_rate / (s.version_rate + s.push_rate);
  for (std::uint64_t j = n - 1; j >= 1; --j) {
    const double jd = static_cast<double>(j);
    const double b = jd * (nd - jd) * flow / (nd - 1.0);
    const double in = jd * s.push_rate / nd;
    f = (in + b * f) / (s.version_rate + in + b);
  }
  return f;
}

double source_freshness_ring(std::uint64_t n, SourceRates s, double flow) {
  check_source_args(n, 3, s, flow);
  const double nd = static_cast<double>(n);
  // docs/model.md §3.1 over arcs, as in §3.3: an arc of j < n users receives flow from outside.
  double f = s.push_rate / (s.version_rate + s.push_rate);
  for (std::uint64_t j = n - 1; j >= 1; --j) {
    const double in = static_cast<double>(j) * s.push_rate / nd;
    f = (in + flow * f) / (s.version_rate + in + flow);
  }
  return f;
}

}  // namespace timely::theory
