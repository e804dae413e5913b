#include "theory/users_model.hpp"

#include "theory/arguments.hpp"
#include "theory/harmonic.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace timely::theory {

namespace {

using detail::require_positive;
using detail::require_users;

}  // namespace

double renewal_rate(double mu, double delay) {
  require_positive(mu, "update rate mu");
  if (!(delay >= 0.0) || !std::isfinite(delay))
    throw std::invalid_argument("timely::theory: update delay c must be finite and >= 0");
  // docs/model.md §1: the mean inter-update time of c + Exp(mu) is c + 1/mu (renewal theorem).
  return 1.0 / (delay + 1.0 / mu);
}

double users_staleness_complete(std::uint64_t n, double update_rate, double flow) {
  require_users(n, 2);
  require_positive(update_rate, "update rate r");
  require_positive(flow, "gossip flow");
  // docs/model.md §3.5, derived there (Mitra & Ulukus 2404.19749 give it as an upper bound):
  // S_ik counts k's updates since the latest time whose version has reached i, and by time
  // reversal that delay is the push-rumour time to one given user, H_{n-1}/lambda. With
  // exchange both sides merge, which doubles the flow and halves the staleness.
  return update_rate * harmonic(n - 1) / flow;
}

double users_staleness_ring(std::uint64_t n, double update_rate, double flow) {
  require_users(n, 3);
  require_positive(update_rate, "update rate r");
  require_positive(flow, "gossip flow");
  // docs/model.md §3.1 specialised to the ring, §3.3 (Yates 2102.02893 for the recursion;
  // users model of Mitra & Ulukus 2404.19749 with source k). Without k the observers form the path 1..m,
  // m = n-1, and the freshest set reachable from a singleton is an interval [a,b]. Each end
  // receives flow/2 from outside: from k (a = 1 or b = m) that is a reset to 0, otherwise
  // the interval grows. Total outside rate is always flow, so
  //   v[a,b] = (r + [a>1] (flow/2) v[a-1,b] + [b<m] (flow/2) v[a,b+1]) / flow.
  // By rotation symmetry the mean over observers of k is the mean over all ordered pairs.
  const std::uint64_t m = n - 1;
  const double half = 0.5 * flow;
  std::vector<double> longer;           // v of intervals of length len+1, indexed by start - 1
  std::vector<double> current{update_rate / flow};  // len = m: [1,m], only resets enter
  for (std::uint64_t len = m - 1; len >= 1; --len) {
    longer.swap(current);
    const std::uint64_t starts = m - len + 1;  // a = 1..starts
    current.assign(starts, 0.0);
    for (std::uint64_t a = 1; a <= starts; ++a) {
      double numerator = update_rate;
      if (a > 1) numerator += half * longer[a - 2];       // grow left: [a-1, b]
      if (a < starts) numerator += half * longer[a - 1];  // grow right: [a, b+1]; b < m iff a < starts
      current[a - 1] = numerator / flow;
    }
  }
  double sum = 0.0;
  for (double v : current) sum += v;  // len = 1: the singletons
  return sum / static_cast<double>(m);
}

double users_staleness_ring_closed_form(std::uint64_t n, double update_rate, double flow) {
  require_users(n, 3);
  require_positive(update_rate, "update rate r");
  require_positive(flow, "gossip flow");
  // timely's own derivation from the interval recursion above (docs/model.md §3.3; users
  // model of Mitra & Ulukus 2404.19749). Write v[a,b] = (r/flow) u[a,b]: u counts the steps of
  // a walk whose every step moves the left end (L) or the right end (R) of the interval, each
  // with probability 1/2, until the walk steps onto the source. From [i,i] it stops at
  // T_i = first time #L = i or #R = n-i. After t steps, T_i > t iff #L_t + 1 <= i <= #L_t + n-1-t,
  // a window of n-1-t values of i inside 1..n-1 whatever #L_t is. So
  // sum_i E[T_i] = sum_{t=0}^{n-2} (n-1-t) = n(n-1)/2, and the mean over the n-1 observers is n/2.
  return update_rate * static_cast<double>(n) / (2.0 * flow);
}

double users_staleness_heterogeneous_bound(std::uint64_t n, double update_rate_k, double min_capacity) {
  require_users(n, 2);
  require_positive(update_rate_k, "update rate r_k");
  require_positive(min_capacity, "minimum capacity");
  // docs/model.md §3.5, the bound of Mitra & Ulukus 2404.19749: every user gossips at least as
  // fast as the slowest, so the homogeneous value with lambda = min_j lambda_j bounds E[S_ik].
  return update_rate_k * harmonic(n - 1) / min_capacity;
}

}  // namespace timely::theory
