// The network layer's counts in every output (docs/model.md §7.4): the summaries across
// trials, the column registry's optional groups (results.csv, trials.csv,
// learning_curves.csv, `simulate --json`), and, end to end, that a run without the layer
// writes nothing new.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/learning_summary.hpp"
#include "analysis/statistics.hpp"
#include "analysis/trial_summary.hpp"
#include "experiments/columns.hpp"
#include "experiments/csv.hpp"
#include "tests/run_cli.hpp"
#include "tests/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace timely;

namespace {

fs::path scratch(const std::string& name) { return testing::fresh_scratch("timely_communication_output_test", name); }

using testing::slurp;

// A trial with a staleness histogram (so the staleness summary works) and, if given, counts.
sim::TrialResult trial(std::optional<sim::Communication> c = std::nullopt,
                       std::optional<sim::Availability> a = std::nullopt) {
  sim::TrialResult t;
  t.mean_staleness = 1.5;
  t.staleness_time = {1.0, 2.0};
  t.worst_time = {1.0, 2.0};
  t.max_all_time = {1.0, 2.0};
  t.events = 10;
  t.communication = c;
  t.availability = a;
  return t;
}

sim::Communication counts(std::uint64_t sent, std::uint64_t lost, double bytes, std::uint64_t queued, double waited,
                          double latency_total) {
  sim::Communication c;
  c.messages_sent = sent;
  c.messages_lost = lost;
  c.messages_delivered = sent - lost;
  c.requests_sent = 2;
  c.ticks_dropped = 3;
  c.ticks_offline = 4;
  c.bytes_sent = bytes;
  c.bytes_received = bytes / 2;
  c.bytes_sent_per_user_max = bytes / 3;
  c.bytes_received_per_user_max = bytes / 5;
  c.queued = queued;
  c.queueing_delay = waited;
  c.latency_total = latency_total;
  return c;
}

// The CI half-width of two samples: t_{0.975, 1} |a - b| / 2.
double ci_of_two(double a, double b) { return analysis::student_t_critical(0.95, 1) * std::abs(a - b) / 2.0; }

std::vector<std::string> fields(const std::string& line) {
  return experiments::parse_csv_line(line.substr(0, line.size() - 1));  // without the newline
}

bool contains(const std::vector<std::string>& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST_CASE("communication summary: means and CIs across trials of every count", "[communication-output]") {
  const std::vector<sim::TrialResult> trials = {trial(counts(100, 30, 4000.0, 10, 5.0, 35.0)),
                                                trial(counts(120, 40, 6000.0, 0, 0.0, 80.0))};
  const auto s = analysis::summarize_communication(trials, 8);
  REQUIRE(s);
  CHECK(s->trials == 2);
  CHECK(s->messages_sent.mean == Approx(110.0));
  CHECK(*s->messages_sent.ci_half_width == Approx(ci_of_two(100, 120)));
  CHECK(s->messages_lost.mean == Approx(35.0));
  CHECK(*s->messages_lost.ci_half_width == Approx(ci_of_two(30, 40)));
  CHECK(s->messages_delivered.mean == Approx(75.0));
  CHECK(s->requests_sent.mean == Approx(2.0));
  CHECK(*s->requests_sent.ci_half_width == Approx(0.0));
  CHECK(s->ticks_dropped.mean == Approx(3.0));
  CHECK(s->ticks_offline.mean == Approx(4.0));
  CHECK(s->bytes_sent.mean == Approx(5000.0));
  CHECK(s->bytes_received.mean == Approx(2500.0));
  // bytes_sent / n, per trial, then the mean: (500 + 750) / 2.
  CHECK(s->bytes_sent_per_user_mean.mean == Approx(625.0));
  CHECK(*s->bytes_sent_per_user_mean.ci_half_width == Approx(ci_of_two(500, 750)));
  CHECK(s->bytes_sent_per_user_max.mean == Approx(5000.0 / 3));
  CHECK(s->bytes_received_per_user_max.mean == Approx(1000.0));
  CHECK(s->queued.mean == Approx(5.0));
  // The queueing delay per waiting send: only the first trial queued anything (5 / 10).
  REQUIRE(s->queueing_delay_mean);
  CHECK(s->queueing_trials == 1);
  CHECK(s->queueing_delay_mean->mean == Approx(0.5));
  CHECK_FALSE(s->queueing_delay_mean->ci_half_width);  // one trial: no CI
  // latency_total / messages_delivered: 35 / 70 and 80 / 80.
  REQUIRE(s->latency_mean);
  CHECK(s->latency_mean->mean == Approx(0.75));
  CHECK(*s->latency_mean->ci_half_width == Approx(ci_of_two(0.5, 1.0)));
}

TEST_CASE("communication summary: absent without the network layer; no queueing is no value, not 0",
          "[communication-output]") {
  CHECK_FALSE(analysis::summarize_communication({trial(), trial()}, 8));
  CHECK_FALSE(analysis::summarize_communication({}, 8));
  CHECK_FALSE(analysis::summarize_availability({trial(), trial()}));
  const auto s = analysis::summarize_communication({trial(counts(10, 10, 40.0, 0, 0.0, 0.0))}, 4);
  REQUIRE(s);
  CHECK_FALSE(s->queueing_delay_mean);  // nothing waited
  CHECK(s->queueing_trials == 0);
  CHECK_FALSE(s->latency_mean);  // nothing delivered
  CHECK(s->bytes_sent_per_user_mean.mean == Approx(10.0));
}

TEST_CASE("availability summary: online fraction and staleness over online observers", "[communication-output]") {
  const std::vector<sim::TrialResult> trials = {trial(counts(1, 0, 1, 0, 0, 0), sim::Availability{0.6, 2.0}),
                                                trial(counts(1, 0, 1, 0, 0, 0), sim::Availability{0.8, 3.0}),
                                                trial(counts(1, 0, 1, 0, 0, 0), sim::Availability{0.7, std::nullopt})};
  const auto a = analysis::summarize_availability(trials);
  REQUIRE(a);
  CHECK(a->trials == 3);
  CHECK(a->online_fraction.mean == Approx(0.7));
  CHECK(*a->online_fraction.ci_half_width == Approx(analysis::student_t_critical(0.95, 2) * 0.1 / std::sqrt(3.0)));
  // The third trial had nobody online in the window: left out.
  REQUIRE(a->mean_staleness_online);
  CHECK(a->mean_staleness_online->count == 2);
  CHECK(a->mean_staleness_online->mean == Approx(2.5));
}

TEST_CASE("learning summary and curve carry the bytes sent per user when observed", "[communication-output]") {
  sim::LearningTrialResult a, b;
  for (double t : {0.0, 10.0}) {
    sim::Observation o;
    o.time = t;
    o[sim::metric::loss] = 1.0;
    a.observations.push_back(o);
    b.observations.push_back(o);
  }
  CHECK_FALSE(analysis::summarize_learning({a, b}).final[sim::metric::bytes_sent_per_user]);
  CHECK_FALSE(analysis::learning_curve({a, b})[1].values[sim::metric::bytes_sent_per_user]);
  a.observations[0][sim::metric::bytes_sent_per_user] = 0.0;
  b.observations[0][sim::metric::bytes_sent_per_user] = 0.0;
  a.observations[1][sim::metric::bytes_sent_per_user] = 100.0;
  b.observations[1][sim::metric::bytes_sent_per_user] = 300.0;
  const auto l = analysis::summarize_learning({a, b});
  REQUIRE(l.final[sim::metric::bytes_sent_per_user]);
  CHECK(l.final[sim::metric::bytes_sent_per_user]->mean == Approx(200.0));
  const auto curve = analysis::learning_curve({a, b});
  REQUIRE(curve[1].values[sim::metric::bytes_sent_per_user]);
  CHECK(curve[1].values[sim::metric::bytes_sent_per_user]->mean == Approx(200.0));
  CHECK(*curve[1].values[sim::metric::bytes_sent_per_user]->ci_half_width == Approx(ci_of_two(100, 300)));
}

TEST_CASE("results.csv: the network columns only with their group, read back by the typed reader",
          "[communication-output]") {
  sim::Scenario s;
  s.run.trials = 2;
  s.network.n = 8;
  const std::vector<sim::TrialResult> plain = {trial(), trial()};
  const std::vector<sim::TrialResult> networked = {
      trial(counts(100, 30, 4000.0, 10, 5.0, 35.0), sim::Availability{0.6, 2.0}),
      trial(counts(120, 40, 6000.0, 0, 0.0, 80.0), sim::Availability{0.8, 3.0})};
  const auto off = experiments::make_point_result(0, {"0"}, s, {}, plain, nullptr);
  const auto on = experiments::make_point_result(1, {"0.3"}, s, {}, networked, nullptr);
  CHECK_FALSE(off.communication);
  CHECK_FALSE(off.availability);
  REQUIRE(on.communication);
  REQUIRE(on.availability);

  // Without the groups the header is exactly the one without the network layer.
  const experiments::TableGroups none{}, both{false, true, true}, comm_only{false, true, false};
  CHECK(experiments::results_header({"gossip.loss"}, none) == experiments::results_header({"gossip.loss"}, false));
  CHECK(experiments::results_row(on, none) == experiments::results_row(on, false));
  const auto plain_header = experiments::results_header({"gossip.loss"}, false);
  for (const char* c : {"messages_sent", "online_fraction", "bytes_sent_per_user_mean"}) CHECK_FALSE(contains(plain_header, c));

  const auto header = experiments::results_header({"gossip.loss"}, both);
  for (const char* c : {"messages_sent", "messages_sent_ci95", "messages_delivered", "messages_lost", "messages_lost_ci95",
                        "requests_sent", "ticks_dropped", "ticks_offline", "bytes_sent", "bytes_received",
                        "bytes_sent_per_user_mean", "bytes_sent_per_user_mean_ci95", "bytes_sent_per_user_max",
                        "bytes_received_per_user_max", "queued", "queueing_delay_mean", "queueing_delay_mean_ci95",
                        "latency_mean", "latency_mean_ci95", "online_fraction", "online_fraction_ci95",
                        "staleness_online", "staleness_online_ci95"})
    CHECK(contains(header, c));
  // The existing columns keep their order, the new ones follow them.
  CHECK(std::equal(plain_header.begin(), plain_header.end(), header.begin()));
  const auto comm_header = experiments::results_header({"gossip.loss"}, comm_only);
  CHECK(contains(comm_header, "messages_sent"));
  CHECK_FALSE(contains(comm_header, "online_fraction"));
  CHECK(experiments::header_groups(header).communication);
  CHECK(experiments::header_groups(header).availability);
  CHECK_FALSE(experiments::header_groups(plain_header).communication);
  CHECK_FALSE(experiments::header_groups(comm_header).availability);

  const auto column = [&](std::string_view name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const auto row_on = fields(experiments::results_row(on, both));
  const auto row_off = fields(experiments::results_row(off, both));
  REQUIRE(row_on.size() == header.size());
  REQUIRE(row_off.size() == header.size());
  CHECK(std::stod(row_on[column("messages_sent")]) == Approx(110.0));
  CHECK(std::stod(row_on[column("messages_lost")]) == Approx(35.0));
  CHECK(std::stod(row_on[column("bytes_sent_per_user_mean")]) == Approx(625.0));
  CHECK(std::stod(row_on[column("bytes_sent_per_user_mean_ci95")]) == Approx(ci_of_two(500, 750)));
  CHECK(std::stod(row_on[column("queueing_delay_mean")]) == Approx(0.5));
  CHECK(row_on[column("queueing_delay_mean_ci95")].empty());  // one trial queued: no CI
  CHECK(std::stod(row_on[column("online_fraction")]) == Approx(0.7));
  CHECK(std::stod(row_on[column("staleness_online")]) == Approx(2.5));
  // A point without the layer in a networked sweep: empty fields, staleness intact.
  CHECK(row_off[column("messages_sent")].empty());
  CHECK(row_off[column("online_fraction")].empty());
  CHECK(row_off[column("mean")] == row_on[column("mean")]);

  // The typed reader (--resume, plot, validate) takes them back; a header of other groups is refused.
  const fs::path dir = scratch("registry");
  std::ofstream(dir / "results.csv") << experiments::csv_line(header) << experiments::results_row(off, both)
                                     << experiments::results_row(on, both);
  const auto table = experiments::read_results_file(dir / "results.csv", experiments::ResultsFile::results,
                                                    {"gossip.loss"}, both);
  REQUIRE(table.rows.size() == 2);
  CHECK(table.rows[1][table.column("messages_sent")] == row_on[column("messages_sent")]);
  CHECK_THROWS(experiments::read_results_file(dir / "results.csv", experiments::ResultsFile::results, {"gossip.loss"},
                                              false));
}

TEST_CASE("trials.csv and learning_curves.csv: per-trial counts and bytes per user with the group",
          "[communication-output]") {
  sim::Scenario s;
  s.run.trials = 2;
  s.network.n = 8;
  const std::vector<sim::TrialResult> networked = {trial(counts(100, 30, 4000.0, 10, 5.0, 35.0)),
                                                   trial(counts(120, 40, 6000.0, 0, 0.0, 80.0))};
  const auto p = experiments::make_point_result(0, {}, s, {}, networked, nullptr);
  const experiments::TableGroups comm{false, true, false};
  CHECK(experiments::trials_header({}, experiments::TableGroups{}) == experiments::trials_header({}, false));
  const auto header = experiments::trials_header({}, comm);
  REQUIRE(contains(header, "messages_sent"));
  REQUIRE(contains(header, "messages_lost"));
  REQUIRE(contains(header, "bytes_sent"));
  CHECK_FALSE(contains(header, "online_fraction"));
  const std::string rows = experiments::trial_rows(p, networked, nullptr, comm);
  const auto first = fields(rows.substr(0, rows.find('\n') + 1));
  REQUIRE(first.size() == header.size());
  const auto at = [&](std::string_view name) {
    return first[static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin())];
  };
  CHECK(at("messages_sent") == "100");
  CHECK(at("messages_lost") == "30");
  CHECK(at("bytes_sent") == "4000");
  // Without the group, the rows are the ones without the layer.
  CHECK(experiments::trial_rows(p, networked, nullptr, experiments::TableGroups{}) ==
        experiments::trial_rows(p, networked, nullptr));

  // Curves: the mean bytes per user at each observation.
  sim::LearningTrialResult l;
  for (double t : {0.0, 10.0}) {
    sim::Observation o;
    o.time = t;
    o[sim::metric::bytes_sent_per_user] = 10.0 * t;
    l.observations.push_back(o);
  }
  l.staleness = networked[0];
  const std::vector<sim::LearningTrialResult> learned = {l, l};
  sim::Scenario ls = s;
  const auto lp = experiments::make_point_result(0, {}, ls, {}, networked, &learned);
  CHECK(experiments::curves_header({}) == experiments::curves_header({}, experiments::TableGroups{true}));
  const auto curves_header = experiments::curves_header({}, experiments::TableGroups{true, true});
  CHECK(curves_header.back() == "bytes_sent_per_user_ci95");
  const std::string curve = experiments::curve_rows(lp, learned, experiments::TableGroups{true, true});
  const auto last = fields(curve.substr(curve.find('\n') + 1));
  REQUIRE(last.size() == curves_header.size());
  CHECK(last[last.size() - 2] == "100");
  CHECK(experiments::curve_rows(lp, learned) == experiments::curve_rows(lp, learned, experiments::TableGroups{true}));
}

TEST_CASE("simulate --json object: communication and availability objects only when measured",
          "[communication-output]") {
  sim::Scenario s;
  s.run.trials = 2;
  s.network.n = 8;
  nlohmann::ordered_json plain, networked;
  experiments::add_result_json(plain, experiments::make_point_result(0, {}, s, {}, {trial(), trial()}, nullptr));
  CHECK_FALSE(plain.contains("communication"));
  CHECK_FALSE(plain.contains("availability"));
  experiments::add_result_json(
      networked, experiments::make_point_result(0, {}, s, {},
                                                {trial(counts(100, 30, 4000.0, 0, 0.0, 35.0), sim::Availability{0.6, 2.0}),
                                                 trial(counts(120, 40, 6000.0, 0, 0.0, 80.0), sim::Availability{0.8, 3.0})},
                                                nullptr));
  REQUIRE(networked.contains("communication"));
  const auto& c = networked["communication"];
  CHECK(c["messages_sent"]["mean"].get<double>() == Approx(110.0));
  CHECK(c["messages_sent"]["ci95"].get<double>() == Approx(ci_of_two(100, 120)));
  CHECK(c["bytes_sent_per_user_mean"]["mean"].get<double>() == Approx(625.0));
  CHECK(c["queueing_delay_mean"].is_null());  // nothing queued: null, not 0
  CHECK(c["latency_mean"]["mean"].get<double>() == Approx(0.75));
  CHECK(networked["availability"]["online_fraction"]["mean"].get<double>() == Approx(0.7));
  CHECK(networked["availability"]["mean_staleness_online"]["mean"].get<double>() == Approx(2.5));
  // The staleness fields are the same with and without the layer.
  CHECK(networked["staleness"] == plain["staleness"]);
}

// ---- end to end, through the command line ------------------------------------------------

TEST_CASE("timely simulate: lossy gossip reports its communication; defaults report none", "[communication-output]") {
  const std::vector<std::string> small = {"--trials", "3", "--set", "network.n=16", "--set", "run.horizon=200",
                                          "--set", "run.warmup=20"};
  auto args = std::vector<std::string>{"simulate", "--json"};
  args.insert(args.end(), small.begin(), small.end());
  const auto plain = testing::run_timely(args);
  INFO(plain.err);
  REQUIRE(plain.status == 0);
  const auto pj = nlohmann::json::parse(plain.out);
  CHECK_FALSE(pj.contains("communication"));
  CHECK_FALSE(pj.contains("availability"));

  args.insert(args.end(), {"--set", "gossip.loss=0.3"});
  const auto lossy = testing::run_timely(args);
  INFO(lossy.err);
  REQUIRE(lossy.status == 0);
  const auto j = nlohmann::json::parse(lossy.out);
  REQUIRE(j.contains("communication"));
  const auto& c = j["communication"];
  CHECK(c["messages_lost"]["mean"].get<double>() > 0.0);
  CHECK(c["messages_sent"]["mean"].get<double>() > c["messages_lost"]["mean"].get<double>());
  // About 30% of the messages are lost.
  CHECK(c["messages_lost"]["mean"].get<double>() / c["messages_sent"]["mean"].get<double>() == Approx(0.3).margin(0.05));
  CHECK(c["bytes_sent_per_user_mean"]["mean"].get<double>() > 0.0);
  CHECK(c["messages_sent"]["ci95"].is_number());
  CHECK_FALSE(j.contains("availability"));

  // The text output: a communication block, only with the layer.
  std::vector<std::string> text(args.begin(), args.end());
  text.erase(std::find(text.begin(), text.end(), "--json"));
  const auto t = testing::run_timely(text);
  REQUIRE(t.status == 0);
  CHECK(t.out.find("communication") != std::string::npos);
  CHECK(t.out.find("lost") != std::string::npos);
  CHECK(t.out.find("per user") != std::string::npos);
  std::vector<std::string> plain_text = {"simulate"};
  plain_text.insert(plain_text.end(), small.begin(), small.end());
  const auto pt = testing::run_timely(plain_text);
  REQUIRE(pt.status == 0);
  CHECK(pt.out.find("communication") == std::string::npos);
  CHECK(pt.out.find("availability") == std::string::npos);
}

TEST_CASE("timely simulate: churn reports availability", "[communication-output]") {
  const auto o = testing::run_timely({"simulate", "--json", "--trials", "3", "--set", "network.n=16", "--set",
                                      "run.horizon=200", "--set", "run.warmup=20", "--set", "churn.model=markov",
                                      "--set", "churn.online_mean=3", "--set", "churn.offline_mean=1"});
  INFO(o.err);
  REQUIRE(o.status == 0);
  const auto j = nlohmann::json::parse(o.out);
  REQUIRE(j.contains("availability"));
  CHECK(j["availability"]["online_fraction"]["mean"].get<double>() == Approx(0.75).margin(0.1));
  CHECK(j["availability"]["mean_staleness_online"]["mean"].is_number());
  REQUIRE(j.contains("communication"));
  CHECK(j["communication"]["ticks_offline"]["mean"].get<double>() > 0.0);
}

TEST_CASE("timely sweep over gossip.loss: results.csv and trials.csv gain the network columns, --resume reads them",
          "[communication-output]") {
  const fs::path dir = scratch("sweep");
  std::ofstream(dir / "s.toml") << "[network]\nn = 12\n[run]\nhorizon = 150\nwarmup = 10\ntrials = 3\n"
                                   "[sweep]\n\"gossip.loss\" = [0, 0.3]\n";
  const auto o = testing::run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string()});
  INFO(o.err);
  REQUIRE(o.status == 0);
  const auto results = experiments::read_csv((dir / "out" / "results.csv").string());
  REQUIRE(results.rows.size() == 2);
  for (const char* c : {"messages_sent", "messages_lost", "bytes_sent", "bytes_sent_per_user_mean",
                        "bytes_sent_per_user_max", "messages_lost_ci95"})
    CHECK_NOTHROW(results.column(c));
  CHECK_THROWS(results.column("online_fraction"));  // no churn
  // loss = 0 is not networked: empty; loss = 0.3 lost messages.
  CHECK(results.rows[0][results.column("messages_sent")].empty());
  CHECK(std::stod(results.rows[1][results.column("messages_lost")]) > 0.0);
  const auto trials = experiments::read_csv((dir / "out" / "trials.csv").string());
  REQUIRE(trials.rows.size() == 6);
  CHECK(std::stoull(trials.rows[3][trials.column("messages_lost")]) > 0);
  CHECK_FALSE(trials.rows[3][trials.column("bytes_sent")].empty());

  // --resume of a finished sweep reads every file back by the registry and runs nothing.
  const std::string before = slurp(dir / "out" / "results.csv");
  const auto again = testing::run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string(), "--resume"});
  INFO(again.err);
  CHECK(again.status == 0);
  CHECK(slurp(dir / "out" / "results.csv") == before);
  // `timely plot` reads it back too.
  CHECK(testing::run_timely({"plot", (dir / "out").string()}).status == 0);

  // A sweep without the layer: none of the new columns.
  std::ofstream(dir / "plain.toml") << "[network]\nn = 12\n[run]\nhorizon = 150\nwarmup = 10\ntrials = 2\n"
                                       "[sweep]\n\"gossip.mode\" = [\"push\", \"pull\"]\n";
  REQUIRE(testing::run_timely({"sweep", (dir / "plain.toml").string(), "--out", (dir / "plain").string()}).status == 0);
  const std::string plain = slurp(dir / "plain" / "results.csv");
  CHECK(plain.find("messages_sent") == std::string::npos);
  CHECK(slurp(dir / "plain" / "trials.csv").find("bytes_sent") == std::string::npos);
}

TEST_CASE("a lossy learning run reports bytes sent per user in --json and learning.csv", "[communication-output]") {
  const fs::path dir = scratch("learning");
  const std::vector<std::string> logistic = {"--trials", "2", "--set", "model.kind=logistic", "--set",
                                             "data.train_samples=500", "--set", "data.test_samples=200", "--set",
                                             "network.n=8", "--set", "run.horizon=20", "--set", "run.warmup=0"};
  std::vector<std::string> args = {"simulate", "--json"};
  args.insert(args.end(), logistic.begin(), logistic.end());
  std::vector<std::string> lossy = args;
  lossy.insert(lossy.end(), {"--set", "gossip.loss=0.3", "--out", (dir / "out").string()});
  const auto o = testing::run_timely(lossy);
  INFO(o.err);
  REQUIRE(o.status == 0);
  const auto j = nlohmann::json::parse(o.out);
  REQUIRE(j.contains("communication"));
  CHECK(j["communication"]["bytes_sent_per_user_mean"]["mean"].get<double>() > 0.0);
  CHECK(j["communication"]["messages_lost"]["mean"].get<double>() > 0.0);
  REQUIRE(j["learning"]["final"].contains("bytes_sent_per_user"));
  // The final observation is at the horizon: the bytes sent per user by then are the run's.
  CHECK(j["learning"]["final"]["bytes_sent_per_user"]["mean"].get<double>() ==
        Approx(j["communication"]["bytes_sent_per_user_mean"]["mean"].get<double>()));
  const auto learning = experiments::read_csv((dir / "out" / "learning.csv").string());
  REQUIRE_NOTHROW(learning.column("bytes_sent_per_user"));
  CHECK_FALSE(learning.rows.back()[learning.column("bytes_sent_per_user")].empty());
  const auto trials = experiments::read_csv((dir / "out" / "trials.csv").string());
  CHECK_NOTHROW(trials.column("messages_lost"));

  // Without the layer: no such field or column.
  args.insert(args.end(), {"--out", (dir / "plain").string()});
  const auto plain = testing::run_timely(args);
  REQUIRE(plain.status == 0);
  const auto pj = nlohmann::json::parse(plain.out);
  CHECK_FALSE(pj.contains("communication"));
  CHECK_FALSE(pj["learning"]["final"].contains("bytes_sent_per_user"));
  CHECK(slurp(dir / "plain" / "learning.csv").find("bytes_sent_per_user") == std::string::npos);
}

TEST_CASE("a lossy learning sweep: learning_curves.csv gains bytes_sent_per_user", "[communication-output]") {
  const fs::path dir = scratch("learning_sweep");
  std::ofstream(dir / "s.toml") << "[model]\nkind = \"quadratic\"\n[network]\nn = 8\n"
                                   "[run]\nhorizon = 30\nwarmup = 5\ntrials = 2\n[sweep]\n\"gossip.loss\" = [0, 0.3]\n";
  const auto o = testing::run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string()});
  INFO(o.err);
  REQUIRE(o.status == 0);
  const auto curves = experiments::read_csv((dir / "out" / "learning_curves.csv").string());
  REQUIRE_NOTHROW(curves.column("bytes_sent_per_user"));
  CHECK(curves.rows.front()[curves.column("bytes_sent_per_user")].empty());  // loss = 0: no layer
  double most = 0.0;
  for (const auto& row : curves.rows)
    if (row[curves.column("gossip.loss")] == "0.3") most = std::max(most, std::stod(row[curves.column("bytes_sent_per_user")]));
  CHECK(most > 0.0);
  const auto again = testing::run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string(), "--resume"});
  INFO(again.err);
  CHECK(again.status == 0);
}
