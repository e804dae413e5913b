// Stationary theory of quadratic gossip learning (docs/model.md §6): the complete-graph closed
// form against the brute-force moment solver, both against a two-user system derived by hand
// here, and the limits the closed form must reach.

#include "theory/quadratic.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace th = timely::theory;
using th::QuadraticMixing;

namespace {

constexpr double rel_tol = 1e-9;

bool close(double a, double b, double tol = rel_tol) { return std::abs(a - b) <= tol * std::abs(b); }

constexpr QuadraticMixing all_modes[] = {QuadraticMixing::push, QuadraticMixing::pull, QuadraticMixing::exchange};

const char* name(QuadraticMixing mode) {
  switch (mode) {
    case QuadraticMixing::push: return "push";
    case QuadraticMixing::pull: return "pull";
    case QuadraticMixing::exchange: return "exchange";
  }
  return "?";
}

// Complete graph: every gossip clock (rate lambda) picks one of the n-1 others uniformly.
Eigen::MatrixXd complete_contact(Eigen::Index n, double lambda) {
  Eigen::MatrixXd contact = Eigen::MatrixXd::Constant(n, n, lambda / static_cast<double>(n - 1));
  contact.diagonal().setZero();
  return contact;
}

std::vector<double> random_optima(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(3.0, 2.0);  // a non-zero mean: the solver must subtract it
  std::vector<double> a(n);
  for (double& x : a) x = normal(rng);
  return a;
}

double zeta2(const std::vector<double>& a) {
  double mean = 0.0;
  for (double x : a) mean += x;
  mean /= static_cast<double>(a.size());
  double sum = 0.0;
  for (double x : a) sum += (x - mean) * (x - mean);
  return sum / static_cast<double>(a.size());
}

// Two users, written out by hand (docs/model.md §6.1 with n = 2), any rates. Per dimension,
// e_i = x_i - a_bar, b = (a_1 - a_2)/2 (b_1 = b, b_2 = -b), s = 1 - rho. Events:
//   update of 1 (mu1): e1 <- rho e1 + s b1;   update of 2 (mu2): e2 <- rho e2 + s b2;
//   "1 averages" (rate r1): e1 <- (e1+e2)/2; "2 averages" (rate r2): e2 <- (e1+e2)/2;
//   "both average" (rate r12): e1, e2 <- (e1+e2)/2.
// Push: r2 = c12 (1's clock, 2 receives), r1 = c21. Pull: r1 = c12, r2 = c21.
// Exchange: r12 = c12 + c21. With A = E e1^2, B = E e2^2, C = E e1 e2, m_i = E e_i:
//   0 = mu1 s (b1 - m1) + (r1 + r12)(m2 - m1)/2                      (and 1 <-> 2)
//   0 = mu1 ((rho^2 - 1) A + 2 rho s b1 m1 + s^2 b1^2) + (r1 + r12)((A + 2C + B)/4 - A)   (and 1 <-> 2)
//   0 = mu1 (-s C + s b1 m2) + mu2 (-s C + s b2 m1) + r1 (B - C)/2 + r2 (A - C)/2 + r12 ((A + 2C + B)/4 - C)
// (when 1 averages, e1 e2 becomes (e1 + e2) e2 / 2, whose mean is (C + B)/2).
th::QuadraticMoments two_users_by_hand(double c12, double c21, double mu1, double mu2, double rho, QuadraticMixing mode,
                                       double a1, double a2) {
  const double s = 1.0 - rho;
  const double b1 = (a1 - a2) / 2.0;
  const double b2 = -b1;
  double r1 = 0.0, r2 = 0.0, r12 = 0.0;
  if (mode == QuadraticMixing::push) {
    r1 = c21;
    r2 = c12;
  } else if (mode == QuadraticMixing::pull) {
    r1 = c12;
    r2 = c21;
  } else {
    r12 = c12 + c21;
  }
  const double p1 = r1 + r12;  // rate at which user 1 averages
  const double p2 = r2 + r12;
  Eigen::Matrix2d first;
  first << -mu1 * s - p1 / 2, p1 / 2, p2 / 2, -mu2 * s - p2 / 2;
  const Eigen::Vector2d m = first.fullPivLu().solve(Eigen::Vector2d(-mu1 * s * b1, -mu2 * s * b2));
  // Unknowns (A, B, C).
  Eigen::Matrix3d second;
  Eigen::Vector3d rhs;
  second << mu1 * (rho * rho - 1) - 0.75 * p1, 0.25 * p1, 0.5 * p1,  //
      0.25 * p2, mu2 * (rho * rho - 1) - 0.75 * p2, 0.5 * p2,          //
      r2 / 2 + r12 / 4, r1 / 2 + r12 / 4, -(mu1 + mu2) * s - r1 / 2 - r2 / 2 - r12 / 2;
  rhs << -mu1 * (2 * rho * s * b1 * m(0) + s * s * b1 * b1), -mu2 * (2 * rho * s * b2 * m(1) + s * s * b2 * b2),
      -(mu1 * s * b1 * m(1) + mu2 * s * b2 * m(0));
  const Eigen::Vector3d abc = second.fullPivLu().solve(rhs);
  const double A = abc(0), B = abc(1), C = abc(2);
  return {(A + B) / 2, (A - 2 * C + B) / 4, (A + 2 * C + B) / 4};
}

}  // namespace

TEST_CASE("quadratic closed form equals the brute-force moment solver on the complete graph",
          "[quadratic-theory]") {
  struct Case { double mu, lambda, rho; };
  const Case cases[] = {{1.0, 1.0, 0.5}, {0.3, 4.0, 0.9}, {2.5, 0.2, 0.0}, {1.0, 3.0, -0.6}, {0.7, 1.3, -0.95},
                        {5.0, 50.0, 0.99}};
  std::uint64_t seed = 1;
  for (const Eigen::Index n : {2, 3, 5, 8}) {
    for (const QuadraticMixing mode : all_modes) {
      for (const Case& c : cases) {
        INFO("n = " << n << ", " << name(mode) << ", mu = " << c.mu << ", lambda = " << c.lambda << ", rho = " << c.rho);
        const auto a = random_optima(static_cast<std::size_t>(n), seed++);
        const auto closed = th::quadratic_stationary_complete(static_cast<std::uint64_t>(n), c.mu, c.lambda, c.rho, mode);
        const auto brute = th::quadratic_stationary_general(complete_contact(n, c.lambda),
                                                            std::vector<double>(static_cast<std::size_t>(n), c.mu),
                                                            c.rho, mode, a);
        const double z = zeta2(a);
        CHECK(close(brute.error, closed.error * z));
        CHECK(close(brute.consensus, closed.consensus * z));
        CHECK(close(brute.mean_model_error, closed.mean_model_error * z));
      }
    }
  }
}

TEST_CASE("quadratic closed form equals the brute-force solver at n = 30", "[quadratic-theory]") {
  const auto a = random_optima(30, 99);
  for (const QuadraticMixing mode : {QuadraticMixing::pull, QuadraticMixing::exchange}) {
    const auto closed = th::quadratic_stationary_complete(30, 1.0, 2.0, 0.5, mode);
    const auto brute = th::quadratic_stationary_general(complete_contact(30, 2.0), std::vector<double>(30, 1.0), 0.5,
                                                        mode, a);
    CHECK(close(brute.error, closed.error * zeta2(a)));
    CHECK(close(brute.consensus, closed.consensus * zeta2(a)));
  }
}

TEST_CASE("on the complete graph the stationary values are zeta^2 times a constant, for any optima",
          "[quadratic-theory]") {
  // docs/model.md §6.2: the normalised values do not depend on how the optima are arranged.
  const Eigen::Index n = 6;
  const std::vector<std::vector<double>> configurations = {
      random_optima(6, 11), random_optima(6, 12), {1.0, 0.0, 0.0, 0.0, 0.0, 0.0}, {5.0, -5.0, 0.0, 0.0, 0.0, 0.0}};
  for (const QuadraticMixing mode : all_modes) {
    const auto reference = th::quadratic_stationary_general(complete_contact(n, 1.7), std::vector<double>(6, 0.8),
                                                            -0.3, mode, configurations[0]);
    const double z0 = zeta2(configurations[0]);
    for (const auto& a : configurations) {
      const auto v = th::quadratic_stationary_general(complete_contact(n, 1.7), std::vector<double>(6, 0.8), -0.3,
                                                      mode, a);
      CHECK(close(v.error / zeta2(a), reference.error / z0));
      CHECK(close(v.consensus / zeta2(a), reference.consensus / z0));
    }
  }
}

TEST_CASE("brute-force solver equals the two-user system derived by hand", "[quadratic-theory]") {
  // Asymmetric contact and update rates: push, pull and exchange all differ here.
  struct Case { double c12, c21, mu1, mu2, rho, a1, a2; };
  for (const Case c : {Case{1.0, 1.0, 1.0, 1.0, 0.5, 1.0, -1.0}, Case{0.3, 2.0, 1.5, 0.4, -0.7, 2.0, 0.5},
                       Case{4.0, 0.1, 0.2, 3.0, 0.9, -1.0, 3.0}, Case{0.0, 1.2, 1.0, 2.0, 0.0, 0.0, 1.0}}) {
    Eigen::MatrixXd contact(2, 2);
    contact << 0.0, c.c12, c.c21, 0.0;
    for (const QuadraticMixing mode : all_modes) {
      INFO(name(mode) << ", c12 = " << c.c12 << ", c21 = " << c.c21 << ", rho = " << c.rho);
      const auto hand = two_users_by_hand(c.c12, c.c21, c.mu1, c.mu2, c.rho, mode, c.a1, c.a2);
      const auto brute = th::quadratic_stationary_general(contact, {c.mu1, c.mu2}, c.rho, mode, {c.a1, c.a2});
      CHECK(close(brute.error, hand.error));
      CHECK(close(brute.consensus, hand.consensus));
      CHECK(close(brute.mean_model_error, hand.mean_model_error));
      if (c.c12 == c.c21 && c.mu1 == c.mu2) {
        const auto closed = th::quadratic_stationary_complete(2, c.mu1, c.c12, c.rho, mode);
        const double z = zeta2({c.a1, c.a2});
        CHECK(close(hand.error, closed.error * z));
        CHECK(close(hand.consensus, closed.consensus * z));
      }
    }
  }
}

TEST_CASE("push and pull agree on the complete graph but not on a star", "[quadratic-theory]") {
  const auto a = random_optima(5, 7);
  const std::vector<double> mu(5, 1.0);
  const auto push = th::quadratic_stationary_general(complete_contact(5, 1.5), mu, 0.4, QuadraticMixing::push, a);
  const auto pull = th::quadratic_stationary_general(complete_contact(5, 1.5), mu, 0.4, QuadraticMixing::pull, a);
  CHECK(close(push.error, pull.error));
  CHECK(close(push.consensus, pull.consensus));
  // Star centred on user 0: the centre's clock picks a leaf uniformly, each leaf's clock picks
  // the centre. Push and pull then move different users.
  Eigen::MatrixXd star = Eigen::MatrixXd::Zero(5, 5);
  for (Eigen::Index leaf = 1; leaf < 5; ++leaf) {
    star(0, leaf) = 1.5 / 4;
    star(leaf, 0) = 1.5;
  }
  const std::vector<double> a_star = {4.0, -1.0, 0.5, 2.0, -3.0};
  const auto star_push = th::quadratic_stationary_general(star, mu, 0.4, QuadraticMixing::push, a_star);
  const auto star_pull = th::quadratic_stationary_general(star, mu, 0.4, QuadraticMixing::pull, a_star);
  CHECK_FALSE(close(star_push.error, star_pull.error, 1e-3));
  for (const auto& v : {star_push, star_pull}) {
    CHECK(v.consensus > 0.0);
    CHECK(v.mean_model_error > 0.0);
    CHECK(close(v.error, v.consensus + v.mean_model_error));
  }
}

TEST_CASE("quadratic stationary values reach the no-gossip and instant-averaging limits", "[quadratic-theory]") {
  for (const QuadraticMixing mode : all_modes) {
    for (const auto& [n, mu, rho] : {std::tuple{2ULL, 1.0, 0.5}, std::tuple{7ULL, 0.4, -0.8}, std::tuple{1000ULL, 3.0, 0.9}}) {
      INFO(name(mode) << ", n = " << n << ", mu = " << mu << ", rho = " << rho);
      // No gossip: x_i -> a_i, so every user's error is ||b_i||^2 (normalised 1), the users
      // disagree exactly as much, and their mean is a_bar.
      const auto none = th::quadratic_stationary_complete(n, mu, 0.0, rho, mode);
      CHECK(close(none.error, 1.0, 1e-12));
      CHECK(close(none.consensus, 1.0, 1e-12));
      CHECK(std::abs(none.mean_model_error) <= 1e-12);
      const auto tiny = th::quadratic_stationary_complete(n, mu, 1e-9, rho, mode);
      CHECK(close(tiny.error, 1.0, 1e-6));
      CHECK(close(tiny.consensus, 1.0, 1e-6));
      // Instant averaging: consensus -> 0. With exchange the mean is kept by gossip, every
      // update of user k moves xbar by s (b_k - xbar)/n, at total rate n mu, so
      // E xbar^2 (1 - (1 - s/n)^2) = s^2 zeta^2 / n^2, i.e. s/(2n - s) normalised.
      const auto huge = th::quadratic_stationary_complete(n, mu, 1e9, rho, mode);
      const double nd = static_cast<double>(n);
      const double s = 1.0 - rho;
      CHECK(huge.consensus < 1e-7);
      CHECK(huge.consensus >= 0.0);
      if (mode == QuadraticMixing::exchange) CHECK(close(huge.mean_model_error, s / (2 * nd - s), 1e-6));
      CHECK(close(huge.error, huge.mean_model_error, 1e-6));
    }
  }
}

TEST_CASE("quadratic stationary error falls as gossip grows and is bounded in n under constant capacity",
          "[quadratic-theory]") {
  for (const QuadraticMixing mode : all_modes) {
    double previous = 2.0;
    for (const double lambda : {0.01, 0.1, 1.0, 10.0, 100.0}) {
      const auto v = th::quadratic_stationary_complete(50, 1.0, lambda, 0.5, mode);
      CHECK(v.error < previous);
      CHECK(close(v.error, v.consensus + v.mean_model_error, 1e-14));
      previous = v.error;
    }
    // Constant capacity, n -> infinity: the mean-field limit of docs/model.md §6.4,
    // g (s + 2 rho alpha)/(omega + g (1 + rho)) with omega = lambda/2 (push, pull) or lambda
    // (exchange), alpha = g/(g + omega); the mean model error vanishes like 1/n.
    const double mu = 1.0, lambda = 1.0, rho = 0.5, s = 1 - rho, g = mu * s;
    const double omega = mode == QuadraticMixing::exchange ? lambda : lambda / 2;
    const double alpha = g / (g + omega);
    const double limit = g * (s + 2 * rho * alpha) / (omega + g * (1 + rho));
    const auto big = th::quadratic_stationary_complete(1'000'000, mu, lambda, rho, mode);
    CHECK(close(big.error, limit, 1e-5));
    CHECK(big.mean_model_error < 1e-5);
    CHECK(big.mean_model_error > 0.0);
    CHECK(std::isfinite(th::quadratic_stationary_complete(1ULL << 40, mu, lambda, rho, mode).error));
  }
}

TEST_CASE("quadratic theory refuses impossible arguments", "[quadratic-theory]") {
  using QM = QuadraticMixing;
  CHECK_THROWS_AS(th::quadratic_stationary_complete(1, 1.0, 1.0, 0.5, QM::push), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_complete(4, 0.0, 1.0, 0.5, QM::push), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_complete(4, 1.0, -1.0, 0.5, QM::push), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_complete(4, 1.0, INFINITY, 0.5, QM::push), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_complete(4, 1.0, 1.0, 1.0, QM::push), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_complete(4, 1.0, 1.0, -1.0, QM::push), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_complete(4, 1.0, 1.0, NAN, QM::push), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_complete(4, 1.0, 1.0, 0.5, static_cast<QM>(7)), std::invalid_argument);
  const Eigen::MatrixXd k3 = complete_contact(3, 1.0);
  const std::vector<double> mu(3, 1.0), a = {1.0, 2.0, 4.0};
  CHECK_NOTHROW(th::quadratic_stationary_general(k3, mu, 0.5, QM::push, a));
  CHECK_THROWS_AS(th::quadratic_stationary_general(Eigen::MatrixXd::Zero(3, 2), mu, 0.5, QM::push, a),
                  std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_general(k3, {1.0, 1.0}, 0.5, QM::push, a), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_general(k3, mu, 0.5, QM::push, {1.0}), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_general(k3, {1.0, 0.0, 1.0}, 0.5, QM::push, a), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_general(k3, mu, 1.5, QM::push, a), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_general(k3, mu, 0.5, QM::push, {1.0, NAN, 0.0}), std::invalid_argument);
  Eigen::MatrixXd bad = k3;
  bad(0, 0) = 1.0;
  CHECK_THROWS_AS(th::quadratic_stationary_general(bad, mu, 0.5, QM::push, a), std::invalid_argument);
  bad = k3;
  bad(1, 2) = -0.5;
  CHECK_THROWS_AS(th::quadratic_stationary_general(bad, mu, 0.5, QM::push, a), std::invalid_argument);
  CHECK_THROWS_AS(th::quadratic_stationary_general(complete_contact(41, 1.0), std::vector<double>(41, 1.0), 0.5,
                                                   QM::push, std::vector<double>(41, 0.0)),
                  std::invalid_argument);
}
