#pragma once
// Growth laws in n of the mean staleness at constant capacity: the source model's
// (docs/model.md §3.4) and the users model's, where one user on the graph is the source.

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

// Users model: the source is a user of the graph, so information must travel from it
// across the graph rather than arrive at random users; on lattices the spread is linear in
// graph distance, which makes the ring Theta(n) (exactly r n / (2 lambda), see
// users_model.hpp) and the torus Theta(sqrt n).
std::optional<ScalingLaw> users_scaling_law(std::string_view topology);

}  // namespace timely::theory
