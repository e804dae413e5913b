#pragma once
// The scenarios the gossip-policy tests share: the source model on the complete graph with
// lambda_e = lambda_0 = kappa = 1 (the papers' setting, docs/model.md §1.1), long enough and
// with enough trials for 99.9% CIs a few percent wide at n = 20 to 50.
#include <string_view>

#include "sim/choices.hpp"
#include "sim/scenario.hpp"

namespace timely::tests {

inline sim::Scenario source_policy_scenario(std::uint32_t n, std::string_view policy, std::uint64_t seed) {
  sim::Scenario s;
  s.network.n = n;
  s.staleness.model = sim::StalenessModel::source;
  s.gossip.policy = *sim::gossip_policies().parse(policy);
  s.gossip.capacity = 1.0;
  s.source.rate = 1.0;
  s.source.push_rate = 1.0;
  s.run.warmup = 20.0;
  s.run.horizon = 220.0;
  s.run.trials = 200;
  s.run.seed = seed;
  return s;
}

}  // namespace timely::tests
