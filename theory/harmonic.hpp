#pragma once
// Harmonic numbers, the building block of every complete-graph formula (docs/model.md §3).

#include <cstdint>

namespace timely::theory {

// H_m = sum_{k=1..m} 1/k, H_0 = 0. Relative accuracy about 1e-15 for every m.
double harmonic(std::uint64_t m);

}  // namespace timely::theory
