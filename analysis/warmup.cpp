#include "analysis/warmup.hpp"

#include <cmath>
#include <limits>
#include <fmt/format.h>

#include "sim/input_error.hpp"

namespace timely::analysis {

double Warmup::bias(double warmup, double horizon) const {
  if (!(horizon > warmup)) return std::exp(-warmup / age);
  // (1 / (H - w)) * integral over [w, H] of e^{-t/tau} dt, the exponential tail's share of the mean.
  return age * (std::exp(-warmup / age) - std::exp(-horizon / age)) / (horizon - warmup);
}

double window_drift(double x) {
  const Warmup unit{1.0, 0.0};  // ages in units of tau
  const double before = unit.bias(x / 4, x / 2), now = unit.bias(x / 2, x);
  return (before - now) / (1.0 - before);
}

double window_drift_age(double drift) {
  if (!(drift > 0.0)) return std::numeric_limits<double>::infinity();
  // window_drift falls monotonically from 1 to 0: bisect on log x over [1e-3, 1e3], where it
  // spans 0.9998 to below 1e-100 (a larger drift reads as x = 1e-3, an age of 1000 T).
  double lo = std::log(1e-3), hi = std::log(1e3);
  if (window_drift(std::exp(lo)) <= drift) return std::exp(lo);
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    (window_drift(std::exp(mid)) > drift ? lo : hi) = mid;
  }
  return std::exp(hi);
}

std::optional<Warmup> warmup_advice(const sim::Scenario& s, const Prediction& p) {
  if (s.learning.enabled() || !p.staleness) return std::nullopt;
  double age = 0.0;
  if (s.staleness.model == sim::StalenessModel::source)
    age = p.age_time.value_or(*p.staleness / s.source.rate);
  else
    age = *p.staleness / s.update_rate();  // versions behind = version rate x age (docs/model.md §2)
  if (!(age > 0.0) || !std::isfinite(age)) return std::nullopt;
  return Warmup{age, age * std::log(1.0 / warmup_tolerance)};
}

std::optional<std::string> warmup_warning(const sim::Scenario& s, const Prediction& p) {
  const auto advice = warmup_advice(s, p);
  if (!advice) return std::nullopt;
  const double missing = advice->bias(s.run.warmup, s.run.horizon);
  if (missing <= warmup_tolerance) return std::nullopt;
  return fmt::format(
      "run.warmup = {:.4g} is short of stationarity: the expected age is {:.4g}, so the means may miss up to "
      "{:.0f}% of their stationary value; use run.warmup >= {:.4g} (or \"auto\")",
      s.run.warmup, advice->age, 100.0 * missing, advice->recommended);
}

void settle_warmup(sim::Scenario& s, const Prediction& p) {
  if (!s.run.warmup_auto) return;
  const auto advice = warmup_advice(s, p);
  if (!advice)
    throw InputError(fmt::format(
        "run.warmup: \"auto\" takes the warm-up from the run's staleness theory, and this run has none ({}); "
        "give a number",
        s.learning.enabled() ? "learning mode: the models converge on their own time" : p.method));
  if (!(advice->recommended < s.run.horizon))
    throw InputError(fmt::format(
        "run.warmup: \"auto\" chose {:.4g} (ln 100 times the expected age {:.4g}), which is not below run.horizon = "
        "{:.4g}; raise run.horizon",
        advice->recommended, advice->age, s.run.horizon));
  s.run.warmup = advice->recommended;
  s.run.warmup_auto = false;
  s.run.warmup_chosen = true;
}

}  // namespace timely::analysis
