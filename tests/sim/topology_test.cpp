#include "sim/topology.hpp"

#include <algorithm>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <catch2/catch.hpp>

#include "tests/scratch_dir.hpp"
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/input_error.hpp"
#include "sim/random.hpp"

using namespace timely::sim;

namespace {

double chi_squared_critical(double degrees_of_freedom) {
  return boost::math::quantile(boost::math::chi_squared(degrees_of_freedom), 0.999);
}

Graph build(std::uint32_t n, TopologyKind kind, std::uint64_t seed = 1, std::uint32_t degree = 8,
            double p = 0.0, std::string file = {}) {
  NetworkSpec spec;
  spec.n = n;
  spec.topology = kind;
  spec.degree = degree;
  spec.p = p;
  spec.edges_file = std::move(file);
  auto rng = make_rng(seed, Stream::graph, 0);
  return build_graph(spec, rng);
}

// Every neighbour list: no self-loop, no duplicate, symmetric.
void check_simple_and_symmetric(const Graph& g) {
  const std::uint32_t n = graph_size(g);
  std::vector<std::vector<std::uint32_t>> nb(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    nb[i] = neighbours(g, i);
    std::sort(nb[i].begin(), nb[i].end());
    REQUIRE(std::adjacent_find(nb[i].begin(), nb[i].end()) == nb[i].end());
    REQUIRE(!std::binary_search(nb[i].begin(), nb[i].end(), i));
    REQUIRE(nb[i].size() == std::visit([&](const auto& x) { return x.degree(i); }, g));
  }
  for (std::uint32_t i = 0; i < n; ++i)
    for (const std::uint32_t j : nb[i]) REQUIRE(std::binary_search(nb[j].begin(), nb[j].end(), i));
}

// Connectivity of any graph type, through its neighbour lists.
bool connected(const Graph& g) {
  const std::uint32_t n = graph_size(g);
  std::vector<char> seen(n, 0);
  std::vector<std::uint32_t> queue{0};
  seen[0] = 1;
  for (std::size_t h = 0; h < queue.size(); ++h)
    for (const std::uint32_t j : neighbours(g, queue[h]))
      if (!seen[j]) {
        seen[j] = 1;
        queue.push_back(j);
      }
  return queue.size() == n;
}

// pick() frequencies of user i against row i of partner_probabilities (Pearson, 0.999).
void check_pick_frequencies(const Graph& g, std::uint32_t i, std::uint64_t seed, int draws = 200'000) {
  const Eigen::MatrixXd p = partner_probabilities(g);
  const std::uint32_t n = graph_size(g);
  std::vector<double> observed(n, 0.0);
  auto rng = make_rng(seed, Stream::trial, i);
  std::visit(
      [&](const auto& x) {
        for (int t = 0; t < draws; ++t) {
          const std::uint32_t j = x.pick(i, rng);
          REQUIRE(j < n);
          REQUIRE(j != i);
          observed[j] += 1.0;
        }
      },
      g);
  double stat = 0.0;
  int categories = 0;
  for (std::uint32_t j = 0; j < n; ++j) {
    const double expected = draws * p(i, j);
    if (expected == 0.0) {
      REQUIRE(observed[j] == 0.0);  // never picks a non-neighbour
      continue;
    }
    ++categories;
    stat += (observed[j] - expected) * (observed[j] - expected) / expected;
  }
  INFO("user " << i << " of " << describe(g));
  CHECK(stat < chi_squared_critical(categories - 1));
}

void check_rows_sum_to_one(const Graph& g) {
  const Eigen::MatrixXd p = partner_probabilities(g);
  for (Eigen::Index i = 0; i < p.rows(); ++i) CHECK(std::abs(p.row(i).sum() - 1.0) < 1e-12);
  CHECK(p.diagonal().cwiseAbs().maxCoeff() == 0.0);
}

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const auto dir = timely::testing::scratch_root("timely_topology_test");
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}

// The InputError message of building `spec`, or "" if it did not throw.
std::string input_error(const NetworkSpec& spec) {
  auto rng = make_rng(3, Stream::graph, 0);
  try {
    build_graph(spec, rng);
  } catch (const timely::InputError& e) {
    return e.what();
  }
  return "";
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("topology names round-trip and unknown names are rejected", "[topology]") {
  for (const TopologyKind k : {TopologyKind::complete, TopologyKind::ring, TopologyKind::torus,
                               TopologyKind::random_regular, TopologyKind::erdos_renyi,
                               TopologyKind::star, TopologyKind::edges, TopologyKind::grid, TopologyKind::hypercube,
                               TopologyKind::generalized_ring, TopologyKind::bipartite, TopologyKind::clustered})
    CHECK(parse_topology(to_string(k)) == k);
  CHECK(to_string(TopologyKind::random_regular) == "random-regular");
  CHECK(to_string(TopologyKind::erdos_renyi) == "erdos-renyi");
  CHECK(to_string(TopologyKind::generalized_ring) == "generalized-ring");
  CHECK_FALSE(parse_topology("moebius").has_value());
  CHECK_FALSE(parse_topology("random_regular").has_value());
}

TEST_CASE("complete graph: degree n-1, simple, uniform pick that never returns i", "[topology]") {
  const Graph g = build(12, TopologyKind::complete);
  REQUIRE(std::holds_alternative<CompleteGraph>(g));
  CHECK(graph_size(g) == 12);
  CHECK(is_vertex_transitive(g));
  check_simple_and_symmetric(g);
  for (std::uint32_t i = 0; i < 12; ++i) CHECK(std::get<CompleteGraph>(g).degree(i) == 11);
  check_rows_sum_to_one(g);
  for (const std::uint32_t i : {0u, 5u, 11u}) check_pick_frequencies(g, i, 11);
  CHECK(describe(g) == "complete n=12");
}

TEST_CASE("complete graph on 10^6 users stores no edges and picks valid partners", "[topology]") {
  const Graph g = build(1'000'000, TopologyKind::complete);
  CHECK(sizeof(std::get<CompleteGraph>(g)) == sizeof(std::uint32_t));
  const auto& c = std::get<CompleteGraph>(g);
  auto rng = make_rng(5, Stream::trial, 0);
  std::uint32_t largest_from_first = 0;
  std::uint32_t smallest_from_last = 999'999;
  for (int t = 0; t < 100'000; ++t) {
    const std::uint32_t i = t % 2 == 0 ? 0 : 999'999;
    const std::uint32_t j = c.pick(i, rng);
    REQUIRE(j != i);
    REQUIRE(j < 1'000'000);
    if (i == 0) largest_from_first = std::max(largest_from_first, j);
    else smallest_from_last = std::min(smallest_from_last, j);
  }
  // The range reaches both ends (the j += (j >= i) shift): P(miss) = 0.999^50000 ~ e^-50.
  CHECK(largest_from_first > 999'000);
  CHECK(smallest_from_last < 1'000);
  CHECK_THROWS_AS(partner_probabilities(g), std::invalid_argument);
}

TEST_CASE("ring: degree 2, simple, connected, each neighbour with probability 1/2", "[topology]") {
  const Graph g = build(10, TopologyKind::ring);
  REQUIRE(std::holds_alternative<RingGraph>(g));
  CHECK(is_vertex_transitive(g));
  check_simple_and_symmetric(g);
  CHECK(connected(g));
  auto nb0 = neighbours(g, 0);
  std::sort(nb0.begin(), nb0.end());
  CHECK(nb0 == std::vector<std::uint32_t>{1, 9});
  check_rows_sum_to_one(g);
  for (const std::uint32_t i : {0u, 4u, 9u}) check_pick_frequencies(g, i, 12);
  CHECK(describe(g) == "ring n=10");
  // Smallest ring: a triangle.
  check_simple_and_symmetric(build(3, TopologyKind::ring));
}

TEST_CASE("torus: degree 4, simple, connected, wrap-around neighbours of a corner user",
          "[topology]") {
  const Graph g = build(16, TopologyKind::torus);
  REQUIRE(std::holds_alternative<TorusGraph>(g));
  CHECK(std::get<TorusGraph>(g).side == 4);
  CHECK(graph_size(g) == 16);
  CHECK(is_vertex_transitive(g));
  check_simple_and_symmetric(g);
  CHECK(connected(g));
  auto corner = neighbours(g, 0);  // row 0, column 0
  std::sort(corner.begin(), corner.end());
  CHECK(corner == std::vector<std::uint32_t>{1, 3, 4, 12});
  auto far = neighbours(g, 15);  // row 3, column 3
  std::sort(far.begin(), far.end());
  CHECK(far == std::vector<std::uint32_t>{3, 11, 12, 14});
  check_rows_sum_to_one(g);
  for (const std::uint32_t i : {0u, 6u, 15u}) check_pick_frequencies(g, i, 13);
  // Smallest torus 3x3: the four neighbours are still distinct.
  check_simple_and_symmetric(build(9, TopologyKind::torus));
}

TEST_CASE("star: centre 0 has degree n-1, leaves degree 1, leaves always pick the centre",
          "[topology]") {
  const Graph g = build(20, TopologyKind::star);
  const auto& c = std::get<CsrGraph>(g);
  CHECK_FALSE(is_vertex_transitive(g));
  CHECK(is_connected(c));
  check_simple_and_symmetric(g);
  CHECK(c.degree(0) == 19);
  for (std::uint32_t i = 1; i < 20; ++i) CHECK(c.degree(i) == 1);
  check_rows_sum_to_one(g);
  check_pick_frequencies(g, 0, 14);
  auto rng = make_rng(1, Stream::trial, 0);
  for (int t = 0; t < 100; ++t) REQUIRE(c.pick(7, rng) == 0);
  CHECK(describe(g) == "csr n=20 edges=19 (star)");
}

TEST_CASE("random-regular: every user has degree d, simple, connected, uniform pick",
          "[topology]") {
  for (const auto& [n, d] : {std::pair{50u, 3u}, std::pair{100u, 8u}, std::pair{64u, 5u},
                            std::pair{4u, 3u}, std::pair{6u, 3u}, std::pair{10u, 7u},
                            std::pair{30u, 20u}, std::pair{12u, 6u}}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      INFO("n = " << n << ", d = " << d << ", seed = " << seed);
      const Graph g = build(n, TopologyKind::random_regular, seed, d);
      const auto& c = std::get<CsrGraph>(g);
      REQUIRE(c.size() == n);
      for (std::uint32_t i = 0; i < n; ++i) REQUIRE(c.degree(i) == d);
      check_simple_and_symmetric(g);
      CHECK(is_connected(c));
    }
  }
  const Graph g = build(100, TopologyKind::random_regular, 9, 8);
  check_rows_sum_to_one(g);
  for (const std::uint32_t i : {0u, 50u, 99u}) check_pick_frequencies(g, i, 15);
  CHECK(describe(g) == "csr n=100 edges=400 (random-regular)");
}

TEST_CASE("random-regular graphs depend on the seed alone and are pinned for a fixed seed", "[topology]") {
  const auto a = std::get<CsrGraph>(build(200, TopologyKind::random_regular, 42, 6));
  const auto b = std::get<CsrGraph>(build(200, TopologyKind::random_regular, 42, 6));
  const auto c = std::get<CsrGraph>(build(200, TopologyKind::random_regular, 43, 6));
  CHECK(a.targets == b.targets);
  CHECK(a.targets != c.targets);
  // Pinned: Boost.Random draws are the same everywhere, so this graph must not change.
  const auto pinned = std::get<CsrGraph>(build(12, TopologyKind::random_regular, 7, 3));
  CHECK(pinned.targets == std::vector<std::uint32_t>{3, 8, 6, 11, 4, 5, 10, 3, 8, 2, 6, 0,
                                                     9, 10, 1, 8, 7, 1, 10, 0, 3, 11, 9, 5,
                                                     5, 0, 2, 11, 4, 7, 2, 6, 4, 7, 9, 1});
}

TEST_CASE("random-regular n = 10^5, d = 8 builds connected and 8-regular in under a second",
          "[topology]") {
  const auto start = std::chrono::steady_clock::now();
  const Graph g = build(100'000, TopologyKind::random_regular, 2024, 8);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto& c = std::get<CsrGraph>(g);
  REQUIRE(c.size() == 100'000);
  for (std::uint32_t i = 0; i < c.size(); ++i) REQUIRE(c.degree(i) == 8);
  for (std::uint32_t i = 0; i < c.size(); ++i) {
    std::vector<std::uint32_t> row(c.neighbours(i).begin(), c.neighbours(i).end());
    std::sort(row.begin(), row.end());
    REQUIRE(std::adjacent_find(row.begin(), row.end()) == row.end());
    REQUIRE(!std::binary_search(row.begin(), row.end(), i));
  }
  CHECK(is_connected(c));
  INFO("build took " << seconds << " s");
  CHECK(seconds < 1.0);
}

TEST_CASE("erdos-renyi: simple, connected, mean degree within a binomial bound of (n-1)p",
          "[topology]") {
  const std::uint32_t n = 2000;
  const double p = 0.01;  // well above ln(n)/n = 0.0038: conditioning on connectivity is negligible
  const Graph g = build(n, TopologyKind::erdos_renyi, 17, 8, p);
  const auto& c = std::get<CsrGraph>(g);
  check_simple_and_symmetric(g);
  CHECK(is_connected(c));
  // The edge count is Binomial(n(n-1)/2, p); two-sided 0.999 normal bound on it.
  const double pairs = n * (n - 1.0) / 2.0;
  const double z = boost::math::quantile(boost::math::normal(), 0.9995);
  const double bound = z * std::sqrt(pairs * p * (1 - p));
  const double mean_degree = 2.0 * static_cast<double>(c.edge_count()) / n;
  CHECK(std::abs(static_cast<double>(c.edge_count()) - pairs * p) < bound);
  CHECK(std::abs(mean_degree - (n - 1) * p) < 2.0 * bound / n);
  check_pick_frequencies(g, 0, 16);

  // Default p = 2 ln n / n gives a connected graph too.
  const Graph d = build(500, TopologyKind::erdos_renyi, 18);
  CHECK(is_connected(std::get<CsrGraph>(d)));
  // p = 1 is the complete graph.
  const Graph k = build(30, TopologyKind::erdos_renyi, 19, 8, 1.0);
  CHECK(std::get<CsrGraph>(k).edge_count() == 30 * 29 / 2);
}

TEST_CASE("edges file: weighted partner choice follows the weights (chi-squared)", "[topology]") {
  const auto path = write_temp("weighted.txt",
                               "# a weighted star with a tail\n"
                               "\n"
                               "0 1 1.0\n"
                               "0 2 2.0\n"
                               "0 3 3.5   # trailing comment\n"
                               "0 4 0.5\n"
                               "4 5\n");
  const Graph g = build(6, TopologyKind::edges, 1, 8, 0.0, path.string());
  const auto& c = std::get<CsrGraph>(g);
  CHECK(c.weighted());
  CHECK(c.edge_count() == 5);
  const Eigen::MatrixXd p = partner_probabilities(g);
  CHECK(std::abs(p(0, 3) - 3.5 / 7.0) < 1e-15);
  CHECK(std::abs(p(4, 0) - 0.5 / 1.5) < 1e-15);  // a line without a weight has weight 1
  check_rows_sum_to_one(g);
  check_pick_frequencies(g, 0, 20);
  check_pick_frequencies(g, 4, 21);
  CHECK(describe(g) == "csr n=6 edges=5 (edges, weighted)");

  const auto plain = write_temp("plain.txt", "0 1\n1 2\n2 0\n2 3\r\n");
  const Graph u = build(4, TopologyKind::edges, 1, 8, 0.0, plain.string());
  CHECK_FALSE(std::get<CsrGraph>(u).weighted());
  check_pick_frequencies(u, 2, 22);
}

TEST_CASE("bad network input throws InputError naming the key", "[topology]") {
  NetworkSpec s;
  s.n = 1;
  CHECK(input_error(s) == "network.n: expected an integer >= 2, got 1");
  s.n = 2;
  s.topology = TopologyKind::ring;
  CHECK(input_error(s) == "network.n: the ring needs n >= 3, got 2");
  s.topology = TopologyKind::torus;
  s.n = 50;
  CHECK(input_error(s) == "network.n: the torus needs a perfect square n = side^2 with side >= 3, got 50");
  s.n = 4;  // a perfect square, but side 2 repeats neighbours
  CHECK(starts_with(input_error(s), "network.n: the torus"));

  s.topology = TopologyKind::random_regular;
  s.n = 5;
  s.degree = 8;
  CHECK(input_error(s) ==
        "network.degree: a random 8-regular graph needs n*degree even and degree < n, got n = 5");
  s.degree = 3;  // n*d odd
  CHECK(starts_with(input_error(s), "network.degree: a random 3-regular graph needs n*degree even"));
  s.n = 100;
  s.degree = 2;
  CHECK(starts_with(input_error(s), "network.degree: a random regular graph needs degree >= 3"));
  s.degree = 0;
  CHECK(starts_with(input_error(s), "network.degree:"));

  s.topology = TopologyKind::erdos_renyi;
  s.p = 1.5;
  CHECK(input_error(s) == "network.p: expected a probability in (0, 1], got 1.5");
  s.p = -0.1;
  CHECK(starts_with(input_error(s), "network.p: expected a probability"));
  s.p = std::nan("");
  CHECK(starts_with(input_error(s), "network.p: expected a probability"));
  s.p = 0.001;
  const std::string sparse = input_error(s);
  CHECK(starts_with(sparse, "network.p: G(n = 100, p = 0.001) was not connected in 100 samples"));
  CHECK(sparse.find("ln(n)/n = 0.0461") != std::string::npos);

  s.topology = TopologyKind::edges;
  s.n = 10;
  s.edges_file = (std::filesystem::temp_directory_path() / "timely_no_such_dir" / "x.txt").string();
  CHECK(input_error(s) == "network.edges_file: cannot open '" + s.edges_file + "'");
  s.edges_file = "";
  CHECK(starts_with(input_error(s), "network.edges_file:"));

  const auto file_error = [&](const std::string& name, const std::string& text) {
    s.edges_file = write_temp(name, text).string();
    return input_error(s);
  };
  // "network.edges_file: PATH:LINE: " of the file write_temp(name, ...) wrote.
  const auto line = [](const std::string& name, int k) {
    return "network.edges_file: " + (timely::testing::scratch_root("timely_topology_test") / name).string() + ":" +
           std::to_string(k) + ": ";
  };
  CHECK(file_error("bad_token.txt", "# header\n0 1\n1 2\n\n2 3\n3 4\n3 x\n") ==
        line("bad_token.txt", 7) + "expected two user ids in [0, 10) and an optional weight in [1e-12, 1e12], got '3 x'");
  CHECK(starts_with(file_error("out_of_range.txt", "0 1\n1 10\n"), line("out_of_range.txt", 2) + "expected two user ids"));
  CHECK(starts_with(file_error("negative_id.txt", "0 -1\n"), line("negative_id.txt", 1) + "expected"));
  CHECK(starts_with(file_error("one_id.txt", "0\n"), line("one_id.txt", 1) + "expected"));
  CHECK(starts_with(file_error("four_fields.txt", "0 1 2 3\n"), line("four_fields.txt", 1) + "expected"));
  CHECK(starts_with(file_error("zero_weight.txt", "0 1 0\n"), line("zero_weight.txt", 1) + "expected a weight"));
  CHECK(starts_with(file_error("negative_weight.txt", "0 1 -2\n"), line("negative_weight.txt", 1) + "expected a weight"));
  CHECK(starts_with(file_error("nan_weight.txt", "0 1 nan\n"), line("nan_weight.txt", 1) + "expected a weight"));
  CHECK(starts_with(file_error("self_loop.txt", "0 1\n# c\n4 4\n"), line("self_loop.txt", 3) + "self-loop"));
  CHECK(file_error("duplicate.txt", "0 1\n1 2\n2 1\n") ==
        line("duplicate.txt", 3) + "duplicate edge 2 1 (first on line 2)");
  std::string chain;  // 0-1-...-8, user 9 isolated
  for (int i = 0; i < 8; ++i) chain += std::to_string(i) + " " + std::to_string(i + 1) + "\n";
  CHECK(file_error("isolated.txt", chain) ==
        "network.edges_file: the graph is not connected (user 9 cannot reach user 0)");
  CHECK(file_error("two_parts.txt", "0 1\n1 2\n3 4\n4 5\n5 6\n6 7\n7 8\n8 9\n") ==
        "network.edges_file: the graph is not connected (user 3 cannot reach user 0)");
  CHECK(starts_with(file_error("empty.txt", "# nothing\n"), "network.edges_file: the graph is not connected"));
}

TEST_CASE("is_connected: BFS detects isolated users and handles a path of 10^5 users",
          "[topology]") {
  std::vector<Edge> path;
  for (std::uint32_t i = 0; i + 1 < 100'000; ++i) path.push_back({i, i + 1});
  CHECK(is_connected(make_csr(100'000, path)));
  CHECK_FALSE(is_connected(make_csr(100'001, path)));
  CHECK_FALSE(is_connected(CsrGraph{}));
  CHECK_THROWS_AS(make_csr(3, std::vector<Edge>{{0, 0}}), std::invalid_argument);
  CHECK_THROWS_AS(make_csr(3, std::vector<Edge>{{0, 3}}), std::invalid_argument);
}
