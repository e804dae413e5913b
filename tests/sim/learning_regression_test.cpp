// Regression the way Mitra & Ulukus (arXiv 2404.19749) test decentralised learning
// (docs/model.md §5): a nonlinear teacher target learned by an MLP with the squared loss,
// users with their own regression laws around a common one, the exact global optimum, and
// the times to a target loss and to a target distance from the optimum.
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/run_cli.hpp"
#include "sim/learning.hpp"
#include "sim/scenario.hpp"
#include "sim/trial.hpp"

using namespace timely;

namespace {

// The teacher task of docs/model.md §5 ("What the MLP reaches"): 4 features, a teacher of
// 32 tanh units, noise sd 0.1 (noise floor 0.5 * 0.1^2 = 0.005), 8 users on the complete graph.
sim::Scenario teacher_task(sim::ModelKind kind) {
  sim::Scenario s;
  s.network.n = 8;
  s.learning.model.kind = kind;
  s.learning.model.hidden = {64};
  s.learning.model.activation = models::Activation::tanh;
  s.learning.data.source = sim::DataSource::synthetic_regression;
  s.learning.data.target = sim::RegressionTarget::teacher;
  s.learning.data.teacher_hidden = 32;
  s.learning.data.features = 4;
  s.learning.data.noise = 0.1;
  s.learning.data.train_samples = 4000;
  s.learning.data.test_samples = 1000;
  s.learning.train.lr = 0.2;
  s.learning.train.steps = 5;
  s.learning.train.momentum = 0.5;
  s.learning.observe.every = 50;
  s.run.horizon = 600;
  s.run.warmup = 0;
  s.run.trials = 1;
  s.run.seed = 3;
  return s;
}

sim::LearningTrialResult one_trial(const sim::Scenario& s) {
  const sim::LearningData data = sim::prepare_learning(s);
  return sim::run_learning_trial(s, sim::scenario_graph(s), data, 0);
}

sim::Scenario linear_regression(std::uint32_t n, std::uint32_t train_samples) {
  sim::Scenario s;
  s.network.n = n;
  s.learning.model.kind = sim::ModelKind::linear;
  s.learning.data.source = sim::DataSource::synthetic_regression;
  s.learning.data.features = 5;
  s.learning.data.train_samples = train_samples;
  s.learning.data.test_samples = 500;
  s.learning.observe.every = 20;
  s.run.horizon = 400;
  s.run.warmup = 0;
  s.run.trials = 1;
  s.run.seed = 5;
  return s;
}

// Ordinary least squares of y on (x, 1) over the given samples, by a complete orthogonal
// decomposition of the design matrix (not the normal equations the program solves).
Eigen::VectorXd least_squares(const models::Dataset& train, const std::vector<std::uint32_t>& samples) {
  const auto d = train.x.rows();
  Eigen::MatrixXd design(static_cast<Eigen::Index>(samples.size()), d + 1);
  Eigen::VectorXd y(design.rows());
  for (Eigen::Index k = 0; k < design.rows(); ++k) {
    const auto s = samples[static_cast<std::size_t>(k)];
    design.row(k).head(d) = train.x.col(s).cast<double>().transpose();
    design(k, d) = 1.0;
    y(k) = train.targets(0, s);
  }
  return design.completeOrthogonalDecomposition().solve(y);  // (W, b): the layout of Dataset::optimum
}

std::vector<std::uint32_t> union_of(const models::Partition& p) {
  std::vector<std::uint32_t> all;
  for (const auto& shard : p.shards) all.insert(all.end(), shard.begin(), shard.end());
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace

TEST_CASE("an MLP learns the teacher task to within 3x the noise floor; a linear model cannot", "[regression]") {
  // The documented bound (docs/model.md §5): test loss <= 3 * noise^2 / 2 = 0.015 by t = 600.
  const double floor = 0.5 * 0.1 * 0.1;
  const double bound = 3.0 * floor;
  sim::Scenario mlp = teacher_task(sim::ModelKind::mlp);
  mlp.learning.target_loss = bound;
  const auto student = one_trial(mlp);
  REQUIRE_FALSE(student.diverged_at);
  const double mlp_loss = student.observations.back().at(sim::metric::loss);
  INFO("MLP test loss " << mlp_loss << ", noise floor " << floor);
  CHECK(mlp_loss <= bound);
  CHECK(mlp_loss >= floor * 0.8);  // nothing beats the noise (up to the test set's own noise)
  REQUIRE(student.time_to_loss);
  CHECK(*student.time_to_loss <= 400.0);
  // No optimum is known for the MLP: no distance, so no time to a distance target.
  CHECK_FALSE(student.observations.back()[sim::metric::distance_to_optimum]);
  CHECK_FALSE(student.time_to_distance);

  // The same data and clocks with a linear model (misspecified): its best, the least-squares
  // fit, stays far above the bound, so the task is genuinely nonlinear.
  sim::Scenario linear = teacher_task(sim::ModelKind::linear);
  linear.learning.target_loss = bound;
  const auto fit = one_trial(linear);
  const double linear_loss = fit.observations.back().at(sim::metric::loss);
  INFO("linear test loss " << linear_loss);
  CHECK(linear_loss > 3.0 * bound);
  CHECK_FALSE(fit.time_to_loss);
  // Its distance is measured against the exact least-squares optimum, which it reaches.
  REQUIRE(fit.observations.back()[sim::metric::distance_to_optimum]);
  CHECK(*fit.observations.back()[sim::metric::distance_to_optimum] < 0.1);
}

TEST_CASE("times to a target loss and distance are the first grid times that meet them", "[regression]") {
  sim::Scenario s = linear_regression(8, 4000);
  s.learning.train.schedule = sim::LrSchedule::inverse_time;
  s.learning.train.decay_time = 50;
  s.learning.target_loss = 0.02;
  s.learning.target_distance = 0.05;
  const auto r = one_trial(s);
  REQUIRE_FALSE(r.diverged_at);
  std::optional<double> first_loss, first_distance;
  for (const auto& o : r.observations) {
    if (!first_loss && o.at(sim::metric::loss) <= 0.02) first_loss = o.time;
    REQUIRE(o[sim::metric::distance_to_optimum]);
    if (!first_distance && *o[sim::metric::distance_to_optimum] <= 0.05) first_distance = o.time;
    // Each user's own error beside the average model's.
    CHECK(o.at(sim::metric::worst_user_loss) >= o.at(sim::metric::user_loss));
    REQUIRE(o[sim::metric::user_error]);
    REQUIRE(o[sim::metric::worst_user_error]);
    CHECK(*o[sim::metric::worst_user_error] >= *o[sim::metric::user_error]);
  }
  REQUIRE(first_loss);
  REQUIRE(first_distance);
  CHECK(r.time_to_loss == first_loss);
  CHECK(r.time_to_distance == first_distance);
  CHECK(*r.time_to_loss > 0.0);

  // A target never met is not reached; no target, no time.
  s.learning.target_loss = 1e-9;
  s.learning.target_distance.reset();
  const auto never = one_trial(s);
  CHECK_FALSE(never.time_to_loss);
  CHECK_FALSE(never.time_to_distance);
  CHECK(never.observations.back().at(sim::metric::loss) == r.observations.back().at(sim::metric::loss));  // targets change nothing else

  // simulate --json reports both as {mean, ci95, reached} over the trials that reached them.
  const auto o = testing::run_timely(
      {"simulate", "--json", "--trials", "2", "--set", "model.kind=linear", "--set", "data.source=synthetic-regression",
       "--set", "data.features=5", "--set", "data.train_samples=4000", "--set", "data.test_samples=500", "--set",
       "network.n=8", "--set", "run.horizon=400", "--set", "run.warmup=0", "--set", "observe.every=20", "--set",
       "train.schedule=inverse-time", "--set", "train.decay_time=50", "--set", "target.loss=0.02", "--set",
       "target.distance=0.05"});
  INFO(o.err);
  REQUIRE(o.status == 0);
  const auto j = nlohmann::json::parse(o.out);
  const auto& l = j["learning"];
  CHECK(l["time_to_loss"]["reached"] == 2);
  CHECK(l["time_to_loss"]["mean"].get<double>() > 0.0);
  CHECK(l["time_to_distance"]["reached"] == 2);
  CHECK(l["target_loss"] == 0.02);
  CHECK(l["target_distance"] == 0.05);
  CHECK(l["final"]["worst_user_loss"]["mean"].get<double>() >= l["final"]["user_loss"]["mean"].get<double>());
  CHECK(l["final"]["user_error"]["mean"].is_number());
  CHECK(l["final"]["worst_user_error"]["mean"].is_number());
  CHECK(l["time_to_target"].is_null());  // no accuracy in regression
}

TEST_CASE("heterogeneous users: the global optimum is the least-squares fit to all training data", "[regression]") {
  // 8 users with 500 samples each: equal shards, so the minimiser of the users' summed mean
  // losses is the ordinary least-squares fit to the union.
  sim::Scenario s = linear_regression(8, 4000);
  s.learning.data.spread = 0.5;
  const sim::LearningData d = sim::prepare_learning(s);
  REQUIRE(d.optimum);
  const Eigen::VectorXd expected = least_squares(d.data->train, union_of(d.partition));
  const Eigen::VectorXd got = d.optimum->cast<double>();
  INFO("optimum " << got.transpose() << "\nexpected " << expected.transpose());
  CHECK((got - expected).norm() <= 1e-5 * expected.norm());

  // Each user's labels follow its own law: a user's own least-squares fit is far from the
  // others' (spread 0.5 per coefficient), while every user shares the same features.
  const Eigen::VectorXd user0 = least_squares(d.data->train, d.partition.shards[0]);
  const Eigen::VectorXd user1 = least_squares(d.data->train, d.partition.shards[1]);
  CHECK((user0 - user1).norm() > 0.3);

  // spread = 0 leaves the data set shared and untouched, and the optimum is the generating theta*.
  sim::Scenario same = s;
  same.learning.data.spread = 0.0;
  const auto split = sim::load_learning_data(same);
  const sim::LearningData d0 = sim::prepare_learning(same, split);
  CHECK(d0.data == split);
  REQUIRE(d0.optimum);
  REQUIRE(split->train.optimum);
  CHECK(*d0.optimum == *split->train.optimum);
  // ... and the users' data differ from it only where spread > 0 changed them.
  CHECK(d.data->train.x == split->train.x);
  CHECK(d.data->train.targets != split->train.targets);

  // Gossip converges to the global optimum, not to any one user's.
  s.learning.train.schedule = sim::LrSchedule::inverse_time;
  s.learning.train.decay_time = 50;
  s.gossip.mode = sim::GossipMode::exchange;
  s.run.horizon = 1000;
  s.learning.target_distance = 0.05;
  const auto r = sim::run_learning_trial(s, sim::scenario_graph(s), d, 0);
  REQUIRE(r.observations.back()[sim::metric::distance_to_optimum]);
  CHECK(*r.observations.back()[sim::metric::distance_to_optimum] < 0.05);
  CHECK(r.time_to_distance);
}

TEST_CASE("bad regression keys exit 2 with one line naming the key", "[regression]") {
  const auto refused = [](std::vector<std::string> args, const std::string& key) {
    args.insert(args.begin(), "simulate");
    const auto o = testing::run_timely(args);
    INFO(o.err);
    CHECK(o.status == 2);
    CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
    CHECK(o.err.find(key) != std::string::npos);
  };
  const std::vector<std::string> regression = {"--set", "model.kind=mlp", "--set", "data.source=synthetic-regression"};
  auto with = [&](std::vector<std::string> more) {
    auto args = regression;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  refused(with({"--set", "data.target=quadratic"}), "data.target");
  refused(with({"--set", "data.teacher_hidden=0"}), "data.teacher_hidden");
  refused(with({"--set", "data.teacher_hidden=-3"}), "data.teacher_hidden");
  refused(with({"--set", "target.loss=-0.1"}), "target.loss");
  refused(with({"--set", "target.distance=-1"}), "target.distance");
  refused(with({"--set", "data.spread=-1"}), "data.spread");
  refused({"--set", "model.kind=logistic", "--set", "data.source=synthetic-regression"}, "model.kind");
  refused({"--set", "model.kind=mlp", "--set", "data.spread=0.5"}, "data.spread");  // a classification set
  refused({"--set", "model.kind=linear", "--set", "data.source=synthetic-regression", "--set", "data.target=teacher",
           "--set", "data.features=5000", "--set", "data.train_samples=100", "--set", "data.test_samples=10"},
          "data.features");
}
