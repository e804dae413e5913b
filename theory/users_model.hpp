#pragma once
// Users model closed forms (docs/model.md §2 "users", §3.3 and §3.5; the users model is that of
// Mitra & Ulukus, arXiv 2404.19749). E[S_ik] is the long-run mean number of user k's versions that user i
// has not seen.
//
// Flow convention (as in age_of_gossip.hpp): `flow` is the total rate at which one user's
// information flows out to the others: flow = lambda (gossip capacity) for push or pull,
// flow = 2 lambda for exchange, so exchange halves the staleness: r H_{n-1}/(2 lambda) (docs/model.md §3.5).

#include <cstdint>

namespace timely::theory {

// Long-run update rate of a renewal clock with inter-update times delay + Exp(mu) (docs/model.md §1).
double renewal_rate(double mu, double delay);

// Complete graph, any n >= 2: E[S_ik] = r H_{n-1} / flow, exact (derived in docs/model.md §3.5).
double users_staleness_complete(std::uint64_t n, double update_rate, double flow);

// Ring, exact mean over ordered pairs, n >= 3, each user sending flow/2 to each neighbour.
// Interval recursion: O(n^2) time, O(n) memory.
double users_staleness_ring(std::uint64_t n, double update_rate, double flow);

// Ring, closed form of the same mean: r n / (2 flow). O(1); proof in users_model.cpp and
// docs/model.md §3.3. The interval recursion above is kept as the independent check of it.
double users_staleness_ring_closed_form(std::uint64_t n, double update_rate, double flow);

// Heterogeneous capacities on the complete graph (push or pull): the upper bound of Mitra &
// Ulukus, E[S_ik] <= r_k H_{n-1} / min_j lambda_j (docs/model.md §3.5).
double users_staleness_heterogeneous_bound(std::uint64_t n, double update_rate_k, double min_capacity);

}  // namespace timely::theory
