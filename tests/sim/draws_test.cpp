// The event loops' draws (sim/draws.hpp): Lemire's exact bounded integers and the one-draw
// event choice, against their exact distributions (chi-squared at 0.999, fixed seeds), and
// the rare paths (rejection, a word on a class boundary) with scripted generators.
#include <catch2/catch.hpp>

#include <boost/math/distributions/chi_squared.hpp>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "sim/draws.hpp"
#include "sim/random.hpp"

using namespace timely;

namespace {

double chi_squared(const std::vector<double>& observed, const std::vector<double>& expected) {
  double x = 0.0;
  for (std::size_t k = 0; k < observed.size(); ++k)
    x += (observed[k] - expected[k]) * (observed[k] - expected[k]) / expected[k];
  return x;
}

double critical(std::size_t cells) {
  return boost::math::quantile(boost::math::chi_squared(static_cast<double>(cells - 1)), 0.999);
}

// Returns the given words in turn, then repeats the last.
struct Scripted {
  std::vector<std::uint64_t> words;
  std::size_t next = 0;
  using result_type = std::uint64_t;
  std::uint64_t operator()() { return words[next < words.size() ? next++ : words.size() - 1]; }
};

}  // namespace

TEST_CASE("uniform_below is uniform for a small range", "[draws]") {
  sim::Rng rng = sim::make_rng(1, sim::Stream::trial, 0);
  const std::uint32_t count = 7;
  const int draws = 700000;
  std::vector<double> observed(count, 0.0), expected(count, static_cast<double>(draws) / count);
  for (int k = 0; k < draws; ++k) {
    const std::uint32_t x = sim::uniform_below(rng, count);
    REQUIRE(x < count);
    ++observed[x];
  }
  CHECK(chi_squared(observed, expected) < critical(count));
}

TEST_CASE("uniform_below rejects the excess products: exact for a range near 2^32", "[draws]") {
  // count = 3 * 2^30: plain multiply-shift (no rejection) maps 2^32 words onto 3 * 2^30
  // values, giving every value x with x mod 3 == 0 two preimages and the others one, so
  // x mod 3 would be 0 with probability 1/2; exactly, each residue has probability 1/3.
  sim::Rng rng = sim::make_rng(2, sim::Stream::trial, 0);
  const std::uint32_t count = 3u << 30;
  const int draws = 300000;
  std::vector<double> observed(3, 0.0), expected(3, draws / 3.0);
  for (int k = 0; k < draws; ++k) {
    const std::uint32_t x = sim::uniform_below(rng, count);
    REQUIRE(x < count);
    ++observed[x % 3];
  }
  CHECK(chi_squared(observed, expected) < critical(3));
}

TEST_CASE("uniform_below draws again when the first product is rejected", "[draws]") {
  // count = 3 * 2^30: 2^32 mod count = 2^30. bits = 0 gives the low word 0 < 2^30: rejected;
  // the next draw's top word 2^31 gives (2^31 * count) >> 32 = count / 2 with the low word 0
  // ... also rejected; the third, top word 2^32 - 1, is accepted.
  const std::uint32_t count = 3u << 30;
  Scripted rng{{std::uint64_t{1} << 63, ~std::uint64_t{0}}};
  const std::uint64_t expected = ((std::uint64_t{0xffffffffu} * count) >> 32);
  CHECK(sim::uniform_below(0u, count, rng) == expected);
  CHECK(rng.next == 2);
  Scripted none{{0}};
  CHECK(sim::uniform_below(5u, 1u, none) == 0u);  // count 1: always 0, nothing drawn
  CHECK(none.next == 0);
}

TEST_CASE("event choice: classes in proportion to their rates, actors uniform within each", "[draws]") {
  const sim::EventChoice<3> choice({1.0, 2.5, 0.5}, {5, 3, 1});
  sim::Rng rng = sim::make_rng(3, sim::Stream::trial, 0);
  const int draws = 800000;
  // Cells: (class, actor) pairs, 5 + 3 + 1 of them, each with probability rate/total/actors.
  const std::vector<double> p{0.25 / 5, 0.25 / 5, 0.25 / 5, 0.25 / 5, 0.25 / 5, 0.625 / 3, 0.625 / 3, 0.625 / 3, 0.125};
  const std::vector<std::size_t> first{0, 5, 8};
  std::vector<double> observed(p.size(), 0.0), expected;
  for (double q : p) expected.push_back(q * draws);
  for (int k = 0; k < draws; ++k) {
    const auto e = choice.draw(rng);
    REQUIRE(e.kind < 3);
    REQUIRE(e.actor < std::vector<std::uint32_t>{5, 3, 1}[e.kind]);
    ++observed[first[e.kind] + e.actor];
  }
  CHECK(chi_squared(observed, expected) < critical(p.size()));
}

TEST_CASE("event choice: a zero rate never ticks", "[draws]") {
  const sim::EventChoice<3> choice({2.0, 0.0, 1.0}, {4, 4, 1});
  sim::Rng rng = sim::make_rng(4, sim::Stream::trial, 0);
  for (int k = 0; k < 100000; ++k) REQUIRE(choice.draw(rng).kind != 1);
  // A zero-rate last class, even for the word 2^64 - 1 that passes a clamped threshold.
  const sim::EventChoice<3> tail({1.0, 1.0, 0.0}, {4, 4, 1});
  Scripted top{{~std::uint64_t{0}}};
  CHECK(tail.draw(top).kind == 1);
  const sim::EventChoice<2> alone({1.0, 0.0}, {4, 1});
  Scripted top2{{~std::uint64_t{0}}};
  CHECK(alone.draw(top2).kind == 0);
}

TEST_CASE("event choice refuses a zero, negative or non-finite total", "[draws]") {
  CHECK_THROWS_AS(sim::EventChoice<2>({0.0, 0.0}, {1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(sim::EventChoice<2>({-1.0, 2.0}, {1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(sim::EventChoice<2>({1.0, std::numeric_limits<double>::infinity()}, {1, 1}), std::invalid_argument);
}

TEST_CASE("event choice: the class from the whole word, the actor redrawn on a boundary word", "[draws]") {
  // Rates 1 : 2, so the boundary is 2^64 times the double nearest 1/3, 0x5555555555555400,
  // and its high word 0x55555555.
  const std::uint32_t actors = 1000;
  const sim::EventChoice<2> choice({1.0, 2.0}, {actors, actors});
  const auto actor_of = [&](std::uint32_t bits) { return static_cast<std::uint32_t>((std::uint64_t{bits} * actors) >> 32); };
  // Away from the boundary: the low word is the actor's bits, no further draw.
  Scripted away{{0x12345678'9abcdef0u}};
  auto e = choice.draw(away);
  CHECK(e.kind == 0);
  CHECK(e.actor == actor_of(0x9abcdef0u));
  CHECK(away.next == 1);
  Scripted above{{0x55555556'00000007u}};
  e = choice.draw(above);
  CHECK(e.kind == 1);
  CHECK(e.actor == actor_of(7u));
  CHECK(above.next == 1);
  // On the boundary's high word, below and above the threshold: the low word decided the
  // class, so it is not used; the actor comes from the next draw's top word.
  Scripted below{{0x55555555'00000001u, std::uint64_t{0xdeadbeefu} << 32}};
  e = choice.draw(below);
  CHECK(e.kind == 0);
  CHECK(below.next == 2);
  CHECK(e.actor == actor_of(0xdeadbeefu));
  Scripted at{{0x55555555'fffffff0u, std::uint64_t{0x0badf00du} << 32}};
  e = choice.draw(at);
  CHECK(e.kind == 1);
  CHECK(at.next == 2);
  CHECK(e.actor == actor_of(0x0badf00du));
}
