#include "experiments/scenario_resources.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "sim/input_error.hpp"
#include "sim/quadratic.hpp"
#include "sim/trial.hpp"
#include "sim/user_clocks.hpp"

namespace timely::experiments {

using sim::Scenario;

double model_parameters(const Scenario& s);  // below

namespace {

// ---- the network layer's load (docs/model.md §7) ----------------------------------------
// Messages a gossip tick sends: push its state; pull a request and the reply; exchange an
// opening and the reply. Each holds a copy of its sender's state until it arrives or is lost.
double messages_per_tick(const Scenario& s) { return s.gossip.mode == sim::GossipMode::push ? 1.0 : 2.0; }

// Bytes of one message on the uplink, as the engine sends it: the staleness message, or the
// model's parameters (floats; the quadratic model's coordinates are doubles).
double wire_bytes(const Scenario& s) {
  if (!s.learning.enabled()) return s.staleness_message_bytes();
  if (s.learning.model.kind == sim::ModelKind::quadratic) return 8.0 * s.learning.data.features;
  return 4.0 * model_parameters(s);
}

double transfer_time(const Scenario& s) { return s.gossip.bandwidth > 0.0 ? wire_bytes(s) / s.gossip.bandwidth : 0.0; }

// Events per unit time the network layer adds to the clocks': each message's arrival (and the
// end of its transfer over a finite uplink), and every Markov churn transition. A trace's
// transitions are bounded by its file.
double network_event_rate(const Scenario& s, double mean_gossip) {
  if (!s.networked()) return 0.0;
  const double n = s.network.n;
  double rate = n * mean_gossip * messages_per_tick(s) * (transfer_time(s) > 0.0 ? 2.0 : 1.0);
  if (s.churn.model == sim::ChurnModel::markov) rate += n * 2.0 / (s.churn.online_mean + s.churn.offline_mean);
  return rate;
}

// The users' clock rates as the estimates need them: means, and the extremes that bound
// a version's count and spread. Heterogeneous users are resolved (O(n)).
struct ClockRates {
  double mean_update = 0.0, max_update = 0.0, mean_gossip = 0.0, min_gossip = 0.0;
};

ClockRates clock_rates(const Scenario& s) {
  ClockRates c{s.update_rate(), s.update_rate(), s.gossip_rate(), s.gossip_rate()};
  if (!s.heterogeneous() || (s.users.table && s.users.table->rows != s.network.n)) return c;
  const sim::UserClocks clocks = sim::user_clocks(s);
  c = {0.0, 0.0, 0.0, clocks.min_gossip_rate()};
  for (std::uint32_t i = 0; i < s.network.n; ++i) {
    c.mean_update += clocks.long_run_rate(i);
    c.max_update = std::max(c.max_update, clocks.long_run_rate(i));
    c.mean_gossip += clocks.gossip_rate[i];
  }
  c.mean_update /= s.network.n;
  c.mean_gossip /= s.network.n;
  return c;
}

// The estimates below from rates resolved once (per-user clocks cost O(n) draws to resolve).
double events_at(const Scenario& s, const ClockRates& c) {
  const double n = s.network.n;
  // Every clock ticks at its long-run rate: each user's gossip and update clocks (users
  // model and learning), or the users' gossip plus the source's two clocks (source model).
  const double rate = s.staleness.model == sim::StalenessModel::source
                          ? n * s.gossip_rate() + s.source.rate + s.source.push_rate
                          : n * (c.mean_gossip + c.mean_update) + network_event_rate(s, c.mean_gossip);
  return s.run.horizon * rate;
}

double work_at(const Scenario& s, const ClockRates& c) {
  const double version_rate = s.staleness.model == sim::StalenessModel::source ? s.source.rate : c.mean_update;
  const double span = version_rate / c.min_gossip * std::log(static_cast<double>(s.network.n));
  // A gossip of the users model also merges the views of all K tracked sources.
  const double merged = s.staleness.model == sim::StalenessModel::source ? 0.0 : s.tracked_sources();
  return events_at(s, c) * (1.0 + merged + span);
}

}  // namespace

double estimated_events(const Scenario& s) { return events_at(s, clock_rates(s)); }

double estimated_work(const Scenario& s) { return work_at(s, clock_rates(s)); }

// Parameters of the scenario's model, from the keys alone (models/mlp.hpp builds the same
// layers): inputs, hidden widths and outputs, each layer with its biases.
double model_parameters(const Scenario& s) {
  const auto& l = s.learning;
  const bool fashion = l.data.source == sim::DataSource::fashion_mnist;
  const double inputs = fashion ? 784.0 : l.data.features;
  const double outputs = l.data.source == sim::DataSource::synthetic_regression ? 1.0
                         : fashion                                               ? 10.0
                                                                                 : l.data.classes;
  double parameters = 0.0, width = inputs;
  if (l.model.kind == sim::ModelKind::mlp)
    for (const int hidden : l.model.hidden) {
      parameters += (width + 1.0) * hidden;
      width = hidden;
    }
  return parameters + (width + 1.0) * outputs;
}

// Test samples one evaluation uses.
double evaluation_samples(const Scenario& s) {
  const auto& d = s.learning.data;
  const double test = d.test_samples ? d.test_samples : d.source == sim::DataSource::fashion_mnist ? 10000.0 : 5000.0;
  return s.learning.observe.test_samples ? std::min<double>(s.learning.observe.test_samples, test) : test;
}

constexpr double max_teacher_operations = 1e11;
constexpr std::uint32_t max_least_squares_features = 1000;

double estimated_observations(const Scenario& s) {
  return s.learning.enabled() ? std::floor(s.run.horizon / s.learning.observe.every) + 1.0 : 0.0;
}

// The quadratic model (docs/model.md §6): every event costs O(d) arithmetic plus O(log n) for
// the worst-error tree, and every observation O(n d); the models take n d doubles per trial.
static void check_quadratic_resources(const Scenario& s, const RunLimits& limits, double events_per_trial) {
  const double n = s.network.n, d = s.learning.data.features;
  const double per_event = 8.0 * d + 2.0 * std::log2(n) + 20.0;
  const double operations = (events_per_trial * per_event + estimated_observations(s) * 6.0 * n * d) * s.run.trials;
  const double limit = learning_flops_per_event * limits.max_events;
  if (!(operations <= limit))
    throw InputError(fmt::format("data.features, network.n, run.horizon, run.trials, observe.every: the quadratic model "
                                 "would take about {:.3g} operations (O(data.features) per event, O(n data.features) per "
                                 "observation), more than the limit of {:.3g} ({:g} per --max-events; lower these keys or "
                                 "raise --max-events)",
                                 operations, limit, learning_flops_per_event));
  constexpr double memory = 4.0 * (1u << 30);
  const double bytes = static_cast<double>(std::max(sim::quadratic_state_bytes(s), sim::quadratic_problem_bytes(s)));
  if (bytes > memory)
    throw InputError(fmt::format("network.n, data.features: {} users in {} dimensions need {:.1f} GiB per trial "
                                 "(at most 4 GiB)",
                                 s.network.n, s.learning.data.features, bytes / (1u << 30)));
}

// Messages in flight each hold a copy of their sender's state (K versions, or a model) from the
// start of their transfer to their arrival: by Little's law about (send rate) x (time in
// flight) copies at once, and a queue that grows when ticks outpace a slow uplink. A latency
// of 1e9 makes every message of the run live to its end, so this is bounded before anything runs.
static void check_message_memory(const Scenario& s, const ClockRates& rates) {
  if (!s.networked()) return;
  const double n = s.network.n, transfer = transfer_time(s);
  double sends = n * rates.mean_gossip * messages_per_tick(s), backlog = 0.0;
  if (transfer > 0.0 && sends > n / transfer) {  // each uplink finishes at most 1 / transfer per unit time
    if (s.gossip.busy == sim::BusyPolicy::queue) backlog = (sends - n / transfer) * s.run.horizon;
    sends = n / transfer;
  }
  const double latency = s.gossip.latency_law ? s.gossip.latency_law->mean() : s.gossip.latency;
  const double in_flight = sends * std::min(s.run.horizon, transfer + latency);
  const double copy = s.learning.enabled() ? wire_bytes(s) : 4.0 * s.tracked_sources();
  constexpr double per_message = 64.0, per_queued = 32.0;  // bookkeeping besides the copy
  const double bytes = in_flight * (copy + per_message) + backlog * per_queued;
  constexpr double limit = 2.0 * (1u << 30);
  if (bytes > limit)
    throw InputError(fmt::format("gossip.latency, gossip.bandwidth, network.n, run.horizon: about {:.3g} messages would "
                                 "be in flight at once, each holding a copy of its sender's state ({:g} bytes){}: "
                                 "{:.1f} GiB per trial (at most 2 GiB; lower gossip.latency, network.n or "
                                 "staleness.tracked, or raise gossip.bandwidth)",
                                 in_flight, copy,
                                 backlog > 0.0 ? fmt::format(", and {:.3g} sends queued for the uplink", backlog) : "",
                                 bytes / (1u << 30)));
}

void check_resources(const Scenario& s, const RunLimits& limits) {
  const ClockRates rates = clock_rates(s);
  // Versions are 32-bit counters; keep the expected count far below 2^32.
  const double versions = s.run.horizon *
      (s.staleness.model == sim::StalenessModel::source ? s.source.rate : rates.max_update);
  if (versions > 1e9)
    throw InputError(fmt::format("run.horizon: {} time units make about {:.3g} versions per source; "
                                 "expected at most 1e9 (shorten run.horizon or lower the update rate)",
                                 s.run.horizon, versions));
  // Total work, before anything runs: a typo such as gossip.capacity = 1e300 must be refused,
  // not simulated for ever.
  // The limits bound a whole run (every trial), so a million trials of a small scenario are
  // refused as surely as one huge trial.
  const double trials = s.run.trials;
  const double events = events_at(s, rates) * trials;
  if (!(events <= limits.max_events)) {
    const char* keys = s.staleness.model == sim::StalenessModel::source
                           ? "run.horizon, network.n, gossip.capacity, gossip.scaling, source.rate, source.push_rate"
                           : "run.horizon, network.n, gossip.capacity, gossip.scaling, updates.rate, updates.delay";
    // Markov churn toggles every user at rate 2 / (online_mean + offline_mean): short periods are events too.
    const char* churn = s.churn.model == sim::ChurnModel::markov ? ", churn.online_mean, churn.offline_mean" : "";
    throw InputError(fmt::format("{}{}, run.trials: the run would simulate about {:.3g} events, more than the limit of "
                                 "{:.3g} (lower these keys, or raise the limit with --max-events)",
                                 keys, churn, events, limits.max_events));
  }
  // Each event integrates the staleness over the span of versions between a source's newest
  // and oldest known one, about (rate of versions / gossip rate) ln n of them.
  const double work = work_at(s, rates) * trials;
  if (!(work <= work_per_event_limit * limits.max_events))
    throw InputError(fmt::format("{}, run.trials: the run would simulate about {:.3g} events of about {:.3g} steps each "
                                 "(tracked sources merged and the staleness span integrated), more than {:.3g} steps in "
                                 "all (lower these keys or staleness.tracked, or raise the limit with --max-events)",
                                 s.staleness.model == sim::StalenessModel::source
                                     ? "source.rate, gossip.capacity, gossip.scaling, network.n, run.horizon"
                                     : "updates.rate, updates.delay, gossip.capacity, gossip.scaling, network.n, run.horizon",
                                 events, work / events, work_per_event_limit * limits.max_events));
  const double observations = estimated_observations(s);
  if (observations > max_observations)
    throw InputError(fmt::format("observe.every, run.horizon: one trial would record about {:.3g} observations, "
                                 "more than the limit of {:.3g} (observe less often or shorten run.horizon)",
                                 observations, max_observations));
  if (s.learning.model.kind == sim::ModelKind::quadratic) {
    check_quadratic_resources(s, limits, events_at(s, rates));
  } else if (s.learning.enabled()) {
    // Learning work: every local update computes train.steps mini-batch gradients, and every
    // observation evaluates the average model and observe.users users' models on the test
    // samples; each costs a few multiply-adds per parameter and sample.
    const double gradients = s.run.horizon * s.network.n * rates.mean_update * s.learning.train.steps *
                             static_cast<double>(s.learning.train.batch);
    const double evaluations = estimated_observations(s) * (s.learning.observe.users + 1.0) * evaluation_samples(s);
    // Every sample also costs a fixed amount beside its parameters (batch gathering, the
    // loss, the step): counted as 1000 operations, so tiny models are not free.
    const double flops = (model_parameters(s) + 1000.0) * (6.0 * gradients + 2.0 * evaluations) * trials;
    const double flop_limit = learning_flops_per_event * limits.max_events;
    if (!(flops <= flop_limit))
      throw InputError(fmt::format("train.steps, train.batch, model.hidden, data.features, observe.every, network.n, "
                                   "run.horizon, run.trials: each trial would compute about {:.3g} sample gradients and {:.3g} "
                                   "sample evaluations of a {:.3g}-parameter model, about {:.3g} operations in all, more than "
                                   "the limit of {:.3g} ({:g} per --max-events; lower these keys or raise --max-events)",
                                   gradients, evaluations, model_parameters(s), flops, flop_limit,
                                   learning_flops_per_event));
    // A synthetic set is generated in memory as floats: refuse one that cannot fit.
    if (s.learning.data.source != sim::DataSource::fashion_mnist) {
      const auto& d = s.learning.data;
      const double samples = (d.train_samples ? d.train_samples : 20000.0) + (d.test_samples ? d.test_samples : 5000.0);
      const double bytes = samples * d.features * sizeof(float);
      if (bytes > 4.0 * (1u << 30))
        throw InputError(fmt::format("data.features, data.train_samples, data.test_samples: the synthetic data set "
                                     "needs {:.1f} GiB (at most 4 GiB)",
                                     bytes / (1u << 30)));
      if (d.source == sim::DataSource::synthetic_regression && d.target == sim::RegressionTarget::teacher) {
        // The teacher's hidden layer is evaluated for every sample when the set is drawn
        // (and again for the features of data.spread).
        const double operations = samples * d.teacher_hidden * (d.features + 1.0);
        if (operations > max_teacher_operations)
          throw InputError(fmt::format("data.teacher_hidden, data.features, data.train_samples, data.test_samples: "
                                       "drawing the teacher's targets takes about {:.3g} operations (at most {:.3g})",
                                       operations, max_teacher_operations));
      }
      // The exact global optimum of a linear model on data it cannot fit exactly (docs/model.md
      // §5) solves (features + 1)-dimensional normal equations over all training samples.
      if (d.source == sim::DataSource::synthetic_regression && s.learning.model.kind == sim::ModelKind::linear &&
          (d.target == sim::RegressionTarget::teacher || d.spread > 0.0) && d.features > max_least_squares_features)
        throw InputError(fmt::format("data.features: the exact global optimum of a linear model with data.target = "
                                     "teacher or data.spread > 0 is solved for at most {} features, got {}",
                                     max_least_squares_features, d.features));
    }
  }
  check_message_memory(s, rates);
  const double per_trial = static_cast<double>(sim::trial_state_bytes(s));
  constexpr double limit = 2.0 * (1u << 30);
  if (per_trial > limit)
    throw InputError(fmt::format("staleness.tracked: tracking {} sources of {} users needs {:.1f} GiB per trial "
                                 "(at most 2 GiB); set staleness.tracked to at most {}",
                                 s.tracked_sources(), s.network.n, per_trial / (1u << 30),
                                 static_cast<std::uint64_t>(limit / (4.0 * s.network.n))));
}

}  // namespace timely::experiments
