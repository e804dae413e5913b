// The quadratic model under the protocols other than gossip (sim/protocol_list.hpp,
// docs/model.md §6.7): local training against its exact expectation and its limit, FedAvg
// against a deliberately naive reference of its rounds and against its stationary closed form,
// the single user against a naive reference, its exact transient, its limit and timely theory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "analysis/predict.hpp"
#include "analysis/statistics.hpp"
#include "sim/learning.hpp"
#include "sim/protocols.hpp"
#include "sim/quadratic.hpp"
#include "sim/random.hpp"
#include "sim/trials.hpp"
#include "tests/statistical.hpp"
#include "tests/quadratic_problem.hpp"

using namespace timely;

namespace {

sim::Scenario quadratic(std::uint32_t n, sim::LearningProtocolId protocol) {
  sim::Scenario s;
  s.network.n = n;
  s.learning.protocol = protocol;
  tests::use_small_quadratic(s);
  s.learning.observe.every = 2.5;
  s.staleness.tracked = 1;
  s.run.warmup = 0.0;
  s.run.horizon = 10.0;
  s.run.trials = 400;
  s.run.seed = 17;
  return s;
}

std::vector<sim::LearningTrialResult> run(const sim::Scenario& s) {
  return sim::run_learning_trials(s, sim::scenario_graph(s), sim::prepare_learning(s), 0);
}

analysis::Summary summary(const std::vector<double>& xs) { return analysis::summarize(xs, testing::agreement_level); }

double dot(const double* x, const double* y, std::uint32_t d) {
  double sum = 0.0;
  for (std::uint32_t k = 0; k < d; ++k) sum += x[k] * y[k];
  return sum;
}

}  // namespace

TEST_CASE("quadratic, local training: the time-averaged error has its exact expectation, and tends to zeta^2",
          "[quadratic][protocols]") {
  // A user that never mixes starts at 0 and contracts towards its own optimum at every tick of
  // its Poisson(mu) clock: x_i(t) - a_i = -rho^N a_i with N ~ Poisson(mu t), and
  // E[z^N] = exp(-mu t (1 - z)). With b_i = a_i - a_bar,
  //   E ||x_i(t) - a_bar||^2 = ||b_i||^2 - 2 e^{-mu (1 - rho) t} <b_i, a_i> + e^{-mu (1 - rho^2) t} ||a_i||^2,
  // whose mean over users is zeta^2 - 2 B e^{-mu (1-rho) t} + A e^{-mu (1-rho^2) t}, with
  // B = (1/n) sum <b_i, a_i> and A = (1/n) sum ||a_i||^2. Its average over [w, H] uses
  // (1/(H-w)) int_w^H e^{-c t} dt = (e^{-c w} - e^{-c H}) / (c (H - w)).
  sim::Scenario s = quadratic(8, sim::local_protocol);
  const sim::QuadraticProblem p = sim::make_quadratic_problem(s);
  const double rho = sim::quadratic_contraction(s.learning.train.lr, s.learning.train.steps);
  const double mu = s.updates.rate;
  double A = 0.0, B = 0.0;
  for (std::uint32_t i = 0; i < p.users; ++i) {
    const double* a = p.optimum(i);
    A += dot(a, a, p.dimension) / p.users;
    B += (dot(a, a, p.dimension) - dot(p.mean.data(), a, p.dimension)) / p.users;
  }
  const auto average = [&](double c, double w, double h) { return (std::exp(-c * w) - std::exp(-c * h)) / (c * (h - w)); };
  const auto exact = [&](double w, double h) {
    return p.heterogeneity - 2.0 * B * average(mu * (1.0 - rho), w, h) + A * average(mu * (1.0 - rho * rho), w, h);
  };
  SECTION("the transient from x_i(0) = 0, within the 99.9% CI over trials") {
    for (const double warmup : {0.0, 2.0}) {
      s.run.warmup = warmup;
      std::vector<double> errors;
      for (const auto& r : run(s)) {
        REQUIRE(r.stationary);
        CHECK(r.gossips == 0);
        errors.push_back(r.stationary->error);
      }
      const auto e = summary(errors);
      const double want = exact(s.run.warmup, s.run.horizon);
      INFO("warmup " << warmup << ": time-averaged error " << e.mean << " +- " << *e.ci_half_width << " (99.9% CI), exact "
                     << want << ", zeta^2 = " << p.heterogeneity);
      CHECK(*e.ci_half_width < 0.05 * want);
      CHECK(std::abs(e.mean - want) <= *e.ci_half_width);
      // The transient is visible: the exact value is far from its limit here.
      CHECK(std::abs(want - p.heterogeneity) > 4.0 * *e.ci_half_width);
    }
  }
  SECTION("the limit: each user at its own optimum, so error = consensus = zeta^2 and worst = max ||b_i||^2") {
    // After a warm-up of 80 the transient is below e^{-0.51 * 80} ~ 2e-18 of its start, for
    // Poisson and renewal clocks alike (every user keeps updating): the time averages are the
    // limit to rounding. Renewal clocks (c = 0.3) take the users model's other loop.
    double worst = 0.0;
    for (std::uint32_t i = 0; i < p.users; ++i) {
      double b = 0.0;
      for (std::uint32_t k = 0; k < p.dimension; ++k) b += std::pow(p.optimum(i)[k] - p.mean[k], 2);
      worst = std::max(worst, b);
    }
    for (const double delay : {0.0, 0.3}) {
      s.updates.delay = delay;
      s.run.warmup = 80.0;
      s.run.horizon = 100.0;
      s.run.trials = 4;
      for (const auto& r : run(s)) {
        REQUIRE(r.stationary);
        CHECK(r.stationary->error == Approx(p.heterogeneity).epsilon(1e-12));
        CHECK(r.stationary->consensus == Approx(p.heterogeneity).epsilon(1e-12));
        CHECK(r.stationary->worst_error == Approx(worst).epsilon(1e-12));
        CHECK(r.staleness.events == 0);  // local training measures no staleness
      }
    }
  }
}

namespace {

// A deliberately naive FedAvg on the quadratic model: the server's point, and per round the
// clients' mean optimum a_S and x <- a_S + rho (x - a_S), written from the formula rather
// than from the engine's update. The clients are drawn as FedAvg draws them (a partial
// Fisher-Yates shuffle on the trial's engine), so both see the same rounds. Returns the
// squared distance ||x - a_bar||^2 at each grid time (after the rounds strictly before it)
// and its exact time average over [warmup, horizon].
// A naive reference's error path: its values on the observation grid (each the value after the
// last change strictly before the grid time) and its exact time average over the window.
struct NaivePath {
  std::vector<double> observed;
  double time_average = 0.0;
};
// The path that holds errors[k] from times[k] until the next change (times[0] = 0).
NaivePath naive_path(const sim::Scenario& s, const std::vector<double>& times, const std::vector<double>& errors) {
  NaivePath out;
  for (double grid = 0.0; grid <= s.run.horizon; grid += s.learning.observe.every) {
    std::size_t last = 0;
    while (last + 1 < times.size() && times[last + 1] < grid) ++last;
    out.observed.push_back(errors[last]);
  }
  for (std::size_t k = 0; k < times.size(); ++k) {
    const double end = k + 1 < times.size() ? times[k + 1] : s.run.horizon;
    const double lo = std::max(times[k], s.run.warmup), hi = std::min(end, s.run.horizon);
    if (hi > lo) out.time_average += errors[k] * (hi - lo);
  }
  out.time_average /= s.run.horizon - s.run.warmup;
  return out;
}

using NaiveFedAvg = NaivePath;
NaiveFedAvg naive_fedavg(const sim::Scenario& s, const sim::QuadraticProblem& p, std::uint64_t index) {
  const std::uint32_t n = p.users, d = p.dimension;
  const auto m = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::lround(s.learning.mixing.fedavg_fraction * n)));
  const double rho = std::pow(1.0 - s.learning.train.lr, static_cast<double>(s.learning.train.steps));
  sim::Rng rng = sim::make_rng(s.run.seed, sim::Stream::trial, index);
  std::vector<double> x(d, 0.0);
  const auto distance = [&] {
    double e = 0.0;
    for (std::uint32_t k = 0; k < d; ++k) e += (x[k] - p.mean[k]) * (x[k] - p.mean[k]);
    return e;
  };
  // Round times k / r, and the state after each.
  std::vector<double> times{0.0}, errors{distance()};
  for (std::uint64_t k = 1; 1.0 / s.updates.rate * static_cast<double>(k) <= s.run.horizon; ++k) {
    std::vector<std::uint32_t> users(n);
    std::iota(users.begin(), users.end(), 0u);
    std::vector<double> a_s(d, 0.0);
    for (std::uint32_t c = 0; c < m; ++c) {
      boost::random::uniform_int_distribution<std::uint32_t> pick(c, n - 1);
      std::swap(users[c], users[pick(rng)]);
      for (std::uint32_t j = 0; j < d; ++j) a_s[j] += p.optimum(users[c])[j] / m;
    }
    for (std::uint32_t j = 0; j < d; ++j) x[j] = a_s[j] + rho * (x[j] - a_s[j]);
    times.push_back(1.0 / s.updates.rate * static_cast<double>(k));
    errors.push_back(distance());
  }
  return naive_path(s, times, errors);
}

// The two computations of ||x - a_bar||^2 round differently: x itself carries an absolute
// error of a few ulps of |a| (about 1e-16 here, |a| ~ 1) per round, which the squared
// distance turns into 2 ||x - a_bar|| 1e-16 once x is near a_bar (all clients: x -> a_bar).
bool agree(double got, double want) { return std::abs(got - want) <= 1e-12 * want + 1e-14 * std::sqrt(want) + 1e-28; }

}  // namespace

TEST_CASE("quadratic, FedAvg: each round takes the server to a_S + rho (x - a_S), as a naive reference does",
          "[quadratic][protocols][fedavg]") {
  for (const double fraction : {0.25, 0.5, 1.0}) {
    sim::Scenario s = quadratic(8, sim::fedavg_protocol);
    s.learning.mixing.fedavg_fraction = fraction;
    s.updates.rate = 1.3;  // rounds every 1/1.3, off the observation grid
    s.run.warmup = 1.0;
    s.run.trials = 3;
    const sim::QuadraticProblem p = sim::make_quadratic_problem(s);
    const auto results = run(s);
    for (std::uint64_t index = 0; index < results.size(); ++index) {
      const auto& r = results[index];
      const NaiveFedAvg naive = naive_fedavg(s, p, index);
      INFO("fraction " << fraction << ", trial " << index);
      CHECK(r.rounds == 13);
      CHECK(r.gossips == 0);
      REQUIRE(r.observations.size() == naive.observed.size());
      for (std::size_t k = 0; k < naive.observed.size(); ++k) {
        INFO("observation at t = " << r.observations[k].time);
        // Every user holds the server's model: the users' error is the server's, the average
        // model is the server's, and the users agree.
        CHECK(agree(*r.observations[k][sim::metric::user_error], naive.observed[k]));
        CHECK(agree(*r.observations[k][sim::metric::worst_user_error], naive.observed[k]));
        CHECK(agree(2.0 * r.observations[k].at(sim::metric::loss), naive.observed[k]));
        CHECK(r.observations[k].at(sim::metric::consensus_distance) <= 1e-12 * naive.observed[k] + 1e-20);
      }
      REQUIRE(r.stationary);
      CHECK(agree(r.stationary->error, naive.time_average));
      CHECK(agree(r.stationary->worst_error, naive.time_average));
      CHECK(r.stationary->consensus <= 1e-12 * naive.time_average + 1e-20);
    }
  }
}

TEST_CASE("quadratic, FedAvg: the stationary error is (1-rho)/(1+rho) (n-m)/(m(n-1)) zeta^2", "[quadratic][protocols][fedavg]") {
  // With e = x - a_bar, a round is e <- rho e + (1 - rho) b_S, b_S the mean of b_i = a_i - a_bar
  // over m clients drawn without replacement, independent of e, E b_S = 0 and
  // E ||b_S||^2 = zeta^2 (n - m) / (m (n - 1)) (the finite-population correction). So
  // E ||e||^2 -> (1 - rho)^2 E||b_S||^2 / (1 - rho^2) = (1 - rho)/(1 + rho) E||b_S||^2, and the
  // state is constant between rounds, so the time average has the same limit. Derived here.
  for (const double fraction : {0.125, 0.5}) {
    sim::Scenario s = quadratic(16, sim::fedavg_protocol);
    s.learning.mixing.fedavg_fraction = fraction;
    s.run.warmup = 40.0;  // rho^(2 * 40) ~ 1e-25 of the start is left
    s.run.horizon = 2040.0;
    s.run.trials = 24;
    s.run.seed = fraction < 0.2 ? 41 : 42;
    const double rho = sim::quadratic_contraction(s.learning.train.lr, s.learning.train.steps);
    const double n = s.network.n, m = std::round(fraction * n);
    const double exact = (1.0 - rho) / (1.0 + rho) * (n - m) / (m * (n - 1.0));
    std::vector<double> errors;
    for (const auto& r : run(s)) {
      REQUIRE(r.stationary);
      errors.push_back(r.stationary->error / *r.heterogeneity);
    }
    const auto e = summary(errors);
    INFO("m = " << m << " of n = " << n << ": error / zeta^2 " << e.mean << " +- " << *e.ci_half_width
                << " (99.9% CI), exact " << exact);
    CHECK(*e.ci_half_width < 0.05 * exact);
    CHECK(std::abs(e.mean - exact) <= *e.ci_half_width);
  }
}

namespace {

// A deliberately naive single user on the quadratic model: e = x - a_bar starts at -a_bar and
// becomes rho e at each tick of a Poisson(r) clock, r = 1/(updates.delay + 1/updates.rate),
// whose gaps are drawn from the trial's engine as the protocol draws them. Returns ||e||^2 at
// each grid time (after the updates before it) and its exact time average over the window.
using NaiveSingle = NaivePath;
NaiveSingle naive_single_user(const sim::Scenario& s, const sim::QuadraticProblem& p, std::uint64_t index) {
  const double rho = std::pow(1.0 - s.learning.train.lr, static_cast<double>(s.learning.train.steps));
  sim::Rng rng = sim::make_rng(s.run.seed, sim::Stream::trial, index);
  boost::random::exponential_distribution<double> gap(1.0 / (s.updates.delay + 1.0 / s.updates.rate));
  std::vector<double> e(p.mean);
  for (double& x : e) x = -x;
  const auto squared = [&] { return dot(e.data(), e.data(), p.dimension); };
  std::vector<double> times{0.0}, errors{squared()};
  for (double t = gap(rng); t <= s.run.horizon; t += gap(rng)) {
    for (double& x : e) x *= rho;
    times.push_back(t);
    errors.push_back(squared());
  }
  return naive_path(s, times, errors);
}

}  // namespace

TEST_CASE("quadratic, single user: one user on the mean objective, as a naive reference of its updates",
          "[quadratic][protocols]") {
  // x - a_bar is multiplied by rho at each update (the two compute it differently: the engine
  // as rho x + (1 - rho) a_bar, the reference as rho (x - a_bar)), so they agree to rounding.
  sim::Scenario s = quadratic(8, sim::single_user_protocol);
  s.updates.delay = 0.3;  // a renewal users' clock: the one user's is Poisson at its long-run rate
  s.run.warmup = 1.0;
  s.run.trials = 3;
  const sim::QuadraticProblem p = sim::make_quadratic_problem(s);
  const auto results = run(s);
  for (std::uint64_t index = 0; index < results.size(); ++index) {
    const auto& r = results[index];
    const NaiveSingle naive = naive_single_user(s, p, index);
    INFO("trial " << index);
    CHECK(r.gossips == 0);
    CHECK(r.rounds == 0);
    CHECK(r.staleness.events == 0);
    CHECK(r.heterogeneity == p.heterogeneity);  // the population's zeta^2, the pooled objective's
    REQUIRE(r.observations.size() == naive.observed.size());
    for (std::size_t k = 0; k < naive.observed.size(); ++k) {
      const auto& o = r.observations[k];
      INFO("observation at t = " << o.time);
      CHECK(agree(*o[sim::metric::user_error], naive.observed[k]));
      CHECK(*o[sim::metric::worst_user_error] == *o[sim::metric::user_error]);
      CHECK(agree(2.0 * o.at(sim::metric::loss), naive.observed[k]));
      // F(x) = ||x - a_bar||^2 / 2 + zeta^2 / 2: the pooled objective keeps its minimum.
      CHECK(o.at(sim::metric::train_loss) == Approx((naive.observed[k] + p.heterogeneity) / 2.0).epsilon(1e-12));
      CHECK(o.at(sim::metric::consensus_distance) == 0.0);
    }
    REQUIRE(r.stationary);
    CHECK(agree(r.stationary->error, naive.time_average));
    CHECK(r.stationary->worst_error == r.stationary->error);
    CHECK(r.stationary->consensus == 0.0);
  }
}

TEST_CASE("quadratic, single user: E||x(t) - a_bar||^2 = ||a_bar||^2 exp(-r t (1 - rho^2)), and tends to 0",
          "[quadratic][protocols]") {
  // e(t) = rho^N(t) e(0), e(0) = -a_bar, N(t) ~ Poisson(r t), and E[z^N] = exp(-r t (1 - z)) at
  // z = rho^2 (docs/model.md §6.7). Its average over [w, H] is
  // ||a_bar||^2 (e^{-c w} - e^{-c H}) / (c (H - w)), c = r (1 - rho^2).
  sim::Scenario s = quadratic(8, sim::single_user_protocol);
  const sim::QuadraticProblem p = sim::make_quadratic_problem(s);
  const double start = dot(p.mean.data(), p.mean.data(), p.dimension);  // ||a_bar||^2
  SECTION("the transient from x(0) = 0, within the 99.9% CI over 1000 trials, at the long-run rate r") {
    // A slow contraction, rho = 0.9: rho^(2N) has relative variance exp(r t (1 - rho^2)^2) - 1,
    // 0.4 at t = 10 here (at rho = 0.49 it would be 300, and 400 trials would say little).
    s.learning.train.lr = 0.1;
    s.learning.train.steps = 1;
    s.run.trials = 1000;  // a few updates each: milliseconds
    const double rho = sim::quadratic_contraction(s.learning.train.lr, s.learning.train.steps);
    for (const double delay : {0.0, 0.3}) {
      s.updates.delay = delay;
      const double c = s.update_rate() * (1.0 - rho * rho);
      const auto average = [&](double w, double h) { return start * (std::exp(-c * w) - std::exp(-c * h)) / (c * (h - w)); };
      for (const double warmup : {0.0, 2.0}) {
        s.run.warmup = warmup;
        const auto results = run(s);
        std::vector<double> errors;
        for (const auto& r : results) {
          REQUIRE(r.stationary);
          errors.push_back(r.stationary->error);
        }
        const auto e = summary(errors);
        const double want = average(s.run.warmup, s.run.horizon);
        INFO("delay " << delay << ", warmup " << warmup << ": time-averaged error " << e.mean << " +- "
                      << *e.ci_half_width << " (99.9% CI), exact " << want << ", ||a_bar||^2 = " << start);
        CHECK(*e.ci_half_width < 0.05 * want);
        CHECK(std::abs(e.mean - want) <= *e.ci_half_width);
        // The transient is visible: the exact value is far from its limit 0.
        CHECK(want > 10.0 * *e.ci_half_width);
        if (warmup > 0.0) continue;
        // The same law at each grid time: the state there, before the first update after it.
        for (std::size_t k = 0; k < results.front().observations.size(); ++k) {
          std::vector<double> at;
          for (const auto& r : results) at.push_back(*r.observations[k][sim::metric::user_error]);
          const double time = results.front().observations[k].time;
          const auto o = summary(at);
          const double exact = start * std::exp(-c * time);
          INFO("t = " << time << ": error " << o.mean << " +- " << o.ci_half_width.value_or(0.0) << ", exact " << exact);
          if (time == 0.0) {
            CHECK(o.mean == Approx(start).epsilon(1e-12));  // every trial starts at x = 0
          } else {
            CHECK(*o.ci_half_width < 0.15 * exact);
            CHECK(std::abs(o.mean - exact) <= *o.ci_half_width);
          }
        }
      }
    }
  }
  SECTION("the limit: the one model reaches a_bar, so error = worst = consensus = 0, as timely theory says") {
    // After a warm-up of 80 at r = 1 the transient is below e^{-0.76 * 80} ~ 1e-26 of its
    // start; what remains is the rounding of x near a_bar (|a_bar| ulps, squared).
    s.run.warmup = 80.0;
    s.run.horizon = 100.0;
    s.run.trials = 4;
    for (const auto& r : run(s)) {
      REQUIRE(r.stationary);
      CHECK(r.stationary->error <= 1e-24 * start);
      CHECK(r.stationary->worst_error == r.stationary->error);
      CHECK(r.stationary->consensus == 0.0);
    }
    const analysis::Prediction theory = analysis::predict(s, sim::scenario_graph(s));
    REQUIRE(theory.learning);
    CHECK(theory.learning->error == 0.0);
    CHECK(theory.learning->consensus == 0.0);
    CHECK(theory.learning->method.starts_with("exact: one user on the mean objective"));
    CHECK(theory.learning->heterogeneity == p.heterogeneity);
  }
}
