#pragma once
// Growth laws in n of the mean staleness at constant capacity: the source model's
// (docs/model.md §3.4) and the users model's, where one user on the graph is the source.

#include <optional>
#include <string>
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

// The same for a topology with a shape parameter (docs/model.md §3.4): the torus in
// `dimensions` dimensions, n^(1/(d+1)) (Maranzatto & Michelen, arXiv 2409.12710; d = 2 is the
// table's n^(1/3)); the generalized ring with f = n^a neighbours on each side, n^((1-a)/2)
// (Srivastava & Ulukus, arXiv 2308.12266; a fixed f is a = 0). Other topologies: the table's.
struct ShapedLaw {
  std::string law;  // e.g. "n^(1/4)"
  double exponent;
  std::string reference;
};
std::optional<ShapedLaw> source_scaling_law(std::string_view topology, unsigned dimensions, double reach_exponent);
// The law a model's staleness follows on a topology: the source model's shaped law, or the
// users model's.
std::optional<ShapedLaw> staleness_law(bool source_model, std::string_view topology, unsigned dimensions,
                                       double reach_exponent);

// Users model: the source is a user of the graph, so information must travel from it
// across the graph rather than arrive at random users; on lattices the spread is linear in
// graph distance, which makes the ring Theta(n) (exactly r n / (2 lambda), see
// users_model.hpp) and the torus Theta(sqrt n).
std::optional<ScalingLaw> users_scaling_law(std::string_view topology);

}  // namespace timely::theory
