#include "experiments/warmup_pilot.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>

#include "analysis/statistics.hpp"
#include "analysis/warmup.hpp"
#include "sim/input_error.hpp"
#include "sim/trial.hpp"
#include "sim/trials.hpp"

namespace timely::experiments {

double pilot_first_horizon(const sim::Scenario& s) {
  const double latency = s.gossip.latency_law ? s.gossip.latency_law->mean() : s.gossip.latency;
  return 4.0 / s.gossip_rate() + latency;
}

namespace {

// One stage: pilot_trials trials with horizon T and warm-up T/2, their window means summarized.
PilotStage run_stage(const sim::Scenario& base, const sim::Graph& graph, double horizon, std::uint32_t stage,
                     unsigned threads, std::uint64_t& events) {
  sim::Scenario s = base;
  s.run.horizon = horizon;
  s.run.warmup = horizon / 2;
  std::vector<sim::TrialResult> results(pilot_trials);
  sim::for_each_trial(pilot_trials, threads, {}, [&](std::uint32_t k) {
    results[k] = sim::run_trial(s, graph, pilot_first_index + std::uint64_t{stage} * pilot_trials + k);
  });
  std::vector<double> means;
  for (const auto& r : results) {  // in trial order, so the sums are the same for every thread count
    means.push_back(r.mean_staleness);
    events += r.events;
  }
  const auto summary = analysis::summarize(means, pilot_level);
  return {horizon, summary.mean, summary.ci_half_width.value_or(0.0), std::nullopt};
}

}  // namespace

WarmupPilot run_warmup_pilot(const sim::Scenario& scenario, const sim::Graph& graph, const RunLimits& limits,
                             unsigned threads) {
  const auto start = std::chrono::steady_clock::now();
  sim::Scenario s = scenario;
  s.run.warmup_auto = false;
  s.run.trials = pilot_trials;
  const double tolerance = analysis::warmup_tolerance;
  WarmupPilot pilot;
  double planned_events = 0.0;  // estimated, checked before each stage runs
  for (double horizon = pilot_first_horizon(s);; horizon *= 2) {
    if (horizon > scenario.run.horizon) {
      const std::string what = "run.warmup: \"auto\" without a staleness theory runs a pilot that doubles its horizon "
                               "until the mean staleness stops rising";
      if (pilot.stages.size() < 2)
        throw InputError(fmt::format("{}, from {:.4g} (4 / lambda plus the latency): run.horizon = {:.4g} leaves no "
                                     "room for two stages; raise run.horizon to at least {:.4g} or give run.warmup a number",
                                     what, pilot_first_horizon(s), scenario.run.horizon, 2 * pilot_first_horizon(s)));
      const PilotStage &a = pilot.stages[pilot.stages.size() - 2], &b = pilot.stages.back();
      throw InputError(fmt::format(
          "{}, and it was still rising at run.horizon = {:.4g} (the window mean went from {:.4g} to {:.4g} ± {:.2g} "
          "between horizons {:.4g} and {:.4g}); raise run.horizon or give run.warmup a number",
          what, scenario.run.horizon, a.mean, b.mean, std::hypot(a.half_width, b.half_width), a.horizon, b.horizon));
    }
    s.run.horizon = horizon;
    planned_events += estimated_events(s) * pilot_trials;  // estimated_events: one trial's
    if (!(planned_events <= limits.max_events))
      throw InputError(fmt::format(
          "run.warmup: \"auto\" without a staleness theory runs a pilot, which would simulate about {:.3g} events by "
          "its stage of horizon {:.4g}, more than the limit of {:.3g} (give run.warmup a number, or raise the limit "
          "with --max-events)",
          planned_events, horizon, limits.max_events));
    pilot.stages.push_back(run_stage(s, graph, horizon, static_cast<std::uint32_t>(pilot.stages.size()), threads,
                                     pilot.events));
    if (pilot.stages.size() < 2) continue;
    PilotStage& now = pilot.stages.back();
    const PilotStage& before = pilot.stages[pilot.stages.size() - 2];
    if (!(before.mean > 0.0)) continue;  // nothing measured yet: no drift to read
    // The stages' trials are independent, so the change's half-width is (about) the two
    // half-widths in quadrature: the rise is at most `drift` of the earlier mean (one-sided
    // 97.5%), and the exponential tail that rises that much has an expected age of at most
    // T / window_drift_age(drift) (analysis/warmup.hpp).
    const double drift = (now.mean - before.mean + std::hypot(now.half_width, before.half_width)) / before.mean;
    now.age_bound = horizon / analysis::window_drift_age(drift);
    // Settled once the pilot has run past the warm-up that age needs (ln 100 ages, as with
    // theory), and that warm-up leaves the run a window (a last stage at T = run.horizon
    // might not).
    const double needed = *now.age_bound * std::log(1.0 / tolerance);
    if (needed <= horizon && std::max(horizon / 2, needed) < scenario.run.horizon) {
      pilot.warmup = std::max(horizon / 2, needed);
      break;
    }
  }
  pilot.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return pilot;
}

std::optional<WarmupPilot> settle_warmup(sim::Scenario& s, const sim::Graph& graph,
                                         const analysis::Prediction& prediction, const RunLimits& limits,
                                         unsigned threads) {
  if (!s.run.warmup_auto) return std::nullopt;
  if (s.learning.enabled() || analysis::warmup_advice(s, prediction)) {
    analysis::settle_warmup(s, prediction);  // from the theory, or refused in learning mode
    return std::nullopt;
  }
  WarmupPilot pilot = run_warmup_pilot(s, graph, limits, threads);
  s.run.warmup = pilot.warmup;
  s.run.warmup_auto = false;
  s.run.warmup_chosen = true;
  return pilot;
}

}  // namespace timely::experiments
