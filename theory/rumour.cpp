#include "theory/rumour.hpp"

#include "theory/arguments.hpp"
#include "theory/harmonic.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace timely::theory {

namespace {

void check_args(std::uint64_t n, double lambda) {
  detail::require_users(n, 2);
  detail::require_positive(lambda, "push rate lambda");
}

}  // namespace

double rumour_all_informed_time(std::uint64_t n, double lambda) {
  check_args(n, lambda);
  const double nd = static_cast<double>(n);
  // docs/model.md §3.7: with j informed the next infection comes at rate j(n-j) lambda/(n-1); summing
  // the sojourns and splitting 1/(j(n-j)) into partial fractions gives 2(n-1) H_{n-1}/(n lambda).
  return 2.0 * (nd - 1.0) * harmonic(n - 1) / (nd * lambda);
}

double rumour_one_informed_time(std::uint64_t n, double lambda) {
  check_args(n, lambda);
  // docs/model.md §3.7: the given user is still uninformed in state j with probability (n-j)/(n-1),
  // which cancels the (n-j) of the sojourn; what is left is sum_j 1/(j lambda) = H_{n-1}/lambda.
  return harmonic(n - 1) / lambda;
}

}  // namespace timely::theory
