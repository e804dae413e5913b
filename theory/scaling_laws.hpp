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
  // The paper proves only an upper bound O(law) (the generalized ring, arXiv 2308.12266), not Theta.
  bool upper_bound = false;
};
std::optional<ShapedLaw> source_scaling_law(std::string_view topology, unsigned dimensions, double reach_exponent);
// The law a model's staleness follows on a topology: the source model's shaped law, or the
// users model's.
std::optional<ShapedLaw> staleness_law(bool source_model, std::string_view topology, unsigned dimensions,
                                       double reach_exponent);

// The clustered graph with the source pushing to its m = n^c top-level heads (Buyukates,
// Bastopcu & Ulukus, arXiv 2109.08669; docs/model.md §3.11): the heads' age grows like m
// (c), or sqrt m (c / 2) when the heads form a ring; each of the `levels` levels of clusters
// of k = n^((1-c)/levels) users adds k ("disconnected"), sqrt k ("ring") or log k
// ("complete"). The law is the larger of the two powers, "log n" when both are logarithmic
// or constant. A fixed number of clusters is c = 0. std::nullopt for an unknown `inside`.
std::optional<ShapedLaw> clustered_source_law(double clusters_exponent, unsigned levels, std::string_view inside,
                                              bool head_ring);
// "log n" (e = 0), "sqrt n", "n", "n^(1/3)", "n^(2/3)", or "n^0.37" when e is no fraction with
// a small denominator.
std::string power_law_text(double exponent);

// Users model: the source is a user of the graph, so information must travel from it
// across the graph rather than arrive at random users; on lattices the spread is linear in
// graph distance, which makes the ring Theta(n) (exactly r n / (2 lambda), see
// users_model.hpp) and the torus Theta(sqrt n).
std::optional<ScalingLaw> users_scaling_law(std::string_view topology);

}  // namespace timely::theory
