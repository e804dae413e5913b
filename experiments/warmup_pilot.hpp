#pragma once
// run.warmup = "auto" without a staleness theory: a pilot of the same scenario measures when
// the running mean stops drifting (docs/model.md, "The warm-up").
//
// Every user's age at time t is min(t, A) with A stationary (analysis/warmup.hpp), so the
// expected staleness m(t) rises monotonically toward its stationary value, and so does the
// mean M(T) over the window [T/2, T] as T grows. The pilot doubles T = T0, 2 T0, 4 T0, ... and
// runs pilot_trials trials of the scenario with warm-up T/2 and horizon T at each stage. From
// the second stage on it bounds the rise (M(T) - M(T/2)) / M(T/2) from above (the change plus
// its 95% half-width, the stages' half-widths in quadrature), and reads it through the
// exponential tail that analysis/warmup.hpp takes for the theory: a rise of at most d means an
// expected age of at most tau+ = T / window_drift_age(d). It stops at the first stage whose
// horizon has passed the warm-up that bound needs, tau+ ln 100 <= T (a rise of at most 18%),
// and chooses the warm-up max(T/2, tau+ ln 100): the theory's rule with the age bounded from
// the pilot, and never before the pilot's last window, whose mean the run's window [w, H],
// H >= T, can only exceed (m rises). The bound needs no 1% precision of the mean, which would
// cost about as much as the run itself.
#include <cstdint>
#include <optional>
#include <vector>

#include "analysis/predict.hpp"
#include "experiments/scenario_resources.hpp"
#include "sim/scenario.hpp"
#include "sim/topology.hpp"

namespace timely::experiments {

// Trials per pilot stage: enough for a Student-t interval of the window mean (7 degrees of
// freedom), few enough that the pilot costs a fraction of a 16-trial run.
inline constexpr std::uint32_t pilot_trials = 8;
// The pilot's trials draw from their own indices: trial k of stage j is pilot_first_index +
// j pilot_trials + k. A run's trials are 0..run.trials-1 < 2^32 (run.trials is 32-bit), so the
// pilot shares no stream with them (sim/random.hpp) and leaves them unchanged bit for bit.
inline constexpr std::uint64_t pilot_first_index = std::uint64_t{1} << 40;
// The confidence of the change between successive stages' window means.
inline constexpr double pilot_level = 0.95;

struct PilotStage {
  double horizon;      // T: the stage's trials ran [0, T] and averaged over [T/2, T]
  double mean;         // the window mean staleness over pilot_trials trials
  double half_width;   // its pilot_level confidence half-width
  // From the second stage: the expected age tau+ the rise from the previous stage allows.
  std::optional<double> age_bound;
};

struct WarmupPilot {
  double warmup = 0.0;             // chosen: max(T/2, tau+ ln 100) at the last stage
  std::vector<PilotStage> stages;  // in order; the last one settled
  std::uint64_t events = 0;        // every event the pilot simulated
  double seconds = 0.0;            // its wall time
};

// The pilot's first stage horizon T0: four mean times between a user's gossip contacts, plus
// the mean message latency (no information moves faster).
double pilot_first_horizon(const sim::Scenario& scenario);

// Runs the pilot for `scenario` on `graph` (its result depends on (run.seed, the scenario)
// alone, not on `threads`). Throws InputError naming run.warmup when the mean has not settled
// by the last stage that fits in run.horizon, or when the pilot would simulate more events
// than limits.max_events (its stages' estimated events, added up before each runs).
WarmupPilot run_warmup_pilot(const sim::Scenario& scenario, const sim::Graph& graph, const RunLimits& limits,
                             unsigned threads);

// Settles run.warmup = "auto": from the theory where the run has one (analysis::settle_warmup,
// which also refuses learning mode), else by the pilot, whose record is returned. Nothing to
// do (nullopt) when the warm-up is a number.
std::optional<WarmupPilot> settle_warmup(sim::Scenario& scenario, const sim::Graph& graph,
                                         const analysis::Prediction& prediction, const RunLimits& limits,
                                         unsigned threads);

}  // namespace timely::experiments
