#pragma once
// Users model closed forms (MODEL.md sections 2 "users" and 3.5; Mitra & Ulukus,
// arXiv 2404.19749). E[S_ik] is the long-run mean number of user k's versions that user i
// has not seen.
//
// Flow convention (as in age_of_gossip.hpp): `flow` is the total rate at which one user's
// information flows out to the others: flow = lambda (gossip capacity) for push or pull,
// flow = 2 lambda for exchange. MODEL 3.5's "exchange halves it" is r H_{n-1}/(2 lambda).

#include <cstdint>

namespace timely::theory {

// Long-run update rate of a renewal clock with inter-update times delay + Exp(mu) (MODEL 1).
double renewal_rate(double mu, double delay);

// Complete graph, any n >= 2: E[S_ik] = r H_{n-1} / flow (MODEL 3.5).
double users_staleness_complete(std::uint64_t n, double update_rate, double flow);

// Ring, exact mean over ordered pairs, n >= 3, each user sending flow/2 to each neighbour.
// Interval recursion: O(n^2) time, O(n) memory.
double users_staleness_ring(std::uint64_t n, double update_rate, double flow);

// Ring, closed form of the same mean: r n / (2 flow). O(1); proof in users_model.cpp. The
// interval recursion above is kept as the independent check of it.
double users_staleness_ring_closed_form(std::uint64_t n, double update_rate, double flow);

// Heterogeneous capacities on the complete graph (push or pull): upper bound
// E[S_ik] <= r_k H_{n-1} / min_j lambda_j (MODEL 3.5).
double users_staleness_heterogeneous_bound(std::uint64_t n, double update_rate_k, double min_capacity);

}  // namespace timely::theory
