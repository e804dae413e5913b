#include "sim/scenario.hpp"

namespace timely::sim {

std::string_view to_string(GossipMode m) {
  switch (m) {
    case GossipMode::push: return "push";
    case GossipMode::pull: return "pull";
    case GossipMode::exchange: return "exchange";
  }
  return "?";
}

std::string_view to_string(StalenessModel m) {
  return m == StalenessModel::users ? "users" : "source";
}

std::optional<GossipMode> parse_gossip_mode(std::string_view s) {
  for (GossipMode m : {GossipMode::push, GossipMode::pull, GossipMode::exchange})
    if (to_string(m) == s) return m;
  return std::nullopt;
}

std::optional<StalenessModel> parse_staleness_model(std::string_view s) {
  for (StalenessModel m : {StalenessModel::users, StalenessModel::source})
    if (to_string(m) == s) return m;
  return std::nullopt;
}

std::string_view to_string(theory::Scaling s) {
  switch (s) {
    case theory::Scaling::constant: return "constant";
    case theory::Scaling::log: return "log";
    case theory::Scaling::linear: return "linear";
  }
  return "?";
}

std::optional<theory::Scaling> parse_scaling(std::string_view text) {
  for (theory::Scaling s : {theory::Scaling::constant, theory::Scaling::log, theory::Scaling::linear})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

}  // namespace timely::sim
