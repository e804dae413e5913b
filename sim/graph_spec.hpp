#pragma once
// The graph a scenario asks for (its `network.*` keys, docs/interface.md): the topology's
// kind and parameters, apart from the graphs themselves (sim/topology.hpp), so that
// sim/scenario.hpp holds them without the graph code and Eigen.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace timely::sim {

enum class TopologyKind { complete, ring, torus, random_regular, erdos_renyi, star, edges };

// "complete", "ring", "torus", "random-regular", "erdos-renyi", "star", "edges"
std::string_view to_string(TopologyKind kind);
std::optional<TopologyKind> parse_topology(std::string_view name);

// The `network.*` keys of a scenario (docs/interface.md).
struct NetworkSpec {
  std::uint32_t n = 100;
  TopologyKind topology = TopologyKind::complete;
  std::uint32_t degree = 8;  // random-regular
  double p = 0.0;            // erdos-renyi edge probability; 0 means the default 2 ln n / n
  std::string edges_file;    // edges
};

}  // namespace timely::sim
