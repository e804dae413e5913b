#pragma once
// The first-passage scale m* of a vertex (docs/model.md §3.10): Maranzatto & Michelen, "Age of
// gossip from connective properties via first passage percolation", arXiv 2409.12710. In the
// source model (a source pushes to every user, users gossip with their neighbours), on a graph
// of maximum degree at most Delta, the version age of user v is Theta_Delta(m*(v)), with
//   m*(v) = min{ m >= 1 : m |B_m(v)| >= n },
// B_m(v) the users within graph distance m of v (v included). The constants depend on Delta
// and the rates; the theorem gives none.
//
// Pure mathematics: the definition from ball sizes, and the closed-form balls of the ring and
// the torus. The breadth-first search on an arbitrary graph is analysis/first_passage.hpp.
#include <cstdint>

namespace timely::theory {

// m* = min{ m >= 1 : m ball(m) >= n } for a nondecreasing ball(m) >= 1 (the size of B_m).
// Terminates by m = n at the latest, since ball(m) >= 1.
template <class Ball>
std::uint64_t first_passage_scale(std::uint64_t n, Ball&& ball) {
  std::uint64_t m = 1;
  while (m * static_cast<std::uint64_t>(ball(m)) < n) ++m;
  return m;
}

// |B_m| on the cycle of n users: min(2m + 1, n).
std::uint64_t ring_ball_size(std::uint64_t n, std::uint64_t m);

// |B_m| on the side x side torus with wrap-around (4 neighbours, L1 distance on each axis
// taken around the cycle): sum over a + b <= m of c(a) c(b), c(k) the number of offsets at
// cyclic distance k on one axis (1 at k = 0, 2 below side / 2, 1 at side / 2 when side is
// even). O(side).
std::uint64_t torus_ball_size(std::uint64_t side, std::uint64_t m);

// |B_m| on the generalized ring C_n(1, ..., f): min(2 f m + 1, n).
std::uint64_t circulant_ball_size(std::uint64_t n, std::uint64_t f, std::uint64_t m);

// m* of any user of the ring (n >= 3), the torus (side >= 3) and the generalized ring (2 f < n):
// all are vertex-transitive.
std::uint64_t ring_first_passage_scale(std::uint64_t n);
std::uint64_t torus_first_passage_scale(std::uint64_t side);
std::uint64_t circulant_first_passage_scale(std::uint64_t n, std::uint64_t f);

}  // namespace timely::theory
