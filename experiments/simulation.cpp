#include "experiments/simulation.hpp"

#include "analysis/warmup.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <ostream>

#include "analysis/learning_summary.hpp"
#include "analysis/statistics.hpp"
#include "analysis/trial_summary.hpp"
#include "experiments/columns.hpp"
#include "experiments/csv.hpp"
#include "experiments/files.hpp"
#include "experiments/scenario_keys.hpp"
#include "experiments/progress.hpp"
#include "experiments/ranks.hpp"
#include "experiments/units.hpp"
#include "experiments/sweep_report.hpp"
#include "plots/scaling_figures.hpp"
#include "sim/protocols.hpp"
#include "sim/input_error.hpp"
#include "sim/quadratic.hpp"
#include "sim/random.hpp"
#include "sim/trials.hpp"

namespace timely::experiments {
namespace {

nlohmann::ordered_json optional_number(const std::optional<double>& x) {
  if (!x) return nullptr;
  return *x;
}

// A number in a 10-character table column, "-" where there is none.
std::string optional_column(const std::optional<double>& x) {
  return x ? fmt::format("{:10.6g}", *x) : std::string("         -");
}


}  // namespace

void check_learning_memory(const sim::Scenario& scenario, const sim::LearningData& data) {
  const double bytes = static_cast<double>(sim::learning_state_bytes(scenario, data));
  if (bytes > 4.0 * (1u << 30))
    throw InputError(fmt::format("network.n: {} users of {} parameters need {:.1f} GiB per trial (at most 4 GiB)",
                                 scenario.network.n, models::Layout(data.architecture).parameters(), bytes / (1u << 30)));
}

Simulation simulate(const sim::Scenario& scenario, unsigned threads, std::ostream& err, bool show_progress,
                    const RunLimits& limits) {
  Simulation result;
  result.scenario = scenario;
  sim::Graph graph;
  sim::LearningData data;
  // Under MPI every rank prepares the run (rank 0 alone predicts) and runs trials; rank 0
  // gets the results (units.hpp). A refusal on any rank stops every rank.
  ranks::agree([&] {
    validate(scenario);
    check_resources(scenario, limits);
    graph = sim::scenario_graph(scenario);
    // run.warmup = "auto" takes the warm-up from the theory, or without one from a pilot whose
    // trials depend on the seed alone: every rank settles the same one.
    if (ranks::root() || scenario.run.warmup_auto) result.theory = analysis::predict(scenario, graph);
    result.pilot = settle_warmup(result.scenario, graph, result.theory, limits, threads);
    if (const auto warning = analysis::warmup_warning(result.scenario, result.theory))
      result.warnings.push_back(*warning);
    if (scenario.learning.enabled()) {
      data = sim::prepare_learning(scenario);
      check_learning_memory(scenario, data);
    }
  });
  if (ranks::root())
    for (const auto& warning : result.warnings) err << "timely: warning: " << warning << "\n" << std::flush;
  const sim::Scenario& settled = result.scenario;  // the warm-up settled
  Progress progress(err, "simulate", scenario.run.trials, show_progress && ranks::root());
  const auto start = std::chrono::steady_clock::now();
  const auto advance = [&](std::uint32_t done) { progress.advance(done); };
  if (!scenario.learning.enabled()) {
    result.trials = trials_on_ranks(settled, graph, threads, advance);
  } else {
    if (data.data) result.shards = models::summarize(data.partition, data.data->train);  // quadratic: no data set
    result.learning = learning_trials_on_ranks(settled, graph, data, threads, advance);
    if (sim::learning_protocol(scenario).measures_staleness)
      for (const auto& trial : result.learning) result.trials.push_back(trial.staleness);
  }
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

nlohmann::ordered_json theory_json(const sim::Scenario& scenario, const analysis::Prediction& prediction) {
  nlohmann::ordered_json j;
  j["scenario"] = scenario_json(scenario);
  j["staleness"] = optional_number(prediction.staleness);
  j["method"] = prediction.method;
  j["law"] = prediction.law ? nlohmann::ordered_json(*prediction.law) : nlohmann::ordered_json(nullptr);
  j["m_star"] = optional_number(prediction.m_star);
  j["age_time"] = optional_number(prediction.age_time);
  j["freshness"] = optional_number(prediction.freshness);
  if (const auto w = analysis::warmup_advice(scenario, prediction))
    j["warmup"] = {{"expected_age", w->age}, {"recommended", w->recommended}};
  if (prediction.regime)
    j["regime"] = {{"scaling", sim::to_string(scenario.gossip.scaling)},
                   {"law", prediction.regime->law},
                   {"asymptote", prediction.regime->asymptote},
                   {"bounded_staleness_capacity", prediction.regime->bounded_staleness_capacity},
                   {"capacity", scenario.gossip_rate()}};
  if (prediction.rumour)
    j["rumour"] = {{"all_informed_time", prediction.rumour->all_informed},
                   {"one_informed_time", prediction.rumour->one_informed}};
  if (const auto& l = prediction.learning)
    j["learning"] = {{"error", optional_number(l->error)},
                     {"error_normalized", optional_number(l->error_normalized)},
                     {"consensus_distance", optional_number(l->consensus)},
                     {"consensus_normalized", optional_number(l->consensus_normalized)},
                     {"heterogeneity", l->heterogeneity},
                     {"method", l->method}};
  if (!prediction.sources.empty()) {
    j["sources"] = nlohmann::ordered_json::array();
    for (const auto& src : prediction.sources)
      j["sources"].push_back({{"user", src.user},
                              {"update_rate", src.update_rate},
                              {"gossip_rate", src.gossip_rate},
                              {"exact", optional_number(src.exact)},
                              {"bound", optional_number(src.bound)}});
  }
  return j;
}

namespace {

// Heterogeneous users: every tracked source's simulated mean staleness over its observers,
// across trials (the same users are tracked in every trial).
struct SourceResult {
  const analysis::Prediction::Source* theory;
  analysis::Summary simulated;
  bool below_bound;  // the CI's upper end is below the bound (true where there is no bound)
};

struct SourceResults {
  std::vector<SourceResult> sources;
  std::size_t bounded = 0, below = 0;  // sources with a bound, and those below it
};

SourceResults source_results(const Simulation& sim) {
  SourceResults out;
  if (sim.trials.empty() || sim.theory.sources.empty()) return out;
  for (std::size_t slot = 0; slot < sim.theory.sources.size(); ++slot) {
    std::vector<double> samples;
    for (const auto& t : sim.trials)
      if (slot < t.source_mean.size()) samples.push_back(t.source_mean[slot]);
    if (samples.size() != sim.trials.size()) return {};
    const analysis::Summary summary = analysis::summarize(samples);
    const auto& th = sim.theory.sources[slot];
    const bool below = !th.bound || summary.mean + summary.ci_half_width.value_or(0.0) < *th.bound;
    out.sources.push_back({&th, summary, below});
    out.bounded += th.bound.has_value();
    out.below += th.bound && below;
  }
  return out;
}

}  // namespace

PointResult point_result(const Simulation& sim) {
  // The quadratic model has no data set, hence no shards.
  const bool shards = !sim.learning.empty() && sim.scenario.learning.model.kind != sim::ModelKind::quadratic;
  return make_point_result(0, {}, sim.scenario, sim.theory, sim.trials, sim.learning.empty() ? nullptr : &sim.learning,
                           shards ? std::optional<models::ShardSummary>(sim.shards) : std::nullopt);
}

namespace {

// How the run's warm-up was set: given, or chosen by "auto" from the theory or a pilot.
nlohmann::ordered_json warmup_json(const Simulation& sim) {
  nlohmann::ordered_json j;
  j["value"] = sim.scenario.run.warmup;
  j["chosen_by"] = sim.pilot ? "pilot" : sim.scenario.run.warmup_chosen ? "theory" : "given";
  if (const auto& p = sim.pilot) {
    auto& stages = j["pilot"]["stages"] = nlohmann::ordered_json::array();
    for (const auto& stage : p->stages)
      stages.push_back({{"horizon", stage.horizon},
                        {"mean", stage.mean},
                        {"ci95", stage.half_width},
                        {"age_bound", optional_number(stage.age_bound)}});
    j["pilot"]["trials_per_stage"] = pilot_trials;
    j["pilot"]["events"] = p->events;
    j["pilot"]["wall_seconds"] = p->seconds;
  }
  return j;
}

}  // namespace

nlohmann::ordered_json simulation_json(const Simulation& sim, unsigned threads) {
  nlohmann::ordered_json j;
  j["scenario"] = scenario_json(sim.scenario);
  j["staleness"] = nlohmann::ordered_json::object();
  j["theory"] = nlohmann::ordered_json::object();
  add_result_json(j, point_result(sim));  // every result field, from the column registry
  if (const auto results = source_results(sim); !results.sources.empty()) {
    auto& list = j["staleness"]["sources"] = nlohmann::ordered_json::array();
    for (const auto& src : results.sources) {
      list.push_back({{"user", src.theory->user},
                      {"update_rate", src.theory->update_rate},
                      {"gossip_rate", src.theory->gossip_rate},
                      {"mean", src.simulated.mean},
                      {"ci95", optional_number(src.simulated.ci_half_width)},
                      {"exact", optional_number(src.theory->exact)},
                      {"bound", optional_number(src.theory->bound)}});
    }
    if (results.bounded > 0) j["staleness"]["below_bound"] = {{"sources", results.below}, {"of", results.bounded}};
  }
  j["warnings"] = sim.warnings;
  j["warmup"] = warmup_json(sim);
  j["wall_seconds"] = sim.wall_seconds;
  if (!sim.trials.empty()) {
    const double events = j["events"].get<double>();
    j["events_per_second"] = sim.wall_seconds > 0.0 ? events / sim.wall_seconds : 0.0;
  }
  j["threads"] = threads;
  j["timely_version"] = TIMELY_VERSION;
  return j;
}

void print_theory(std::ostream& out, const sim::Scenario& s, const analysis::Prediction& p) {
  if (s.learning.enabled() && !sim::learning_protocol(s).measures_staleness)  // no gossip clocks to describe
    out << fmt::format("{}, n = {}: no gossip, so no staleness\n", sim::learning_protocol(s).title, s.network.n);
  else
    out << fmt::format("{} model, {} n = {}, {} gossip at lambda = {:.6g} per user\n", sim::to_string(s.staleness.model),
                       sim::to_string(s.network.topology), s.network.n, sim::to_string(s.gossip.mode), s.gossip_rate());
  if (p.staleness) out << fmt::format("  staleness  {:.6g}\n", *p.staleness);
  else out << "  staleness  (no exact value)\n";
  out << fmt::format("  method     {}\n", p.method);
  if (p.law) out << fmt::format("  law        {}\n", *p.law);
  if (const auto w = analysis::warmup_advice(s, p))
    out << fmt::format("  warm-up    {:.4g} recommended (ln 100 x the expected age {:.4g}; run.warmup = \"auto\")\n",
                       w->recommended, w->age);
  if (p.m_star)
    out << fmt::format("  m*         {:.6g} (first-passage scale, mean over users; the Theta(m*) law has no constant)\n",
                       *p.m_star);
  if (p.age_time)
    out << fmt::format("  age (time) {:.6g} (mean time since the information a user holds left the source)\n", *p.age_time);
  if (p.freshness)
    out << fmt::format("  freshness  {:.6g} (fraction of time a user holds the source's current version)\n", *p.freshness);
  if (p.regime)
    out << fmt::format("  regime     {} capacity: staleness -> {} = {:.6g}; timely's reading of Mitra & Ulukus "
                       "(docs/model.md §3.6): a guaranteed bound needs capacity >= (n-1) r = {:.6g}\n",
                       sim::to_string(s.gossip.scaling), p.regime->law, p.regime->asymptote,
                       p.regime->bounded_staleness_capacity);
  if (p.rumour)
    out << fmt::format("  rumour     all informed after {:.6g}, a given user after {:.6g} (push, docs/model.md §3.7)\n",
                       p.rumour->all_informed, p.rumour->one_informed);
  if (const auto& l = p.learning) {
    const auto value = [](const std::optional<double>& x, const std::optional<double>& normalized) {
      return x ? fmt::format("{:.6g} ({:.6g} zeta^2)", *x, normalized.value_or(0.0)) : std::string("(no exact value)");
    };
    out << fmt::format("quadratic model, stationary (heterogeneity zeta^2 = {:.6g}):\n", l->heterogeneity);
    out << fmt::format("  error      {}   per user: (1/n) sum_i E||x_i - a_bar||^2\n", value(l->error, l->error_normalized));
    out << fmt::format("  consensus  {}   (1/n) sum_i E||x_i - xbar||^2\n", value(l->consensus, l->consensus_normalized));
    out << fmt::format("  method     {}\n", l->method);
  }
  if (!p.sources.empty()) {
    out << fmt::format("  per-user clocks: {} tracked sources (r_k = long-run update rate, lambda_k = gossip rate)\n",
                       p.sources.size());
    out << "    user        r_k   lambda_k      exact      bound\n";
    for (const auto& src : p.sources)
      out << fmt::format("  {:6} {:10.4g} {:10.4g} {} {}\n", src.user, src.update_rate, src.gossip_rate,
                         optional_column(src.exact), optional_column(src.bound));
  }
}

using analysis::LearningSummary;

// `result` is point_result(sim), computed once by the caller.
void print_learning(std::ostream& out, const Simulation& sim, const PointResult& result) {
  const LearningSummary l = analysis::summarize_learning(sim.learning);
  const auto& s = sim.scenario;
  const auto pm = [](const std::optional<analysis::Summary>& x) {
    if (!x) return std::string("n/a");
    return x->ci_half_width ? fmt::format("{:.4g} ± {:.2g}", x->mean, *x->ci_half_width) : fmt::format("{:.4g}", x->mean);
  };
  const bool quadratic = s.learning.model.kind == sim::ModelKind::quadratic;
  if (quadratic)
    out << fmt::format("quadratic objectives ||x - a_i||^2/2 in d = {} ({} users, data.spread = {:g}: heterogeneity "
                       "zeta^2 = {}), tau = {} gradient steps of eta = {:g} per update{}, {}, {} trials\n",
                       s.learning.data.features, s.network.n, s.learning.data.spread,
                       l.heterogeneity ? fmt::format("{:.6g}", *l.heterogeneity) : std::string("n/a"),
                       s.learning.train.steps, s.learning.train.lr,
                       s.learning.train.schedule == sim::LrSchedule::constant
                           ? fmt::format(" (rho = {:.6g})", sim::quadratic_contraction(s.learning.train.lr, s.learning.train.steps))
                           : std::string(),
                       sim::learning_protocol_id(s) == sim::gossip_protocol
                           ? fmt::format("{} mixing", sim::to_string(s.learning.mixing.rule))
                           : std::string(sim::learning_protocol(s).title),
                       sim.learning.size());
  else if (sim::learning_protocol(s).pools_data)  // one user: the partition plays no part
    out << fmt::format("{} on {} (the training data of {} users pooled into one user), {}, {} trials\n",
                       sim::to_string(s.learning.model.kind), sim::to_string(s.learning.data.source), s.network.n,
                       sim::learning_protocol(s).title, sim.learning.size());
  else
    out << fmt::format("{} on {} ({} users, {} partition: {}..{} samples each), {}, {} trials\n",
                       sim::to_string(s.learning.model.kind), sim::to_string(s.learning.data.source), s.network.n,
                       sim::to_string(s.learning.data.partition), sim.shards.min_size, sim.shards.max_size,
                       // Only gossip mixes; the other protocols are named by their title.
                       sim::learning_protocol_id(s) == sim::gossip_protocol
                           ? fmt::format("{} mixing", sim::to_string(s.learning.mixing.rule))
                           : std::string(sim::learning_protocol(s).title),
                       sim.learning.size());
  if (l.diverged > 0) {
    out << fmt::format("  DIVERGED: {}/{} trials reached a non-finite (or overflowing) parameter or loss, the first at t = {:.6g}; "
                       "no accuracy, loss or time to target is reported (e.g. lower train.lr)\n",
                       l.diverged, sim.learning.size(), *l.diverged_at);
    out << fmt::format("  {} local updates, {} gossips, {} server rounds in {:.3g} s\n", l.updates, l.gossips, l.rounds,
                       sim.wall_seconds);
    return;
  }
  if (l.stationary_error)
    out << fmt::format("  stationary over [{:g}, {:g}] (exact time averages, 95% CI): error {}, worst user's error {}, "
                       "consensus distance {}\n",
                       s.run.warmup, s.run.horizon, pm(l.stationary_error), pm(l.stationary_worst_error),
                       pm(l.stationary_consensus));
  // The final metrics, one line each, named as in the files (sim/learning_metrics.hpp).
  out << fmt::format("  at t = {:g} (means over trials, 95% CI):\n", result.final_time);
  // Without an average model (sim::Observed::own) its metrics are the sampled users' own.
  const bool own = sim::learning_protocol(s).observed == sim::Observed::own;
  for (std::size_t m = 0; m < sim::learning_metric_count; ++m) {
    if (!l.final[m]) continue;
    std::string description(sim::learning_metrics[m].description);
    if (const auto at = description.find(", average model"); own && at != std::string::npos)
      description.replace(at, std::string::npos, ", users' own models (no average model exists), mean over sampled users");
    out << fmt::format("    {:<30} {:<20} {}\n", sim::learning_metrics[m].name, pm(l.final[m]), description);
  }
  if (l.time_to_target)
    out << fmt::format("  time to {:g} accuracy: {} ({}/{} trials reached it)\n", s.learning.target_accuracy,
                       pm(l.time_to_target), l.reached, sim.learning.size());
  else if (l.final[sim::metric::accuracy])
    out << fmt::format("  time to {:g} accuracy: not reached by t = {:g}\n", s.learning.target_accuracy, s.run.horizon);
  if (s.learning.target_loss) {
    if (l.time_to_loss)
      out << fmt::format("  time to test loss {:g}: {} ({}/{} trials reached it)\n", *s.learning.target_loss,
                         pm(l.time_to_loss), l.reached_loss, sim.learning.size());
    else
      out << fmt::format("  time to test loss {:g}: not reached by t = {:g}\n", *s.learning.target_loss, s.run.horizon);
  }
  if (s.learning.target_distance && l.final[sim::metric::distance_to_optimum]) {
    if (l.time_to_distance)
      out << fmt::format("  time to relative distance {:g}: {} ({}/{} trials reached it)\n", *s.learning.target_distance,
                         pm(l.time_to_distance), l.reached_distance, sim.learning.size());
    else
      out << fmt::format("  time to relative distance {:g}: not reached by t = {:g}\n", *s.learning.target_distance,
                         s.run.horizon);
  }
  if (l.plateau_delay)
    out << fmt::format("  plateau ({:g} of final accuracy) at {}, one user on all data at {}: delay {}\n",
                       s.learning.observe.plateau_fraction, pm(l.plateau_time), pm(l.baseline_plateau_time),
                       pm(l.plateau_delay));
  if (const auto& r = l.rounds_summary) {  // a round protocol's rounds (docs/model.md §4.1-4.2), means over trials
    out << fmt::format("  rounds     {} completed, {} abandoned; {} models per aggregation\n", pm(r->rounds_completed),
                       pm(r->rounds_abandoned), pm(r->models_per_aggregation));
    out << fmt::format("  trainers   start from a model {} old; {} trainings interrupted, {} lost to churn\n",
                       pm(r->model_age), pm(r->trainings_interrupted), pm(r->trainings_lost));
    if (r->sample_overlap)
      out << fmt::format("  samples    {} of round k+1's sample alike in a trainer's and its aggregator's views\n",
                         pm(r->sample_overlap));
  }
  if (const auto& e = l.experience) {  // a swarm's shared experience (docs/model.md §4.3), means over trials
    out << fmt::format("  reward     {} in total over users and updates, {} per update; {} of rollouts all alike\n",
                       pm(e->total_reward), pm(e->reward_per_update), pm(e->zero_advantage));
    if (e->age_updates)
      out << fmt::format("  experience {} external rollouts per step, made {} generator updates and {} time units "
                         "before use, waited {} learner updates; KL(generator || learner) {} nats\n",
                         pm(e->external_per_step), pm(e->age_updates), pm(e->age_time), pm(e->learner_age),
                         pm(e->divergence));
    else
      out << "  experience no external rollout was trained on\n";
  }
  out << fmt::format("  {} local updates, {} gossips, {} server rounds in {:.3g} s\n", l.updates, l.gossips, l.rounds,
                     sim.wall_seconds);
}

// The network layer (docs/model.md §7): what it counted, and availability under churn.
// Nothing without it.
void print_network(std::ostream& out, const PointResult& r) {
  const auto pm = [](const analysis::Summary& x) {
    return x.ci_half_width ? fmt::format("{:.6g} ± {:.3g}", x.mean, *x.ci_half_width) : fmt::format("{:.6g}", x.mean);
  };
  if (const auto& c = r.communication) {
    const double lost = c->messages_sent.mean + c->requests_sent.mean > 0.0
                            ? c->messages_lost.mean / (c->messages_sent.mean + c->requests_sent.mean)
                            : 0.0;
    out << fmt::format("communication (means over {} trials, 95% CI, whole run [0, {:g}]):\n", c->trials,
                       r.scenario.run.horizon);
    const bool pings = r.scenario.learning.enabled() && sim::learning_protocol(r.scenario).reports_rounds;
    out << fmt::format("  messages   {} sent, {} lost ({:.3g}% of messages and requests), {} {}\n", pm(c->messages_sent),
                       pm(c->messages_lost), 100.0 * lost, pm(c->requests_sent), pings ? "pings" : "pull requests");
    if (c->ticks_dropped.mean > 0.0 || c->ticks_offline.mean > 0.0)
      out << fmt::format("  ticks      {} dropped at the uplink (busy, or cleared by going offline), {} while offline\n", pm(c->ticks_dropped),
                         pm(c->ticks_offline));
    out << fmt::format("  bytes      {} sent per user (mean over users), {} by the most loaded user\n",
                       pm(c->bytes_sent_per_user_mean), pm(c->bytes_sent_per_user_max));
    out << fmt::format("  delay      queueing {}, transfer start to arrival {}\n",
                       c->queueing_delay_mean ? fmt::format("{} per queued send ({} queued)", pm(*c->queueing_delay_mean),
                                                            pm(c->queued))
                                              : std::string("none (no send waited)"),
                       c->latency_mean ? pm(*c->latency_mean) : std::string("n/a (nothing delivered)"));
  }
  if (const auto& a = r.availability)
    out << fmt::format("availability: online {} of the time; staleness over online observers {}\n",
                       pm(a->online_fraction),
                       a->mean_staleness_online ? pm(*a->mean_staleness_online) : std::string("n/a (nobody online)"));
}

void print_simulation(std::ostream& out, const Simulation& sim, unsigned threads) {
  const PointResult result = point_result(sim);
  if (!sim.learning.empty()) {
    print_learning(out, sim, result);
    if (sim.trials.empty()) {
      print_network(out, result);
      return;
    }
    out << "staleness in the same run:\n";
  }
  const analysis::TrialSummary& t = *result.staleness;  // sim.trials is not empty here
  const auto& s = sim.scenario;
  const auto pm = [](const analysis::Summary& x) {
    return x.ci_half_width ? fmt::format("{:.6g} ± {:.4g}", x.mean, *x.ci_half_width)
                           : fmt::format("{:.6g} (one trial: no CI)", x.mean);
  };
  print_theory(out, s, sim.theory);
  const std::string chosen =
      sim.pilot ? fmt::format(", warm-up chosen by \"auto\" from a pilot of {} stages, {:.3g} events, {:.2g} s",
                              sim.pilot->stages.size(), static_cast<double>(sim.pilot->events), sim.pilot->seconds)
      : s.run.warmup_chosen ? ", warm-up chosen by \"auto\" from the theory"
                            : "";
  out << fmt::format("  simulated  {} (95% CI over {} trials, window [{:.6g}, {:g}]{})\n", pm(t.mean), sim.trials.size(),
                     s.run.warmup, s.run.horizon, chosen);
  if (sim.theory.staleness && *sim.theory.staleness > 0.0)
    out << fmt::format("  ratio      {:.4f} (simulated / theory)\n", t.mean.mean / *sim.theory.staleness);
  out << fmt::format("  worst      {} per source, {} over all tracked pairs (time averages)\n", pm(t.max_mean),
                     pm(t.max_all_mean));
  out << fmt::format("  exceed B={} {} of the time per source, {} over all tracked pairs\n", t.bound,
                     pm(t.exceed_per_source), pm(t.exceed_all_pairs));
  out << "  quantiles ";
  for (std::size_t i = 0; i < t.quantiles.size(); ++i)
    out << fmt::format(" {} {}", analysis::quantile_name(analysis::staleness_quantile_levels[i]), t.quantiles[i]);
  out << "\n";
  out << fmt::format("  freshness  {}{} of the time an observer holds its source's current version\n", pm(t.freshness),
                     sim.theory.freshness ? fmt::format(" (exact {:.6g})", *sim.theory.freshness) : std::string());
  if (t.age_time)
    out << fmt::format("  age (time) {}{} (time since the information held left the source)\n", pm(*t.age_time),
                       sim.theory.age_time ? fmt::format(", exact {:.6g}", *sim.theory.age_time) : std::string());
  if (const auto results = source_results(sim); !results.sources.empty()) {
    out << "  per source (95% CI over trials):\n    user   simulated            exact      bound  below bound\n";
    for (const auto& src : results.sources)
      out << fmt::format("  {:6} {:8.5g} ± {:<8.3g} {} {}  {}\n", src.theory->user, src.simulated.mean,
                         src.simulated.ci_half_width.value_or(0.0), optional_column(src.theory->exact),
                         optional_column(src.theory->bound), src.theory->bound ? (src.below_bound ? "yes" : "NO") : "-");
    if (results.bounded > 0)
      out << fmt::format("  {} of {} tracked sources below the heterogeneous bound (upper CI end)\n", results.below,
                         results.bounded);
  }
  if (s.gossip.policy != sim::GossipPolicyId{})  // the policies' spending, against uniform gossip's
    out << fmt::format("  spending   {} contacts per user per unit time (uniform gossip: lambda = {:.6g})\n",
                       pm(t.sends_per_user), s.gossip_rate());
  out << fmt::format("  events     {} in {:.3g} s ({:.3g} events/s, {} threads)\n", t.events, sim.wall_seconds,
                     sim.wall_seconds > 0 ? t.events / sim.wall_seconds : 0.0,
                     threads == 0 ? std::string("all") : std::to_string(threads));
  print_network(out, result);
}

namespace {

// The trials' results as the sweep's trials.csv has them (columns.hpp), without the point.
std::vector<TrialColumnCells> simulation_trial_columns(const Simulation& sim, const PointResult& point) {
  return trial_columns(point, sim.trials, sim.learning.empty() ? nullptr : &sim.learning,
                       TableGroups{}.include(sim.scenario));
}

}  // namespace

ValueTable trial_table(const Simulation& sim) {
  const PointResult point = point_result(sim);
  ValueTable table;
  for (const TrialColumnCells& c : simulation_trial_columns(sim, point)) {
    ValueColumn& column = table.emplace_back(ValueColumn{std::string(c.name), c.type == ColumnType::integer, {}});
    for (const Cell& cell : c.cells)
      column.values.push_back(std::visit(
          [](const auto& x) -> std::optional<double> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) return static_cast<double>(x);
            else return std::nullopt;  // the trials' columns are numbers
          },
          cell));
  }
  return table;
}

ValueTable learning_table(const Simulation& sim) {
  ValueTable table;
  if (sim.learning.empty()) return table;
  using O = const sim::Observation&;
  using V = std::optional<double>;
  const auto column = [&](std::string name, bool integer, auto value) {
    ValueColumn c{std::move(name), integer, {}};
    for (std::size_t trial = 0; trial < sim.learning.size(); ++trial)
      for (const sim::Observation& o : sim.learning[trial].observations) c.values.push_back(value(trial, o));
    table.push_back(std::move(c));
  };
  column("trial", true, [](std::size_t trial, O) -> V { return static_cast<double>(trial); });
  column("time", false, [](std::size_t, O o) -> V { return o.time; });
  // Every metric of the list (sim/learning_metrics.hpp); those of the network scope (bytes sent,
  // so accuracy can be plotted against bytes) only where the network layer measured them, and
  // those of a swarm's experience only in its runs.
  std::size_t tensors = 0;
  std::array<bool, sim::learning_metric_count> measured{};
  for (const auto& trial : sim.learning)
    for (const sim::Observation& o : trial.observations) {
      tensors = std::max(tensors, o.weight_variance.size());
      for (std::size_t m = 0; m < sim::learning_metric_count; ++m)
        measured[m] = measured[m] || o[m].has_value();
    }
  for (std::size_t m = 0; m < sim::learning_metric_count; ++m)
    if (const sim::MetricScope scope = sim::learning_metrics[m].scope;
        scope == sim::MetricScope::model || (scope == sim::MetricScope::network && measured[m]) ||
        (scope == sim::MetricScope::experience && sim::learning_protocol(sim.scenario).reports_experience))
      column(std::string(sim::learning_metrics[m].name), false, [m](std::size_t, O o) { return o[m]; });
  for (std::size_t k = 0; k < tensors; ++k)
    column(fmt::format("weight_variance_W{}", k + 1), false, [k](std::size_t, O o) -> V {
      return k < o.weight_variance.size() ? V(o.weight_variance[k]) : std::nullopt;
    });
  return table;
}

std::string table_csv(const ValueTable& table, int digits) {
  std::vector<std::string> header;
  for (const ValueColumn& c : table) header.push_back(c.name);
  std::string csv = csv_line(header);
  const std::size_t rows = table.empty() ? 0 : table.front().values.size();
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < table.size(); ++c) {
      if (c) csv += ',';
      const std::optional<double>& v = table[c].values[r];
      if (!v) continue;
      csv += table[c].integer ? fmt::format("{}", static_cast<std::int64_t>(*v)) : fmt::format("{:.{}g}", *v, digits);
    }
    csv += '\n';
  }
  return csv;
}

void write_simulation(const std::filesystem::path& dir, const Simulation& sim, unsigned threads, std::ostream& log,
                      const DirectoryLock&) {
  // Every file of simulate's besides result.json and trials.csv (always replaced): written
  // anew below where this run has them, and otherwise gone rather than left from another run.
  for (const char* figure : {"accuracy_vs_time", "loss_vs_time"})
    for (const char* extension : {".png", ".svg", ".pdf", ".dat", ".gp", ".log"})
      remove_if_present(dir / (std::string(figure) + extension));
  remove_if_present(dir / "learning.csv");
  write_file_atomically(dir / "result.json", simulation_json(sim, threads).dump(2) + "\n");
  {
    const PointResult point = point_result(sim);
    const TableGroups groups = TableGroups{}.include(sim.scenario);
    write_file_atomically(dir / "trials.csv",
                          csv_line(trials_header({}, groups, TrialPrefix::none)) +
                              trial_rows(point, sim.trials, sim.learning.empty() ? nullptr : &sim.learning, groups,
                                         TrialPrefix::none));
  }
  if (sim.learning.empty()) return;
  write_file_atomically(dir / "learning.csv", table_csv(learning_table(sim), 10));
  // Loss and accuracy against time, mean over trials with 95% CIs.
  plots::TimeSeries accuracy, loss;
  bool positive = true;
  const std::string_view observed = sim::observed_model(sim::learning_protocol(sim.scenario).observed);
  for (const auto& c : analysis::learning_curve(sim.learning)) {
    if (const auto& l = c.values[sim::metric::loss]) {
      loss.time.push_back(c.time);
      loss.value.push_back(l->mean);
      positive = positive && l->mean > 0.0;
    }
    if (const auto& a = c.values[sim::metric::accuracy]) {
      accuracy.time.push_back(c.time);
      accuracy.value.push_back(a->mean);
      accuracy.ci95.push_back(a->ci_half_width.value_or(0.0));
    }
  }
  if (!accuracy.time.empty()) {
    auto f = plots::versus_time_figure("accuracy_vs_time",
                                       fmt::format("Test accuracy of {} (95% CI over trials)", observed),
                                       "test accuracy", {accuracy}, false);
    f.extra.push_back("set yrange [0:1]");
    draw_figure(f, dir, log);
  }
  if (!loss.time.empty())
    draw_figure(plots::versus_time_figure("loss_vs_time", fmt::format("Test loss of {}", observed), "test loss", {loss},
                                          positive),
                dir, log);
}

}  // namespace timely::experiments
