#pragma once
// The graph users gossip on (docs/model.md §1) and how a user picks its partner.
//
// Each graph type is a small concrete struct with size(), degree(i) and an inline
// pick(i, rng); the simulator dispatches on the Graph variant once per trial, so the event
// loop is instantiated per type with no virtual call, allocation or string per event.
// Regular lattices (complete, ring, torus) compute neighbours instead of storing them:
// a complete graph on 10^6 users takes O(1) memory.
#include <Eigen/Core>
#include <boost/random/uniform_01.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sim/draws.hpp"
#include "sim/graph_spec.hpp"
#include "sim/random.hpp"

namespace timely::sim {

// TopologyKind and NetworkSpec (the network.* keys): sim/graph_spec.hpp.

// Every user is a neighbour of every other; partner uniform among the n - 1 others.
struct CompleteGraph {
  std::uint32_t n;

  std::uint32_t size() const { return n; }
  std::uint32_t degree(std::uint32_t) const { return n - 1; }
  template <FullWordGenerator R>
  std::uint32_t pick(std::uint32_t i, R& rng) const {
    // Draw among n - 1 slots and skip i: uniform over the others without storing edges.
    const std::uint32_t j = uniform_below(rng, n - 1);
    return j + static_cast<std::uint32_t>(j >= i);
  }
};

// Cycle 0 - 1 - ... - (n-1) - 0 (n >= 3); each neighbour with probability 1/2.
struct RingGraph {
  std::uint32_t n;

  std::uint32_t size() const { return n; }
  std::uint32_t degree(std::uint32_t) const { return 2; }
  template <FullWordGenerator R>
  std::uint32_t pick(std::uint32_t i, R& rng) const {
    if ((rng() >> 63) != 0) return i + 1 == n ? 0 : i + 1;  // a fair coin: the top bit
    return i == 0 ? n - 1 : i - 1;
  }
};

// side x side torus with wrap-around (side >= 3, so the 4 neighbours are distinct).
// User i sits at row i / side, column i % side.
struct TorusGraph {
  std::uint32_t side;

  std::uint32_t size() const { return side * side; }
  std::uint32_t degree(std::uint32_t) const { return 4; }
  template <FullWordGenerator R>
  std::uint32_t pick(std::uint32_t i, R& rng) const {
    const std::uint32_t row = i / side;
    const std::uint32_t col = i - row * side;
    switch (rng() >> 62) {  // one of 4 directions: the top two bits
      case 0: return row * side + (col + 1 == side ? 0 : col + 1);             // east
      case 1: return row * side + (col == 0 ? side - 1 : col - 1);             // west
      case 2: return (row + 1 == side ? 0 : row + 1) * side + col;             // south
      default: return (row == 0 ? side - 1 : row - 1) * side + col;            // north
    }
  }
};

// The generalized ring C_n(1, ..., f) (2 f < n): i ~ i +- s mod n for s = 1..f; partner uniform
// among the 2 f. Computed, not stored, like the ring: f = sqrt n at n = 10^6 would take 8 GB
// as CSR. Neighbour k in 0..2f-1 is i + k + 1 for k < f and i - (k - f + 1) otherwise.
struct CirculantGraph {
  std::uint32_t n;
  std::uint32_t f;

  std::uint32_t size() const { return n; }
  std::uint32_t degree(std::uint32_t) const { return 2 * f; }
  std::uint32_t neighbour(std::uint32_t i, std::uint32_t k) const {
    const std::uint64_t step = k < f ? std::uint64_t{k} + 1 : std::uint64_t{n} - (k - f + 1);  // -s as n - s
    const std::uint64_t j = i + step;
    return static_cast<std::uint32_t>(j >= n ? j - n : j);
  }
  template <FullWordGenerator R>
  std::uint32_t pick(std::uint32_t i, R& rng) const {
    return neighbour(i, uniform_below(rng, 2 * f));
  }
};

// Compressed sparse rows: the neighbours of i are targets[offsets[i] .. offsets[i+1]).
// Every undirected edge is stored in both rows. When weights are given, alias_prob and
// alias_index hold one alias table per row, flat in CSR order (alias_index is an index
// within the row), and the partner is drawn in proportion to the edge weight; empty
// vectors mean uniform.
struct CsrGraph {
  std::vector<std::uint64_t> offsets;  // n + 1
  std::vector<std::uint32_t> targets;
  std::vector<double> weights;              // CSR order; empty: unweighted
  std::vector<double> alias_prob;           // CSR order; empty: uniform
  std::vector<std::uint32_t> alias_index;   // CSR order; empty: uniform
  TopologyKind kind = TopologyKind::edges;  // what built it, for describe()

  std::uint32_t size() const {
    return offsets.empty() ? 0 : static_cast<std::uint32_t>(offsets.size() - 1);
  }
  std::uint32_t degree(std::uint32_t i) const {
    return static_cast<std::uint32_t>(offsets[i + 1] - offsets[i]);
  }
  std::span<const std::uint32_t> neighbours(std::uint32_t i) const {
    return {targets.data() + offsets[i], degree(i)};
  }
  std::uint64_t edge_count() const { return targets.size() / 2; }
  bool weighted() const { return !alias_prob.empty(); }

  // Needs degree(i) >= 1, which every graph from build_graph has (connected, or clustered:
  // every cluster has >= 2 users).
  template <FullWordGenerator R>
  std::uint32_t pick(std::uint32_t i, R& rng) const {
    const std::uint64_t begin = offsets[i];
    std::uint32_t k = uniform_below(rng, degree(i));
    // Alias coin (Walker/Vose, see alias_table.hpp); u in [0, 1) never keeps prob 0.
    if (!alias_prob.empty() && !(boost::random::uniform_01<double>{}(rng) < alias_prob[begin + k]))
      k = alias_index[begin + k];
    return targets[begin + k];
  }
};

using Graph = std::variant<CompleteGraph, RingGraph, TorusGraph, CirculantGraph, CsrGraph>;

struct Edge {
  std::uint32_t u;
  std::uint32_t v;
};

// Builds a CSR graph on n users from undirected edges (each listed once), with optional
// positive weights (one per edge, or empty for uniform partner choice). Throws
// std::invalid_argument for an id >= n, a self-loop, a weight count that differs from the
// edge count, or a weight that is not positive and finite. Duplicates are the caller's
// to reject. Connectivity is not checked (see is_connected).
CsrGraph make_csr(std::uint32_t n, std::span<const Edge> edges,
                  std::span<const double> weights = {},
                  TopologyKind kind = TopologyKind::edges);

// Limits of an edge-list file (topology = edges).
inline constexpr double min_edge_weight = 1e-12, max_edge_weight = 1e12;
inline constexpr std::uint64_t max_edges_file_bytes = std::uint64_t{1} << 30;  // 1 GiB
inline constexpr std::size_t max_edges_line_bytes = 4096;

// Validates `spec` and builds its graph; the caller passes
// make_rng(seed, Stream::graph, 0) so the graph depends on the seed alone. Every graph
// returned is connected, but for the clustered one (below), and every user has degree >= 1.
// Throws timely::InputError with one line naming the key.
//  random-regular: pairing model + switch repair, approximately uniform (see .cpp).
//  erdos-renyi: G(n, p) by geometric skipping, resampled until connected (100 tries).
//  star: user 0 is the centre.
//  clustered: deterministic, weighted (docs/model.md §1); the one graph that may come out
//         disconnected: with m > 1 clusters and no ring among their heads, the clusters are
//         joined only through the source (NetworkSpec::clusters_apart; scenario checks
//         refuse it where no source feeds every cluster).
//  edges: lines "i j [weight]", 0-based ids, '#' comments and blank lines ignored; a line
//         without a weight has weight 1; weights make partner choice proportional and
//         must lie in [min_edge_weight, max_edge_weight]. The file must be a regular file
//         (a FIFO, device or directory is refused before it is opened) of at most
//         max_edges_file_bytes, with lines of at most max_edges_line_bytes; edge lines are
//         ASCII text. A bad line fails with "network.edges_file: PATH:LINE: ...", input
//         bytes echoed printable (others as \xNN).
Graph build_graph(const NetworkSpec& spec, Rng& rng);

std::uint32_t graph_size(const Graph& graph);

// The clustered graph's top-level heads, ascending: the first user of each of the m balanced
// contiguous ranges [0, n) is split into (docs/model.md §1). The source model's pushes go to
// them when source.targets = "heads".
std::vector<std::uint32_t> clustered_heads(const NetworkSpec& spec);

// The most memory building the graph of `spec` takes, in bytes (its edge list and CSR, or
// random-regular's stub slots), and the work, in steps comparable to simulated events (each
// edge drawn or read, placed, and searched); both 0 for the graphs computed from a formula
// (complete, ring, 2-d torus, generalized ring). An edge file is judged by its size.
double graph_build_bytes(const NetworkSpec& spec);
double graph_build_work(const NetworkSpec& spec);
// The edges of the graphs built as a CSR, at most; 0 for those computed from a formula.
double graph_built_edges(const NetworkSpec& spec);

// Breadth-first search from user 0 (iterative, no recursion). Isolated users make a
// graph disconnected; an empty graph counts as disconnected, a single user as connected.
bool is_connected(const CsrGraph& graph);

// True for complete, ring, torus and generalized ring: every user sees the same graph, so exact theory may
// solve for one source instead of n. False for CsrGraph (not checked, assumed not).
bool is_vertex_transitive(const Graph& graph);

// The neighbours of i, in a fixed order (for checks and theory; O(degree), allocates).
std::vector<std::uint32_t> neighbours(const Graph& graph, std::uint32_t i);

// Dense n x n matrix: P(i, j) = probability that i picks j when it gossips; rows sum to
// 1. Throws std::invalid_argument if n > 4096 (the matrix would take > 128 MiB).
Eigen::MatrixXd partner_probabilities(const Graph& graph);

// One line, e.g. "ring n=100", "csr n=100 edges=400 (random-regular)".
std::string describe(const Graph& graph);

}  // namespace timely::sim
