#pragma once
// Random streams. Randomness belongs to a trial (or to a named stream such as the graph),
// never to a thread: every engine is derived from (master seed, stream, index) alone, so
// results do not depend on how trials are scheduled.
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/seed_seq.hpp>
#include <cstdint>

namespace timely::sim {

// Boost.Random rather than <random>: Boost's distributions give the same draws on every
// platform and standard library, which bit-identical results need.
using Rng = boost::random::mt19937_64;

enum class Stream : std::uint32_t { trial = 1, graph = 2, data = 3, baseline = 4, users = 5, network = 6, churn = 7, views = 8, experience = 9,
                                      experience_clocks = 10 };

inline Rng make_rng(std::uint64_t master_seed, Stream stream, std::uint64_t index) {
  boost::random::seed_seq seq{static_cast<std::uint32_t>(master_seed),
                              static_cast<std::uint32_t>(master_seed >> 32),
                              static_cast<std::uint32_t>(stream),
                              static_cast<std::uint32_t>(index),
                              static_cast<std::uint32_t>(index >> 32)};
  return Rng(seq);
}

}  // namespace timely::sim
