// SAPO's swarms (sim/sapo.hpp, docs/model.md §4.3): GRPO's clipped step against a naive
// finite-difference reference, the group advantages, a user that takes no external rollouts
// training exactly as alone, labels read only by the verifier, the rollouts' exact message
// count, and the age of shared experience against the Poisson identity it must satisfy.
#include <catch2/catch.hpp>

#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <cstring>
#include <span>
#include <vector>

#include "experiments/scenario_checks.hpp"
#include "models/mlp.hpp"
#include "sim/learning.hpp"
#include "sim/sapo.hpp"
#include "sim/trial.hpp"
#include "tests/statistical.hpp"

using namespace timely;

namespace {

// ---- a deliberately naive GRPO objective ----------------------------------------------------

// The logits of a network with at most one hidden layer (ReLU), written out loop by loop
// from the documented layout (W column-major, fan_out x fan_in; W1, b1, W2, b2).
std::vector<double> naive_logits(const models::Architecture& a, const std::vector<double>& theta,
                                 const std::vector<double>& x) {
  std::vector<double> input = x;
  std::size_t offset = 0;
  std::vector<int> widths{a.inputs};
  for (int h : a.hidden) widths.push_back(h);
  widths.push_back(a.outputs);
  for (std::size_t l = 1; l < widths.size(); ++l) {
    const int in = widths[l - 1], out = widths[l];
    std::vector<double> z(static_cast<std::size_t>(out), 0.0);
    for (int r = 0; r < out; ++r)
      for (int c = 0; c < in; ++c) z[static_cast<std::size_t>(r)] += theta[offset + static_cast<std::size_t>(c * out + r)] * input[static_cast<std::size_t>(c)];
    offset += static_cast<std::size_t>(in * out);
    for (int r = 0; r < out; ++r) z[static_cast<std::size_t>(r)] += theta[offset + static_cast<std::size_t>(r)];
    offset += static_cast<std::size_t>(out);
    if (l + 1 < widths.size())
      for (double& v : z) v = std::max(v, 0.0);
    input = z;
  }
  return input;
}

double naive_log_prob(const models::Architecture& a, const std::vector<double>& theta, const std::vector<double>& x,
                      int answer) {
  const std::vector<double> z = naive_logits(a, theta, x);
  double sum = 0.0;
  for (double v : z) sum += std::exp(v);
  return z[static_cast<std::size_t>(answer)] - std::log(sum);
}

struct NaiveBatch {
  std::vector<std::vector<double>> questions;
  std::vector<std::vector<int>> answers;       // [question][i]
  std::vector<std::vector<double>> old, advantages;
};

// J = (1/N) sum min(rho A, clip(rho) A), straight from the definition.
double naive_objective(const models::Architecture& a, const std::vector<double>& theta, const NaiveBatch& b,
                       double low, double high) {
  double total = 0.0;
  std::size_t count = 0;
  for (std::size_t j = 0; j < b.questions.size(); ++j)
    for (std::size_t i = 0; i < b.answers[j].size(); ++i) {
      const double rho = std::exp(naive_log_prob(a, theta, b.questions[j], b.answers[j][i]) - b.old[j][i]);
      const double clipped = std::min(std::max(rho, 1.0 - low), 1.0 + high);
      total += std::min(rho * b.advantages[j][i], clipped * b.advantages[j][i]);
      ++count;
    }
  return total / static_cast<double>(count);
}

void check_step_against_reference(const models::Architecture& a) {
  models::Rng rng(7);
  models::Network<double> net(a, 8);
  Eigen::VectorXd theta(static_cast<Eigen::Index>(net.layout().parameters()));
  net.initialize(theta, models::Init::he, rng);
  const int questions = 3, group = 4;
  Eigen::MatrixXd x(a.inputs, questions);
  boost::random::normal_distribution<double> normal;
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = normal(rng);
  Eigen::MatrixXi answers(group, questions);
  Eigen::MatrixXd old(group, questions), advantages(group, questions);
  NaiveBatch b;
  std::vector<double> th(theta.data(), theta.data() + theta.size());
  // Ratios spread over [0.55, 1.6] (some inside the clip, some beyond it on either side, none
  // at its edges) and advantages of both signs.
  const double log_ratios[] = {-0.6, -0.1, 0.15, 0.45};
  const double adv[] = {1.2, -0.8, 0.6, -1.5};
  for (int j = 0; j < questions; ++j) {
    b.questions.emplace_back(x.col(j).data(), x.col(j).data() + a.inputs);
    b.answers.emplace_back();
    b.old.emplace_back();
    b.advantages.emplace_back();
    for (int i = 0; i < group; ++i) {
      const int answer = (i + 2 * j) % a.outputs;
      answers(i, j) = answer;
      old(i, j) = naive_log_prob(a, th, b.questions[j], answer) - log_ratios[i];
      advantages(i, j) = adv[(i + j) % 4];
      b.answers.back().push_back(answer);
      b.old.back().push_back(old(i, j));
      b.advantages.back().push_back(advantages(i, j));
    }
  }
  const double low = 0.2, high = 0.28, lr = 1e-3;
  Eigen::VectorXd stepped = theta;
  const auto result = net.policy_step(stepped, x, {answers, old, advantages}, low, high, lr);
  CHECK(result.objective == Approx(naive_objective(a, th, b, low, high)).epsilon(1e-12));
  CHECK(result.clipped > 0);            // the case exercises the clip...
  CHECK(result.clipped < 12);           // ...and the unclipped terms
  // The step is lr times the gradient of J: central differences of the naive objective.
  double worst = 0.0, scale = 0.0;
  for (std::size_t k = 0; k < th.size(); ++k) {
    const double h = 1e-6;
    std::vector<double> up = th, down = th;
    up[k] += h;
    down[k] -= h;
    const double gradient = (naive_objective(a, up, b, low, high) - naive_objective(a, down, b, low, high)) / (2 * h);
    const double moved = (stepped[static_cast<Eigen::Index>(k)] - theta[static_cast<Eigen::Index>(k)]) / lr;
    worst = std::max(worst, std::abs(moved - gradient));
    scale = std::max(scale, std::abs(gradient));
  }
  INFO("largest gradient " << scale << ", largest difference " << worst);
  CHECK(scale > 1e-3);
  CHECK(worst < 1e-6 * std::max(1.0, scale));
}

// ---- swarms ---------------------------------------------------------------------------------

sim::Scenario small_swarm() {
  sim::Scenario s;
  s.network.n = 6;
  s.learning.model.kind = sim::ModelKind::logistic;
  s.learning.data.source = sim::DataSource::synthetic_mixture;
  s.learning.data.features = 6;
  s.learning.data.classes = 4;
  s.learning.data.train_samples = 1200;
  s.learning.data.test_samples = 300;
  s.learning.train.lr = 0.2;
  s.learning.protocol = sim::sapo_protocol;
  s.learning.sapo.questions = 4;
  s.learning.sapo.answers = 4;
  s.learning.sapo.local = 2;
  s.learning.sapo.external = 2;
  s.learning.observe.every = 5.0;
  s.run.horizon = 40.0;
  s.run.warmup = 0.0;
  return s;
}

sim::LearningTrialResult trial(const sim::Scenario& s, std::uint64_t index = 0) {
  experiments::validate(s);
  return sim::run_learning_trial(s, sim::scenario_graph(s), sim::prepare_learning(s), index);
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Every observed metric of the models, and the rewards, bit for bit.
void require_same_learning(const sim::LearningTrialResult& a, const sim::LearningTrialResult& b) {
  REQUIRE(a.observations.size() == b.observations.size());
  for (std::size_t k = 0; k < a.observations.size(); ++k)
    for (std::size_t m = 0; m < sim::learning_metric_count; ++m) {
      if (sim::learning_metrics[m].scope == sim::MetricScope::network ||
          m == sim::metric::experience_age || m == sim::metric::experience_divergence)
        continue;  // what was sent, and the age of what arrived, may differ
      const auto &x = a.observations[k][m], &y = b.observations[k][m];
      INFO("observation " << k << ", " << sim::learning_metrics[m].name);
      REQUIRE(x.has_value() == y.has_value());
      if (x) CHECK(same_bits(*x, *y));
    }
  CHECK(a.local_updates == b.local_updates);
  REQUIRE(a.experience);
  REQUIRE(b.experience);
  CHECK(same_bits(a.experience->total_reward, b.experience->total_reward));
  CHECK(a.experience->rollouts_generated == b.experience->rollouts_generated);
  CHECK(a.experience->zero_advantage == b.experience->zero_advantage);
}

}  // namespace

TEST_CASE("GRPO's clipped step is lr times the gradient of the naive surrogate", "[sapo][grpo]") {
  SECTION("logistic") { check_step_against_reference({5, {}, 4, models::Activation::relu, models::Loss::softmax_cross_entropy}); }
  SECTION("MLP") { check_step_against_reference({4, {6}, 3, models::Activation::relu, models::Loss::softmax_cross_entropy}); }
}

TEST_CASE("group advantages are the rewards standardised within the group; equal rewards carry none", "[sapo][grpo]") {
  const double rewards[] = {1, 0, 0, 0};
  double a[4];
  REQUIRE(sim::sapo::group_advantages(rewards, 4, a));
  const double sd = std::sqrt(0.25 * 0.75);
  CHECK(a[0] == Approx(0.75 / sd));
  CHECK(a[1] == Approx(-0.25 / sd));
  const double none[] = {1, 1, 1};
  CHECK_FALSE(sim::sapo::group_advantages(none, 3, a));
  CHECK(a[0] == 0.0);
}

TEST_CASE("with sapo.external = 0 a user trains exactly as alone, whatever is shared", "[sapo]") {
  sim::Scenario alone = small_swarm();
  SECTION("always online") {}
  SECTION("under churn") {  // the same availability in both runs: it has a stream of its own
    alone.churn.model = sim::ChurnModel::markov;
    alone.churn.online_mean = 8.0;
    alone.churn.offline_mean = 4.0;
  }
  alone.learning.sapo.local = 3;
  alone.learning.sapo.external = 0;
  alone.learning.sapo.share_fanout = 0;
  sim::Scenario shared = alone;
  shared.learning.sapo.share_fanout = 5;
  shared.gossip.latency = 0.3;
  shared.gossip.loss = 0.2;
  const auto a = trial(alone), b = trial(shared);
  CHECK(a.staleness.communication->messages_sent == 0);
  CHECK(b.staleness.communication->messages_sent > 0);
  CHECK(b.experience->rollouts_received > 0);
  require_same_learning(a, b);
  // The control: a user that does draw external rollouts learns differently.
  sim::Scenario drawing = shared;
  drawing.learning.sapo.external = 2;
  const auto c = trial(drawing);
  CHECK(c.experience->external_used > 0);
  CHECK_FALSE(same_bits(a.experience->total_reward, c.experience->total_reward));
}

// A bank of policies and nothing else: no observer (which evaluates losses on labelled data),
// so that the swarm alone meets the labels.
struct PoliciesOnly {
  PoliciesOnly(const sim::Scenario& s, const sim::LearningData& d, sim::Rng& rng) : d_(d), bank_(s, d, rng) {}
  std::uint32_t size() const { return bank_.size(); }
  bool diverged() const { return bank_.diverged(); }
  void train(std::uint32_t, double) {}
  void mix_into(std::uint32_t, std::uint32_t, double) {}
  void mix_both(std::uint32_t, std::uint32_t, double) {}
  std::uint32_t snapshot(std::uint32_t) { return 0; }
  void mix_message(std::uint32_t, std::uint32_t, double) {}
  void release(std::uint32_t) {}
  void combine(std::uint32_t, std::span<const std::uint32_t>, std::span<const double>, double) {}
  double message_bytes() const { return 0.0; }
  void count_bytes(const double*) {}
  void begin_round() {}
  void train_client(std::uint32_t, double) {}
  void add_client(std::uint32_t) {}
  void end_round(std::span<const std::uint32_t>, double) {}
  void before(double) {}
  void start_window(double) {}
  void close(double) {}
  void take(sim::LearningTrialResult&) {}
  sim::ModelBank& policies() { return bank_; }
  const sim::LearningData& learning_data() const { return d_; }
  void count_experience(const sim::ExperienceCounts*) {}
  const sim::LearningData& d_;
  sim::ModelBank bank_;
};
static_assert(sim::PolicyBank<PoliciesOnly>);

TEST_CASE("the bandit's labels reach training only through the verifier's rewards", "[sapo]") {
  const sim::Scenario s = small_swarm();
  experiments::validate(s);
  const sim::Graph graph = sim::scenario_graph(s);
  sim::LearningData d = sim::prepare_learning(s);
  const auto swarm = [&](const sim::LearningData& data, Eigen::MatrixXf& before) {
    sim::Rng rng = sim::make_rng(s.run.seed, sim::Stream::trial, 0);
    PoliciesOnly bank(s, data, rng);
    before = bank.policies().params();
    sim::LearningTrialResult r;
    sim::Swarm<PoliciesOnly>(s, graph, bank, rng, 0, r).run();
    return std::make_pair(r, Eigen::MatrixXf(bank.policies().params()));
  };
  Eigen::MatrixXf start, blind_start;
  const auto [taught, trained] = swarm(d, start);
  REQUIRE(taught.experience->external_used > 0);
  CHECK((trained - start).norm() > 0.1f);
  // Labels no answer can match (class 4 of 4): every reward is 0, every rollout uninformative.
  // Were the labels read by training, a step would meet a label outside the classes and throw
  // (as supervised training does); read only by the verifier, nothing is learnt.
  auto split = std::make_shared<models::Split>(*d.data);
  split->train.labels.setConstant(4);
  d.data = split;
  const auto [blind, untouched] = swarm(d, blind_start);
  CHECK(blind_start == start);
  CHECK(untouched == blind_start);
  CHECK(blind.experience->total_reward == 0.0);
  CHECK(blind.experience->zero_advantage == blind.experience->rollouts_generated);
  CHECK(blind.experience->local_used + blind.experience->external_used == 0);
  CHECK(blind.local_updates == taught.local_updates);  // the clocks do not depend on what is learnt
}

TEST_CASE("under churn an offline user sends nothing and a rollout to an offline user is lost", "[sapo]") {
  sim::Scenario s = small_swarm();
  s.learning.sapo.share_fanout = 2;
  s.churn.model = sim::ChurnModel::markov;
  s.churn.online_mean = 5.0;
  s.churn.offline_mean = 5.0;
  const auto trained_offline = trial(s);
  const auto& c = *trained_offline.staleness.communication;
  CHECK(c.messages_lost > 0);
  CHECK(c.messages_sent < trained_offline.local_updates * 4 * 2);  // offline ticks sent nothing
  CHECK(c.messages_delivered + c.messages_lost == c.messages_sent);
  CHECK(trained_offline.experience->rollouts_received == c.messages_delivered);
  s.churn.offline_updates = false;  // offline ticks are skipped: fewer updates, every one shared
  const auto waiting = trial(s);
  CHECK(waiting.local_updates < trained_offline.local_updates);
  CHECK(waiting.staleness.communication->messages_sent == waiting.local_updates * 4 * 2);
}

TEST_CASE("every rollout goes to sapo.share_fanout users: messages = updates x questions x fanout", "[sapo]") {
  sim::Scenario s = small_swarm();
  s.learning.sapo.share_fanout = 3;
  const auto r = trial(s);
  const auto& c = *r.staleness.communication;
  CHECK(c.messages_sent == r.local_updates * 4 * 3);
  CHECK(c.messages_lost == 0);
  CHECK(c.bytes_sent == Approx(static_cast<double>(c.messages_sent) * sim::rollout_bytes(6, 4)).epsilon(1e-12));
  // Every delivery before the horizon reaches a pool (sent at t < horizon, no latency).
  CHECK(r.experience->rollouts_received == c.messages_delivered);
  // All neighbours by default: 5 on six users, 2 on a ring.
  s.learning.sapo.share_fanout.reset();
  const auto all = trial(s);
  CHECK(all.staleness.communication->messages_sent == all.local_updates * 4 * 5);
  s.network.topology = sim::TopologyKind::ring;
  const auto ring = trial(s);
  CHECK(ring.staleness.communication->messages_sent == ring.local_updates * 4 * 2);
  s.learning.sapo.share_fanout = 1;  // one of the two, uniformly
  const auto one = trial(s);
  CHECK(one.staleness.communication->messages_sent == one.local_updates * 4);
}

TEST_CASE("the age of experience: the generator's updates since a rollout was made are 1 + r times its age in time",
          "[sapo][statistical]") {
  // The generator's clock after it made a rollout is a Poisson process of rate r, so E[updates
  // since] = 1 (the update that made it, whose step follows) + r E[time since], whatever the
  // latency or keep, as long as whether and when a rollout is used does not depend on that
  // clock. A learner drawing J of its pool does depend on it (a generator that updated again
  // sent more rollouts, which crowd out its older ones: the bias is about -0.05 here), so the
  // learners take every informative rollout they hold.
  sim::Scenario s = small_swarm();
  s.learning.sapo.external = 500;
  s.updates.rate = 2.0;
  s.gossip.latency = 0.2;
  s.learning.sapo.keep = 3;
  s.run.horizon = 200.0;
  std::vector<double> gap, learner;
  for (std::uint64_t k = 0; k < 40; ++k) {
    s.run.seed = 100 + k;
    const auto r = trial(s, k);
    const auto& e = *r.experience;
    REQUIRE(e.external_used > 100);
    const double used = static_cast<double>(e.external_used);
    gap.push_back(e.age_updates_total / used - 1.0 - s.updates.rate * e.age_time_total / used);
    learner.push_back(e.learner_age_total / used);
    CHECK(e.age_time_total / used > 0.2);  // nothing is used before the latency has passed
  }
  const auto a = testing::estimate(gap);
  INFO("E[updates since] - 1 - r E[time since] = " << a.mean << " +- " << a.half_width);
  CHECK(std::abs(a.mean) <= a.half_width);
  CHECK(a.half_width < 0.1);  // an off-by-one update, or the learner's clock read for the generator's, is 0.5 to 1
  // A rollout waits 0, 1 or 2 of the learner's updates with sapo.keep = 3.
  const auto w = testing::estimate(learner);
  CHECK(w.mean > 0.3);
  CHECK(w.mean < 2.0);
}
