// The first-passage scale m*(v) = min{m >= 1 : m |B_m(v)| >= n} (docs/model.md §3.10) against
// a deliberately naive reference: all-pairs distances by Floyd-Warshall, then the definition
// read off literally; and the Theta(m*) law where theory has nothing else.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/first_passage.hpp"
#include "tests/run_cli.hpp"
#include "tests/scratch_dir.hpp"
#include "theory/first_passage.hpp"

using namespace timely;
using sim::Graph;

namespace {

// m*(v) for every v, from the distance matrix of Floyd-Warshall: O(n^3), nothing shared with
// the breadth-first search or the closed forms.
std::vector<std::uint32_t> naive_m_star(const Graph& graph) {
  const std::uint32_t n = sim::graph_size(graph);
  constexpr std::uint32_t far = std::numeric_limits<std::uint32_t>::max() / 4;
  std::vector<std::vector<std::uint32_t>> d(n, std::vector<std::uint32_t>(n, far));
  for (std::uint32_t i = 0; i < n; ++i) {
    d[i][i] = 0;
    for (const std::uint32_t j : sim::neighbours(graph, i)) d[i][j] = 1;
  }
  for (std::uint32_t k = 0; k < n; ++k)
    for (std::uint32_t i = 0; i < n; ++i)
      for (std::uint32_t j = 0; j < n; ++j) d[i][j] = std::min(d[i][j], d[i][k] + d[k][j]);
  std::vector<std::uint32_t> out(n);
  for (std::uint32_t v = 0; v < n; ++v)
    for (std::uint32_t m = 1;; ++m) {
      std::uint32_t ball = 0;
      for (std::uint32_t u = 0; u < n; ++u) ball += d[v][u] <= m;
      if (std::uint64_t{m} * ball >= n) {
        out[v] = m;
        break;
      }
    }
  return out;
}

// Every user's m* by the search (m_star, and one reused FirstPassageSearch on CSR graphs)
// equals the reference; the scenario value is their mean and max.
void check_against_reference(const Graph& graph) {
  const std::vector<std::uint32_t> expected = naive_m_star(graph);
  const std::uint32_t n = sim::graph_size(graph);
  INFO(sim::describe(graph));
  double sum = 0.0;
  std::uint32_t max = 0;
  for (std::uint32_t v = 0; v < n; ++v) {
    INFO("user " << v);
    CHECK(analysis::m_star(graph, v) == expected[v]);
    sum += expected[v];
    max = std::max(max, expected[v]);
  }
  if (const auto* csr = std::get_if<sim::CsrGraph>(&graph)) {
    analysis::FirstPassageSearch search(*csr);
    for (std::uint32_t v = 0; v < n; ++v) CHECK(search.m_star(v) == expected[v]);
  }
  const auto scale = analysis::first_passage_scale(graph, 1);
  CHECK_FALSE(scale.sampled);
  CHECK(scale.users == n);
  CHECK(scale.mean == Approx(sum / n));
  CHECK(scale.max == max);
}

Graph build(sim::TopologyKind kind, std::uint32_t n, std::uint64_t seed, std::uint32_t degree = 3) {
  sim::NetworkSpec spec;
  spec.n = n;
  spec.topology = kind;
  spec.degree = degree;
  auto rng = sim::make_rng(seed, sim::Stream::graph, 0);
  return sim::build_graph(spec, rng);
}

// The d-dimensional hypercube as an edge list: u ~ u xor 2^b.
Graph hypercube(std::uint32_t dimension) {
  const std::uint32_t n = 1u << dimension;
  std::vector<sim::Edge> edges;
  for (std::uint32_t u = 0; u < n; ++u)
    for (std::uint32_t b = 0; b < dimension; ++b)
      if (const std::uint32_t v = u ^ (1u << b); u < v) edges.push_back({u, v});
  return sim::make_csr(n, edges);
}

Graph cycle_as_csr(std::uint32_t n) {
  std::vector<sim::Edge> edges;
  for (std::uint32_t u = 0; u < n; ++u) edges.push_back({u, (u + 1) % n});
  return sim::make_csr(n, edges);
}

Graph torus_as_csr(std::uint32_t side) {
  std::vector<sim::Edge> edges;
  for (std::uint32_t r = 0; r < side; ++r)
    for (std::uint32_t c = 0; c < side; ++c) {
      edges.push_back({r * side + c, r * side + (c + 1) % side});
      edges.push_back({r * side + c, ((r + 1) % side) * side + c});
    }
  return sim::make_csr(side * side, edges);
}

std::filesystem::path write_edges(const std::string& name, const std::string& text) {
  const auto dir = testing::fresh_scratch("timely_first_passage_test", name);
  const auto path = dir / "graph.txt";
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace

TEST_CASE("m*: the complete graph is 1 for every user", "[m_star]") {
  for (std::uint32_t n : {2u, 3u, 10u, 1000000u}) {
    const Graph g = sim::CompleteGraph{n};
    CHECK(analysis::m_star(g, 0) == 1);
    CHECK(analysis::first_passage_scale(g, 1).mean == 1.0);
  }
  check_against_reference(sim::CompleteGraph{9});
}

TEST_CASE("m*: the ring's closed form is the least m with m (2m+1) >= n", "[m_star]") {
  for (std::uint32_t n = 3; n <= 200; ++n) {
    const std::uint64_t m = theory::ring_first_passage_scale(n);
    INFO("n = " << n);
    CHECK(m * std::min<std::uint64_t>(2 * m + 1, n) >= n);
    CHECK((m - 1) * (2 * (m - 1) + 1) < n);
    CHECK(analysis::m_star(cycle_as_csr(n), n / 2) == m);  // the search on the same cycle
  }
  for (std::uint32_t n : {3u, 4u, 7u, 12u, 31u}) check_against_reference(sim::RingGraph{n});
  CHECK(theory::ring_first_passage_scale(2000000) == 1000);  // 1000 * 2001 >= 2e6 > 999 * 1999
}

TEST_CASE("m*: the torus's closed-form balls match the search", "[m_star]") {
  for (std::uint32_t side = 3; side <= 40; ++side) {
    INFO("side = " << side);
    const Graph csr = torus_as_csr(side);
    CHECK(analysis::m_star(csr, side + 1) == theory::torus_first_passage_scale(side));
  }
  for (std::uint32_t side : {3u, 4u, 5u, 8u}) check_against_reference(sim::TorusGraph{side});
  CHECK(theory::torus_ball_size(101, 3) == 25);          // 2 m^2 + 2 m + 1 before wrapping
  CHECK(theory::torus_ball_size(4, 100) == 16);          // the whole torus
}

TEST_CASE("m*: the breadth-first search against Floyd-Warshall on generated graphs", "[m_star]") {
  check_against_reference(build(sim::TopologyKind::star, 17, 1));
  check_against_reference(build(sim::TopologyKind::random_regular, 60, 2, 3));
  check_against_reference(build(sim::TopologyKind::random_regular, 40, 3, 5));
  check_against_reference(build(sim::TopologyKind::erdos_renyi, 70, 4));
  check_against_reference(hypercube(6));
  // A path ending in a triangle, from an edges file: not vertex-transitive, m* differs from
  // user to user (the end: m (m+1) >= 20 at m = 4; the middle: m (2m+1) >= 20 at m = 3).
  std::string text = "# a path 0 - 1 - ... - 19 and the triangle 17 18 19\n19 17\n";
  for (std::uint32_t u = 0; u + 1 < 20; ++u) text += std::to_string(u) + " " + std::to_string(u + 1) + "\n";
  sim::NetworkSpec spec;
  spec.n = 20;
  spec.topology = sim::TopologyKind::edges;
  spec.edges_file = write_edges("path", text).string();
  auto rng = sim::make_rng(1, sim::Stream::graph, 0);
  const Graph path = sim::build_graph(spec, rng);
  check_against_reference(path);
  CHECK(analysis::m_star(path, 0) == 4);  // the end sees less of the graph
  CHECK(analysis::m_star(path, 9) == 3);
}

TEST_CASE("m*: above 4096 users the value is a seeded sample of 64", "[m_star]") {
  const Graph g = build(sim::TopologyKind::random_regular, 5000, 5, 3);
  const auto a = analysis::first_passage_scale(g, 5);
  CHECK(a.sampled);
  CHECK(a.users == analysis::m_star_sample_users);
  CHECK(a.max_degree == 3);
  CHECK(analysis::first_passage_scale(g, 5).mean == a.mean);  // the seed fixes it
  // m |B_m| >= n with |B_m| <= 1 + 3 (2^m - 1): at least 8 on a cubic graph of 5000 users.
  CHECK(a.mean >= 8.0);
  CHECK(a.max <= 12);
}

namespace {

// `timely theory --json` of the source model on a graph beyond exact theory, with extra keys.
nlohmann::json theory_json(std::vector<std::string> sets) {
  std::vector<std::string> args{"theory", "--json", "--set", "staleness.model=source"};
  for (auto& s : sets) {
    args.push_back("--set");
    args.push_back(std::move(s));
  }
  const auto o = testing::run_timely(args);
  INFO(o.err);
  REQUIRE(o.status == 0);
  return nlohmann::json::parse(o.out);
}

// `own`: the topology's own law, which comes first with Theta(m*) beside it (random graphs:
// Theta(log n), Maranzatto arXiv 2401.11580); empty for a graph whose law is Theta(m*) alone.
void check_m_star_law(const nlohmann::json& j, const std::string& own = "") {
  INFO(j.dump(2));
  REQUIRE(j["m_star"].is_number());
  CHECK(j["m_star"].get<double>() >= 1.0);
  CHECK(j["staleness"].is_null());
  const std::string law = j["law"].get<std::string>();
  CHECK(law.starts_with(own.empty() ? "Theta(m*)" : own));
  CHECK(law.find("Theta(m*)") != std::string::npos);
  CHECK(law.find(fmt::format("m* = {:.4g}", j["m_star"].get<double>())) != std::string::npos);
  CHECK(law.find("2409.12710") != std::string::npos);
  CHECK(j["method"].get<std::string>().starts_with("asymptotic: " + (own.empty() ? std::string("Theta(m*)") : own)));
}

}  // namespace

TEST_CASE("m*: timely theory gives the Theta(m*) law beyond exact theory (source model)", "[m_star][cli]") {
  const auto rr = theory_json({"network.topology=random-regular", "network.n=2000"});
  check_m_star_law(rr, "Theta(log n)");
  CHECK(rr["law"].get<std::string>().find("2401.11580") != std::string::npos);
  const auto graph = build(sim::TopologyKind::random_regular, 2000, 1, 8);  // the defaults: degree 8, seed 1
  CHECK(rr["m_star"].get<double>() == Approx(analysis::first_passage_scale(graph, 1).mean));
  check_m_star_law(theory_json({"network.topology=erdos-renyi", "network.n=500"}), "Theta(log n)");
  std::string text;
  for (int u = 0; u < 30; ++u) text += std::to_string(u) + " " + std::to_string((u + 1) % 30) + "\n";
  const auto edges = write_edges("cli", text);
  const auto j = theory_json({"network.topology=edges", "network.n=30", "network.edges_file=" + edges.string()});
  check_m_star_law(j);
  CHECK(j["m_star"].get<double>() == 4.0);  // a 30-cycle: 4 * 9 >= 30 > 3 * 7

  // Capacity scaling divides the law as for the known laws.
  const std::string scaled =
      theory_json({"network.topology=random-regular", "network.n=2000", "gossip.scaling=log"})["law"].get<std::string>();
  CHECK(scaled.starts_with("Theta(1)"));  // log n / ln n
  CHECK(scaled.find("Theta(m* / ln n)") != std::string::npos);
  CHECK(theory_json({"network.topology=edges", "network.n=30", "network.edges_file=" + edges.string(),
                     "gossip.scaling=log"})["law"]
            .get<std::string>()
            .starts_with("Theta(m* / ln n)"));
  // The text report prints it too.
  const auto o = testing::run_timely({"theory", "--set", "staleness.model=source", "--set",
                                      "network.topology=random-regular", "--set", "network.n=2000"});
  CHECK(o.out.find("m*  ") != std::string::npos);
  // Exact theory carries no m*; a known law carries it beside (the torus: 50 x 50, |B_m| = 2m^2 + 2m + 1).
  CHECK(theory_json({"network.topology=ring", "network.n=2000"})["m_star"].is_null());
  CHECK(theory_json({"network.topology=random-regular", "network.n=12", "network.degree=3"})["m_star"].is_null());
  const auto torus = theory_json({"network.topology=torus", "network.n=2500"});
  CHECK(torus["law"].get<std::string>().starts_with("Theta(n^(1/3))"));
  CHECK(torus["m_star"].get<double>() == 11.0);  // 11 * 265 >= 2500 > 10 * 221
  // The hypercube: its law and m* (n = 2^16, |B_m| = sum_{k <= m} C(16, k): 6 * 14893 >= 65536 > 5 * 6885).
  const auto cube = theory_json({"network.topology=hypercube", "network.n=65536"});
  CHECK(cube["law"].get<std::string>().starts_with("Theta(log n)"));
  CHECK(cube["m_star"].get<double>() == 6.0);
}
