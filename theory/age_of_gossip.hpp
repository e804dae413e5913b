#pragma once
// Age of gossip, source model (docs/model.md §2 "source", §3.2-3.3;
// Yates, "The Age of Gossip in Networks", arXiv 2102.02893).
//
// Flow convention (shared by the whole theory library): `flow` is the total rate at which
// ONE user's information flows out to the others. Push or pull with gossip capacity
// lambda: flow = lambda. Exchange (push-pull, both sides merge on one contact):
// flow = 2 lambda.

#include <cstdint>

namespace timely::theory {

struct SourceRates {
  double version_rate;  // lambda_e: rate at which the external source makes versions
  double push_rate;     // lambda_0: total push rate of the source, uniform over the n users
};

// Mean version age of one user on the complete graph (docs/model.md §3.2). O(n), n >= 2.
double source_age_complete(std::uint64_t n, SourceRates s, double flow);

// Mean version age of one user on the ring (docs/model.md §3.3): each user sends flow/2 to each of
// its two neighbours. O(n), n >= 3.
double source_age_ring(std::uint64_t n, SourceRates s, double flow);

// Binary freshness of one user (the fraction of time it holds the source's current version)
// on the complete graph and the ring, by the same set recursions (docs/model.md §3.1-3.3). O(n).
double source_freshness_complete(std::uint64_t n, SourceRates s, double flow);
double source_freshness_ring(std::uint64_t n, SourceRates s, double flow);

}  // namespace timely::theory
