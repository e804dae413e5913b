#include "theory/scaling_laws.hpp"

#include <array>

namespace timely::theory {

namespace {

// MODEL 3.4. Complete and ring: Yates arXiv 2102.02893 (also MODEL 3.2-3.3); 2-D torus (grid):
// Srivastava & Ulukus arXiv 2307.08670. Clustered networks (Buyukates, Bastopcu & Ulukus
// arXiv 2109.08669) depend on the cluster layout and have no single entry here.
constexpr std::array<ScalingLaw, 3> known_laws{{
    {"complete", "log n", 0.0, "Yates, arXiv 2102.02893 (MODEL 3.2, 3.4)"},
    {"ring", "sqrt n", 0.5, "Yates, arXiv 2102.02893 (MODEL 3.3, 3.4)"},
    {"torus", "n^(1/3)", 1.0 / 3.0, "Srivastava & Ulukus, arXiv 2307.08670 (MODEL 3.4)"},
}};

}  // namespace

std::optional<ScalingLaw> source_scaling_law(std::string_view topology) {
  for (const ScalingLaw& law : known_laws)
    if (law.topology == topology) return law;
  return std::nullopt;
}

}  // namespace timely::theory
