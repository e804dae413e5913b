#pragma once
// The graph a scenario asks for (its `network.*` keys, docs/interface.md): the topology's
// kind and parameters, apart from the graphs themselves (sim/topology.hpp), so that
// sim/scenario.hpp holds them without the graph code and Eigen.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace timely::sim {

enum class TopologyKind {
  complete, ring, torus, random_regular, erdos_renyi, star, edges, grid, hypercube, generalized_ring, bipartite
};

// "complete", "ring", "torus", "random-regular", "erdos-renyi", "star", "edges", "grid",
// "hypercube", "generalized-ring", "bipartite"
std::string_view to_string(TopologyKind kind);
std::optional<TopologyKind> parse_topology(std::string_view name);

// The `network.*` keys of a scenario (docs/interface.md).
struct NetworkSpec {
  std::uint32_t n = 100;
  TopologyKind topology = TopologyKind::complete;
  std::uint32_t degree = 8;  // random-regular
  double p = 0.0;            // erdos-renyi edge probability; 0 means the default 2 ln n / n
  std::string edges_file;    // edges
  std::uint32_t dimensions = 2;  // torus: n = side^dimensions
  // generalized-ring: each user's neighbours are the f nearest on each side, f = reach, or
  // round(n^reach_exponent); 2 when neither is given.
  std::optional<std::uint32_t> reach;
  std::optional<double> reach_exponent;
  std::optional<std::uint32_t> left;  // bipartite K_{L, n-L}: L, default floor(n / 2)

  // The generalized ring's f (before its checks).
  std::uint64_t reach_users() const;
  // The largest degree the topology can have (n - 1 where the graph is random or read): for
  // estimates made before the graph is built.
  double degree_bound() const;
};

}  // namespace timely::sim
