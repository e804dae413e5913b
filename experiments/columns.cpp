#include "experiments/columns.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <utility>
#include <sstream>

#include "sim/input_error.hpp"
#include "sim/protocols.hpp"

namespace timely::experiments {
namespace {

using analysis::Summary;
using R = PointResult;

Cell number(const std::optional<double>& x) { return x ? Cell(*x) : Cell(); }
Cell mean_of(const std::optional<Summary>& s) { return s ? Cell(s->mean) : Cell(); }
Cell ci_of(const std::optional<Summary>& s) { return s && s->ci_half_width ? Cell(*s->ci_half_width) : Cell(); }
Cell mean_of(const Summary& s) { return s.mean; }
Cell ci_of(const Summary& s) { return number(s.ci_half_width); }

// Staleness getters only run when the point has staleness (the group says so).
const analysis::TrialSummary& st(const R& r) { return *r.staleness; }
const analysis::LearningSummary& le(const R& r) { return *r.learning; }

// Theory against simulation, where theory has a positive value to compare with.
std::optional<double> comparable_theory(const R& r) {
  if (r.theory.staleness && *r.theory.staleness > 0.0) return *r.theory.staleness;
  return std::nullopt;
}

template <std::size_t I>
Cell quantile(const R& r) {
  return static_cast<std::uint64_t>(st(r).quantiles[I]);
}

// The network layer's summaries: getters only run when the point has them (the group says so).
using Comm = analysis::CommunicationSummary;
using Avail = analysis::AvailabilitySummary;
template <Summary Comm::*M>
Cell comm_mean(const R& r) {
  return mean_of((*r.communication).*M);
}
template <Summary Comm::*M>
Cell comm_ci(const R& r) {
  return ci_of((*r.communication).*M);
}
template <std::optional<Summary> Comm::*M>
Cell comm_mean_opt(const R& r) {
  return mean_of((*r.communication).*M);
}
template <std::optional<Summary> Comm::*M>
Cell comm_ci_opt(const R& r) {
  return ci_of((*r.communication).*M);
}
template <auto M>
Cell avail_mean(const R& r) {
  return mean_of((*r.availability).*M);
}
template <auto M>
Cell avail_ci(const R& r) {
  return ci_of((*r.availability).*M);
}

constexpr ColumnType integer = ColumnType::integer, num = ColumnType::number, text = ColumnType::text,
                     flag = ColumnType::boolean;
constexpr ColumnGroup point = ColumnGroup::point, stale = ColumnGroup::staleness, learn = ColumnGroup::learning,
                      comm = ColumnGroup::communication, avail = ColumnGroup::availability,
                      learn_comm = ColumnGroup::learning_communication, spend = ColumnGroup::spending;
constexpr ColumnGroup rounds = ColumnGroup::rounds, exper = ColumnGroup::experience, age = ColumnGroup::age;

static_assert(analysis::staleness_quantile_levels.size() == 4, "one column per quantile level below");

// Up to the final metrics of learning.
const std::vector<Column> head_columns = {
    {"point", "", integer, point, [](const R& r) -> Cell { return static_cast<std::uint64_t>(r.index); }},
    {"n", "", integer, point, [](const R& r) -> Cell { return static_cast<std::uint64_t>(r.scenario.network.n); }},
    {"lambda", "", num, point, [](const R& r) -> Cell { return r.scenario.gossip_rate(); }},
    {"trials", "trials", integer, point, [](const R& r) -> Cell { return static_cast<std::uint64_t>(r.scenario.run.trials); }},
    {"mean", "staleness.mean", num, stale, [](const R& r) { return mean_of(st(r).mean); }},
    {"ci95", "staleness.ci95", num, stale, [](const R& r) { return ci_of(st(r).mean); }},
    {"sd", "staleness.sd", num, stale,
     [](const R& r) { return st(r).mean.count > 1 ? Cell(st(r).mean.sd) : Cell(); }},
    {"theory", "theory.staleness", num, point, [](const R& r) { return number(r.theory.staleness); }},
    {"ratio", "theory.ratio", num, stale,
     [](const R& r) {
       const auto th = comparable_theory(r);
       return th ? Cell(st(r).mean.mean / *th) : Cell();
     }},
    {"ratio_ci95", "theory.ratio_ci95", num, stale,
     [](const R& r) {
       const auto th = comparable_theory(r);
       return th && st(r).mean.ci_half_width ? Cell(*st(r).mean.ci_half_width / *th) : Cell();
     }},
    // z: the difference in standard errors of the trial mean.
    {"z", "theory.z", num, stale,
     [](const R& r) {
       const auto th = comparable_theory(r);
       const Summary& m = st(r).mean;
       return th && m.sd > 0.0 ? Cell((m.mean - *th) / (m.sd / std::sqrt(static_cast<double>(m.count)))) : Cell();
     }},
    {"", "theory.within_ci95", flag, stale,
     [](const R& r) {
       const auto th = comparable_theory(r);
       const Summary& m = st(r).mean;
       return th && m.ci_half_width ? Cell(std::abs(m.mean - *th) <= *m.ci_half_width) : Cell();
     }},
    {"max_mean", "staleness.max_mean", num, stale, [](const R& r) { return mean_of(st(r).max_mean); }},
    {"max_ci95", "staleness.max_ci95", num, stale, [](const R& r) { return ci_of(st(r).max_mean); }},
    {"max_all_mean", "staleness.max_all_mean", num, stale, [](const R& r) { return mean_of(st(r).max_all_mean); }},
    {"max_all_ci95", "staleness.max_all_ci95", num, stale, [](const R& r) { return ci_of(st(r).max_all_mean); }},
    {"bound", "staleness.exceed.bound", integer, stale,
     [](const R& r) -> Cell { return static_cast<std::uint64_t>(st(r).bound); }},
    {"exceed_per_source", "staleness.exceed.per_source.mean", num, stale,
     [](const R& r) { return mean_of(st(r).exceed_per_source); }},
    {"exceed_per_source_ci95", "staleness.exceed.per_source.ci95", num, stale,
     [](const R& r) { return ci_of(st(r).exceed_per_source); }},
    {"exceed_all_pairs", "staleness.exceed.all_pairs.mean", num, stale,
     [](const R& r) { return mean_of(st(r).exceed_all_pairs); }},
    {"exceed_all_pairs_ci95", "staleness.exceed.all_pairs.ci95", num, stale,
     [](const R& r) { return ci_of(st(r).exceed_all_pairs); }},
    // Binary freshness and the age in time (docs/model.md §2): in results.csv when some point
    // runs the source model (the `age` group), so users-model sweeps keep their columns.
    {"freshness", "staleness.freshness.mean", num, age, [](const R& r) { return mean_of(st(r).freshness); }},
    {"freshness_ci95", "staleness.freshness.ci95", num, age, [](const R& r) { return ci_of(st(r).freshness); }},
    {"freshness_theory", "theory.freshness", num, age, [](const R& r) { return number(r.theory.freshness); }},
    {"age_time", "staleness.age_time.mean", num, age, [](const R& r) { return mean_of(st(r).age_time); }},
    {"age_time_ci95", "staleness.age_time.ci95", num, age, [](const R& r) { return ci_of(st(r).age_time); }},
    {"age_time_theory", "theory.age_time", num, age, [](const R& r) { return number(r.theory.age_time); }},
    {"p50", "staleness.quantiles.p50", integer, stale, quantile<0>},
    {"p90", "staleness.quantiles.p90", integer, stale, quantile<1>},
    {"p99", "staleness.quantiles.p99", integer, stale, quantile<2>},
    {"p999", "staleness.quantiles.p999", integer, stale, quantile<3>},
    {"events", "events", integer, stale, [](const R& r) -> Cell { return st(r).events; }},
    // The gossip policy's spending (docs/model.md §1.1): contacts per user per unit time.
    {"sends_per_user", "gossip.sends_per_user.mean", num, spend, [](const R& r) { return mean_of(st(r).sends_per_user); }},
    {"sends_per_user_ci95", "gossip.sends_per_user.ci95", num, spend, [](const R& r) { return ci_of(st(r).sends_per_user); }},
    {"seed", "", integer, point, [](const R& r) -> Cell { return r.scenario.run.seed; }},
    {"method", "theory.method", text, point, [](const R& r) -> Cell { return r.theory.method; }},
    {"law", "theory.law", text, point, [](const R& r) { return r.theory.law ? Cell(*r.theory.law) : Cell(); }},
    // In results.csv with the source model's other columns (the `age` group): m* is the source
    // model's (docs/model.md §3.10).
    {"m_star", "theory.m_star", num, age, [](const R& r) { return number(r.theory.m_star); }},
    // ---- learning (docs/model.md §4) ----
    {"", "learning.final.time", num, learn, [](const R& r) -> Cell { return r.final_time; }},
};

// After the final metrics and weight_variance of learning, before those of the network scope.
const std::vector<Column> tail_columns = {
    // model.kind = quadratic (docs/model.md §6): exact time averages over [run.warmup, run.horizon].
    {"stationary_error", "learning.stationary.error.mean", num, learn,
     [](const R& r) { return mean_of(le(r).stationary_error); }},
    {"stationary_error_ci95", "learning.stationary.error.ci95", num, learn,
     [](const R& r) { return ci_of(le(r).stationary_error); }},
    {"stationary_worst_error", "learning.stationary.worst_error.mean", num, learn,
     [](const R& r) { return mean_of(le(r).stationary_worst_error); }},
    {"stationary_worst_error_ci95", "learning.stationary.worst_error.ci95", num, learn,
     [](const R& r) { return ci_of(le(r).stationary_worst_error); }},
    {"stationary_consensus", "learning.stationary.consensus_distance.mean", num, learn,
     [](const R& r) { return mean_of(le(r).stationary_consensus); }},
    {"stationary_consensus_ci95", "learning.stationary.consensus_distance.ci95", num, learn,
     [](const R& r) { return ci_of(le(r).stationary_consensus); }},
    {"heterogeneity", "learning.heterogeneity", num, learn, [](const R& r) { return number(le(r).heterogeneity); }},
    // The exact stationary values for this run's optima (docs/model.md §6), where they exist.
    {"stationary_error_theory", "theory.learning.error", num, learn,
     [](const R& r) { return r.theory.learning ? number(r.theory.learning->error) : Cell(); }},
    {"stationary_consensus_theory", "theory.learning.consensus_distance", num, learn,
     [](const R& r) { return r.theory.learning ? number(r.theory.learning->consensus) : Cell(); }},
    {"", "theory.learning.method", text, learn,
     [](const R& r) { return r.theory.learning ? Cell(r.theory.learning->method) : Cell(); }},
    {"time_to_target", "learning.time_to_target.mean", num, learn, [](const R& r) { return mean_of(le(r).time_to_target); }},
    {"time_to_target_ci95", "learning.time_to_target.ci95", num, learn,
     [](const R& r) { return ci_of(le(r).time_to_target); }},
    {"reached", "learning.time_to_target.reached", integer, learn,
     [](const R& r) -> Cell { return static_cast<std::uint64_t>(le(r).reached); }},
    {"", "learning.target_accuracy", num, learn, [](const R& r) -> Cell { return r.scenario.learning.target_accuracy; }},
    // Times to target.loss and target.distance, over the trials that reached them.
    {"time_to_loss", "learning.time_to_loss.mean", num, learn, [](const R& r) { return mean_of(le(r).time_to_loss); }},
    {"time_to_loss_ci95", "learning.time_to_loss.ci95", num, learn, [](const R& r) { return ci_of(le(r).time_to_loss); }},
    {"reached_loss", "learning.time_to_loss.reached", integer, learn,
     [](const R& r) -> Cell { return static_cast<std::uint64_t>(le(r).reached_loss); }},
    {"", "learning.target_loss", num, learn, [](const R& r) { return number(r.scenario.learning.target_loss); }},
    {"time_to_distance", "learning.time_to_distance.mean", num, learn,
     [](const R& r) { return mean_of(le(r).time_to_distance); }},
    {"time_to_distance_ci95", "learning.time_to_distance.ci95", num, learn,
     [](const R& r) { return ci_of(le(r).time_to_distance); }},
    {"reached_distance", "learning.time_to_distance.reached", integer, learn,
     [](const R& r) -> Cell { return static_cast<std::uint64_t>(le(r).reached_distance); }},
    {"", "learning.target_distance", num, learn, [](const R& r) { return number(r.scenario.learning.target_distance); }},
    {"", "learning.plateau.fraction", num, learn,
     [](const R& r) -> Cell { return r.scenario.learning.observe.plateau_fraction; }},
    {"plateau_time", "learning.plateau.time.mean", num, learn, [](const R& r) { return mean_of(le(r).plateau_time); }},
    {"plateau_time_ci95", "learning.plateau.time.ci95", num, learn, [](const R& r) { return ci_of(le(r).plateau_time); }},
    {"", "learning.plateau.single_user_time.mean", num, learn,
     [](const R& r) { return mean_of(le(r).baseline_plateau_time); }},
    {"", "learning.plateau.single_user_time.ci95", num, learn,
     [](const R& r) { return ci_of(le(r).baseline_plateau_time); }},
    {"plateau_delay", "learning.plateau.delay.mean", num, learn, [](const R& r) { return mean_of(le(r).plateau_delay); }},
    {"plateau_delay_ci95", "learning.plateau.delay.ci95", num, learn, [](const R& r) { return ci_of(le(r).plateau_delay); }},
    {"", "learning.local_updates", integer, learn, [](const R& r) -> Cell { return le(r).updates; }},
    {"", "learning.gossips", integer, learn, [](const R& r) -> Cell { return le(r).gossips; }},
    {"", "learning.fedavg_rounds", integer, learn, [](const R& r) -> Cell { return le(r).rounds; }},
    {"", "learning.shards.min", integer, learn,
     [](const R& r) { return r.shards ? Cell(static_cast<std::uint64_t>(r.shards->min_size)) : Cell(); }},
    {"", "learning.shards.max", integer, learn,
     [](const R& r) { return r.shards ? Cell(static_cast<std::uint64_t>(r.shards->max_size)) : Cell(); }},
    {"", "learning.shards.mean", num, learn, [](const R& r) { return r.shards ? Cell(r.shards->mean_size) : Cell(); }},
    {"", "learning.shards.mean_classes_per_user", num, learn,
     [](const R& r) { return r.shards ? Cell(r.shards->mean_classes_per_user) : Cell(); }},
    // Divergence (a non-finite parameter or loss): how many trials, and the first time.
    {"diverged", "learning.diverged.trials", integer, learn,
     [](const R& r) -> Cell { return static_cast<std::uint64_t>(le(r).diverged); }},
    {"diverged_at", "learning.diverged.time", num, learn, [](const R& r) { return number(le(r).diverged_at); }},
    // ---- the network layer (docs/model.md §7.4): only in runs where some point has it ----
    // Each count over the whole run [0, horizon], its mean over trials and 95% CI.
    {"messages_sent", "communication.messages_sent.mean", num, comm, comm_mean<&Comm::messages_sent>},
    {"messages_sent_ci95", "communication.messages_sent.ci95", num, comm, comm_ci<&Comm::messages_sent>},
    {"messages_delivered", "communication.messages_delivered.mean", num, comm, comm_mean<&Comm::messages_delivered>},
    {"messages_delivered_ci95", "communication.messages_delivered.ci95", num, comm, comm_ci<&Comm::messages_delivered>},
    {"messages_lost", "communication.messages_lost.mean", num, comm, comm_mean<&Comm::messages_lost>},
    {"messages_lost_ci95", "communication.messages_lost.ci95", num, comm, comm_ci<&Comm::messages_lost>},
    {"requests_sent", "communication.requests_sent.mean", num, comm, comm_mean<&Comm::requests_sent>},
    {"requests_sent_ci95", "communication.requests_sent.ci95", num, comm, comm_ci<&Comm::requests_sent>},
    {"ticks_dropped", "communication.ticks_dropped.mean", num, comm, comm_mean<&Comm::ticks_dropped>},
    {"ticks_dropped_ci95", "communication.ticks_dropped.ci95", num, comm, comm_ci<&Comm::ticks_dropped>},
    {"ticks_offline", "communication.ticks_offline.mean", num, comm, comm_mean<&Comm::ticks_offline>},
    {"ticks_offline_ci95", "communication.ticks_offline.ci95", num, comm, comm_ci<&Comm::ticks_offline>},
    {"bytes_sent", "communication.bytes_sent.mean", num, comm, comm_mean<&Comm::bytes_sent>},
    {"bytes_sent_ci95", "communication.bytes_sent.ci95", num, comm, comm_ci<&Comm::bytes_sent>},
    {"bytes_received", "communication.bytes_received.mean", num, comm, comm_mean<&Comm::bytes_received>},
    {"bytes_received_ci95", "communication.bytes_received.ci95", num, comm, comm_ci<&Comm::bytes_received>},
    {"bytes_sent_per_user_mean", "communication.bytes_sent_per_user_mean.mean", num, comm,
     comm_mean<&Comm::bytes_sent_per_user_mean>},
    {"bytes_sent_per_user_mean_ci95", "communication.bytes_sent_per_user_mean.ci95", num, comm,
     comm_ci<&Comm::bytes_sent_per_user_mean>},
    {"bytes_sent_per_user_max", "communication.bytes_sent_per_user_max.mean", num, comm,
     comm_mean<&Comm::bytes_sent_per_user_max>},
    {"bytes_sent_per_user_max_ci95", "communication.bytes_sent_per_user_max.ci95", num, comm,
     comm_ci<&Comm::bytes_sent_per_user_max>},
    {"bytes_received_per_user_max", "communication.bytes_received_per_user_max.mean", num, comm,
     comm_mean<&Comm::bytes_received_per_user_max>},
    {"bytes_received_per_user_max_ci95", "communication.bytes_received_per_user_max.ci95", num, comm,
     comm_ci<&Comm::bytes_received_per_user_max>},
    {"queued", "communication.queued.mean", num, comm, comm_mean<&Comm::queued>},
    {"queued_ci95", "communication.queued.ci95", num, comm, comm_ci<&Comm::queued>},
    // Over the trials in which some send waited (empty / null when none did).
    {"queueing_delay_mean", "communication.queueing_delay_mean.mean", num, comm,
     comm_mean_opt<&Comm::queueing_delay_mean>},
    {"queueing_delay_mean_ci95", "communication.queueing_delay_mean.ci95", num, comm,
     comm_ci_opt<&Comm::queueing_delay_mean>},
    {"", "communication.queueing_delay_mean.trials", integer, comm,
     [](const R& r) -> Cell { return static_cast<std::uint64_t>(r.communication->queueing_trials); }},
    // Over the trials that delivered a message.
    {"latency_mean", "communication.latency_mean.mean", num, comm, comm_mean_opt<&Comm::latency_mean>},
    {"latency_mean_ci95", "communication.latency_mean.ci95", num, comm, comm_ci_opt<&Comm::latency_mean>},
    // ---- churn (docs/model.md §7.3): only in runs where some point has it ----
    {"online_fraction", "availability.online_fraction.mean", num, avail, avail_mean<&Avail::online_fraction>},
    {"online_fraction_ci95", "availability.online_fraction.ci95", num, avail, avail_ci<&Avail::online_fraction>},
    {"staleness_online", "availability.mean_staleness_online.mean", num, avail,
     avail_mean<&Avail::mean_staleness_online>},
    {"staleness_online_ci95", "availability.mean_staleness_online.ci95", num, avail,
     avail_ci<&Avail::mean_staleness_online>},
};

// Each learning metric's final value across trials (analysis::LearningSummary::final): its
// mean and 95% CI, one getter pair per metric.
template <std::size_t M>
Cell final_mean(const R& r) {
  return mean_of(le(r).final[M]);
}
template <std::size_t M>
Cell final_ci(const R& r) {
  return ci_of(le(r).final[M]);
}
using Getter = Cell (*)(const R&);
template <std::size_t... M>
constexpr std::array<std::pair<Getter, Getter>, sizeof...(M)> final_getters(std::index_sequence<M...>) {
  return {{{final_mean<M>, final_ci<M>}...}};
}
constexpr auto final_cells = final_getters(std::make_index_sequence<sim::learning_metric_count>{});

// The columns of the metrics of one scope: results.csv's (if the metric has one) and JSON's
// learning.final.<json>.{mean,ci95}.
void add_final_metrics(std::vector<Column>& columns, sim::MetricScope scope, ColumnGroup group) {
  for (std::size_t m = 0; m < sim::learning_metric_count; ++m) {
    const sim::LearningMetric& metric = sim::learning_metrics[m];
    if (metric.scope != scope) continue;
    const std::string csv(metric.results), json = fmt::format("learning.final.{}", metric.json);
    columns.push_back({csv, json + ".mean", num, group, final_cells[m].first});
    columns.push_back({csv.empty() ? csv : csv + "_ci95", json + ".ci95", num, group, final_cells[m].second});
  }
}

// The round protocols' counts (docs/model.md §4.1-4.2): results.csv's name and its _ci95, and JSON's
// protocol.<name>.{mean,ci95}.
template <auto M>
Cell rounds_mean(const R& r) {
  return mean_of((*le(r).rounds_summary).*M);
}
template <auto M>
Cell rounds_ci(const R& r) {
  return ci_of((*le(r).rounds_summary).*M);
}
template <auto M>
void add_rounds_column(std::vector<Column>& columns, const std::string& name) {
  columns.push_back({name, "protocol." + name + ".mean", num, rounds, rounds_mean<M>});
  columns.push_back({name + "_ci95", "protocol." + name + ".ci95", num, rounds, rounds_ci<M>});
}
void add_rounds_columns(std::vector<Column>& columns) {
  using S = analysis::RoundsSummary;
  add_rounds_column<&S::rounds_completed>(columns, "rounds_completed");
  add_rounds_column<&S::rounds_abandoned>(columns, "rounds_abandoned");
  add_rounds_column<&S::models_per_aggregation>(columns, "models_per_aggregation");
  add_rounds_column<&S::model_age>(columns, "model_age");
  add_rounds_column<&S::trainings_interrupted>(columns, "trainings_interrupted");
  add_rounds_column<&S::trainings_lost>(columns, "trainings_lost");
  add_rounds_column<&S::local_updates>(columns, "local_updates");
  add_rounds_column<&S::sample_overlap>(columns, "sample_overlap");  // empty for D-PSGD
}

// A SAPO swarm's experience (docs/model.md §4.3): results.csv's name and its _ci95, and JSON's
// path (learning.total_reward, learning.experience_age.<...>) with .mean and .ci95.
using XS = analysis::ExperienceSummary;
const XS& ex(const R& r) { return *le(r).experience; }
template <auto M>
Cell experience_mean(const R& r) {
  return mean_of(ex(r).*M);
}
template <auto M>
Cell experience_ci(const R& r) {
  return ci_of(ex(r).*M);
}
template <auto M>
void add_experience_column(std::vector<Column>& columns, const std::string& name, const std::string& json) {
  columns.push_back({name, json + ".mean", num, exper, experience_mean<M>});
  columns.push_back({name + "_ci95", json + ".ci95", num, exper, experience_ci<M>});
}
void add_experience_columns(std::vector<Column>& columns) {
  add_experience_column<&XS::total_reward>(columns, "total_reward", "learning.total_reward");
  add_experience_column<&XS::reward_per_update>(columns, "reward_per_update", "learning.reward_per_update");
  add_experience_column<&XS::zero_advantage>(columns, "zero_advantage", "learning.experience_age.zero_advantage");
  add_experience_column<&XS::external_per_step>(columns, "external_per_step", "learning.experience_age.external_per_step");
  add_experience_column<&XS::age_updates>(columns, "experience_age", "learning.experience_age.generator_updates");
  add_experience_column<&XS::learner_age>(columns, "experience_learner_age", "learning.experience_age.learner_updates");
  add_experience_column<&XS::age_time>(columns, "experience_age_time", "learning.experience_age.time");
  add_experience_column<&XS::divergence>(columns, "experience_divergence", "learning.experience_age.divergence");
  columns.push_back({"", "learning.experience_age.histogram", num, exper,
                     [](const R& r) { return ex(r).age_histogram.empty() ? Cell() : Cell(ex(r).age_histogram); }});
}

std::vector<Column> make_registry() {
  std::vector<Column> columns = head_columns;
  add_final_metrics(columns, sim::MetricScope::model, learn);
  columns.push_back({"", "learning.final.weight_variance", num, learn,
                     [](const R& r) { return le(r).diverged ? Cell() : Cell(le(r).weight_variance); }});
  columns.insert(columns.end(), tail_columns.begin(), tail_columns.end());
  add_final_metrics(columns, sim::MetricScope::network, learn_comm);
  add_rounds_columns(columns);
  add_final_metrics(columns, sim::MetricScope::experience, exper);
  add_experience_columns(columns);
  return columns;
}
const std::vector<Column> registry = make_registry();

// Whether a table with these groups has a column of group g.
bool group_in(ColumnGroup g, TableGroups groups) {
  switch (g) {
    case ColumnGroup::point:
    case ColumnGroup::staleness: return true;
    case ColumnGroup::learning: return groups.learning;
    case ColumnGroup::communication: return groups.communication;
    case ColumnGroup::availability: return groups.availability;
    case ColumnGroup::learning_communication: return groups.learning && groups.communication;
    case ColumnGroup::spending: return groups.spending;
    case ColumnGroup::rounds: return groups.rounds;
    case ColumnGroup::experience: return groups.experience;
    case ColumnGroup::age: return groups.age;
  }
  return false;
}

// Whether a point has the results a column of group g reads.
bool has_group(ColumnGroup g, const R& r) {
  switch (g) {
    case ColumnGroup::point: return true;
    case ColumnGroup::staleness: return r.staleness.has_value();
    case ColumnGroup::learning: return r.learning.has_value();
    case ColumnGroup::communication: return r.communication.has_value();
    case ColumnGroup::availability: return r.availability.has_value();
    case ColumnGroup::learning_communication: return r.learning && r.communication;
    case ColumnGroup::spending: return r.staleness.has_value();
    case ColumnGroup::rounds: return r.learning && r.learning->rounds_summary.has_value();
    case ColumnGroup::experience: return r.learning && r.learning->experience.has_value();
    // JSON has freshness wherever there is staleness; the age in time is empty in the users model.
    case ColumnGroup::age: return r.staleness.has_value();
  }
  return false;
}

bool in_table(const Column& c, TableGroups groups) { return !c.csv.empty() && group_in(c.group, groups); }

// CSV text of a cell: numbers with `digits` significant digits, empty for no value.
std::string cell_text(const Cell& cell, int digits) {
  return std::visit(
      [digits](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) return "";
        else if constexpr (std::is_same_v<T, double>) return fmt::format("{:.{}g}", x, digits);
        else if constexpr (std::is_same_v<T, std::string>) return x;
        else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::vector<double>>) {
          std::string out;
          for (double v : x) {
            if (!out.empty()) out += ';';
            out += fmt::format("{:.{}g}", v, digits);
          }
          return out;
        } else return std::to_string(x);
      },
      cell);
}

nlohmann::ordered_json cell_json(const Cell& cell) {
  return std::visit(
      [](const auto& x) -> nlohmann::ordered_json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) return nullptr;
        else return x;
      },
      cell);
}

// A summary object ({"mean", "ci95", ...}) whose mean is null is null: nothing was measured.
void collapse_empty_summaries(nlohmann::ordered_json& j) {
  if (!j.is_object()) return;
  for (auto& [key, value] : j.items()) {
    collapse_empty_summaries(value);
    if (value.is_object() && value.contains("mean") && value["mean"].is_null()) value = nullptr;
  }
}

// ---- trials.csv --------------------------------------------------------------------------

struct TrialColumn {
  std::string_view csv;
  ColumnType type;
  ColumnGroup group;
  Cell (*get)(const TrialRow&);
};

Cell staleness_value(const TrialRow& t, double (*f)(const TrialRow&)) { return t.staleness ? Cell(f(t)) : Cell(); }

// The trial's staleness result, which carries the network layer's counts (a FedAvg trial's
// are in its learning result).
const sim::TrialResult* network_result(const TrialRow& t) {
  return t.staleness ? t.staleness : t.learning ? &t.learning->staleness : nullptr;
}
const sim::Communication* communication(const TrialRow& t) {
  const auto* r = network_result(t);
  return r && r->communication ? &*r->communication : nullptr;
}
const sim::Availability* availability(const TrialRow& t) {
  const auto* r = network_result(t);
  return r && r->availability ? &*r->availability : nullptr;
}

// The final observation of a trial that stayed finite (a diverged trial has none to report).
const sim::Observation* final_observation(const TrialRow& t) {
  if (!t.learning || t.learning->diverged_at || t.learning->observations.empty()) return nullptr;
  return &t.learning->observations.back();
}

// Up to the final metrics of learning.
const std::vector<TrialColumn> trial_head = {
    {"trial", integer, point, [](const TrialRow& t) -> Cell { return static_cast<std::uint64_t>(t.trial); }},
    {"mean_staleness", num, stale,
     [](const TrialRow& t) { return staleness_value(t, [](const TrialRow& x) { return x.staleness->mean_staleness; }); }},
    {"max_mean", num, stale,
     [](const TrialRow& t) { return staleness_value(t, [](const TrialRow& x) { return x.staleness->max_mean; }); }},
    {"max_all_mean", num, stale,
     [](const TrialRow& t) { return staleness_value(t, [](const TrialRow& x) { return x.staleness->max_all_mean; }); }},
    {"exceed_per_source", num, stale,
     [](const TrialRow& t) {
       return staleness_value(t, [](const TrialRow& x) {
         return analysis::weighted_fraction_above(x.staleness->worst_time, x.point->scenario.staleness.bound);
       });
     }},
    {"exceed_all_pairs", num, stale,
     [](const TrialRow& t) {
       return staleness_value(t, [](const TrialRow& x) {
         return analysis::weighted_fraction_above(x.staleness->max_all_time, x.point->scenario.staleness.bound);
       });
     }},
    {"freshness", num, age,
     [](const TrialRow& t) {
       return staleness_value(t, [](const TrialRow& x) { return 1.0 - analysis::weighted_fraction_above(x.staleness->staleness_time, 0); });
     }},
    {"age_time", num, age,
     [](const TrialRow& t) { return t.staleness && t.staleness->mean_age_time ? Cell(*t.staleness->mean_age_time) : Cell(); }},
    {"events", integer, stale, [](const TrialRow& t) { return t.staleness ? Cell(t.staleness->events) : Cell(); }},
    {"gossip_sends", integer, spend,
     [](const TrialRow& t) { return t.staleness ? Cell(t.staleness->gossip_sends) : Cell(); }},
};

// After them.
const std::vector<TrialColumn> trial_tail = {
    {"time_to_target", num, learn, [](const TrialRow& t) { return number(t.learning->time_to_target); }},
    {"time_to_loss", num, learn, [](const TrialRow& t) { return number(t.learning->time_to_loss); }},
    {"time_to_distance", num, learn, [](const TrialRow& t) { return number(t.learning->time_to_distance); }},
    {"diverged_at", num, learn, [](const TrialRow& t) { return number(t.learning->diverged_at); }},
    {"stationary_error", num, learn,
     [](const TrialRow& t) { return t.learning->stationary ? Cell(t.learning->stationary->error) : Cell(); }},
    {"stationary_worst_error", num, learn,
     [](const TrialRow& t) { return t.learning->stationary ? Cell(t.learning->stationary->worst_error) : Cell(); }},
    {"stationary_consensus", num, learn,
     [](const TrialRow& t) { return t.learning->stationary ? Cell(t.learning->stationary->consensus) : Cell(); }},
    // Training resources, over the whole run: every local update made, used or not.
    {"local_updates", integer, learn, [](const TrialRow& t) { return Cell(t.learning->local_updates); }},
    // The network layer (docs/model.md §7.4), over the whole run.
    {"messages_sent", integer, comm,
     [](const TrialRow& t) { return communication(t) ? Cell(communication(t)->messages_sent) : Cell(); }},
    {"messages_lost", integer, comm,
     [](const TrialRow& t) { return communication(t) ? Cell(communication(t)->messages_lost) : Cell(); }},
    {"bytes_sent", num, comm,
     [](const TrialRow& t) { return communication(t) ? Cell(communication(t)->bytes_sent) : Cell(); }},
    // Churn (docs/model.md §7.3), time averages over the window.
    {"online_fraction", num, avail,
     [](const TrialRow& t) { return availability(t) ? Cell(availability(t)->online_fraction) : Cell(); }},
    {"staleness_online", num, avail,
     [](const TrialRow& t) { return availability(t) ? number(availability(t)->mean_staleness_online) : Cell(); }},
};

// A learning metric's value at a trial's final observation (sim/learning_metrics.hpp).
template <std::size_t M>
Cell final_value(const TrialRow& t) {
  const auto* o = final_observation(t);
  return o ? number((*o)[M]) : Cell();
}
template <std::size_t... M>
constexpr std::array<Cell (*)(const TrialRow&), sizeof...(M)> final_values(std::index_sequence<M...>) {
  return {final_value<M>...};
}
constexpr auto final_value_of = final_values(std::make_index_sequence<sim::learning_metric_count>{});

std::vector<TrialColumn> make_trial_registry() {
  std::vector<TrialColumn> columns = trial_head;
  for (std::size_t m = 0; m < sim::learning_metric_count; ++m)
    if (sim::learning_metrics[m].per_trial)
      columns.push_back({sim::learning_metrics[m].results, num,
                         sim::learning_metrics[m].scope == sim::MetricScope::experience ? exper : learn,
                         final_value_of[m]});
  columns.insert(columns.end(), trial_tail.begin(), trial_tail.end());
  return columns;
}
const std::vector<TrialColumn> trial_registry = make_trial_registry();

bool in_trials(const TrialColumn& c, TableGroups groups) { return group_in(c.group, groups); }

std::vector<std::string> prefixed(const std::vector<std::string>& axes) {
  std::vector<std::string> h{"point"};
  h.insert(h.end(), axes.begin(), axes.end());
  return h;
}


// learning_curves.csv's columns after the time: each metric's mean over trials (and its CI)
// as the metric list says, then weight_variance, then the network scope's metrics (with the
// communication group).
constexpr std::size_t weight_variance_column = sim::learning_metric_count;
struct CurveColumn {
  std::string name;
  std::size_t metric;  // index in sim::learning_metrics, or weight_variance_column
  bool ci;
};
void add_curve_columns(std::vector<CurveColumn>& columns, sim::MetricScope scope) {
  for (std::size_t m = 0; m < sim::learning_metric_count; ++m) {
    const sim::LearningMetric& metric = sim::learning_metrics[m];
    if (metric.scope != scope || metric.curve == sim::CurveColumns::none) continue;
    columns.push_back({std::string(metric.name), m, false});
    if (metric.curve == sim::CurveColumns::mean_ci) columns.push_back({fmt::format("{}_ci95", metric.name), m, true});
  }
}
std::vector<CurveColumn> curve_columns(TableGroups groups) {
  std::vector<CurveColumn> columns;
  add_curve_columns(columns, sim::MetricScope::model);
  columns.push_back({"weight_variance", weight_variance_column, false});
  if (groups.communication) add_curve_columns(columns, sim::MetricScope::network);
  if (groups.experience) add_curve_columns(columns, sim::MetricScope::experience);
  return columns;
}

}  // namespace

const std::vector<Column>& result_columns() { return registry; }

// The type of every column of a file, in header order (axes are text).
std::vector<ColumnType> column_types(ResultsFile file, const std::vector<std::string>& axes, TableGroups groups) {
  std::vector<ColumnType> types{integer};
  types.insert(types.end(), axes.size(), text);
  switch (file) {
    case ResultsFile::results:
      for (const Column& c : registry)
        if (in_table(c, groups) && c.csv != "point") types.push_back(c.type);
      break;
    case ResultsFile::trials:
      for (const TrialColumn& c : trial_registry)
        if (in_trials(c, groups)) types.push_back(c.type);
      break;
    case ResultsFile::curves:
      types.push_back(num);  // time
      for (const CurveColumn& c : curve_columns(groups))  // weight_variance: a ';'-separated list
        types.push_back(c.metric == weight_variance_column ? ColumnType::number_list : num);
      break;
  }
  return types;
}

TableGroups& TableGroups::include(const sim::Scenario& scenario) {
  learning = learning || scenario.learning.enabled();
  const bool round_protocol = scenario.learning.enabled() && sim::learning_protocol(scenario).reports_rounds;
  const bool swarm = scenario.learning.enabled() && sim::learning_protocol(scenario).reports_experience;
  // A round protocol counts its messages even without the network layer (sim/round_traffic.hpp),
  // as a swarm counts its rollouts.
  communication = communication || scenario.networked() || round_protocol || swarm;
  experience = experience || swarm;
  availability = availability || scenario.churn.model != sim::ChurnModel::none;
  spending = spending || scenario.gossip.policy != sim::GossipPolicyId{};
  rounds = rounds || round_protocol;
  age = age || (scenario.staleness.model == sim::StalenessModel::source && (!scenario.learning.enabled() ||
                                                                            sim::learning_protocol(scenario).measures_staleness));
  return *this;
}

PointResult make_point_result(std::size_t index, std::vector<std::string> axis_values, const sim::Scenario& scenario,
                              analysis::Prediction theory, const std::vector<sim::TrialResult>& staleness,
                              const std::vector<sim::LearningTrialResult>* learning,
                              std::optional<models::ShardSummary> shards) {
  PointResult r;
  r.index = index;
  r.axis_values = std::move(axis_values);
  r.scenario = scenario;
  r.theory = std::move(theory);
  if (!staleness.empty()) r.staleness = analysis::summarize_trials(staleness, scenario.staleness.bound, scenario.network.n, scenario.run.horizon);
  else  // no staleness theory without gossip (whatever theory was passed); the learning theory stays
    r.theory = analysis::without_gossip(scenario, std::move(r.theory.learning));
  if (learning) {
    r.learning = analysis::summarize_learning(*learning);
    r.shards = shards;
    std::size_t common = learning->front().observations.size();
    for (const auto& t : *learning) common = std::min(common, t.observations.size());
    r.final_time = common ? learning->front().observations[common - 1].time : 0.0;
  }
  // The network layer's counts ride on the staleness results; a point without gossip (FedAvg,
  // MoDeST, D-PSGD) has none, so they come from its learning trials.
  if (!staleness.empty() || !learning) {
    r.communication = analysis::summarize_communication(staleness, scenario.network.n);
    r.availability = analysis::summarize_availability(staleness);
  } else {
    std::vector<sim::TrialResult> counted;
    for (const auto& t : *learning) {
      sim::TrialResult& c = counted.emplace_back();
      c.communication = t.staleness.communication;
      c.availability = t.staleness.availability;
    }
    r.communication = analysis::summarize_communication(counted, scenario.network.n);
    r.availability = analysis::summarize_availability(counted);
  }
  return r;
}

std::vector<std::string> results_header(const std::vector<std::string>& axes, TableGroups groups) {
  std::vector<std::string> h = prefixed(axes);
  for (const Column& c : registry)
    if (in_table(c, groups) && c.csv != "point") h.emplace_back(c.csv);
  return h;
}

std::string results_row(const PointResult& r, TableGroups groups) {
  std::vector<std::string> f{std::to_string(r.index)};
  f.insert(f.end(), r.axis_values.begin(), r.axis_values.end());
  for (const Column& c : registry) {
    if (!in_table(c, groups) || c.csv == "point") continue;
    f.push_back(has_group(c.group, r) ? cell_text(c.get(r), 12) : std::string());
  }
  return csv_line(f);
}

void add_result_json(nlohmann::ordered_json& j, const PointResult& r) {
  if (!r.staleness) j["staleness"] = nullptr;
  for (const Column& c : registry) {
    if (c.json.empty()) continue;
    if (!has_group(c.group, r)) continue;  // e.g. no "communication" object without the network layer
    nlohmann::ordered_json* at = &j;
    std::string_view path = c.json;
    for (std::size_t dot; (dot = path.find('.')) != std::string_view::npos; path.remove_prefix(dot + 1))
      at = &(*at)[std::string(path.substr(0, dot))];
    (*at)[std::string(path)] = cell_json(c.get(r));
  }
  if (r.learning) {
    auto& l = j["learning"];
    l["diverged"]["of"] = r.scenario.run.trials;
    if (r.learning->diverged > 0) {
      // A diverged run has no final metrics, time to target or plateau to report.
      for (const char* key : {"final", "time_to_target", "time_to_loss", "time_to_distance", "plateau", "stationary"}) l.erase(key);
      l["status"] = "diverged";
    } else {
      l["status"] = "completed";
    }
  }
  collapse_empty_summaries(j);
}

std::vector<TrialColumnCells> trial_columns(const PointResult& p, const std::vector<sim::TrialResult>& staleness,
                                            const std::vector<sim::LearningTrialResult>* learning, TableGroups groups) {
  std::vector<TrialColumnCells> columns;
  for (const TrialColumn& c : trial_registry) {
    if (!in_trials(c, groups)) continue;
    TrialColumnCells& column = columns.emplace_back(TrialColumnCells{c.csv, c.type, {}});
    for (std::uint32_t i = 0; i < p.scenario.run.trials; ++i) {
      const TrialRow t{&p, i, i < staleness.size() ? &staleness[i] : nullptr, learning ? &(*learning)[i] : nullptr};
      column.cells.push_back(c.group == learn && !learning ? Cell() : c.get(t));
    }
  }
  return columns;
}

std::vector<std::string> trials_header(const std::vector<std::string>& axes, TableGroups groups, TrialPrefix prefix) {
  std::vector<std::string> h = prefix == TrialPrefix::none ? std::vector<std::string>{} : prefixed(axes);
  for (const TrialColumn& c : trial_registry)
    if (in_trials(c, groups)) h.emplace_back(c.csv);
  return h;
}

std::string trial_rows(const PointResult& p, const std::vector<sim::TrialResult>& staleness,
                       const std::vector<sim::LearningTrialResult>* learning, TableGroups groups, TrialPrefix prefix) {
  const std::vector<TrialColumnCells> columns = trial_columns(p, staleness, learning, groups);
  std::string rows;
  for (std::uint32_t i = 0; i < p.scenario.run.trials; ++i) {
    std::vector<std::string> f;
    if (prefix == TrialPrefix::point_and_axes) {
      f.push_back(std::to_string(p.index));
      f.insert(f.end(), p.axis_values.begin(), p.axis_values.end());
    }
    for (const TrialColumnCells& c : columns) f.push_back(cell_text(c.cells[i], 17));
    rows += csv_line(f);
  }
  return rows;
}

std::vector<std::string> curves_header(const std::vector<std::string>& axes, TableGroups groups) {
  std::vector<std::string> h = prefixed(axes);
  h.emplace_back("time");
  for (const CurveColumn& c : curve_columns(groups)) h.push_back(c.name);
  return h;
}

std::string curve_rows(const PointResult& p, const std::vector<sim::LearningTrialResult>& learning, TableGroups groups) {
  const std::vector<CurveColumn> columns = curve_columns(groups);
  std::string rows;
  for (const auto& point : analysis::learning_curve(learning)) {
    std::vector<std::string> f{std::to_string(p.index)};
    f.insert(f.end(), p.axis_values.begin(), p.axis_values.end());
    f.push_back(cell_text(point.time, 12));
    for (const CurveColumn& c : columns) {
      const Cell cell = c.metric == weight_variance_column ? Cell(point.weight_variance)
                        : c.ci                             ? ci_of(point.values[c.metric])
                                                           : mean_of(point.values[c.metric]);
      f.push_back(cell_text(cell, 12));
    }
    rows += csv_line(f);
  }
  return rows;
}

}  // namespace timely::experiments
