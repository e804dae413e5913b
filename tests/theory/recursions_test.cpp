// Exact recursions of the theory library (docs/model.md §3.1-3.7) checked against each
// other and against their closed forms and asymptotes.

#include "theory/age_of_gossip.hpp"
#include "theory/capacity.hpp"
#include "theory/harmonic.hpp"
#include "theory/rumour.hpp"
#include "theory/scaling_laws.hpp"
#include "theory/shs_solver.hpp"
#include "theory/users_model.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

namespace th = timely::theory;

namespace {

constexpr double rel_tol = 1e-10;

bool close(double a, double b, double tol = rel_tol) { return std::abs(a - b) <= tol * std::abs(b); }

enum class Mode { push, exchange };

// Complete graph: every user contacts a uniform other user at rate lambda. Push: i -> j carries
// lambda/(n-1). Exchange: also j's contacts of i carry i's information, so 2 lambda/(n-1).
Eigen::MatrixXd complete_flow(Eigen::Index n, double lambda, Mode mode) {
  const double per_pair = lambda / static_cast<double>(n - 1) * (mode == Mode::exchange ? 2.0 : 1.0);
  Eigen::MatrixXd flow = Eigen::MatrixXd::Constant(n, n, per_pair);
  flow.diagonal().setZero();
  return flow;
}

// Ring: every user contacts each of its two neighbours at rate lambda/2 (push).
Eigen::MatrixXd ring_flow(Eigen::Index n, double lambda) {
  Eigen::MatrixXd flow = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    flow(i, (i + 1) % n) += lambda / 2;
    flow(i, (i + n - 1) % n) += lambda / 2;
  }
  return flow;
}

std::vector<double> uniform_push(std::size_t n, double push_rate) {
  return std::vector<double>(n, push_rate / static_cast<double>(n));
}

}  // namespace

// ---- docs/model.md §3.1 against §3.2 and §3.3 ----------------------------------------------

TEST_CASE("SHS solver on the complete graph equals the complete-graph recursion for every user",
          "[theory][shs][age_of_gossip]") {
  const Eigen::Index n = 10;
  struct Case { double version_rate, push_rate, lambda; Mode mode; };
  for (const Case c : {Case{1.0, 1.0, 1.0, Mode::push}, Case{2.5, 0.7, 3.0, Mode::push},
                       Case{0.3, 4.0, 0.5, Mode::push}, Case{1.0, 1.0, 1.0, Mode::exchange},
                       Case{2.5, 0.7, 1.3, Mode::exchange}}) {
    const double flow = c.mode == Mode::exchange ? 2 * c.lambda : c.lambda;
    const double expected = th::source_age_complete(n, {c.version_rate, c.push_rate}, flow);
    const auto ages = th::shs_source_ages(complete_flow(n, c.lambda, c.mode), uniform_push(n, c.push_rate),
                                          c.version_rate);
    REQUIRE(ages.size() == static_cast<std::size_t>(n));
    for (double age : ages) CHECK(close(age, expected));
  }
}

TEST_CASE("SHS solver on the ring equals the ring recursion for every user", "[theory][shs][age_of_gossip]") {
  const Eigen::Index n = 12;
  for (const auto& [version_rate, push_rate, lambda] : {std::tuple{1.0, 1.0, 1.0}, std::tuple{2.0, 0.5, 3.0},
                                                        std::tuple{0.7, 5.0, 0.4}}) {
    const double expected = th::source_age_ring(n, {version_rate, push_rate}, lambda);
    const auto ages = th::shs_source_ages(ring_flow(n, lambda), uniform_push(n, push_rate), version_rate);
    for (double age : ages) CHECK(close(age, expected));
  }
}

TEST_CASE("SHS solver with one user gives lambda_e/lambda_0", "[theory][shs]") {
  const auto ages = th::shs_source_ages(Eigen::MatrixXd::Zero(1, 1), {2.0}, 3.0);
  CHECK(close(ages.at(0), 1.5));
}

TEST_CASE("SHS solver on a 20-user ring runs well under 2 s", "[theory][shs][timing]") {
  const auto start = std::chrono::steady_clock::now();
  const auto ages = th::shs_source_ages(ring_flow(20, 1.0), uniform_push(20, 1.0), 1.0);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  CHECK(close(ages.at(7), th::source_age_ring(20, {1.0, 1.0}, 1.0)));
  CHECK(elapsed.count() < 2.0);
}

// ---- Users model: docs/model.md §3.5 -------------------------------------------------------

TEST_CASE("users model on the complete graph equals r H_{n-1}/flow for push and exchange",
          "[theory][shs][users]") {
  const Eigen::Index n = 10;
  for (const double r : {1.0, 0.25, th::renewal_rate(2.0, 0.3)}) {
    for (const double lambda : {1.0, 2.7}) {
      const double push = th::users_staleness_complete(n, r, lambda);
      const double exchange = th::users_staleness_complete(n, r, 2 * lambda);
      CHECK(close(push, r * th::harmonic(n - 1) / lambda));
      CHECK(close(exchange, push / 2));  // docs/model.md §3.5: exchange halves it
      CHECK(close(th::users_staleness_mean(complete_flow(n, lambda, Mode::push), r), push));
      CHECK(close(th::users_staleness_mean(complete_flow(n, lambda, Mode::exchange), r), exchange));
      for (double s : th::users_staleness_from(complete_flow(n, lambda, Mode::push), 3, r))
        if (s != 0.0) CHECK(close(s, push));
    }
  }
}

TEST_CASE("users_staleness_from is 0 for the source itself and positive for observers", "[theory][shs][users]") {
  const auto s = th::users_staleness_from(ring_flow(7, 1.0), 4, 1.0);
  REQUIRE(s.size() == 7);
  CHECK(s[4] == 0.0);
  for (std::size_t i = 0; i < 7; ++i)
    if (i != 4) CHECK(s[i] > 0.0);
  // Neighbours of the source hear from it directly; the antipodes are the stalest.
  CHECK(s[3] < s[1]);
  CHECK(close(s[3], s[5]));
}

TEST_CASE("ring interval recursion equals the SHS users model for n = 5..12", "[theory][shs][users]") {
  for (Eigen::Index n = 5; n <= 12; ++n) {
    for (const auto& [r, lambda] : {std::pair{1.0, 1.0}, std::pair{0.4, 2.5}}) {
      INFO("n = " << n << ", r = " << r << ", lambda = " << lambda);
      const double by_shs = th::users_staleness_mean(ring_flow(n, lambda), r);
      CHECK(close(th::users_staleness_ring(static_cast<std::uint64_t>(n), r, lambda), by_shs));
      // The vertex-transitive fast path needs one recursion and gives the same mean.
      CHECK(close(th::users_staleness_mean(ring_flow(n, lambda), r, true), by_shs));
    }
  }
}

TEST_CASE("ring interval recursion handles n = 3 and n = 2000", "[theory][users]") {
  // n = 3 is the complete graph K3 with per-pair flow lambda/2 = lambda/(n-1).
  CHECK(close(th::users_staleness_ring(3, 1.3, 2.0), th::users_staleness_complete(3, 1.3, 2.0)));
  const double big = th::users_staleness_ring(2000, 1.0, 1.0);
  CHECK(std::isfinite(big));
  CHECK(big > th::users_staleness_ring(1000, 1.0, 1.0));
}

TEST_CASE("ring interval recursion equals the closed form r n/(2 flow)", "[theory][users]") {
  for (std::uint64_t n = 3; n <= 200; ++n) {
    INFO("n = " << n);
    CHECK(close(th::users_staleness_ring(n, 0.7, 2.3), th::users_staleness_ring_closed_form(n, 0.7, 2.3)));
  }
  CHECK(close(th::users_staleness_ring(3000, 1.0, 1.0), 1500.0));
}

TEST_CASE("heterogeneous capacities stay below r_k H_{n-1}/min lambda", "[theory][shs][users]") {
  const Eigen::Index n = 9;
  Eigen::VectorXd capacity(n);
  capacity << 0.5, 1.0, 2.0, 0.8, 3.0, 1.5, 0.6, 2.2, 1.1;
  Eigen::MatrixXd flow(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) flow(i, j) = i == j ? 0.0 : capacity(i) / static_cast<double>(n - 1);
  const double r = 1.7;
  const double bound = th::users_staleness_heterogeneous_bound(n, r, capacity.minCoeff());
  for (std::size_t k = 0; k < static_cast<std::size_t>(n); ++k)
    for (double s : th::users_staleness_from(flow, k, r)) CHECK(s <= bound * (1 + rel_tol));
}

TEST_CASE("renewal rate is 1/(c + 1/mu) and the Poisson clock when c = 0", "[theory][users]") {
  CHECK(close(th::renewal_rate(2.0, 0.0), 2.0));
  CHECK(close(th::renewal_rate(2.0, 0.5), 1.0));
}

// ---- Asymptotes: docs/model.md §3.2-3.3 ----------------------------------------------------

TEST_CASE("complete-graph age tends to (lambda_e/lambda)(ln n + gamma) with an O(ln n / n) gap",
          "[theory][age_of_gossip]") {
  // With lambda_0 = lambda = 1 the product of the gossip factors b_l/(l/n + b_l) telescopes
  // to (n-m+1)/n up to factors 1 + O(1/n^2), which gives v_1 = ((n-1) H_{n-1} + 1)/n + O(ln^2 n/n^2),
  // i.e. v_1 - (ln n + gamma) = -(H_{n-1} - 1/2)/n + O(ln^2 n/n^2). So |gap| <= 2 (H_n + 1)/n.
  const double gamma = std::numbers::egamma;
  for (const double lambda_e : {1.0, 3.0}) {
    for (const std::uint64_t n : {1000ULL, 1000000ULL}) {
      const double nd = static_cast<double>(n);
      const double gap = th::source_age_complete(n, {lambda_e, 1.0}, 1.0) - lambda_e * (std::log(nd) + gamma);
      INFO("n = " << n << ", gap = " << gap);
      CHECK(std::abs(gap) <= lambda_e * 2.0 * (th::harmonic(n) + 1.0) / nd);
    }
  }
  // The recursion is O(n): n = 10^7 runs.
  CHECK(std::isfinite(th::source_age_complete(10'000'000, {1.0, 1.0}, 1.0)));
}

TEST_CASE("ring age grows like sqrt(pi n / 2), the ratio rising monotonically to 1", "[theory][age_of_gossip]") {
  // With lambda_e = lambda_0 = lambda: v_1 = sum_m prod_{j<m} 1/(1 + j/n) ~ sum_m exp(-m^2/(2n)).
  double previous = 0.0;
  for (const std::uint64_t n : {1000ULL, 10000ULL, 100000ULL, 1000000ULL}) {
    const double ratio =
        th::source_age_ring(n, {1.0, 1.0}, 1.0) / std::sqrt(std::numbers::pi * static_cast<double>(n) / 2);
    INFO("n = " << n << ", ratio = " << ratio);
    CHECK(ratio < 1.0);
    CHECK(ratio > previous);
    previous = ratio;
  }
  CHECK(previous > 0.99);  // n = 10^6
}

// ---- Rumour spreading: docs/model.md §3.7 --------------------------------------------------

TEST_CASE("rumour times equal the Markov-chain sums", "[theory][rumour]") {
  for (const std::uint64_t n : {2ULL, 3ULL, 10ULL, 137ULL, 5000ULL}) {
    for (const double lambda : {1.0, 0.3}) {
      const double nd = static_cast<double>(n);
      double all = 0.0;
      double one = 0.0;
      for (std::uint64_t j = 1; j < n; ++j) {
        const double jd = static_cast<double>(j);
        const double sojourn = (nd - 1) / (jd * (nd - jd) * lambda);  // rate j(n-j) lambda/(n-1)
        all += sojourn;
        one += (nd - jd) / (nd - 1) * sojourn;  // P(given user not yet informed with j informed)
      }
      INFO("n = " << n << ", lambda = " << lambda);
      CHECK(close(th::rumour_all_informed_time(n, lambda), all));
      CHECK(close(th::rumour_one_informed_time(n, lambda), one));
    }
  }
}

// ---- Capacity regimes: docs/model.md §1, §3.6 ----------------------------------------------

TEST_CASE("capacity regimes: exact value, asymptote and law names", "[theory][capacity]") {
  const double r = 1.5;
  const double kappa = 0.5;
  const std::uint64_t n = 1000;
  const double nd = static_cast<double>(n);
  CHECK(th::scaling_factor(th::Scaling::constant, n) == 1.0);
  CHECK(close(th::scaling_factor(th::Scaling::log, n), std::log(nd)));
  CHECK(th::scaling_factor(th::Scaling::linear, n) == nd);
  CHECK(close(th::gossip_capacity(kappa, th::Scaling::linear, n), kappa * nd));
  for (const auto s : {th::Scaling::constant, th::Scaling::log, th::Scaling::linear})
    CHECK(close(th::users_staleness_regime(s, n, r, kappa),
                th::users_staleness_complete(n, r, th::gossip_capacity(kappa, s, n))));
  // Linear regime: the asymptote is the exact value.
  CHECK(close(th::users_staleness_regime_asymptote(th::Scaling::linear, n, r, kappa),
              th::users_staleness_regime(th::Scaling::linear, n, r, kappa)));
  // Log regime: exact / asymptote = H_{n-1}/ln n -> 1 (within gamma/ln n).
  const std::uint64_t big = 1'000'000'000ULL;
  CHECK(std::abs(th::users_staleness_regime(th::Scaling::log, big, r, kappa) /
                     th::users_staleness_regime_asymptote(th::Scaling::log, big, r, kappa) -
                 1.0) <= 0.6 / std::log(1e9));
  CHECK(close(th::users_staleness_regime_asymptote(th::Scaling::constant, n, r, kappa), r / kappa * std::log(nd)));
  CHECK(th::regime_law(th::Scaling::constant) == "(r/kappa) ln n");
  CHECK(th::regime_law(th::Scaling::log) == "r/kappa");
  CHECK(th::regime_law(th::Scaling::linear) == "(r/kappa) H_{n-1}/n -> 0");
  CHECK(close(th::bounded_staleness_capacity(n, r), 999 * r));
}

// ---- Scaling laws: docs/model.md §3.4 ------------------------------------------------------

TEST_CASE("source scaling laws for complete, ring and torus; none for others", "[theory][scaling]") {
  const auto complete = th::source_scaling_law("complete");
  REQUIRE(complete);
  CHECK(complete->law == "log n");
  CHECK(complete->exponent == 0.0);
  const auto ring = th::source_scaling_law("ring");
  REQUIRE(ring);
  CHECK(ring->law == "sqrt n");
  CHECK(ring->exponent == 0.5);
  const auto torus = th::source_scaling_law("torus");
  REQUIRE(torus);
  CHECK(torus->law == "n^(1/3)");
  CHECK(close(torus->exponent, 1.0 / 3.0));
  CHECK_FALSE(th::source_scaling_law("star"));
}

// ---- Invalid arguments ---------------------------------------------------------------------

TEST_CASE("invalid arguments throw std::invalid_argument", "[theory][errors]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(th::source_age_complete(1, {1, 1}, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::source_age_complete(10, {0, 1}, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::source_age_complete(10, {1, -1}, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::source_age_complete(10, {1, 1}, nan), std::invalid_argument);
  CHECK_THROWS_AS(th::source_age_ring(2, {1, 1}, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::source_age_ring(10, {1, 1}, 0), std::invalid_argument);

  CHECK_THROWS_AS(th::users_staleness_complete(1, 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::users_staleness_complete(10, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::users_staleness_ring(2, 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::users_staleness_ring(10, 1, -1), std::invalid_argument);
  CHECK_THROWS_AS(th::users_staleness_ring_closed_form(2, 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::users_staleness_heterogeneous_bound(10, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(th::renewal_rate(0, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::renewal_rate(1, -1), std::invalid_argument);

  CHECK_THROWS_AS(th::scaling_factor(th::Scaling::log, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::gossip_capacity(0, th::Scaling::log, 10), std::invalid_argument);
  CHECK_THROWS_AS(th::bounded_staleness_capacity(10, 0), std::invalid_argument);
  CHECK_THROWS_AS(th::rumour_all_informed_time(1, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::rumour_one_informed_time(10, 0), std::invalid_argument);

  const auto too_many = static_cast<Eigen::Index>(th::shs_max_users + 1);
  CHECK_THROWS_AS(th::shs_source_ages(complete_flow(too_many, 1, Mode::push),
                                      uniform_push(th::shs_max_users + 1, 1), 1),
                  std::invalid_argument);
  CHECK_THROWS_AS(th::shs_source_ages(complete_flow(5, 1, Mode::push), uniform_push(4, 1), 1),
                  std::invalid_argument);
  CHECK_THROWS_AS(th::shs_source_ages(complete_flow(5, 1, Mode::push), uniform_push(5, 1), 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(th::shs_source_ages(Eigen::MatrixXd::Zero(3, 4), uniform_push(3, 1), 1), std::invalid_argument);
  CHECK_THROWS_AS(th::users_staleness_from(complete_flow(5, 1, Mode::push), 5, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::users_staleness_from(Eigen::MatrixXd::Zero(1, 1), 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(th::users_staleness_mean(Eigen::MatrixXd::Zero(0, 0), 1), std::invalid_argument);
  Eigen::MatrixXd negative = complete_flow(4, 1, Mode::push);
  negative(0, 1) = -1;
  CHECK_THROWS_AS(th::shs_source_ages(negative, uniform_push(4, 1), 1), std::invalid_argument);
}

TEST_CASE("a graph part that information never reaches is reported, not returned as inf or NaN",
          "[theory][shs][errors]") {
  // Two disconnected pairs; the source pushes only into the first pair.
  Eigen::MatrixXd flow = Eigen::MatrixXd::Zero(4, 4);
  flow(0, 1) = flow(1, 0) = flow(2, 3) = flow(3, 2) = 1.0;
  CHECK_THROWS_WITH(th::shs_source_ages(flow, {1.0, 1.0, 0.0, 0.0}, 1.0),
                    Catch::Contains("graph not connected to the source"));
  CHECK_THROWS_AS(th::users_staleness_from(flow, 0, 1.0), std::invalid_argument);
}

// ---- binary freshness (docs/model.md §3.1) ----------------------------------------------------

namespace {

// An independent reference: the joint chain of every user's fresh/stale bit (2^n states),
// solved for its stationary law. A source update makes everyone stale, a push into j makes j
// fresh, and a contact i -> j makes j fresh if i is. Returns P(user i fresh) for each i.
std::vector<double> freshness_by_joint_chain(const Eigen::MatrixXd& flow, const std::vector<double>& push,
                                             double version_rate) {
  const auto n = static_cast<std::size_t>(flow.rows());
  const std::size_t states = std::size_t{1} << n;
  Eigen::MatrixXd q = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(states), static_cast<Eigen::Index>(states));
  const auto add = [&](std::size_t from, std::size_t to, double rate) {
    if (from == to || rate == 0.0) return;
    q(static_cast<Eigen::Index>(from), static_cast<Eigen::Index>(to)) += rate;
    q(static_cast<Eigen::Index>(from), static_cast<Eigen::Index>(from)) -= rate;
  };
  for (std::size_t x = 0; x < states; ++x) {
    add(x, 0, version_rate);
    for (std::size_t j = 0; j < n; ++j) {
      add(x, x | (std::size_t{1} << j), push[j]);
      for (std::size_t i = 0; i < n; ++i)
        if (i != j && ((x >> i) & 1u))
          add(x, x | (std::size_t{1} << j), flow(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)));
    }
  }
  // pi Q = 0 with sum pi = 1: replace one equation of Q^T pi = 0 by the normalisation.
  Eigen::MatrixXd a = q.transpose();
  a.row(0).setOnes();
  Eigen::VectorXd b = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(states));
  b(0) = 1.0;
  const Eigen::VectorXd pi = a.fullPivLu().solve(b);
  std::vector<double> fresh(n, 0.0);
  for (std::size_t x = 0; x < states; ++x)
    for (std::size_t i = 0; i < n; ++i)
      if ((x >> i) & 1u) fresh[i] += pi(static_cast<Eigen::Index>(x));
  return fresh;
}

}  // namespace

TEST_CASE("binary freshness: the set recursion equals the joint chain of every user's bit", "[theory][shs][freshness]") {
  // An irregular, asymmetric 5-user graph with uneven pushes.
  Eigen::MatrixXd flow = Eigen::MatrixXd::Zero(5, 5);
  flow(0, 1) = 0.7, flow(1, 0) = 0.2, flow(1, 2) = 1.1, flow(2, 3) = 0.4, flow(3, 2) = 0.9, flow(3, 4) = 0.6,
  flow(4, 0) = 0.3, flow(2, 4) = 0.5;
  const std::vector<double> push = {0.8, 0.0, 0.1, 0.0, 0.4};
  for (double version_rate : {0.3, 1.0, 2.5}) {
    const auto expected = freshness_by_joint_chain(flow, push, version_rate);
    const auto got = th::shs_source_freshness(flow, push, version_rate);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      INFO("user " << i << ", lambda_e " << version_rate);
      CHECK(close(got[i], expected[i], 1e-9));
    }
  }
}

TEST_CASE("binary freshness: the complete-graph and ring recursions equal the set recursion", "[theory][shs][freshness]") {
  const Eigen::Index n = 10;
  for (const auto& [version_rate, push_rate, lambda] : {std::tuple{1.0, 1.0, 1.0}, std::tuple{2.0, 0.5, 3.0},
                                                        std::tuple{0.7, 5.0, 0.4}}) {
    const double complete = th::source_freshness_complete(n, {version_rate, push_rate}, lambda);
    for (double f : th::shs_source_freshness(complete_flow(n, lambda, Mode::push), uniform_push(n, push_rate), version_rate))
      CHECK(close(f, complete));
    const double ring = th::source_freshness_ring(n, {version_rate, push_rate}, lambda);
    for (double f : th::shs_source_freshness(ring_flow(n, lambda), uniform_push(n, push_rate), version_rate))
      CHECK(close(f, ring));
    // A user alone with the source is fresh lambda_0 / (lambda_e + lambda_0) of the time.
    CHECK(close(th::shs_source_freshness(Eigen::MatrixXd::Zero(1, 1), {push_rate}, version_rate).at(0),
                push_rate / (version_rate + push_rate)));
  }
}
