// The loops that draw events ahead and prefetch their users' state (issue 29; sim/event_engine.hpp,
// run_drawn_ahead) must give exactly the plain loops' results: the same draws in the same
// order. The engine chooses between them by the size of the state (draw_ahead_from_bytes);
// here both are forced on the same trials and every output compared bit for bit, at the
// golden trials' sizes and at sizes where the default choice draws ahead.
#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <vector>

#include "sim/event_engine.hpp"
#include "sim/scenario.hpp"
#include "sim/trial.hpp"

using namespace timely;

namespace {

// Sets the threshold for one scope, and restores it.
class DrawAhead {
 public:
  explicit DrawAhead(bool on) : saved_(sim::engine::draw_ahead_from_bytes().load()) {
    sim::engine::draw_ahead_from_bytes() = on ? 0 : ~std::size_t{0};
  }
  ~DrawAhead() { sim::engine::draw_ahead_from_bytes() = saved_; }
  DrawAhead(const DrawAhead&) = delete;
  DrawAhead& operator=(const DrawAhead&) = delete;

 private:
  std::size_t saved_;
};

std::vector<std::uint64_t> bits(const std::vector<double>& xs) {
  std::vector<std::uint64_t> out;
  for (const double x : xs) out.push_back(std::bit_cast<std::uint64_t>(x));
  return out;
}

void check_same(const sim::Scenario& s) {
  const sim::Graph graph = sim::scenario_graph(s);
  for (std::uint64_t trial = 0; trial < 2; ++trial) {
    sim::TrialResult plain, ahead;
    {
      const DrawAhead off(false);
      plain = sim::run_trial(s, graph, trial);
    }
    {
      const DrawAhead on(true);
      ahead = sim::run_trial(s, graph, trial);
    }
    CHECK(plain.events == ahead.events);
    CHECK(plain.gossip_sends == ahead.gossip_sends);
    CHECK(std::bit_cast<std::uint64_t>(plain.mean_staleness) == std::bit_cast<std::uint64_t>(ahead.mean_staleness));
    CHECK(std::bit_cast<std::uint64_t>(plain.max_mean) == std::bit_cast<std::uint64_t>(ahead.max_mean));
    CHECK(std::bit_cast<std::uint64_t>(plain.max_all_mean) == std::bit_cast<std::uint64_t>(ahead.max_all_mean));
    CHECK(plain.mean_age_time.has_value() == ahead.mean_age_time.has_value());
    if (plain.mean_age_time && ahead.mean_age_time)
      CHECK(std::bit_cast<std::uint64_t>(*plain.mean_age_time) == std::bit_cast<std::uint64_t>(*ahead.mean_age_time));
    CHECK(bits(plain.staleness_time) == bits(ahead.staleness_time));
    CHECK(bits(plain.worst_time) == bits(ahead.worst_time));
    CHECK(bits(plain.max_all_time) == bits(ahead.max_all_time));
    CHECK(bits(plain.source_mean) == bits(ahead.source_mean));
    CHECK(plain.source_user == ahead.source_user);
  }
}

sim::Scenario scenario(sim::StalenessModel model, std::uint32_t n, double horizon) {
  sim::Scenario s;
  s.network.n = n;
  s.staleness.model = model;
  s.run.horizon = horizon;
  s.run.warmup = horizon / 10;
  s.run.trials = 2;
  return s;
}

}  // namespace

TEST_CASE("draw-ahead: the source model's results are the plain loop's, bit for bit", "[sim][draw-ahead][determinism]") {
  for (const auto mode : {sim::GossipMode::push, sim::GossipMode::pull, sim::GossipMode::exchange})
    for (const auto topology : {sim::TopologyKind::complete, sim::TopologyKind::ring})
      for (const std::uint32_t n : {8u, 300'000u}) {
        CAPTURE(static_cast<int>(mode), static_cast<int>(topology), n);
        sim::Scenario s = scenario(sim::StalenessModel::source, n, n < 100 ? 200.0 : 3.0);
        s.gossip.mode = mode;
        s.network.topology = topology;
        check_same(s);
      }
  // Pushes to the clustered graph's heads only (a table lookup in the draw), and a source
  // faster than the gossip.
  sim::Scenario s = scenario(sim::StalenessModel::source, 10'000, 20.0);
  s.network.topology = sim::TopologyKind::clustered;
  s.source.targets = sim::SourceTargets::heads;
  s.source.rate = 50.0;
  s.source.push_rate = 20.0;
  check_same(s);
}

TEST_CASE("draw-ahead: the users model's results are the plain loop's, bit for bit", "[sim][draw-ahead][determinism]") {
  for (const auto mode : {sim::GossipMode::push, sim::GossipMode::pull, sim::GossipMode::exchange})
    for (const auto topology : {sim::TopologyKind::complete, sim::TopologyKind::ring}) {
      CAPTURE(static_cast<int>(mode), static_cast<int>(topology));
      sim::Scenario s = scenario(sim::StalenessModel::users, 10, 200.0);
      s.gossip.mode = mode;
      s.network.topology = topology;
      check_same(s);
      s = scenario(sim::StalenessModel::users, 50'000, 4.0);
      s.staleness.tracked = 16;
      s.gossip.mode = mode;
      s.network.topology = topology;
      check_same(s);
    }
  // Every user tracked (K = n: rows longer than what is prefetched), and fast updates.
  sim::Scenario s = scenario(sim::StalenessModel::users, 300, 30.0);
  s.updates.rate = 5.0;
  check_same(s);
}
