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
  complete, ring, torus, random_regular, erdos_renyi, star, edges, grid, hypercube, generalized_ring, bipartite,
  clustered
};

// "complete", "ring", "torus", "random-regular", "erdos-renyi", "star", "edges", "grid",
// "hypercube", "generalized-ring", "bipartite", "clustered"
std::string_view to_string(TopologyKind kind);
std::optional<TopologyKind> parse_topology(std::string_view name);

// The graph among a cluster's members (network.inside): none, a cycle, or every pair.
enum class ClusterInside { disconnected, ring, complete };
std::string_view to_string(ClusterInside inside);

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
  // clustered (Buyukates, Bastopcu & Ulukus, arXiv 2109.08669; docs/model.md §1): m top-level
  // clusters, `clusters` or round(n^clusters_exponent), round(sqrt n) when neither is given;
  // `levels` nesting levels; the graph among a cluster's members; whether the top heads form a
  // ring.
  std::optional<std::uint32_t> clusters;
  std::optional<double> clusters_exponent;
  std::uint32_t levels = 1;
  ClusterInside inside = ClusterInside::ring;
  bool head_ring = false;

  // The generalized ring's f (before its checks).
  std::uint64_t reach_users() const;
  // The clustered graph's m, the number of top-level clusters (before its checks).
  std::uint64_t cluster_count() const;
  // True when the clustered graph's clusters are joined only through the source: m > 1 top
  // clusters and no ring among their heads.
  bool clusters_apart() const;
  // c with m ~ n^c: network.clusters_exponent, 1/2 for the default round(sqrt n), 0 for a
  // fixed network.clusters.
  double clusters_growth() const { return clusters ? 0.0 : clusters_exponent.value_or(0.5); }
  // The largest degree the topology can have (n - 1 where the graph is random or read): for
  // estimates made before the graph is built.
  double degree_bound() const;
};

}  // namespace timely::sim
