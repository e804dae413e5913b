#pragma once
// The first-passage scale m* on the scenario's graph (docs/model.md §3.10): the breadth-first
// search that measures the balls B_m(v) of theory/first_passage.hpp on any sim::Graph, and
// the scenario-level value reported with the Theta(m*) law.
#include <cstdint>
#include <vector>

#include "sim/topology.hpp"

namespace timely::analysis {

// Every user's m* is computed up to this many users; above it, a sample.
inline constexpr std::uint32_t m_star_all_users_max = 4096;
// Users sampled above m_star_all_users_max, uniformly with replacement from
// make_rng(seed, Stream::graph, 1) (index 0 builds the graph), so the value depends on the
// seed alone.
inline constexpr std::uint32_t m_star_sample_users = 64;

// Breadth-first search on a CSR graph, layer by layer, stopping at the first radius m with
// m |B_m(v)| >= n: a search touches B_{m*}(v) only. Iterative; the stamp array and the queue
// are allocated once and reused for every user searched.
class FirstPassageSearch {
 public:
  explicit FirstPassageSearch(const sim::CsrGraph& graph);
  std::uint32_t m_star(std::uint32_t v);

 private:
  const sim::CsrGraph& graph_;
  std::vector<std::uint32_t> seen_;   // seen_[u] == stamp_: u is in the ball being grown
  std::vector<std::uint32_t> queue_;  // the ball, in order of distance
  std::uint32_t stamp_ = 0;
};

// m* of user v: 1 on the complete graph, the closed forms of theory/first_passage.hpp on the
// ring and the torus, a breadth-first search otherwise (allocates: for one user at a time).
std::uint32_t m_star(const sim::Graph& graph, std::uint32_t v);

struct FirstPassageScale {
  double mean = 0.0;       // mean of m*(v) over the users below
  std::uint32_t max = 0;   // largest m*(v) among them
  std::uint32_t users = 0; // how many were searched (a sample counts a user drawn twice twice)
  bool sampled = false;    // true when n > m_star_all_users_max
  std::uint32_t max_degree = 0;  // the Delta of Theta_Delta: the law's constants depend on it
};

// The scenario's value: over every user when n <= m_star_all_users_max, else over
// m_star_sample_users users drawn as above. Complete, ring and torus are vertex-transitive:
// one user's m* is everyone's.
FirstPassageScale first_passage_scale(const sim::Graph& graph, std::uint64_t seed);

}  // namespace timely::analysis
