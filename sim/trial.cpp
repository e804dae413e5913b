#include "sim/trial.hpp"

#include <cmath>

#include "sim/network.hpp"

namespace timely::sim {
namespace {

using namespace engine;

template <class G, GossipMode Mode>
TrialResult run_users(const Scenario& s, const G& graph, std::uint64_t index, Rng& rng) {
  NoTrace no_trace;
  UsersModel<G, Mode> m(s, graph, rng, no_trace);
  Window window(s.run.warmup, s.run.horizon);
  std::optional<NetworkOutcome> network;
  const std::uint64_t events = run_clocks<Mode>(m, s, index, rng, window, s.staleness_message_bytes(), network);
  m.close(window.horizon());
  return users_result(m, window, events, network);
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
  run_clocks<Mode>(m, s, index, rng, window, s.staleness_message_bytes(), network);
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
  while (m.histograms()[0].min_view() == 0) {
    t += next_gap(rng);
    const std::uint32_t i = pick_user(rng);
    m.gossip(i, graph.pick(i, rng), t);
  }
  RumourResult r;
  r.all_informed = t;
  for (const StalenessStep& step : trace.steps)
    if (step.time > 0.0 && step.staleness == 0) {
      r.one_informed = step.time;
      break;
    }
  return r;
}

// ---- source model (Yates' age of gossip): one external source, users are observers ------

// Flattened: every call in the loop is inlined. GCC had left the ziggurat gap, the event
// choice, the partner draw and the histogram's move as calls, which cost a quarter of the
// loop's time (perf, issue 12).
template <class G, GossipMode Mode>
[[gnu::flatten]] TrialResult run_source(const Scenario& s, const G& graph, Rng& rng) {
  const std::uint32_t n = graph.size();
  const double lambda_total = s.gossip_rate() * n;
  const double push_total = s.source.push_rate;
  const double total = lambda_total + push_total + s.source.rate;
  std::vector<std::uint32_t> version(n, 0);
  VersionHistogram h(n);
  Window window(s.run.warmup, s.run.horizon);
  boost::random::exponential_distribution<double> next_gap(total);
  // Gossip ticks (actor: the caller), source pushes (actor: the receiver), source updates.
  const EventChoice<3> choice({lambda_total, push_total, s.source.rate}, {n, n, 1});
  TrialResult result;
  double t = 0.0;
  for (;;) {
    const double t_next = t + next_gap(rng);
    if (!window.admits(t_next, [&](double tw) { h.start_window(tw); })) break;
    t = t_next;
    ++result.events;
    const auto event = choice.draw(rng);
    if (event.kind == 0) {
      const std::uint32_t i = event.actor;
      const std::uint32_t j = graph.pick(i, rng);
      const std::uint32_t a = version[i], b = version[j];
      merge<Mode>(a, b, [&] { h.move(b, a, t); version[j] = a; }, [&] { h.move(a, b, t); version[i] = b; });
    } else if (event.kind == 1) {
      // The source pushes its newest version to a uniformly chosen user.
      const std::uint32_t j = event.actor;
      if (version[j] < h.version()) { h.move(version[j], h.version(), t); version[j] = h.version(); }
    } else {
      h.source_update(t);
    }
  }
  h.close(window.horizon());
  result.staleness_time = h.age_time();
  result.worst_time = h.worst_time();
  result.max_all_time = h.worst_time();  // one source: its worst observer is the worst pair
  result.mean_staleness = first_moment(result.staleness_time) / (static_cast<double>(n) * window.length());
  result.max_mean = first_moment(result.worst_time) / window.length();
  result.max_all_mean = result.max_mean;
  return result;
}

}  // namespace

Graph scenario_graph(const Scenario& s) {
  Rng rng = make_rng(s.run.seed, Stream::graph, 0);
  return build_graph(s.network, rng);
}

TrialResult run_trial(const Scenario& s, const Graph& graph, std::uint64_t index) {
  return dispatch(s, graph, index, [&](const auto& g, auto mode, Rng& rng) {
    using G = std::decay_t<decltype(g)>;
    if (s.staleness.model == StalenessModel::source) return run_source<G, decltype(mode)::value>(s, g, rng);
    return run_users<G, decltype(mode)::value>(s, g, index, rng);
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
  if (s.staleness.model == StalenessModel::source) return n * sizeof(std::uint32_t);
  return n * s.tracked_sources() * sizeof(std::uint32_t);
}

}  // namespace timely::sim
