// The checks of a run's cost against its limits (docs/interface.md, "Limits"). The
// estimates are the simulator's own (sim/cost.hpp); here they meet the limits, and a refusal
// names the keys that would lower them.
#include "experiments/scenario_resources.hpp"

#include <algorithm>
#include <cstdint>
#include <thread>
#include <fmt/format.h>

#include "analysis/first_passage.hpp"
#include "experiments/memory_limit.hpp"
#include "sim/cost.hpp"
#include "sim/input_error.hpp"
#include "sim/protocols.hpp"
#include "sim/quadratic.hpp"
#include "sim/trial.hpp"

namespace timely::experiments {

using sim::Scenario;
using sim::cost::ClockRates;

double estimated_events(const Scenario& s) { return sim::cost::events(s, sim::cost::clock_rates(s)); }

double estimated_work(const Scenario& s) { return sim::cost::work(s, sim::cost::clock_rates(s)); }

double estimated_observations(const Scenario& s) { return sim::cost::observations(s); }

namespace {

constexpr double gib = 1u << 30;
constexpr double max_versions = 1e9;  // versions are 32-bit counters: far below 2^32
constexpr double max_teacher_operations = 1e11;
constexpr std::uint32_t max_least_squares_features = 1000;

// Versions, events and the work of the staleness engine, for the whole run (every trial), so
// a million trials of a small scenario are refused as surely as one huge trial. A typo such
// as gossip.capacity = 1e300 must be refused, not simulated for ever.
void check_events(const Scenario& s, const RunLimits& limits, const ClockRates& rates) {
  const double versions = sim::cost::versions(s, rates);
  if (versions > max_versions)
    throw InputError(fmt::format("run.horizon: {} time units make about {:.3g} versions per source; "
                                 "expected at most 1e9 (shorten run.horizon or lower the update rate)",
                                 s.run.horizon, versions));
  const bool source = s.staleness.model == sim::StalenessModel::source;
  const double trials = s.run.trials;
  const double events = sim::cost::events(s, rates) * trials;
  if (!(events <= limits.max_events)) {
    // A swarm's events are its updates and its rollouts' arrivals (sim/cost.hpp).
    const bool swarm = s.learning.enabled() && sim::learning_protocol(s).reports_experience;
    const char* keys = swarm    ? "run.horizon, network.n, sapo.questions, sapo.share_fanout, updates.rate, updates.delay"
                       : source ? "run.horizon, network.n, gossip.capacity, gossip.scaling, source.rate, source.push_rate"
                                : "run.horizon, network.n, gossip.capacity, gossip.scaling, updates.rate, updates.delay";
    // Markov churn toggles every user at rate 2 / (online_mean + offline_mean): short periods are events too.
    const char* churn = s.churn.model == sim::ChurnModel::markov ? ", churn.online_mean, churn.offline_mean" : "";
    throw InputError(fmt::format("{}{}, run.trials: the run would simulate about {:.3g} events, more than the limit of "
                                 "{:.3g} (lower these keys, or raise the limit with --max-events)",
                                 keys, churn, events, limits.max_events));
  }
  // Each event merges the tracked sources' views, and each new version integrates the staleness
  // over the span of versions between a source's newest and oldest known one (sim/cost.cpp).
  const double work = sim::cost::work(s, rates) * trials;
  if (!(work <= work_per_event_limit * limits.max_events))
    throw InputError(fmt::format("{}, run.trials: the run would simulate about {:.3g} events of about {:.3g} steps each "
                                 "(tracked sources merged and the staleness span integrated), more than {:.3g} steps in "
                                 "all (lower these keys or staleness.tracked, or raise the limit with --max-events)",
                                 source ? "source.rate, gossip.capacity, gossip.scaling, network.n, run.horizon"
                                        : "updates.rate, updates.delay, gossip.capacity, gossip.scaling, network.n, run.horizon",
                                 events, work / events, work_per_event_limit * limits.max_events));
}

// The quadratic model: its arithmetic, and its n d doubles per trial.
// The quadratic model's n d doubles (its optima, and in a trial its iterates) against 4 GiB.
void check_quadratic_memory(const Scenario& s, double bytes, std::string_view what) {
  if (bytes > 4.0 * gib)
    throw InputError(fmt::format("network.n, data.features: {} users in {} dimensions need {:.1f} GiB {} "
                                 "(at most 4 GiB)",
                                 s.network.n, s.learning.data.features, bytes / gib, what));
}

void check_quadratic_resources(const Scenario& s, const RunLimits& limits, double events_per_trial) {
  const double operations = sim::cost::quadratic_operations(s, events_per_trial) * s.run.trials;
  const double limit = learning_flops_per_event * limits.max_events;
  if (!(operations <= limit))
    throw InputError(fmt::format("data.features, network.n, run.horizon, run.trials, observe.every: the quadratic model "
                                 "would take about {:.3g} operations (O(data.features) per event, O(n data.features) per "
                                 "observation), more than the limit of {:.3g} ({:g} per --max-events; lower these keys or "
                                 "raise --max-events)",
                                 operations, limit, learning_flops_per_event));
  check_quadratic_memory(s, static_cast<double>(std::max(sim::quadratic_state_bytes(s), sim::quadratic_problem_bytes(s))),
                         "per trial");
}

// A synthetic set is generated in memory as floats: refuse one that cannot fit, or whose
// teacher or exact optimum would take too long.
void check_synthetic_data(const Scenario& s) {
  const auto& d = s.learning.data;
  const double bytes = sim::cost::synthetic_data_bytes(s);
  if (bytes > 4.0 * gib)
    throw InputError(fmt::format("{}, data.train_samples, data.test_samples: the synthetic data set needs {:.1f} GiB "
                                 "(at most 4 GiB)",
                                 d.source == sim::DataSource::synthetic_arithmetic ? "data.classes, sapo.specialties"
                                                                                    : "data.features",
                                 bytes / gib));
  if (d.source == sim::DataSource::synthetic_regression && d.target == sim::RegressionTarget::teacher) {
    // The teacher's hidden layer is evaluated for every sample when the set is drawn
    // (and again for the features of data.spread).
    const double operations = sim::cost::teacher_operations(s);
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

// Linear, logistic and MLP models: gradients and evaluations, then the data set.
void check_learning_resources(const Scenario& s, const RunLimits& limits, const ClockRates& rates) {
  const sim::cost::LearningWork work = sim::cost::learning_work(s, rates);
  const double flops = work.operations * s.run.trials;
  const double flop_limit = learning_flops_per_event * limits.max_events;
  if (!(flops <= flop_limit))
    throw InputError(fmt::format("train.steps, train.batch, model.hidden, data.features, data.classes, observe.every, "
                                 "network.n, run.horizon, run.trials: each trial would compute about {:.3g} sample gradients and {:.3g} "
                                 "sample evaluations of a {:.3g}-parameter model, about {:.3g} operations in all, more than "
                                 "the limit of {:.3g} ({:g} per --max-events; lower these keys or raise --max-events)",
                                 work.gradients, work.evaluations, sim::cost::model_parameters(s), flops, flop_limit,
                                 learning_flops_per_event));
  if (s.learning.data.source != sim::DataSource::fashion_mnist) check_synthetic_data(s);
}

// Messages in flight (sim/cost.hpp): a latency of 1e9 makes every message of the run live to
// its end, so this is bounded before anything runs.
void check_message_memory(const Scenario& s, const ClockRates& rates) {
  if (!s.networked()) return;
  const sim::cost::MessageMemory m = sim::cost::message_memory(s, rates);
  if (m.bytes > 2.0 * gib)
    throw InputError(fmt::format("gossip.latency, gossip.bandwidth, network.n, run.horizon: about {:.3g} messages would "
                                 "be in flight at once, each holding a copy of its sender's state ({:g} bytes){}: "
                                 "{:.1f} GiB per trial (at most 2 GiB; lower gossip.latency, network.n or "
                                 "staleness.tracked, or raise gossip.bandwidth)",
                                 m.in_flight, m.copy_bytes,
                                 m.backlog > 0.0 ? fmt::format(", and {:.3g} sends queued for the uplink", m.backlog) : "",
                                 m.bytes / gib));
}

// The users model's views: a 32-bit version per (user, tracked source).
void check_state_memory(const Scenario& s) {
  const double per_trial = static_cast<double>(sim::trial_state_bytes(s));
  const double limit = 2.0 * gib;
  if (per_trial > limit)
    throw InputError(fmt::format("staleness.tracked: tracking {} sources of {} users needs {:.1f} GiB per trial "
                                 "(at most 2 GiB); set staleness.tracked to at most {}",
                                 s.tracked_sources(), s.network.n, per_trial / gib,
                                 static_cast<std::uint64_t>(limit / (4.0 * s.network.n))));
}

// A swarm's pools and the rollouts in flight to them (sim/sapo.hpp).
void check_sapo_memory(const Scenario& s, const ClockRates& rates) {
  if (!s.learning.enabled() || !sim::learning_protocol(s).reports_experience) return;
  const double bytes = sim::cost::sapo_memory_bytes(s, rates);
  if (bytes > 2.0 * gib)
    throw InputError(fmt::format("sapo.share_fanout, sapo.questions, sapo.keep, network.n: every user would hold about "
                                 "{:.3g} received rollouts, {:.1f} GiB per trial with those in flight (at most 2 GiB; "
                                 "lower sapo.share_fanout or sapo.keep)",
                                 sim::cost::sapo_pool_bytes(s) / 16.0 / s.network.n, bytes / gib));
}

}  // namespace

namespace {

// The key that sizes a built graph besides network.n, and the graph's name in messages.
struct GraphKey {
  std::string_view key, name;
  bool sized;  // network.p or network.degree, which can simply be lowered
};
GraphKey graph_key(const Scenario& s) {
  switch (s.network.topology) {
    case sim::TopologyKind::erdos_renyi: return {"network.p", "G(n, p)", true};
    case sim::TopologyKind::random_regular: return {"network.degree", "random-regular", true};
    default: return {"network.topology", sim::to_string(s.network.topology), false};
  }
}

// The graphs built edge by edge are refused before they are built.
void check_graph_memory(const Scenario& s) {
  const double bytes = sim::graph_build_bytes(s.network);
  if (!(bytes > 4.0 * gib)) return;
  const GraphKey g = graph_key(s);
  throw InputError(fmt::format("{}, network.n: building the {} graph of {} users would take about {:.1f} GiB "
                               "(at most 4 GiB){}",
                               g.key, g.name, s.network.n, bytes / gib, g.sized ? fmt::format("; lower {}", g.key) : ""));
}

// Drawing the graph (and, for `theory`, the first-passage searches of its law) is work like
// simulated events, and counts against the same limit.
void check_graph_work(const Scenario& s, const RunLimits& limits, double searches) {
  const double build = sim::graph_build_work(s.network);
  if (build == 0.0) return;  // a graph computed from its formula, searched by formula too
  // A search visits at most every user and every edge (analysis/first_passage.cpp).
  const double work = build + searches * (s.network.n + 2.0 * sim::graph_built_edges(s.network));
  if (work <= limits.max_events) return;
  const GraphKey g = graph_key(s);
  throw InputError(fmt::format("network.n, {}: building the {} graph of {} users{} would take about {:.3g} steps, "
                               "more than the limit of {:.3g} (lower these keys, or raise the limit with --max-events)",
                               g.key, g.name, s.network.n,
                               searches > 0.0 ? " and searching it for the first-passage law" : "", work,
                               limits.max_events));
}

// Everything the run allocates (sim/cost.hpp) against what this process may still allocate.
// The reserve covers what the estimates leave out: the program itself, each thread's stack
// and malloc arena, and the results.
void check_memory(const sim::cost::Memory& m, double concurrent, std::string_view run) {
  const double need = m.total(concurrent);
  const MemoryLimit limit = memory_limit();
  const double reserve = 256.0 * (1u << 20) + concurrent * 80.0 * (1u << 20);
  if (need + reserve <= limit.bytes) return;
  const sim::cost::MemoryPart most = m.largest(concurrent);
  throw InputError(fmt::format("{}: {} needs about {:.2f} GiB of memory ({}: {:.2f} GiB{}), more than the {:.2f} GiB "
                               "left under {} (lower these keys{})",
                               most.keys, run, need / gib, most.what, most.bytes / gib,
                               concurrent > 1.0 ? fmt::format(" for {:g} trials at once", concurrent) : "",
                               std::max(0.0, limit.bytes - reserve) / gib, limit.what,
                               concurrent > 1.0 ? ", or run fewer trials at once with --threads" : ""));
}

void check_memory(const Scenario& s, double concurrent, const ClockRates* rates) {
  check_memory(sim::cost::memory(s, rates), concurrent, "the run");
}

}  // namespace

double concurrent_trials(unsigned threads, std::uint32_t trials) {
  const unsigned cores = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  return std::max(1.0, std::min<double>(cores, trials));
}

void check_sweep_memory(const std::vector<const Scenario*>& points, const RunLimits& limits) {
  // Every point's shared parts at once, and the largest point's trials, as many at once as
  // the threads run (over every point's trials).
  sim::cost::Memory all;
  std::uint64_t trials = 0;
  for (const Scenario* s : points) {
    const sim::cost::Memory m = sim::cost::memory(*s, nullptr);
    all.shared.insert(all.shared.end(), m.shared.begin(), m.shared.end());
    if (m.per_trial_bytes() > all.per_trial_bytes()) all.per_trial = m.per_trial;
    trials += s->run.trials;
  }
  check_memory(all, concurrent_trials(limits.threads, static_cast<std::uint32_t>(std::min<std::uint64_t>(trials, ~0u))),
               "the sweep (every point's graph and data held at once)");
}

void check_theory_resources(const Scenario& s, const RunLimits& limits) {
  check_graph_memory(s);  // the theory builds the graph too
  // Its law searches every user's neighbourhood, or a sample of them (analysis/first_passage.hpp).
  check_graph_work(s, limits,
                   s.network.n > analysis::m_star_all_users_max ? analysis::m_star_sample_users : s.network.n);
  // The theory draws the quadratic model's optima (n d doubles) to state its heterogeneity.
  if (s.learning.model.kind == sim::ModelKind::quadratic)
    check_quadratic_memory(s, static_cast<double>(sim::quadratic_problem_bytes(s)), "for the theory's optima");
  check_memory(s, 0.0, nullptr);  // no trial runs: only what is built once (the graph, data)
}

void check_resources(const Scenario& s, const RunLimits& limits) {
  check_graph_memory(s);  // the graph is built first
  check_graph_work(s, limits, 0.0);
  // Per-user laws are resolved (O(n) memory) to compute the rates: check what is known first.
  if (s.heterogeneous()) check_memory(s, concurrent_trials(limits.threads, s.run.trials), nullptr);
  const ClockRates rates = sim::cost::clock_rates(s);
  check_events(s, limits, rates);
  const double observations = sim::cost::observations(s);
  if (observations > max_observations)
    throw InputError(fmt::format("observe.every, run.horizon: one trial would record about {:.3g} observations, "
                                 "more than the limit of {:.3g} (observe less often or shorten run.horizon)",
                                 observations, max_observations));
  if (s.learning.model.kind == sim::ModelKind::quadratic)
    check_quadratic_resources(s, limits, sim::cost::events(s, rates));
  else if (s.learning.enabled())
    check_learning_resources(s, limits, rates);
  check_message_memory(s, rates);
  check_state_memory(s);
  check_sapo_memory(s, rates);
  check_memory(s, concurrent_trials(limits.threads, s.run.trials), &rates);
}

}  // namespace timely::experiments
