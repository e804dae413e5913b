// The defects of the robustness audit (issue 9), one regression test each: every one of
// these inputs used to exit 1, run without bound, lose data or print a number where there
// was none; each must now exit as docs/interface.md says.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/resource.h>

#include "experiments/columns.hpp"
#include "experiments/files.hpp"
#include "experiments/scenario_keys.hpp"
#include "tests/run_cli.hpp"
#include "tests/scratch_dir.hpp"
#include "sim/input_error.hpp"
#include "sim/protocols.hpp"
#include "tests/paths.hpp"

namespace fs = std::filesystem;
using timely::testing::run_timely;

namespace {

fs::path scratch(const std::string& name) { return timely::testing::fresh_scratch("timely_robustness_test", name); }

using timely::testing::slurp;

using timely::testing::refused;

// A small finished staleness sweep to corrupt.
fs::path finished_sweep(const fs::path& dir) {
  const fs::path file = dir / "s.toml";
  std::ofstream(file) << "[run]\nhorizon = 20\nwarmup = 2\ntrials = 2\n[sweep]\n\"network.n\" = [8, 16, 32]\n";
  REQUIRE(run_timely({"sweep", file.string(), "--out", (dir / "out").string()}).status == 0);
  return file;
}

void replace_line(const fs::path& path, std::size_t line, const std::string& text) {
  std::istringstream in(slurp(path));
  std::string out, l;
  for (std::size_t k = 1; std::getline(in, l); ++k) out += (k == line ? text : l) + "\n";
  std::ofstream(path) << out;
}

}  // namespace

TEST_CASE("a key of the wrong type in a scenario file exits 2 naming it (edges_file = 5)", "[robustness]") {
  const fs::path dir = scratch("edges_type");
  std::ofstream(dir / "s.toml") << "[network]\ntopology = \"edges\"\nedges_file = 5\n";
  refused(run_timely({"simulate", (dir / "s.toml").string()}), "network.edges_file");
}

TEST_CASE("work beyond the limit is refused before running, naming the keys and the estimate", "[robustness]") {
  refused(run_timely({"simulate", "--set", "gossip.capacity=1e300"}), "gossip.capacity: expected a number in [1e-9, 1e9]");
  refused(run_timely({"simulate", "--set", "gossip.capacity=1e9"}), "gossip.capacity");
  refused(run_timely({"simulate", "--set", "updates.rate=1e6"}), "updates.rate");
  refused(run_timely({"simulate", "--set", "model.kind=linear", "--set", "data.source=synthetic-regression", "--set",
                      "observe.every=1e-9"}),
          "observe.every");
  // Learning counts model operations: gradients and evaluations times the parameters.
  refused(run_timely({"simulate", "--set", "model.kind=logistic", "--set", "train.steps=100000", "--set",
                      "train.batch=4096"}),
          "operations");
  refused(run_timely({"simulate", "--set", "model.kind=mlp", "--set", "model.hidden=[100000]", "--set",
                      "data.classes=1000", "--max-events", "1e8"}),
          "parameter model");
  // The limits bound the whole run: a million trials of a tiny scenario are refused too.
  refused(run_timely({"simulate", "--set", "network.n=6", "--set", "run.horizon=10", "--set", "run.warmup=0", "--set",
                      "run.trials=1000000", "--max-events", "1e7"}),
          "run.trials");
  // Each event is weighted by the staleness span it integrates: 6e7 events of ~1e6 versions.
  refused(run_timely({"simulate", "--set", "network.n=6", "--set", "run.horizon=10", "--set", "run.warmup=0", "--set",
                      "updates.rate=1e6"}),
          "steps each");
  const auto o = run_timely({"simulate", "--set", "gossip.capacity=1e9"});
  CHECK(o.err.find("1.6e+15 events") != std::string::npos);  // 16 trials of n (lambda + r) horizon
  CHECK(o.err.find("--max-events") != std::string::npos);
  // The estimate is the expected number of clock events: n (lambda + r) horizon.
  timely::sim::Scenario s;
  CHECK(timely::experiments::estimated_events(s) == Approx(100 * (1.0 + 1.0) * 1000));
  // The flag raises the limit: the same scenario under a limit below its estimate is refused.
  refused(run_timely({"simulate", "--max-events", "1e5", "--trials", "1"}), "2e+05 events");
  CHECK(run_timely({"simulate", "--max-events", "1e6", "--trials", "1", "--set", "run.horizon=50", "--set",
                    "run.warmup=5"}).status == 0);
  // Sweeps check every point the same way.
  const fs::path dir = scratch("work_sweep");
  std::ofstream(dir / "s.toml") << "[sweep]\n\"gossip.capacity\" = [1, 1e9]\n";
  refused(run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string()}), "sweep point 1");
  CHECK_FALSE(fs::exists(dir / "out" / "results.csv"));
}

TEST_CASE("a sweep applies the memory check that simulate applies", "[robustness][learning]") {
  const fs::path dir = scratch("memory");
  std::ofstream(dir / "s.toml") << "[model]\nkind = \"mlp\"\nhidden = [4096, 4096]\n[data]\nsource = \"synthetic-mixture\"\n"
                                   "train_samples = 200000\n[run]\nhorizon = 1\nwarmup = 0\ntrials = 1\n"
                                   "[sweep]\n\"network.n\" = [100000]\n";
  refused(run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string(), "--max-events", "1e30"}),
          "GiB per trial");
  CHECK_FALSE(fs::exists(dir / "out" / "results.csv"));
}

TEST_CASE("a sweep that fails in data preparation leaves no results behind", "[robustness][learning]") {
  const fs::path dir = scratch("prep");
  std::ofstream(dir / "s.toml") << "[model]\nkind = \"logistic\"\n[data]\nsource = \"fashion-mnist\"\ndir = \""
                                << (dir / "nowhere").string() << "\"\n[sweep]\n\"network.n\" = [8]\n";
  const auto o = run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string()});
  CHECK(o.status == 2);
  CHECK_FALSE(fs::exists(dir / "out" / "results.csv"));
  CHECK_FALSE(fs::exists(dir / "out" / "meta.json"));
}

TEST_CASE("resuming with malformed result files exits 2 naming the file and line", "[robustness][sweep]") {
  const fs::path dir = scratch("resume");
  const fs::path file = finished_sweep(dir);
  const std::string out = (dir / "out").string();
  const auto resume = [&] { return run_timely({"sweep", file.string(), "--out", out, "--resume"}); };
  const std::string results = slurp(dir / "out" / "results.csv"), trials = slurp(dir / "out" / "trials.csv"),
                    meta = slurp(dir / "out" / "meta.json");
  const auto restore = [&] {
    std::ofstream(dir / "out" / "results.csv") << results;
    std::ofstream(dir / "out" / "trials.csv") << trials;
    std::ofstream(dir / "out" / "meta.json") << meta;
  };
  for (const std::string index : {"abc", "99999999999999999999", "-1"}) {
    std::string row = results.substr(results.find('\n') + 1);
    row = index + row.substr(row.find(','), row.find('\n') - row.find(','));
    replace_line(dir / "out" / "results.csv", 2, row);
    refused(resume(), "results.csv: line 2: column point");
    restore();
  }
  replace_line(dir / "out" / "results.csv", 2, "0,8,8");
  refused(resume(), "results.csv: line 2: expected");
  restore();
  std::string trial = trials.substr(trials.find('\n') + 1);
  trial = trial.substr(0, trial.find('\n'));
  replace_line(dir / "out" / "trials.csv", 3, trial.substr(0, trial.rfind(',')) + ",-nan");
  refused(resume(), "trials.csv: line 3: column events");
  restore();
  for (const std::string bad : {"[]", "{\"fingerprint\": 5}", "not json"}) {
    std::ofstream(dir / "out" / "meta.json") << bad;
    refused(resume(), "meta.json");
    restore();
  }
  // Intact files resume to nothing to do.
  CHECK(resume().status == 0);
}

TEST_CASE("resuming drops a last line cut short by a kill and reruns that point", "[robustness][sweep]") {
  const fs::path dir = scratch("torn");
  const fs::path file = finished_sweep(dir);
  const std::string results = slurp(dir / "out" / "results.csv");
  std::ofstream(dir / "out" / "results.csv") << results.substr(0, results.size() - 20);  // torn last row
  const auto o = run_timely({"sweep", file.string(), "--out", (dir / "out").string(), "--resume"});
  CHECK(o.status == 0);
  CHECK(o.out.find("(1 run, 2 resumed)") != std::string::npos);
  CHECK(slurp(dir / "out" / "results.csv") == results);
}

TEST_CASE("resuming a sweep with a hole keeps every finished point on disk and ends in point order",
          "[robustness][sweep]") {
  const fs::path dir = scratch("hole");
  const fs::path file = finished_sweep(dir);
  const std::string results = slurp(dir / "out" / "results.csv"), trials = slurp(dir / "out" / "trials.csv");
  // Remove point 0 (the first row of results.csv): points 1 and 2 lie beyond the hole.
  std::istringstream in(results);
  std::string header, first, rest, line;
  std::getline(in, header);
  std::getline(in, first);
  while (std::getline(in, line)) rest += line + "\n";
  std::ofstream(dir / "out" / "results.csv") << header << "\n" << rest;
  const auto o = run_timely({"sweep", file.string(), "--out", (dir / "out").string(), "--resume"});
  CHECK(o.status == 0);
  CHECK(o.out.find("(1 run, 2 resumed)") != std::string::npos);
  CHECK(slurp(dir / "out" / "results.csv") == results);
  CHECK(slurp(dir / "out" / "trials.csv") == trials);
}

TEST_CASE("two runs into one output directory: the second is refused while the first holds it", "[robustness]") {
  const fs::path dir = scratch("lock");
  std::ofstream(dir / "s.toml") << "[run]\nhorizon = 20\nwarmup = 2\ntrials = 2\n[sweep]\n\"network.n\" = [8]\n";
  fs::create_directories(dir / "out");
  {
    const timely::experiments::DirectoryLock held(dir / "out");
    refused(run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string()}), "in use by another");
    refused(run_timely({"simulate", "--trials", "1", "--set", "run.horizon=20", "--set", "run.warmup=2", "--out", (dir / "out").string()}),
            "in use by another");
  }
  CHECK(run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string()}).status == 0);
}

TEST_CASE("a write that fails (file too large, as on a full disk) leaves no temporary and no torn row",
          "[robustness][files]") {
  const fs::path dir = scratch("full");
  std::signal(SIGXFSZ, SIG_IGN);  // the write then fails with EFBIG instead of killing the process
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  std::ofstream(dir / "rows.csv") << "a,b\n1,2\n";
  rlimit small = old;
  small.rlim_cur = 64;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  const std::string big(1000, 'x');
  CHECK_THROWS(timely::experiments::write_file_atomically(dir / "whole.csv", big));
  CHECK_THROWS(timely::experiments::append_whole(dir / "rows.csv", big + "\n"));
  REQUIRE(setrlimit(RLIMIT_FSIZE, &old) == 0);
  std::signal(SIGXFSZ, SIG_DFL);
  for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
  CHECK_FALSE(fs::exists(dir / "whole.csv"));
  CHECK(slurp(dir / "rows.csv") == "a,b\n1,2\n");
}

TEST_CASE("seeds take the whole 64-bit range, and a sweep's point seeds can be rerun", "[robustness]") {
  CHECK(run_timely({"simulate", "--trials", "1", "--set", "run.horizon=20", "--set", "run.warmup=2", "--seed", "18446744073709551615"}).status ==
        0);
  refused(run_timely({"simulate", "--seed", "-1"}), "run.seed");
  refused(run_timely({"simulate", "--seed", "18446744073709551616"}), "run.seed");
  const auto o = run_timely({"simulate", "--trials", "1", "--set", "run.horizon=20", "--set", "run.warmup=2", "--set",
                             "run.seed=18446744073709551615", "--json"});
  REQUIRE(o.status == 0);
  CHECK(nlohmann::json::parse(o.out)["scenario"]["run.seed"].get<std::uint64_t>() == 18446744073709551615ull);
  // A TOML file may give a large seed as a string of digits.
  const fs::path dir = scratch("seed");
  std::ofstream(dir / "s.toml") << "[run]\nseed = \"9223372036854775808\"\nhorizon = 20\nwarmup = 2\ntrials = 1\n"
                                   "[sweep]\n\"network.n\" = [8, 16]\n";
  REQUIRE(run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string()}).status == 0);
  const std::string results = slurp(dir / "out" / "results.csv");
  CHECK(results.find(",9223372036854775809,") != std::string::npos);  // point 1 = seed + 1
  CHECK(run_timely({"simulate", "--trials", "1", "--set", "run.horizon=20", "--set", "run.warmup=2", "--seed", "9223372036854775809"}).status == 0);
}

TEST_CASE("errors stay on one line whatever the input holds", "[robustness]") {
  refused(run_timely({"simulate", "--set", "network.topology=ri\nng"}), "ri\\nng");
  const fs::path dir = scratch("newline");
  std::ofstream(dir / "s.toml") << "[network]\ntopology = \"a\\nb\\u0001c\"\n";
  refused(run_timely({"simulate", (dir / "s.toml").string()}), "a\\nb\\x01c");
  CHECK(timely::one_line("x\ny\tz\x7f") == "x\\ny\\tz\\x7f");
}

TEST_CASE("an edge list named in a sweep axis is found relative to the sweep file", "[robustness][sweep]") {
  const fs::path dir = scratch("axis_path");
  fs::create_directories(dir / "study");
  std::ofstream(dir / "study" / "c4.edges") << "0 1\n1 2\n2 3\n3 0\n";
  std::ofstream(dir / "study" / "s.toml") << "[network]\nn = 4\ntopology = \"edges\"\n[run]\nhorizon = 20\nwarmup = 2\n"
                                             "trials = 2\n[sweep]\n\"network.edges_file\" = [\"c4.edges\"]\n";
  const auto o = run_timely({"sweep", (dir / "study" / "s.toml").string(), "--out", (dir / "out").string()});
  INFO(o.err);
  CHECK(o.status == 0);
  // The axis column keeps the value as written.
  CHECK(slurp(dir / "out" / "results.csv").find("\n0,c4.edges,") != std::string::npos);
}

TEST_CASE("meta.json counts the points on disk, and a finished sweep says complete", "[robustness][sweep]") {
  const fs::path dir = scratch("meta");
  finished_sweep(dir);
  const auto meta = nlohmann::json::parse(slurp(dir / "out" / "meta.json"));
  CHECK(meta["points_done"] == 3);
  CHECK(meta["complete"] == true);
}

TEST_CASE("a diverged learning run is reported as diverged, never as a number, null loss or NaN", "[robustness][learning]") {
  const std::vector<std::string> diverging = {"simulate", "--set", "model.kind=linear", "--set",
                                              "data.source=synthetic-regression", "--set", "train.lr=1e9",
                                              "--set", "network.n=16", "--set", "run.horizon=50", "--set",
                                              "run.warmup=0", "--trials", "2"};
  auto args = diverging;
  args.push_back("--json");
  const auto o = run_timely(args);
  REQUIRE(o.status == 0);
  CHECK(o.out.find("nan") == std::string::npos);
  const auto j = nlohmann::json::parse(o.out);
  CHECK(j["learning"]["status"] == "diverged");
  CHECK(j["learning"]["diverged"]["trials"].get<int>() >= 1);
  CHECK(j["learning"]["diverged"]["time"].get<double>() <= 50.0);
  CHECK_FALSE(j["learning"].contains("final"));
  const auto text = run_timely(diverging);
  CHECK(text.out.find("DIVERGED") != std::string::npos);
  CHECK(text.out.find("nan") == std::string::npos);

  // In a sweep: the diverged point's row says so, the other point is intact, figures do not fail the run.
  const fs::path dir = scratch("diverged_sweep");
  std::ofstream(dir / "s.toml") << "[model]\nkind = \"linear\"\n[data]\nsource = \"synthetic-regression\"\n"
                                   "train_samples = 2000\ntest_samples = 500\n[network]\nn = 8\n"
                                   "[run]\nhorizon = 30\nwarmup = 0\ntrials = 2\n[sweep]\n\"train.lr\" = [0.05, 1e9]\n";
  const auto s = run_timely({"sweep", (dir / "s.toml").string(), "--out", (dir / "out").string()});
  INFO(s.err);
  CHECK(s.status == 0);
  const std::string results = slurp(dir / "out" / "results.csv");
  CHECK(results.find("nan") == std::string::npos);
  CHECK(results.find("inf") == std::string::npos);
  const auto table = timely::experiments::read_results_file(dir / "out" / "results.csv",
                                                            timely::experiments::ResultsFile::results, {"train.lr"}, true);
  REQUIRE(table.rows.size() == 2);
  CHECK(table.rows[0][table.column("diverged")] == "0");
  CHECK(table.rows[1][table.column("diverged")] == "2");
  CHECK(table.rows[1][table.column("final_loss")].empty());
  CHECK_FALSE(table.rows[1][table.column("diverged_at")].empty());
}

TEST_CASE("figures that cannot be drawn do not fail finished results", "[robustness][plots]") {
  const fs::path dir = scratch("figures");
  // One observation only (horizon below observe.every).
  const auto o = run_timely({"simulate", "--set", "model.kind=logistic", "--set", "data.train_samples=500", "--set",
                             "data.test_samples=200", "--set", "network.n=8", "--set", "run.horizon=5", "--set",
                             "run.warmup=0", "--set", "observe.every=10", "--trials", "2", "--out",
                             (dir / "one").string()});
  INFO(o.err);
  CHECK(o.status == 0);
  CHECK(fs::exists(dir / "one" / "result.json"));
  // A learning sweep with --quick.
  std::ofstream(dir / "s.toml") << "[model]\nkind = \"logistic\"\n[data]\ntrain_samples = 500\ntest_samples = 200\n"
                                   "[network]\nn = 8\n[run]\nhorizon = 20\nwarmup = 0\ntrials = 2\n"
                                   "[sweep]\n\"mixing.rule\" = [\"average\", \"fedavg\"]\n";
  const auto q = run_timely({"sweep", (dir / "s.toml").string(), "--quick", "--out", (dir / "quick").string()});
  INFO(q.err);
  CHECK(q.status == 0);
}

TEST_CASE("every results column and JSON field is documented in docs/interface.md", "[docs][columns]") {
  const std::string doc = slurp(fs::path(TIMELY_SOURCE_DIR) / "docs" / "interface.md");
  REQUIRE(!doc.empty());
  for (const auto& c : timely::experiments::result_columns()) {
    if (!c.csv.empty()) {
      INFO("results.csv column " << c.csv);
      CHECK(doc.find("`" + std::string(c.csv) + "`") != std::string::npos);
    }
    if (!c.json.empty()) {
      const std::string_view path = c.json;
      const std::string leaf(path.substr(path.rfind('.') + 1));
      INFO("JSON field " << c.json);
      CHECK(doc.find(leaf) != std::string::npos);
    }
  }
  for (const auto& column : timely::experiments::trials_header({}, true)) {
    INFO("trials.csv column " << column);
    CHECK(doc.find("`" + column + "`") != std::string::npos);
  }
}

TEST_CASE("results rows have as many fields as the header, for staleness, learning and FedAvg points", "[columns]") {
  timely::sim::Scenario s;
  s.run.trials = 2;
  timely::sim::TrialResult t;
  t.staleness_time = {1.0, 2.0};
  t.worst_time = {1.0, 2.0};
  t.max_all_time = {1.0, 2.0};
  t.mean_staleness = 0.5;
  const std::vector<timely::sim::TrialResult> trials(2, t);
  const auto staleness = timely::experiments::make_point_result(3, {"a", "b"}, s, {}, trials, nullptr);
  const auto header = timely::experiments::results_header({"x", "y"}, false);
  const auto line = timely::experiments::results_row(staleness, false);
  CHECK(timely::experiments::parse_csv_line(line.substr(0, line.size() - 1)).size() == header.size());
  timely::sim::LearningTrialResult l;
  l.observations.push_back({});
  const std::vector<timely::sim::LearningTrialResult> learned(2, l);
  s.learning.protocol = timely::sim::fedavg_protocol;  // a protocol without staleness
  const auto fedavg = timely::experiments::make_point_result(0, {"a", "b"}, s, {}, {}, &learned);
  CHECK(fedavg.theory.method == "none: FedAvg has no gossip");
  const auto learning_header = timely::experiments::results_header({"x", "y"}, true);
  const auto row = timely::experiments::results_row(fedavg, true);
  CHECK(timely::experiments::parse_csv_line(row.substr(0, row.size() - 1)).size() == learning_header.size());
}

TEST_CASE("timely theory for a protocol without gossip says so instead of describing gossip clocks", "[cli]") {
  for (const auto& [protocol, title] : {std::pair{"modest", "MoDeST"}, {"dpsgd", "D-PSGD"}, {"fedavg", "FedAvg"}}) {
    const auto o = timely::testing::run_timely(
        {"theory", "--set", "model.kind=quadratic", "--set", std::string("learning.protocol=") + protocol});
    REQUIRE(o.status == 0);
    CHECK(o.out.rfind(std::string(title) + ", n = 100: no gossip, so no staleness\n", 0) == 0);
    CHECK(o.out.find("gossip at lambda") == std::string::npos);
    CHECK(o.out.find(std::string("method     none: ") + title + " has no gossip") != std::string::npos);
  }
  const auto gossip = timely::testing::run_timely({"theory", "--set", "model.kind=quadratic"});
  CHECK(gossip.out.rfind("users model, complete n = 100, push gossip at lambda = 1 per user\n", 0) == 0);
}
