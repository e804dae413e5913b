#pragma once
// Growth laws of the mean version age in the source model (MODEL.md section 3.4).

#include <optional>
#include <string_view>

namespace timely::theory {

struct ScalingLaw {
  std::string_view topology;   // "complete", "ring", "torus"
  std::string_view law;        // e.g. "sqrt n"
  double exponent;             // age ~ n^exponent; 0 means logarithmic growth
  std::string_view reference;  // where the law comes from
};

// Known law for a topology name, std::nullopt when timely knows none.
std::optional<ScalingLaw> source_scaling_law(std::string_view topology);

}  // namespace timely::theory
