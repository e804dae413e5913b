#pragma once
// What one simulation run computes: every scenario key of INTERFACE.md, already validated.
#include <cstdint>
#include <optional>
#include <string_view>

#include "sim/topology.hpp"
#include "theory/capacity.hpp"

namespace timely::sim {

enum class GossipMode { push, pull, exchange };
enum class StalenessModel { users, source };

std::string_view to_string(GossipMode);
std::string_view to_string(StalenessModel);
std::optional<GossipMode> parse_gossip_mode(std::string_view);
std::optional<StalenessModel> parse_staleness_model(std::string_view);
std::string_view to_string(theory::Scaling);
std::optional<theory::Scaling> parse_scaling(std::string_view);

struct GossipSpec {
  double capacity = 1.0;  // kappa
  theory::Scaling scaling = theory::Scaling::constant;
  GossipMode mode = GossipMode::push;
};

struct UpdateSpec {
  double rate = 1.0;   // mu
  double delay = 0.0;  // c: inter-update times are c + Exp(mu)
};

struct StalenessSpec {
  StalenessModel model = StalenessModel::users;
  std::uint32_t tracked = 0;  // K tracked sources in the users model; 0 = all
  std::uint32_t bound = 10;   // B in P(worst staleness > B)
};

struct SourceSpec {
  double rate = 1.0;       // lambda_e
  double push_rate = 1.0;  // lambda_0, total over users
};

struct RunSpec {
  double horizon = 1000.0;
  double warmup = 100.0;
  std::uint32_t trials = 16;
  std::uint64_t seed = 1;
};

struct Scenario {
  NetworkSpec network;
  GossipSpec gossip;
  UpdateSpec updates;
  StalenessSpec staleness;
  SourceSpec source;
  RunSpec run;

  // lambda = kappa * g(n), each user's gossip rate (MODEL.md section 1).
  double gossip_rate() const {
    return theory::gossip_capacity(gossip.capacity, gossip.scaling, network.n);
  }
  // Long-run update rate r = 1/(c + 1/mu) of a user (MODEL.md section 1).
  double update_rate() const { return 1.0 / (updates.delay + 1.0 / updates.rate); }
  // K: sources whose staleness is measured (users model).
  std::uint32_t tracked_sources() const {
    return staleness.tracked == 0 ? network.n : staleness.tracked;
  }
};

}  // namespace timely::sim
