#include "app/simulate.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <ostream>

#include "analysis/trial_summary.hpp"
#include "app/atomic_file.hpp"
#include "app/config.hpp"
#include "app/progress.hpp"
#include "sim/input_error.hpp"
#include "sim/random.hpp"
#include "sim/trials.hpp"

namespace timely::cli {
namespace {

nlohmann::ordered_json optional_number(const std::optional<double>& x) {
  if (!x) return nullptr;
  return *x;
}


}  // namespace

Simulation simulate(const sim::Scenario& scenario, unsigned threads, std::ostream& err, bool show_progress) {
  validate(scenario);
  check_resources(scenario);
  Simulation result;
  result.scenario = scenario;
  const sim::Graph graph = sim::scenario_graph(scenario);
  result.theory = analysis::predict(scenario, graph);
  Progress progress(err, "simulate", scenario.run.trials, show_progress);
  const auto start = std::chrono::steady_clock::now();
  result.trials = sim::run_trials(scenario, graph, threads, [&](std::uint32_t done) { progress.advance(done); });
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

nlohmann::ordered_json theory_json(const sim::Scenario& scenario, const analysis::Prediction& prediction) {
  nlohmann::ordered_json j;
  j["scenario"] = scenario_json(scenario);
  j["staleness"] = optional_number(prediction.staleness);
  j["method"] = prediction.method;
  j["law"] = prediction.law ? nlohmann::ordered_json(*prediction.law) : nlohmann::ordered_json(nullptr);
  if (prediction.regime)
    j["regime"] = {{"scaling", sim::to_string(scenario.gossip.scaling)},
                   {"law", prediction.regime->law},
                   {"asymptote", prediction.regime->asymptote},
                   {"bounded_staleness_capacity", prediction.regime->bounded_staleness_capacity},
                   {"capacity", scenario.gossip_rate()}};
  if (prediction.rumour)
    j["rumour"] = {{"all_informed_time", prediction.rumour->all_informed},
                   {"one_informed_time", prediction.rumour->one_informed}};
  return j;
}

nlohmann::ordered_json summary_json(const analysis::Summary& s) {
  return {{"mean", s.mean}, {"ci95", optional_number(s.ci_half_width)}};
}

nlohmann::ordered_json simulation_json(const Simulation& sim, unsigned threads) {
  const analysis::TrialSummary t = analysis::summarize_trials(sim.trials, sim.scenario.staleness.bound);
  nlohmann::ordered_json j;
  j["scenario"] = scenario_json(sim.scenario);
  auto& st = j["staleness"];
  st["mean"] = t.mean.mean;
  st["ci95"] = optional_number(t.mean.ci_half_width);
  st["sd"] = t.mean.count > 1 ? nlohmann::ordered_json(t.mean.sd) : nlohmann::ordered_json(nullptr);
  st["max_mean"] = t.max_mean.mean;
  st["max_ci95"] = optional_number(t.max_mean.ci_half_width);
  st["max_all_mean"] = t.max_all_mean.mean;
  st["max_all_ci95"] = optional_number(t.max_all_mean.ci_half_width);
  st["exceed"] = {{"bound", t.bound},
                  {"per_source", summary_json(t.exceed_per_source)},
                  {"all_pairs", summary_json(t.exceed_all_pairs)}};
  auto& q = st["quantiles"];
  for (std::size_t i = 0; i < t.quantiles.size(); ++i)
    q[analysis::quantile_name(analysis::staleness_quantile_levels[i])] = t.quantiles[i];
  auto& th = j["theory"];
  th["staleness"] = optional_number(sim.theory.staleness);
  th["method"] = sim.theory.method;
  th["law"] = sim.theory.law ? nlohmann::ordered_json(*sim.theory.law) : nlohmann::ordered_json(nullptr);
  if (sim.theory.staleness && *sim.theory.staleness > 0.0) {
    th["ratio"] = t.mean.mean / *sim.theory.staleness;
    th["within_ci95"] = t.mean.ci_half_width
                            ? nlohmann::ordered_json(std::abs(t.mean.mean - *sim.theory.staleness) <= *t.mean.ci_half_width)
                            : nlohmann::ordered_json(nullptr);
  } else {
    th["ratio"] = nullptr;
    th["within_ci95"] = nullptr;
  }
  j["trials"] = sim.trials.size();
  j["events"] = t.events;
  j["wall_seconds"] = sim.wall_seconds;
  j["events_per_second"] = sim.wall_seconds > 0.0 ? static_cast<double>(t.events) / sim.wall_seconds : 0.0;
  j["threads"] = threads;
  j["timely_version"] = TIMELY_VERSION;
  return j;
}

void print_theory(std::ostream& out, const sim::Scenario& s, const analysis::Prediction& p) {
  out << fmt::format("{} model, {} n = {}, {} gossip at lambda = {:.6g} per user\n", sim::to_string(s.staleness.model),
                     sim::to_string(s.network.topology), s.network.n, sim::to_string(s.gossip.mode), s.gossip_rate());
  if (p.staleness) out << fmt::format("  staleness  {:.6g}\n", *p.staleness);
  else out << "  staleness  (no exact value)\n";
  out << fmt::format("  method     {}\n", p.method);
  if (p.law) out << fmt::format("  law        {}\n", *p.law);
  if (p.regime)
    out << fmt::format("  regime     {} capacity: staleness -> {} = {:.6g}; a guaranteed bound needs capacity "
                       ">= (n-1) r = {:.6g}\n",
                       sim::to_string(s.gossip.scaling), p.regime->law, p.regime->asymptote,
                       p.regime->bounded_staleness_capacity);
  if (p.rumour)
    out << fmt::format("  rumour     all informed after {:.6g}, a given user after {:.6g} (push, MODEL 3.7)\n",
                       p.rumour->all_informed, p.rumour->one_informed);
}

void print_simulation(std::ostream& out, const Simulation& sim, unsigned threads) {
  const analysis::TrialSummary t = analysis::summarize_trials(sim.trials, sim.scenario.staleness.bound);
  const auto& s = sim.scenario;
  const auto pm = [](const analysis::Summary& x) {
    return x.ci_half_width ? fmt::format("{:.6g} ± {:.4g}", x.mean, *x.ci_half_width)
                           : fmt::format("{:.6g} (one trial: no CI)", x.mean);
  };
  print_theory(out, s, sim.theory);
  out << fmt::format("  simulated  {} (95% CI over {} trials, window [{:g}, {:g}])\n", pm(t.mean), sim.trials.size(),
                     s.run.warmup, s.run.horizon);
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
  out << fmt::format("  events     {} in {:.3g} s ({:.3g} events/s, {} threads)\n", t.events, sim.wall_seconds,
                     sim.wall_seconds > 0 ? t.events / sim.wall_seconds : 0.0,
                     threads == 0 ? std::string("all") : std::to_string(threads));
}

void write_simulation(const std::filesystem::path& dir, const Simulation& sim, unsigned threads) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(fmt::format("--out: cannot create directory '{}' ({})", dir.string(), ec.message()));
  write_file_atomically(dir / "result.json", simulation_json(sim, threads).dump(2) + "\n");
  std::string csv = "trial,mean_staleness,max_mean,max_all_mean,events\n";
  for (std::size_t i = 0; i < sim.trials.size(); ++i)
    csv += fmt::format("{},{:.17g},{:.17g},{:.17g},{}\n", i, sim.trials[i].mean_staleness, sim.trials[i].max_mean,
                       sim.trials[i].max_all_mean, sim.trials[i].events);
  write_file_atomically(dir / "trials.csv", csv);
}

}  // namespace timely::cli
