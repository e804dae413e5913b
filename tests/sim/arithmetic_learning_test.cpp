// data.source = "synthetic-arithmetic" through the scenario (sim/learning.hpp, docs/model.md §5):
// the architecture, the data key, the specialties partition, and gossip learning the table.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/input_error.hpp"
#include "sim/learning.hpp"
#include "sim/random.hpp"
#include "tests/run_cli.hpp"

using namespace timely;

namespace {

sim::Scenario arithmetic(std::uint32_t n, std::uint32_t kinds) {
  sim::Scenario s;
  s.network.n = n;
  s.learning.model.kind = sim::ModelKind::logistic;
  s.learning.data.source = sim::DataSource::synthetic_arithmetic;
  s.learning.data.classes = 5;
  s.learning.data.train_samples = 1200;
  s.learning.data.test_samples = 100;
  // Set in code: validate() refuses sapo.* outside learning.protocol = "sapo", prepare_learning does not look.
  s.learning.sapo.specialties = kinds;
  s.run.seed = 3;
  return s;
}

}  // namespace

TEST_CASE("synthetic arithmetic: kinds x classes^2 inputs, classes outputs, planned as loaded", "[learning][arithmetic]") {
  const sim::Scenario s = arithmetic(7, 3);
  const auto planned = sim::planned_architecture(s);
  CHECK(planned.inputs == 3 * 5 * 5);
  CHECK(planned.outputs == 5);
  const sim::LearningData d = sim::prepare_learning(s);
  CHECK(d.architecture.inputs == planned.inputs);
  CHECK(d.architecture.outputs == planned.outputs);
  CHECK(d.architecture.loss == models::Loss::softmax_cross_entropy);
  CHECK(d.data->train.size() == 1200);
  CHECK(d.data->test.size() == 100);
}

TEST_CASE("synthetic arithmetic: the data key tells the task kinds apart, only for this source", "[learning][arithmetic]") {
  const sim::Scenario one = arithmetic(7, 1), three = arithmetic(7, 3);
  CHECK(sim::learning_data_key(one) != sim::learning_data_key(three));
  sim::Scenario mixture = one, mixture_three = three;
  mixture.learning.data.source = mixture_three.learning.data.source = sim::DataSource::synthetic_mixture;
  CHECK(sim::learning_data_key(mixture) == sim::learning_data_key(mixture_three));  // the kinds are not read
}

TEST_CASE("synthetic arithmetic: with specialties, user u's shard holds only kind u mod S", "[learning][arithmetic]") {
  for (const auto partition : {models::PartitionKind::iid, models::PartitionKind::dirichlet}) {
    sim::Scenario s = arithmetic(7, 3);
    s.learning.data.partition = partition;
    const sim::LearningData d = sim::prepare_learning(s);
    const auto& kinds = d.data->train.kinds;
    std::vector<int> seen(d.data->train.size(), 0);
    REQUIRE(d.partition.shards.size() == 7);
    for (std::uint32_t u = 0; u < 7; ++u) {
      CHECK_FALSE(d.partition.shards[u].empty());
      for (const std::uint32_t sample : d.partition.shards[u]) {
        CHECK(kinds[sample] == u % 3);
        ++seen[sample];
      }
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
  }
  // One kind: the partition make_partition deals from the data stream, as for any other set.
  const sim::Scenario s = arithmetic(7, 1);
  const sim::LearningData d = sim::prepare_learning(s);
  models::Rng rng = sim::make_rng(s.run.seed, sim::Stream::data, 1);
  CHECK(d.partition.shards == models::make_partition(d.data->train, 7, models::PartitionKind::iid, 0.5, 2, rng).shards);
}

TEST_CASE("synthetic arithmetic: more kinds than users, a linear model and too many features are refused naming the key",
          "[learning][arithmetic]") {
  const auto refused = [](const sim::Scenario& s, const std::string& key) {
    try {
      (void)sim::prepare_learning(s);
      FAIL("accepted");
    } catch (const InputError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).rfind(key, 0) == 0);
    }
  };
  refused(arithmetic(4, 5), "sapo.specialties");
  sim::Scenario linear = arithmetic(4, 1);
  linear.learning.model.kind = sim::ModelKind::linear;
  refused(linear, "model.kind");
  sim::Scenario wide = arithmetic(4, 2);
  wide.learning.data.classes = 708;  // 2 x 708^2 > 10^6 one-hot features
  refused(wide, "data.classes, sapo.specialties");
}

TEST_CASE("synthetic arithmetic: logistic gossip learns the answers far above chance", "[learning][arithmetic][cli]") {
  // 25 questions (modulus 5, one kind): chance is 1/5. The one-hot features give each
  // question's logits their own weights, each moved by only its own samples' gradients (about
  // 1/25 of a batch), so a step size 10 times the default's is stable; with it every trial
  // reaches 1.0 by t = 40 (seed 1; 0.46 with the default 0.05).
  const auto o = testing::run_timely({"simulate", "--json", "--set", "model.kind=logistic", "--set",
                                      "data.source=synthetic-arithmetic", "--set", "data.classes=5", "--set",
                                      "data.train_samples=2000", "--set", "data.test_samples=500", "--set",
                                      "network.n=8", "--set", "train.lr=0.5", "--set", "run.horizon=40", "--set",
                                      "run.warmup=0", "--set", "observe.every=10", "--set", "run.trials=2"});
  INFO(o.err);
  REQUIRE(o.status == 0);
  const auto j = nlohmann::json::parse(o.out);
  const double accuracy = j["learning"]["final"]["test_accuracy"]["mean"].get<double>();
  INFO("final test accuracy " << accuracy);
  CHECK(accuracy > 0.9);
  // The CLI refuses a linear model on it, one line naming model.kind.
  testing::refused(testing::run_timely({"simulate", "--set", "model.kind=linear", "--set", "data.source=synthetic-arithmetic"}),
                   "model.kind");
}
