#pragma once
// How long a run must discard before its time averages are stationary (docs/model.md §2).
//
// Every user starts holding version 0 of every source, made at time 0. Merging keeps the
// newer information, and information made after time 0 travels by the same contacts whether
// or not the run started at 0, so a user's age in time is min(t, A) with A the stationary age:
// the run at time t misses E[(A - t)^+] of the stationary mean age, and its staleness the same
// fraction. timely takes the tail of A to be at most exponential with the exact mean
// tau = E[A] (the age of gossip is a sum of exponential spreading stages, lighter-tailed than
// that): then a window [w, H] misses at most tau (e^{-w/tau} - e^{-H/tau}) / (H - w) of the mean.
#include <optional>
#include <string>

#include "analysis/predict.hpp"
#include "sim/scenario.hpp"

namespace timely::analysis {

struct Warmup {
  double age;          // tau: the expected age in time of a user's information about a source
  double recommended;  // tau ln 100: at most 1% of the mean missing from any window after it

  // The fraction of the stationary mean a window [warmup, horizon] misses, at most.
  double bias(double warmup, double horizon) const;
};

// The fraction of the mean above which a run is warned about its warm-up.
inline constexpr double warmup_tolerance = 0.01;

// The same exponential tail read backwards, for runs without theory (experiments/warmup_pilot.hpp):
// the relative rise (M(T) - M(T/2)) / M(T/2) of the mean M(T) over the window [T/2, T] when T is
// x = T / tau expected ages. It falls from 1 (x -> 0, the mean grows like t) to 0; at
// x = ln(1 / warmup_tolerance) it is 0.183.
double window_drift(double x);
// Its inverse: the x whose drift is `drift`, infinity for a drift of 0 or less. A window rising by
// at most `drift` at horizon T has an expected age of at most T / window_drift_age(drift).
double window_drift_age(double drift);

// From the run's staleness theory (tau = staleness / version rate, or the source model's exact
// mean age in time); nullopt without one, and in learning mode, where the models' own
// convergence sets the warm-up too.
std::optional<Warmup> warmup_advice(const sim::Scenario& scenario, const Prediction& prediction);

// One line when the scenario's warm-up leaves more than warmup_tolerance of the mean out
// ("run.warmup = 10 is shorter than ... recommended 74.2"); nullopt when it is long enough or
// there is nothing to judge it by.
std::optional<std::string> warmup_warning(const sim::Scenario& scenario, const Prediction& prediction);

// Settles run.warmup = "auto": the warm-up becomes the recommended one. Throws InputError
// naming run.warmup when the run has no staleness theory to take it from (learning mode, or a
// scenario without theory), or when it does not fit below run.horizon. Nothing to do otherwise.
// The simulator's callers use experiments::settle_warmup, which runs a pilot where a
// staleness run has no theory (experiments/warmup_pilot.hpp; analysis does not simulate).
void settle_warmup(sim::Scenario& scenario, const Prediction& prediction);

}  // namespace timely::analysis
