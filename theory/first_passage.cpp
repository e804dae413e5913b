#include "theory/first_passage.hpp"

#include <algorithm>

namespace timely::theory {

std::uint64_t ring_ball_size(std::uint64_t n, std::uint64_t m) { return std::min(2 * m + 1, n); }

std::uint64_t circulant_ball_size(std::uint64_t n, std::uint64_t f, std::uint64_t m) {
  return std::min(2 * f * m + 1, n);
}

namespace {

// Offsets on a cycle of `side` at cyclic distance exactly k.
std::uint64_t cycle_layer(std::uint64_t side, std::uint64_t k) {
  if (k == 0) return 1;
  if (2 * k < side) return 2;
  if (2 * k == side) return 1;
  return 0;
}

}  // namespace

std::uint64_t torus_ball_size(std::uint64_t side, std::uint64_t m) {
  // For each distance a on the first axis, the offsets on the second within m - a: the
  // cycle's ball min(2 (m - a) + 1, side).
  std::uint64_t total = 0;
  for (std::uint64_t a = 0; a <= m && 2 * a <= side; ++a) total += cycle_layer(side, a) * ring_ball_size(side, m - a);
  return total;
}

std::uint64_t ring_first_passage_scale(std::uint64_t n) {
  return first_passage_scale(n, [n](std::uint64_t m) { return ring_ball_size(n, m); });
}

std::uint64_t circulant_first_passage_scale(std::uint64_t n, std::uint64_t f) {
  return first_passage_scale(n, [n, f](std::uint64_t m) { return circulant_ball_size(n, f, m); });
}

std::uint64_t torus_first_passage_scale(std::uint64_t side) {
  const std::uint64_t n = side * side;
  return first_passage_scale(n, [side](std::uint64_t m) { return torus_ball_size(side, m); });
}

}  // namespace timely::theory
