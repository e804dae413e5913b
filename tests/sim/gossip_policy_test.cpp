// Gossip policies (sim/gossip_policy.hpp, docs/model.md §1.1): every gossip tick of every
// event loop, with or without the network layer, reaches the policy, and a refused contact
// moves nothing; the registry's rows, its choice table and its dispatch agree.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>

#include "sim/choices.hpp"
#include "sim/event_engine.hpp"
#include "sim/gossip_policy.hpp"
#include "sim/message_layer.hpp"
#include "sim/user_clocks.hpp"
#include "sim/users_model.hpp"

using namespace timely::sim;
using namespace timely::sim::engine;

namespace {

// Refuses every contact and counts the ticks it was asked about.
struct Silent {
  static constexpr GossipPolicyInfo info{"silent", "never contacts (test)", false};
  static constexpr bool always_contacts = false;
  std::uint64_t asked = 0;
  template <GossipView V>
  std::uint32_t partner(const V& view, std::uint32_t i, double, Rng&) {
    ++asked;
    REQUIRE(i < view.size());
    return no_contact;
  }
};
static_assert(GossipPolicy<Silent, UsersModel<CompleteGraph, GossipMode::push>>);

Scenario small_scenario() {
  Scenario s;
  s.network.n = 12;
  s.run.horizon = 200.0;
  s.run.warmup = 10.0;
  return s;
}

// A Poisson count with mean `mean` lies within 6 standard deviations (probability of a false
// failure below 1e-8).
void check_poisson_count(std::uint64_t count, double mean) {
  INFO("count " << count << ", expected " << mean);
  CHECK(std::abs(static_cast<double>(count) - mean) < 6.0 * std::sqrt(mean));
}

// Nobody learned anything: user i's age is every other tracked source's own version count.
template <class M>
void check_nothing_spread(const M& m) {
  for (std::uint32_t i = 0; i < m.size(); ++i) {
    std::uint64_t others = 0;
    for (std::uint32_t slot = 0; slot < m.tracked(); ++slot)
      if (m.tracked_user(slot) != i) others += m.own_version(slot);
    CHECK(m.age(i) == others);
  }
}

}  // namespace

TEST_CASE("every loop asks the policy at every gossip tick, and a refused contact spreads nothing",
          "[policies][sim]") {
  Scenario s = small_scenario();
  const char* clocks = GENERATE("poisson", "renewal", "per-user");
  if (std::string(clocks) == "renewal") s.updates.delay = 0.5;
  if (std::string(clocks) == "per-user") s.gossip.capacity_law = Distribution{DistributionKind::uniform, 0.5, 1.5};
  INFO(clocks << " clocks");
  const CompleteGraph g{s.network.n};
  Rng rng = make_rng(11, Stream::trial, 0);
  NoTrace trace;
  UsersModel<CompleteGraph, GossipMode::push> m(s, g, rng, trace);
  Window window(s.run.warmup, s.run.horizon);
  Silent policy;
  double gossip_rate_total = s.gossip_rate() * s.network.n;
  if (s.heterogeneous()) {
    const UserClocks c = user_clocks(s);
    gossip_rate_total = std::accumulate(c.gossip_rate.begin(), c.gossip_rate.end(), 0.0);
    run_heterogeneous(m, policy, c, rng, window);
  } else if (s.updates.delay > 0.0) {
    run_renewal_updates(m, policy, s, rng, window);
  } else {
    run_poisson_updates(m, policy, s, rng, window);
  }
  // The loop stops at the first event past the horizon: every tick up to it was asked.
  check_poisson_count(policy.asked, gossip_rate_total * s.run.horizon);
  check_nothing_spread(m);
}

TEST_CASE("through the network layer a refused contact sends no message", "[policies][sim][network]") {
  Scenario s = small_scenario();
  s.gossip.latency = 0.5;
  s.gossip.bandwidth = 1e3;
  const CompleteGraph g{s.network.n};
  Rng rng = make_rng(12, Stream::trial, 0);
  NoTrace trace;
  UsersModel<CompleteGraph, GossipMode::exchange> m(s, g, rng, trace);
  Window window(s.run.warmup, s.run.horizon);
  Communication comm;
  Networked<UsersModel<CompleteGraph, GossipMode::exchange>, GossipMode::exchange> net(m, s, 0, 48.0, comm);
  Silent policy;
  run_poisson_updates(net, policy, s, rng, window);
  net.finish(s.run.horizon);
  check_poisson_count(policy.asked, s.gossip_rate() * s.network.n * s.run.horizon);
  CHECK(comm.messages_sent == 0);
  CHECK(comm.requests_sent == 0);
  CHECK(comm.bytes_sent == 0.0);
  check_nothing_spread(m);
}

TEST_CASE("the policy registry, its choice table and its dispatch agree", "[policies][choices]") {
  const auto& table = gossip_policies();
  REQUIRE(table.choices.size() == GossipPolicies::size);
  REQUIRE(table.key == "gossip.policy");
  CHECK(table.choices[0].name == "uniform");  // the first row is the default
  CHECK(Scenario{}.gossip.policy == table.choices[0].value);
  for (std::size_t k = 0; k < table.choices.size(); ++k) {
    const auto& row = table.choices[k];
    INFO(row.name);
    CHECK(row.value.index == k);
    CHECK(table.parse(row.name) == row.value);
    CHECK(policy_info(row.value).name == row.name);
    Scenario s = small_scenario();
    s.gossip.policy = row.value;
    // Each loop dispatches to the row's type where the row runs, and refuses it elsewhere
    // (validation refuses such a scenario first).
    const auto name = [](auto& policy) { return std::decay_t<decltype(policy)>::info.name; };
    const GossipPolicyInfo& info = policy_info(row.value);
    const auto check = [&](bool runs, auto dispatch) {
      if (runs) CHECK(dispatch() == row.name);
      else CHECK_THROWS_AS(dispatch(), std::logic_error);
    };
    check(info.source, [&] { return with_policy<PolicyLoop::source>(s, s.network.n, name); });
    check(info.users, [&] { return with_policy<PolicyLoop::users>(s, s.network.n, name); });
    check(info.learning, [&] { return with_policy<PolicyLoop::learning>(s, s.network.n, name); });
  }
  CHECK(policy_info(GossipPolicyId{0}).has_theory);
}

TEST_CASE("uniform gossip's partner is the graph's own draw", "[policies][sim]") {
  Scenario s = small_scenario();
  const RingGraph g{s.network.n};
  Rng a = make_rng(13, Stream::trial, 0), b = a;
  NoTrace trace;
  Rng setup = make_rng(13, Stream::trial, 1);
  const UsersModel<RingGraph, GossipMode::push> m(s, g, setup, trace);
  UniformGossip policy(s, s.network.n);
  for (std::uint32_t k = 0; k < 1000; ++k) {
    const std::uint32_t i = k % s.network.n;
    CHECK(policy.partner(m, i, 0.0, a) == g.pick(i, b));
  }
}
