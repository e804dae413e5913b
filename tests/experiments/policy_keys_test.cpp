// The gossip policies' keys (docs/interface.md; docs/model.md §1.1) as a user meets them:
// every bad value, a key the policy does not read, and a scenario a policy does not fit exit
// 2 with one line naming the key; good values land in the scenario's JSON (the effective
// value where the policy reads the key, null elsewhere); and the spending every run reports
// is what the clocks imply, exactly in expectation.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "analysis/statistics.hpp"
#include "sim/choices.hpp"
#include "sim/trials.hpp"
#include "tests/run_cli.hpp"
#include "tests/statistical.hpp"

using namespace timely;
using testing::refused;
using testing::run_timely;

namespace {

testing::CliOutcome simulate(std::initializer_list<std::string> settings) {
  std::vector<std::string> args{"simulate", "--trials", "2", "--set", "run.horizon=20", "--set", "run.warmup=2"};
  for (const std::string& s : settings) {
    args.push_back("--set");
    args.push_back(s);
  }
  return run_timely(args);
}

}  // namespace

TEST_CASE("bad values of the policy keys exit 2 with one line naming the key", "[policies][policy-keys]") {
  refused(simulate({"gossip.policy=gossipy"}),
          "gossip.policy: expected one of uniform, pilot, asuman, burst, fanout, got \"gossipy\"");
  refused(simulate({"gossip.policy=fanout", "gossip.fanout=0"}), "gossip.fanout: expected an integer >= 1 and < network.n, got 0");
  refused(simulate({"gossip.policy=fanout", "gossip.fanout=2.5"}), "gossip.fanout: expected an integer");
  refused(simulate({"gossip.policy=fanout", "network.n=10", "gossip.fanout=10"}),
          "gossip.fanout: expected an integer in [1, network.n - 1 = 9], got 10");
  refused(simulate({"gossip.policy=burst", "gossip.burst_rate=0"}), "gossip.burst_rate: expected a number in [1e-9, 1e9], got 0");
  refused(simulate({"gossip.policy=burst", "gossip.burst_rate=fast"}), "gossip.burst_rate: expected a number");
  refused(simulate({"gossip.policy=burst", "gossip.burst_time=0"}), "gossip.burst_time: expected a number in (0, 1e9], got 0");
  refused(simulate({"gossip.policy=burst", "gossip.burst_time=nan"}), "gossip.burst_time: expected a number in (0, 1e9]");
  refused(simulate({"staleness.model=source", "gossip.policy=asuman", "gossip.asuman_delay=-1"}),
          "gossip.asuman_delay: expected a number in [0, 1e9], got -1");
  refused(simulate({"staleness.model=source", "gossip.policy=asuman", "gossip.asuman_share=1.5"}),
          "gossip.asuman_share: expected a number in [0, 1], got 1.5");
}

TEST_CASE("a policy key the scenario's policy does not read is refused, naming the policy that does",
          "[policies][policy-keys]") {
  refused(simulate({"gossip.fanout=3"}),
          "gossip.fanout: read only by gossip.policy = \"fanout\", not by \"uniform\" (remove the key or change gossip.policy)");
  refused(simulate({"gossip.policy=fanout", "gossip.burst_rate=2"}), "gossip.burst_rate: read only by gossip.policy = \"burst\", not by \"fanout\"");
  refused(simulate({"staleness.model=source", "gossip.policy=pilot", "gossip.asuman_share=0.5"}),
          "gossip.asuman_share: read only by gossip.policy = \"asuman\", not by \"pilot\"");
  refused(simulate({"staleness.model=source", "gossip.policy=asuman", "gossip.burst_time=1"}), "gossip.burst_time: read only by");
}

TEST_CASE("a scenario a policy does not fit is refused with one line naming the key", "[policies][policy-keys]") {
  refused(simulate({"gossip.policy=asuman"}), "gossip.policy: \"asuman\" runs in the source model (staleness.model = \"source\"), not in the users model");
  refused(simulate({"staleness.model=source", "gossip.policy=fanout"}), "gossip.policy: \"fanout\" runs in the users model");
  refused(simulate({"staleness.model=source", "gossip.policy=asuman", "gossip.mode=exchange"}),
          "gossip.mode: gossip.policy = \"asuman\" pushes from the timers' winners; expected \"push\"");
  refused(simulate({"gossip.policy=burst", "gossip.mode=pull"}), "gossip.mode: gossip.policy = \"burst\"");
  refused(simulate({"gossip.policy=fanout", "gossip.mode=exchange"}), "gossip.mode: gossip.policy = \"fanout\"");
  refused(simulate({"gossip.policy=fanout", "network.topology=ring"}),
          "network.topology: gossip.policy = \"fanout\" pushes to uniformly chosen users; expected \"complete\"");
  refused(simulate({"gossip.policy=fanout", R"(gossip.capacity={ dist = "uniform", low = 0.5, high = 1.5 })"}),
          "gossip.capacity: gossip.policy = \"fanout\" takes one fan-out for every user");
  refused(simulate({"gossip.policy=fanout", "gossip.latency=0.1", "gossip.busy=drop"}),
          "gossip.busy: gossip.policy = \"fanout\" sends its f messages at once, which \"drop\" would cut to one; expected \"queue\"");
  refused(simulate({"gossip.policy=burst", "updates.delay=0.5"}),
          "updates.delay: gossip.policy = \"burst\" runs with Poisson update clocks; expected 0");
  refused(simulate({"gossip.policy=burst", R"(updates.rate={ dist = "uniform", low = 0.5, high = 1.5 })"}),
          "updates.rate: gossip.policy = \"burst\" runs with the same clocks for every user");
}

TEST_CASE("the policy keys' effective values are in the scenario's JSON where the policy reads them",
          "[policies][policy-keys]") {
  const auto scenario = [](std::initializer_list<std::string> settings) {
    std::vector<std::string> args{"theory", "--json"};
    for (const std::string& s : settings) {
      args.push_back("--set");
      args.push_back(s);
    }
    const auto o = run_timely(args);
    INFO(o.err);
    REQUIRE(o.status == 0);
    return nlohmann::json::parse(o.out).at("scenario");
  };
  // fanout's default from the capacity law: round(kappa g(n) / r) = round(3 ln 100 / 2) = 7.
  const auto fanout = scenario({"gossip.policy=fanout", "gossip.capacity=3", "gossip.scaling=log", "updates.rate=2"});
  CHECK(fanout.at("gossip.fanout") == 7);
  CHECK(fanout.at("gossip.burst_rate").is_null());
  // burst's defaults: R = n kappa g(n) = 100, T = 2 kappa g(n) / (nu R) with nu = min(lambda_e, lambda_0) = 0.5.
  const auto burst = scenario({"staleness.model=source", "gossip.policy=burst", "source.push_rate=0.5"});
  CHECK(burst.at("gossip.burst_rate") == 100.0);
  CHECK(burst.at("gossip.burst_time").get<double>() == Approx(2.0 / (0.5 * 100.0)).epsilon(1e-15));
  const auto asuman = scenario({"staleness.model=source", "gossip.policy=asuman", "source.rate=4", "gossip.asuman_share=0.25"});
  CHECK(asuman.at("gossip.asuman_delay") == 0.025);
  CHECK(asuman.at("gossip.asuman_share") == 0.25);
  CHECK(scenario({}).at("gossip.fanout").is_null());
}

TEST_CASE("every policy's spending is counted: uniform, pilot and asuman spend the budget, exactly in expectation",
          "[policies][statistical]") {
  // Every gossip tick of uniform and pilot contacts someone, so the contacts over [0, T] are
  // Poisson with mean n lambda T: per user and unit time, lambda. asuman's winners make no
  // contact while their timers run, so it spends less; with delay 0 and share 1 it spends
  // the budget too.
  for (const char* policy : {"uniform", "pilot", "asuman"}) {
    sim::Scenario s;
    s.network.n = 40;
    s.staleness.model = sim::StalenessModel::source;
    s.gossip.policy = *sim::gossip_policies().parse(policy);
    if (std::string_view(policy) == "asuman") s.gossip.asuman_delay = 0.0;
    s.gossip.capacity = 1.5;
    s.run.horizon = 50.0;
    s.run.warmup = 5.0;
    s.run.trials = 64;
    std::vector<double> sends;
    for (const auto& t : sim::run_trials(s, sim::scenario_graph(s), 0))
      sends.push_back(static_cast<double>(t.gossip_sends) / (s.network.n * s.run.horizon));
    const auto summary = analysis::summarize(sends, testing::agreement_level);
    INFO(policy << ": " << summary.mean << " +- " << *summary.ci_half_width);
    CHECK(std::abs(summary.mean - 1.5) <= *summary.ci_half_width);
    CHECK(*summary.ci_half_width < 0.01 * 1.5);
  }
}
