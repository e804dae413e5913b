#include "sim/trial.hpp"

#include "sim/input_error.hpp"
#include "sim/message_layer.hpp"
#include "sim/source_model.hpp"
#include "sim/users_model.hpp"

namespace timely::sim {
namespace {

using namespace engine;

template <class G, GossipMode Mode>
TrialResult run_users(const Scenario& s, const G& graph, std::uint64_t index, Rng& rng) {
  NoTrace no_trace;
  UsersModel<G, Mode> m(s, graph, rng, no_trace);
  Window window(s.run.warmup, s.run.horizon);
  std::optional<NetworkOutcome> network;
  const ClockCounts counts = run_clocks<Mode, PolicyLoop::users>(m, s, index, rng, window, s.staleness_message_bytes(), network);
  m.close(window.horizon());
  return users_result(m, window, counts, network);
}

template <class G, GossipMode Mode>
SamplePath trace_users(const Scenario& s, const G& graph, std::uint64_t index, Rng& rng) {
  PairTrace trace;
  UsersModel<G, Mode, PairTrace> m(s, graph, rng, trace);
  SamplePath path;
  path.source = m.tracked_user(0);
  path.observer = (path.source + m.size() / 2) % m.size();
  trace.observer = path.observer;
  Window window(s.run.warmup, s.run.horizon);
  std::optional<NetworkOutcome> network;
  run_clocks<Mode, PolicyLoop::users>(m, s, index, rng, window, s.staleness_message_bytes(), network);
  path.steps = std::move(trace.steps);
  return path;
}

template <class G, GossipMode Mode>
RumourResult rumour(const Scenario& s, const G& graph, Rng& rng) {
  Scenario one_source = s;
  one_source.staleness.tracked = 1;
  PairTrace trace;
  UsersModel<G, Mode, PairTrace> m(one_source, graph, rng, trace);
  trace.observer = (m.tracked_user(0) + m.size() / 2) % m.size();
  m.update(0, 0.0);
  boost::random::exponential_distribution<double> next_gap(s.gossip_rate() * m.size());
  boost::random::uniform_int_distribution<std::uint32_t> pick_user(0, m.size() - 1);
  double t = 0.0;
  with_policy<PolicyLoop::users>(s, m.size(), [&](auto& policy) {
    using Policy = std::decay_t<decltype(policy)>;
    if constexpr (!has_gossip_clocks<Policy>())
      throw InputError("gossip.policy: rumour spreading runs on the gossip clocks; \"" +
                       std::string(Policy::info.name) + "\" has none (expected \"uniform\")");
    while (m.histograms()[0].min_view() == 0) {
      t += next_gap(rng);
      gossip_tick(m, policy, pick_user(rng), t, rng);
    }
  });
  RumourResult r;
  r.all_informed = t;
  for (const StalenessStep& step : trace.steps)
    if (step.time > 0.0 && step.staleness == 0) {
      r.one_informed = step.time;
      break;
    }
  return r;
}

}  // namespace

Graph scenario_graph(const Scenario& s) {
  Rng rng = make_rng(s.run.seed, Stream::graph, 0);
  return build_graph(s.network, rng);
}

TrialResult run_trial(const Scenario& s, const Graph& graph, std::uint64_t index) {
  if (s.staleness.model == StalenessModel::source) return run_source_trial(s, graph, index);
  return dispatch(s, graph, index, [&](const auto& g, auto mode, Rng& rng) {
    return run_users<std::decay_t<decltype(g)>, decltype(mode)::value>(s, g, index, rng);
  });
}

SamplePath sample_path(const Scenario& s, const Graph& graph, std::uint64_t index) {
  return dispatch(s, graph, index, [&](const auto& g, auto mode, Rng& rng) {
    return trace_users<std::decay_t<decltype(g)>, decltype(mode)::value>(s, g, index, rng);
  });
}

RumourResult rumour_trial(const Scenario& s, const Graph& graph, std::uint64_t index) {
  return dispatch(s, graph, index, [&](const auto& g, auto mode, Rng& rng) {
    return rumour<std::decay_t<decltype(g)>, decltype(mode)::value>(s, g, rng);
  });
}

std::uint64_t trial_state_bytes(const Scenario& s) {
  const std::uint64_t n = s.network.n;
  // The source model's users and pushes (sim/source_model.cpp); the users model's views, which
  // learning keeps too (sim/learning_clocks.hpp), whichever staleness.model says.
  if (s.staleness.model == StalenessModel::source && !s.learning.enabled())
    return static_cast<std::uint64_t>(source_state_bytes(s));
  return n * s.tracked_sources() * sizeof(std::uint32_t);
}

}  // namespace timely::sim
