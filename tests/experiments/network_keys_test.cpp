// The network keys (docs/interface.md, "Network keys"; docs/model.md §7) as a user meets them:
// every bad value exits 2 with one line naming the key, or the trace file and its line; the
// churn trace reader sorts, merges touching intervals and refuses overlaps; good values land
// in the scenario and its JSON.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include "experiments/scenario_keys.hpp"
#include "tests/run_cli.hpp"
#include "tests/scratch_dir.hpp"
#include "sim/churn.hpp"
#include "sim/input_error.hpp"

using namespace timely;
namespace fs = std::filesystem;
using testing::refused;
using testing::run_timely;

namespace {

fs::path scratch(const std::string& name) { return testing::fresh_scratch("timely_network_keys_test", name); }

std::string write(const fs::path& dir, const std::string& name, const std::string& body) {
  std::ofstream(dir / name, std::ios::binary) << body;
  return (dir / name).string();
}

// The InputError message of reading `path` as a trace ("" if it reads).
std::string trace_error(const std::string& path) {
  try {
    sim::read_churn_trace(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

using Interval = std::pair<double, double>;

}  // namespace

TEST_CASE("the churn trace reader sorts each user's intervals and merges touching ones", "[network-keys]") {
  const fs::path dir = scratch("reader");
  const auto trace = sim::read_churn_trace(write(dir, "t.csv",
                                                 "# a comment before the header\n"
                                                 "user,start,end\n"
                                                 "2,50,60\n"
                                                 "\n"
                                                 "0,5,8\n"
                                                 "# a comment between intervals\n"
                                                 "0,0,5\n"
                                                 "2,10,20\n"
                                                 "0,9,10\n"
                                                 "2,20,30\n"
                                                 "2,30,40\n"));
  REQUIRE(trace->users() == 3);  // sized by the largest id; user 1 has no interval: offline throughout
  CHECK(trace->online[0] == std::vector<Interval>{{0, 8}, {9, 10}});
  CHECK(trace->online[1].empty());
  CHECK(trace->online[2] == std::vector<Interval>{{10, 40}, {50, 60}});
  CHECK(trace->path == (dir / "t.csv").string());
}

TEST_CASE("the churn trace reader accepts a byte-order mark, CRLF line ends and spaces", "[network-keys]") {
  const fs::path dir = scratch("excel");
  const auto trace =
      sim::read_churn_trace(write(dir, "t.csv", "\xEF\xBB\xBFuser , start , end\r\n\r\n 1 , 0.5 , 2.5 \r\n0,1e3,1e12\r\n"));
  REQUIRE(trace->users() == 2);
  CHECK(trace->online[0] == std::vector<Interval>{{1e3, 1e12}});
  CHECK(trace->online[1] == std::vector<Interval>{{0.5, 2.5}});
}

TEST_CASE("a bad churn trace is refused with one line naming the file and the line", "[network-keys]") {
  const fs::path dir = scratch("bad-trace");
  const auto bad = [&](const std::string& name, const std::string& body, const std::string& needle) {
    const std::string path = write(dir, name, body);
    const std::string what = trace_error(path);
    INFO(name << ": " << what);
    CHECK(what.rfind("churn.trace_file: '" + path + "'", 0) == 0);
    CHECK(what.find(needle) != std::string::npos);
    CHECK(what.find('\n') == std::string::npos);
  };
  // Overlaps name both lines, the later one first, whatever order the file has them in.
  bad("overlap.csv", "user,start,end\n3,2,5\n0,0,1\n1,0,1\n3,4,9\n",
      "line 5: user 3's interval [4, 9) overlaps [2, 5) from line 2");
  bad("overlap-reversed.csv", "user,start,end\n3,4,9\n3,2,5\n", "line 3: user 3's interval [2, 5) overlaps [4, 9) from line 2");
  bad("overlap-after-merge.csv", "user,start,end\n0,0,5\n0,5,8\n0,7,9\n", "line 4: user 0's interval [7, 9) overlaps [5, 8) from line 3");
  bad("duplicate.csv", "user,start,end\n0,1,2\n0,1,2\n", "line 3: user 0's interval [1, 2) overlaps [1, 2) from line 2");
  bad("empty.csv", "", "is empty (expected the header line user,start,end)");
  bad("comments-only.csv", "# nothing\n\n", "is empty");
  bad("header.csv", "user,begin,end\n0,0,1\n", "line 1: expected the header user,start,end, got 'user,begin,end'");
  bad("header-order.csv", "start,end,user\n0,1,0\n", "line 1: expected the header user,start,end");
  bad("no-intervals.csv", "user,start,end\n", "line 1: no intervals after the header");
  bad("cells.csv", "user,start,end\n0,0,1\n1,2\n", "line 3: expected 3 cells (user,start,end), got 2");
  bad("cells-4.csv", "user,start,end\n0,0,1,2\n", "line 2: expected 3 cells (user,start,end), got 4");
  bad("not-number.csv", "user,start,end\n0,soon,1\n", "line 2: start: expected a number, got 'soon'");
  bad("nan.csv", "user,start,end\n0,0,nan\n", "line 2: end: expected a number, got 'nan'");
  bad("negative.csv", "user,start,end\n0,-1,1\n", "line 2: start: expected a time in [0, 1e12], got -1");
  bad("huge.csv", "user,start,end\n0,0,2e12\n", "line 2: end: expected a time in [0, 1e12], got 2e12");
  bad("empty-order.csv", "user,start,end\n0,5,5\n", "line 2: expected start < end, got the interval [5, 5)");
  bad("reversed.csv", "user,start,end\n0,6,5\n", "line 2: expected start < end");
  bad("user-negative.csv", "user,start,end\n-1,0,1\n", "line 2: expected a user id (an integer in [0, 9999999]), got '-1'");
  bad("user-fraction.csv", "user,start,end\n1.5,0,1\n", "line 2: expected a user id");
  bad("user-huge.csv", "user,start,end\n10000000,0,1\n", "line 2: expected a user id");
  bad("user-empty.csv", "user,start,end\n,0,1\n", "line 2: expected a user id (an integer in [0, 9999999]), got ''");
  bad("nul.csv", std::string("user,start,end\n0,0\0,1\n", 22), "line 2: not a text file (NUL byte)");
  // Not regular files: refused before anything is opened, so a FIFO cannot block.
  CHECK(trace_error((dir / "missing.csv").string()).find("churn.trace_file: cannot open") == 0);
  fs::create_directories(dir / "folder.csv");
  CHECK(trace_error((dir / "folder.csv").string()).find("is not a regular file") != std::string::npos);
  REQUIRE(::mkfifo((dir / "fifo.csv").c_str(), 0600) == 0);
  CHECK(trace_error((dir / "fifo.csv").string()).find("is not a regular file") != std::string::npos);
  CHECK(trace_error("").find("churn.trace_file: expected the path") == 0);
}

TEST_CASE("bad network keys exit 2 with one line naming the key", "[network-keys]") {
  const auto set = [](const std::string& setting) { return run_timely({"simulate", "--set", setting}); };
  refused(set("gossip.latency=-1"), "gossip.latency: expected a number in [0, 1e9] or a distribution table");
  refused(set("gossip.latency=2e9"), "gossip.latency: expected");
  refused(set("gossip.latency=fast"), "gossip.latency: expected");
  refused(set(R"(gossip.latency={ dist = "exponential", mean = -1 })"),
          "gossip.latency: mean of the exponential distribution: expected a number in [1e-9, 1e9], got -1");
  refused(set(R"(gossip.latency={ dist = "exponential" })"), "gossip.latency: the exponential distribution needs mean");
  refused(set(R"(gossip.latency={ dist = "exponential", mean = 1, rate = 2 })"),
          "gossip.latency: unknown field 'rate' of the exponential distribution (fields: mean)");
  refused(set(R"(gossip.latency={ dist = "uniform", low = -1, high = 2 })"), "gossip.latency: low of the uniform distribution");
  refused(set(R"(gossip.latency={ dist = "gamma", shape = 2 })"),
          "gossip.latency: unknown distribution \"gamma\" (expected dist = \"uniform\" (low, high), \"lognormal\" (median, "
          "sigma), \"two-point\" (value, slow_value, slow_fraction) or \"exponential\" (mean))");
  // The exponential law is for times: the rate keys refuse it and say which laws they take.
  refused(set(R"(updates.rate={ dist = "exponential", mean = 1 })"),
          "updates.rate: the exponential distribution is for delays and latencies (updates.delay, gossip.latency), not rates");
  refused(set(R"(gossip.capacity={ dist = "exponential", mean = 1 })"), "gossip.capacity: the exponential distribution is for");
  refused(set("gossip.message_bytes=-1"), "gossip.message_bytes: expected a number in [0, 1e15]");
  refused(set("gossip.message_bytes=1e16"), "gossip.message_bytes: expected a number in [0, 1e15]");
  refused(set("gossip.bandwidth=-5"), "gossip.bandwidth: expected a number in [0, 1e18] or a distribution table (0 = unlimited), got -5");
  refused(set("gossip.bandwidth={dist=\"uniform\",low=0,high=0}"),
          "gossip.bandwidth: a distribution of uplinks needs a mean above 0 (for no transfer time give 0)");
  refused(set("gossip.bandwidth={dist=\"lognormal\",median=1000}"), "gossip.bandwidth: the lognormal distribution needs median, sigma");
  refused(set("gossip.bandwidth=1e19"), "gossip.bandwidth: expected");
  refused(set("gossip.busy=wait"), "gossip.busy: expected one of queue, drop, got \"wait\"");
  refused(set("gossip.loss=1"), "gossip.loss: expected a number in [0, 1), got 1");
  refused(set("gossip.loss=-0.1"), "gossip.loss: expected a number in [0, 1)");
  refused(set("gossip.loss=nan"), "gossip.loss: expected a number in [0, 1)");
  refused(set("churn.model=random"), "churn.model: expected one of none, markov, trace, got \"random\"");
  refused(set("churn.online_mean=0"), "churn.online_mean: expected a number in [1e-9, 1e9], got 0");
  refused(set("churn.offline_mean=1e10"), "churn.offline_mean: expected a number in [1e-9, 1e9]");
  refused(set("churn.offline_updates=maybe"), "churn.offline_updates: expected true or false, got 'maybe'");
  refused(set("churn.trace_file=/nonexistent/trace.csv"), "churn.trace_file: cannot open '/nonexistent/trace.csv'");
  refused(set("churn.bogus=1"), "churn.bogus: unknown key (known keys of [churn]: model, online_mean, offline_mean, "
                                "trace_file, offline_updates)");
}

TEST_CASE("inconsistent network keys exit 2 naming the keys", "[network-keys]") {
  const fs::path dir = scratch("cross");
  const std::string trace = write(dir, "t.csv", "user,start,end\n0,0,10\n12,5,6\n");
  refused(run_timely({"theory", "--set", "churn.model=trace"}),
          "churn.trace_file: required when churn.model = \"trace\"");
  refused(run_timely({"theory", "--set", "network.n=20", "--set", "churn.trace_file=" + trace}),
          "churn.trace_file: only read when churn.model = \"trace\", but churn.model = \"none\"");
  refused(run_timely({"theory", "--set", "network.n=20", "--set", "churn.model=markov", "--set", "churn.trace_file=" + trace}),
          "but churn.model = \"markov\"");
  refused(run_timely({"simulate", "--set", "network.n=10", "--set", "churn.model=trace", "--set", "churn.trace_file=" + trace}),
          "churn.trace_file: '" + trace + "' names user 12, but network.n = 10 (users are 0..9)");
  // The network layer belongs to the users model and to gossip learning.
  refused(run_timely({"simulate", "--set", "staleness.model=source", "--set", "gossip.latency=0.5"}),
          "gossip.latency: gossip.latency, gossip.bandwidth, gossip.loss and churn apply to the users model; "
          "staleness.model = \"source\" is Yates' idealised process");
  refused(run_timely({"simulate", "--set", "staleness.model=source", "--set", "gossip.loss=0.1"}), "gossip.loss: ");
  refused(run_timely({"simulate", "--set", "staleness.model=source", "--set", "gossip.bandwidth=100"}), "gossip.bandwidth: ");
  refused(run_timely({"simulate", "--set", "staleness.model=source", "--set", "churn.model=markov"}),
          "churn.model: gossip.latency");
  refused(run_timely({"simulate", "--set", "model.kind=linear", "--set", "data.source=synthetic-regression", "--set",
                      "mixing.rule=fedavg", "--set", "churn.model=markov"}),
          "churn.model: mixing.rule = \"fedavg\" waits for every client's model each round");
  // message_bytes and busy alone do not start the network layer, so the source model keeps them.
  CHECK_NOTHROW(experiments::validate(experiments::load_scenario(
      std::nullopt, {"staleness.model=source", "gossip.busy=drop", "gossip.message_bytes=100"})));
}

TEST_CASE("network scenarios too large to run exit 2 before anything runs", "[network-keys]") {
  // Markov churn periods of 1e-9 toggle every user 2e9 times per time unit: events, not a hang.
  refused(run_timely({"simulate", "--set", "network.n=10", "--set", "churn.model=markov", "--set",
                      "churn.online_mean=1e-9", "--set", "churn.offline_mean=1e-9"}),
          "churn.online_mean, churn.offline_mean, run.trials: the run would simulate about");
  // A latency beyond the horizon keeps every message's copy of the sender's state to the end.
  refused(run_timely({"simulate", "--set", "network.n=2000", "--set", "run.horizon=2000", "--set", "gossip.latency=1e9"}),
          "gossip.latency, gossip.bandwidth, network.n, run.horizon: about 4e+06 messages would be in flight at once, each "
          "holding a copy of its sender's state (8000 bytes): ");
  // Ticks that outpace a slow uplink queue up.
  refused(run_timely({"simulate", "--set", "network.n=1000", "--set", "run.horizon=100", "--set", "run.warmup=0", "--set", "updates.rate=1e-3",
                      "--set", "staleness.tracked=1", "--set", "gossip.bandwidth=1e-9", "--set", "gossip.capacity=1000"}),
          "sends queued for the uplink");
  // The same scenarios at a sensible size are accepted.
  CHECK_NOTHROW(experiments::check_resources(
      experiments::load_scenario(std::nullopt, {"network.n=300", "run.horizon=300", "gossip.latency=1e9"})));
  CHECK_NOTHROW(experiments::check_resources(experiments::load_scenario(
      std::nullopt, {"churn.model=markov", "churn.online_mean=1", "churn.offline_mean=1"})));
}

TEST_CASE("good network keys land in the scenario and its JSON", "[network-keys]") {
  const fs::path dir = scratch("good");
  write(dir, "trace.csv", "user,start,end\n0,0,5\n0,5,8\n3,1,2\n");
  std::ofstream(dir / "s.toml") << "[network]\nn = 4\n"
                                   "[gossip]\nlatency = { dist = \"exponential\", mean = 0.2 }\nmessage_bytes = 64\n"
                                   "bandwidth = 1000\nbusy = \"drop\"\nloss = 0.25\n"
                                   "[churn]\nmodel = \"trace\"\ntrace_file = \"trace.csv\"\noffline_updates = false\n";
  const sim::Scenario s = experiments::load_scenario(dir / "s.toml", {});
  experiments::validate(s);
  CHECK(s.networked());
  REQUIRE(s.gossip.latency_law);
  CHECK(s.gossip.latency_law->kind == sim::DistributionKind::exponential);
  CHECK(s.gossip.latency_law->a == 0.2);
  CHECK(s.gossip.message_bytes == 64.0);
  CHECK(s.gossip.bandwidth == 1000.0);
  CHECK(s.gossip.busy == sim::BusyPolicy::drop);
  CHECK(s.gossip.loss == 0.25);
  CHECK(s.churn.model == sim::ChurnModel::trace);
  CHECK_FALSE(s.churn.offline_updates);
  // A relative trace_file is relative to the scenario file.
  CHECK(s.churn.trace_file == (dir / "trace.csv").lexically_normal().string());
  REQUIRE(s.churn.trace);
  CHECK(s.churn.trace->online[0] == std::vector<Interval>{{0, 8}});
  const auto j = experiments::scenario_json(s);
  CHECK(j["gossip.latency"]["dist"] == "exponential");
  CHECK(j["gossip.latency"]["mean"] == 0.2);
  CHECK(j["gossip.busy"] == "drop");
  CHECK(j["gossip.loss"] == 0.25);
  CHECK(j["churn.model"] == "trace");
  CHECK(j["churn.trace_file"] == s.churn.trace_file);
  CHECK(j["churn.offline_updates"] == false);

  // The defaults leave the network layer off; a plain number is a constant latency.
  const sim::Scenario plain = experiments::load_scenario(std::nullopt, {});
  CHECK_FALSE(plain.networked());
  const auto d = experiments::scenario_json(plain);
  CHECK(d["gossip.latency"] == 0.0);
  CHECK(d["churn.model"] == "none");
  CHECK(d["churn.trace_file"].is_null());
  const sim::Scenario constant = experiments::load_scenario(std::nullopt, {"gossip.latency=0.5", "churn.model=markov",
                                                                           "churn.online_mean=50", "churn.offline_mean=5"});
  CHECK(constant.gossip.latency == 0.5);
  CHECK_FALSE(constant.gossip.latency_law);
  CHECK(constant.churn.online_mean == 50.0);
  CHECK(constant.churn.offline_mean == 5.0);
  // updates.delay takes the exponential law too.
  const sim::Scenario delay =
      experiments::load_scenario(std::nullopt, {R"(updates.delay={ dist = "exponential", mean = 0.5 })"});
  REQUIRE(delay.updates.delay_law);
  CHECK(delay.updates.delay_law->kind == sim::DistributionKind::exponential);
}

TEST_CASE("--help lists every network key", "[network-keys]") {
  const std::string help = experiments::keys_help();
  for (const char* key : {"gossip.latency", "gossip.message_bytes", "gossip.bandwidth", "gossip.busy", "gossip.loss",
                          "churn.model", "churn.online_mean", "churn.offline_mean", "churn.trace_file",
                          "churn.offline_updates"})
    CHECK(help.find(key) != std::string::npos);
}
