#include "theory/harmonic.hpp"

#include <boost/math/constants/constants.hpp>
#include <boost/math/special_functions/digamma.hpp>

namespace timely::theory {

double harmonic(std::uint64_t m) {
  // Direct summation is exact to rounding for small m and avoids the cancellation of
  // digamma(m+1) + gamma near m = 0.
  constexpr std::uint64_t direct_limit = 64;
  if (m <= direct_limit) {
    double sum = 0.0;
    for (std::uint64_t k = m; k >= 1; --k) sum += 1.0 / static_cast<double>(k);  // small terms first
    return sum;
  }
  // docs/model.md §3: H_m = digamma(m+1) + gamma. O(1) for any m.
  return boost::math::digamma(static_cast<double>(m) + 1.0) +
         boost::math::constants::euler<double>();
}

}  // namespace timely::theory
