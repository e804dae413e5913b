#pragma once
// Rumour spreading by continuous push on the complete graph (docs/model.md §3.7): every
// informed user pushes at rate lambda to a uniformly chosen other user.

#include <cstdint>

namespace timely::theory {

// Expected time until all n users are informed, starting from one: 2(n-1) H_{n-1} / (n lambda).
double rumour_all_informed_time(std::uint64_t n, double lambda);

// Expected time until one given other user is informed: H_{n-1} / lambda.
double rumour_one_informed_time(std::uint64_t n, double lambda);

}  // namespace timely::theory
