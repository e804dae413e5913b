// Harmonic numbers (docs/model.md §3): the digamma form agrees with direct summation.

#include "theory/harmonic.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

namespace {

// Reference: Kahan-compensated summation in long double, smallest terms first, so the
// reference error (~1e-18 relative) is far below the 1e-14 being tested.
double harmonic_by_summation(std::uint64_t m) {
  long double sum = 0.0L;
  long double carry = 0.0L;
  for (std::uint64_t k = m; k >= 1; --k) {
    const long double y = 1.0L / static_cast<long double>(k) - carry;
    const long double t = sum + y;
    carry = (t - sum) - y;
    sum = t;
  }
  return static_cast<double>(sum);
}

}  // namespace

TEST_CASE("harmonic of 0 is 0 and of 1 is 1", "[theory][harmonic]") {
  CHECK(timely::theory::harmonic(0) == 0.0);
  CHECK(timely::theory::harmonic(1) == 1.0);
}

TEST_CASE("harmonic matches direct summation to 1e-14 relative on both sides of the digamma switch",
          "[theory][harmonic]") {
  for (std::uint64_t m : {2u, 10u, 63u, 64u, 65u, 66u, 100u, 1000u, 12345u, 100000u, 1000000u}) {
    INFO("m = " << m);
    const double reference = harmonic_by_summation(m);
    CHECK(std::abs(timely::theory::harmonic(m) - reference) <= 1e-14 * reference);
  }
}

TEST_CASE("harmonic of 99 is 5.17737751763962", "[theory][harmonic]") {
  // Published value to 15 significant digits, so the tolerance is half a unit in the last digit.
  CHECK(std::abs(timely::theory::harmonic(99) - 5.17737751763962) <= 5e-15);
}

TEST_CASE("harmonic of huge m follows ln m + gamma + 1/(2m)", "[theory][harmonic]") {
  // Euler-Maclaurin: H_m = ln m + gamma + 1/(2m) - 1/(12 m^2) + ..., the remainder is < 1e-20 here.
  const std::uint64_t m = 10'000'000'000ULL;
  const double gamma = 0.57721566490153286;
  const double expected = std::log(static_cast<double>(m)) + gamma + 0.5 / static_cast<double>(m);
  CHECK(std::abs(timely::theory::harmonic(m) - expected) <= 1e-14 * expected);
}
