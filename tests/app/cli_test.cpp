// The command line as users and scripts see it: exit codes, one-line errors that name the
// key, the JSON contract of docs/interface.md, and --help listing every key.
#include <catch2/catch.hpp>

#include "tests/run_cli.hpp"
#include "tests/scratch_dir.hpp"
#include <filesystem>
#include <sys/stat.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli.hpp"
#include "experiments/scenario_keys.hpp"
#include "theory/harmonic.hpp"

namespace {

using Outcome = timely::testing::CliOutcome;

Outcome run_cli(std::vector<std::string> args) { return timely::testing::run_timely(std::move(args)); }

std::filesystem::path temp_file(const std::string& name, const std::string& contents) {
  const auto dir = timely::testing::scratch_root("timely_cli_test");
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << contents;
  return path;
}

// Exit 2 with exactly one line on stderr that mentions `names`.
void require_rejected(const std::vector<std::string>& args, const std::string& names) {
  const Outcome o = run_cli(args);
  INFO("stderr: " << o.err);
  CHECK(o.status == 2);
  CHECK(o.out.empty());
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  CHECK(o.err.find(names) != std::string::npos);
}

}  // namespace

TEST_CASE("simulate --json prints the docs/interface.md object and agrees with theory", "[cli]") {
  const Outcome o = run_cli({"simulate", "--set", "network.n=40", "--set", "run.horizon=400", "--trials", "8", "--json"});
  REQUIRE(o.status == 0);
  const auto j = nlohmann::json::parse(o.out);  // nothing but JSON on stdout
  CHECK(j["scenario"]["network.n"] == 40);
  CHECK(j["scenario"]["run.trials"] == 8);
  CHECK(j["scenario"].size() == timely::experiments::scenario_keys().size());
  CHECK(j["trials"] == 8);
  CHECK(j["events"].get<double>() > 0);
  CHECK(j["wall_seconds"].get<double>() >= 0);
  CHECK(j["events_per_second"].get<double>() > 0);
  CHECK(j["staleness"]["max_mean"].get<double>() > j["staleness"]["mean"].get<double>());
  for (const char* q : {"p50", "p90", "p99", "p999"}) CHECK(j["staleness"]["quantiles"].contains(q));
  const double theory = j["theory"]["staleness"];
  CHECK(theory == Approx(timely::theory::harmonic(39)).epsilon(1e-12));
  // 99.9% interval from the printed 95% half-width (Student t, 7 degrees of freedom).
  const double half_width_999 = j["staleness"]["ci95"].get<double>() * 5.408 / 2.365;
  CHECK(std::abs(j["staleness"]["mean"].get<double>() - theory) <= half_width_999);
}

TEST_CASE("theory --json names its method; a single trial has no CI rather than NaN", "[cli]") {
  Outcome o = run_cli({"theory", "--set", "staleness.model=source", "--set", "network.topology=ring", "--json"});
  REQUIRE(o.status == 0);
  auto j = nlohmann::json::parse(o.out);
  CHECK(j["method"].get<std::string>().rfind("exact:", 0) == 0);
  CHECK(j["staleness"].is_number());

  o = run_cli({"theory", "--set", "staleness.model=source", "--set", "network.topology=torus", "--set",
               "network.n=400", "--json"});
  REQUIRE(o.status == 0);
  j = nlohmann::json::parse(o.out);
  CHECK(j["staleness"].is_null());
  CHECK(j["method"].get<std::string>().rfind("asymptotic:", 0) == 0);

  o = run_cli({"simulate", "--set", "network.n=10", "--set", "run.horizon=50", "--set", "run.warmup=5", "--trials", "1", "--json"});
  REQUIRE(o.status == 0);
  CHECK(nlohmann::json::parse(o.out)["staleness"]["ci95"].is_null());
}

TEST_CASE("--help lists every scenario key with its accepted values", "[cli]") {
  const Outcome o = run_cli({"simulate", "--help"});
  CHECK(o.status == 0);
  for (const auto& key : timely::experiments::scenario_keys()) {
    CHECK(o.out.find(std::string(key.name)) != std::string::npos);
    CHECK(o.out.find(std::string(key.accepts)) != std::string::npos);
  }
}

TEST_CASE("a scenario file and --set combine; --set wins", "[cli]") {
  const auto file = temp_file("combine.toml", "[network]\nn = 12\ntopology = \"ring\"\n[run]\nhorizon = 50\nwarmup = 5\n");
  const Outcome o = run_cli({"theory", file.string(), "--set", "network.n=14", "--json"});
  REQUIRE(o.status == 0);
  const auto j = nlohmann::json::parse(o.out);
  CHECK(j["scenario"]["network.n"] == 14);
  CHECK(j["scenario"]["network.topology"] == "ring");
}

TEST_CASE("bad input exits 2 with one line naming the key and what is accepted", "[cli]") {
  const std::string s = "simulate";
  require_rejected({s, "--set", "network.topolgy=ring"}, "network.topolgy: unknown key");
  require_rejected({s, "--set", "nonsense=1"}, "nonsense: unknown key");
  require_rejected({s, "--set", "network.n=abc"}, "network.n: expected an integer");
  require_rejected({s, "--set", "network.n=1"}, "network.n: expected an integer in [2,");
  require_rejected({s, "--set", "network.n=2.5"}, "network.n");
  require_rejected({s, "--set", "gossip.capacity=0"}, "gossip.capacity: expected a number in [1e-9, 1e9]");
  require_rejected({s, "--set", "gossip.capacity=-1"}, "gossip.capacity");
  require_rejected({s, "--set", "updates.rate=0"}, "updates.rate: expected a number in [1e-9, 1e9]");
  require_rejected({s, "--set", "updates.delay=-0.5"}, "updates.delay");
  require_rejected({s, "--set", "source.rate=-2"}, "source.rate");
  require_rejected({s, "--set", "source.push_rate=0"}, "source.push_rate");
  require_rejected({s, "--set", "gossip.mode=broadcast"}, "gossip.mode: expected one of push, pull, exchange");
  require_rejected({s, "--set", "gossip.scaling=cubic"}, "gossip.scaling");
  require_rejected({s, "--set", "network.topology=hypercubes"}, "network.topology: expected one of");
  require_rejected({s, "--set", "network.topology=torus", "--set", "network.n=50"}, "network.n");
  require_rejected({s, "--set", "network.topology=random-regular", "--set", "network.n=9", "--set", "network.degree=3"},
                   "network.degree");
  require_rejected({s, "--set", "network.topology=random-regular", "--set", "network.n=8", "--set", "network.degree=8"},
                   "network.degree");
  require_rejected({s, "--set", "network.topology=edges"}, "network.edges_file");
  require_rejected({s, "--set", "network.topology=edges", "--set", "network.edges_file=/nonexistent/e.txt"},
                   "network.edges_file");
  const auto split = temp_file("split.txt", "0 1\n1 2\n3 4\n");
  require_rejected({s, "--set", "network.topology=edges", "--set", "network.n=5", "--set",
                    "network.edges_file=" + split.string()},
                   "not connected");
  require_rejected({s, "--set", "run.warmup=1000"}, "run.warmup: expected a value in [0, run.horizon");
  require_rejected({s, "--set", "run.warmup=2000", "--set", "run.horizon=1000"}, "run.warmup");
  require_rejected({s, "--set", "run.trials=0"}, "run.trials");
  require_rejected({s, "--set", "staleness.tracked=101"}, "staleness.tracked");
  require_rejected({s, "--set", "network.n=100000", "--set", "run.trials=1"}, "staleness.tracked");
  require_rejected({s, "--set", "network.n"}, "--set: expected KEY=VALUE");
  require_rejected({s, "--threads", "0"}, "--threads");
  require_rejected({s, "--bogus"}, "--bogus");
  require_rejected({s, "/nonexistent/scenario.toml"}, "/nonexistent/scenario.toml");
  require_rejected({"frobnicate"}, "frobnicate: unknown command (commands: simulate, theory, sweep, validate, plot)");
}

TEST_CASE("the literature's topologies: every bad value exits 2 naming its key", "[cli][topology]") {
  const std::string s = "simulate";
  require_rejected({s, "--set", "network.topology=grid", "--set", "network.n=50"}, "network.n: the grid needs a perfect square");
  require_rejected({s, "--set", "network.topology=hypercube", "--set", "network.n=100"},
                   "network.n: the hypercube needs n a power of 2");
  require_rejected({s, "--set", "network.topology=torus", "--set", "network.dimensions=3", "--set", "network.n=100"},
                   "network.n: the torus in network.dimensions = 3 needs n = side^3");
  require_rejected({s, "--set", "network.dimensions=1"}, "network.dimensions: expected an integer in [2, 16]");
  require_rejected({s, "--set", "network.dimensions=3"}, "network.dimensions: read only by network.topology = \"torus\"");
  require_rejected({s, "--set", "network.topology=generalized-ring", "--set", "network.reach=50"},
                   "network.reach: the generalized ring needs 1 <= f and 2 f < n");
  require_rejected({s, "--set", "network.topology=generalized-ring", "--set", "network.reach=0"}, "network.reach");
  require_rejected({s, "--set", "network.topology=generalized-ring", "--set", "network.reach_exponent=1"},
                   "network.reach_exponent: expected a number in [0, 1)");
  require_rejected({s, "--set", "network.topology=generalized-ring", "--set", "network.reach=2", "--set",
                    "network.reach_exponent=0.5"},
                   "network.reach_exponent: network.reach already gives");
  require_rejected({s, "--set", "network.reach=3"}, "network.reach: read only by network.topology = \"generalized-ring\"");
  require_rejected({s, "--set", "network.topology=bipartite", "--set", "network.left=100"},
                   "network.left: the bipartite graph K_{L, n-L} needs 1 <= L < n = 100");
  require_rejected({s, "--set", "network.left=3"}, "network.left: read only by network.topology = \"bipartite\"");
}

TEST_CASE("the clustered topology: every bad value exits 2 naming its key", "[cli][topology]") {
  const std::vector<std::string> c = {"simulate", "--set", "network.topology=clustered", "--set", "staleness.model=source"};
  const auto with = [&](std::initializer_list<std::string> more) {
    std::vector<std::string> args = c;
    for (const std::string& m : more) args.insert(args.end(), {"--set", m});
    return args;
  };
  require_rejected(with({"network.clusters=0"}), "network.clusters: expected an integer >= 1");
  require_rejected(with({"network.clusters=60"}), "network.clusters: expected at most floor(n / 2^levels) = 50");
  require_rejected(with({"network.clusters_exponent=0"}), "network.clusters_exponent: expected a number in (0, 1]");
  require_rejected(with({"network.clusters_exponent=1"}), "network.clusters_exponent: m = round(n^c) = 100");
  require_rejected(with({"network.clusters=4", "network.clusters_exponent=0.5"}),
                   "network.clusters_exponent: network.clusters already gives");
  require_rejected(with({"network.levels=0"}), "network.levels: expected an integer in [1, 20]");
  require_rejected(with({"network.levels=7", "network.clusters=1"}), "network.levels: expected 2^levels <= network.n");
  require_rejected(with({"network.inside=star"}), "network.inside: expected one of disconnected, ring, complete");
  require_rejected(with({"network.head_ring=3"}), "network.head_ring: expected true or false");
  require_rejected(with({"source.targets=some"}), "source.targets: expected one of all, heads");
  require_rejected({"simulate", "--set", "network.topology=clustered"},
                   "network.head_ring: with network.clusters = 10 clusters and no ring among their heads");
  require_rejected({"simulate", "--set", "network.topology=clustered", "--set", "network.head_ring=true", "--set",
                    "source.targets=heads"},
                   "source.targets: read only by the source model");
  require_rejected({"simulate", "--set", "staleness.model=source", "--set", "source.targets=heads"},
                   "source.targets: \"heads\" pushes to the clustered graph's heads");
  require_rejected({"simulate", "--set", "network.levels=2"}, "network.levels: read only by network.topology = \"clustered\"");
  require_rejected({"simulate", "--set", "network.clusters=2"}, "network.clusters: read only by");
  require_rejected({"simulate", "--set", "network.inside=complete"}, "network.inside: read only by");
  require_rejected({"simulate", "--set", "network.head_ring=true"}, "network.head_ring: read only by");
}

TEST_CASE("SAPO's keys: every bad value exits 2 naming its key", "[cli][sapo]") {
  const std::vector<std::string> sapo = {"simulate", "--set", "model.kind=logistic", "--set", "learning.protocol=sapo",
                                         "--set", "network.n=8"};
  const auto with = [&](std::initializer_list<std::string> more) {
    std::vector<std::string> args = sapo;
    for (const auto& m : more) args.insert(args.end(), {"--set", m});
    return args;
  };
  require_rejected(with({"sapo.questions=0"}), "sapo.questions: expected an integer in [1, 4096]");
  require_rejected(with({"sapo.answers=1"}), "sapo.answers: expected an integer in [2, 1024]");
  require_rejected(with({"sapo.local=9"}), "sapo.local: expected an integer in [0, sapo.questions = 8]");
  require_rejected(with({"sapo.local=-1"}), "sapo.local");
  require_rejected(with({"sapo.external=4097"}), "sapo.external: expected an integer in [0, 4096]");
  require_rejected(with({"sapo.local=0", "sapo.external=0"}), "sapo.external: a batch needs some rollouts");
  require_rejected(with({"sapo.share_fanout=8"}), "sapo.share_fanout: expected an integer in [0, network.n - 1 = 7]");
  require_rejected(with({"sapo.share_fanout=x"}), "sapo.share_fanout: expected an integer");
  require_rejected(with({"sapo.clip_low=1"}), "sapo.clip_low: expected a number in [0, 1)");
  require_rejected(with({"sapo.clip_high=-0.1"}), "sapo.clip_high: expected a number in [0, 1000]");
  require_rejected(with({"sapo.specialties=0"}), "sapo.specialties: expected an integer in [1, 64]");
  require_rejected(with({"sapo.specialties=2"}), "sapo.specialties: task kinds are those of data.source = \"synthetic-arithmetic\"");
  require_rejected(with({"data.source=synthetic-arithmetic", "sapo.specialties=9"}), "sapo.specialties");
  require_rejected(with({"sapo.keep=0"}), "sapo.keep: expected an integer in [1, 1000]");
  require_rejected(with({"model.kind=quadratic"}), "model.kind: learning.protocol = \"sapo\" trains policies");
  require_rejected(with({"model.kind=linear", "data.source=synthetic-regression"}), "model.kind");
  require_rejected(with({"model.kind=mlp", "data.source=synthetic-regression"}), "data.source: learning.protocol = \"sapo\"");
  require_rejected(with({"train.momentum=0.9"}), "train.momentum: learning.protocol = \"sapo\"");
  require_rejected(with({"mixing.rule=age-weighted"}), "mixing.rule: learning.protocol = \"sapo\"");
  require_rejected(with({"gossip.mode=pull"}), "gossip.mode: learning.protocol = \"sapo\"");
  require_rejected(with({"gossip.busy=drop", "gossip.latency=1"}), "gossip.busy: learning.protocol = \"sapo\"");
  require_rejected({"simulate", "--set", "learning.protocol=sapo"},
                   "learning.protocol: \"sapo\" trains models, but model.kind = \"none\"");
  // Every rollout to every other user of 20 000: refused before it starts, naming the swarm's keys.
  require_rejected(with({"network.n=20000", "data.train_samples=40000"}),
                   "run.horizon, network.n, sapo.questions, sapo.share_fanout, updates.rate, updates.delay, run.trials: "
                   "the run would simulate about");
  // Read only by the swarm.
  require_rejected({"simulate", "--set", "sapo.questions=4"}, "sapo.questions: read only by learning.protocol = \"sapo\"");
  require_rejected({"simulate", "--set", "model.kind=logistic", "--set", "sapo.share_fanout=2"},
                   "sapo.share_fanout: read only by learning.protocol = \"sapo\"");
}

TEST_CASE("bad scenario files exit 2 naming the key or the file position", "[cli]") {
  require_rejected({"simulate", temp_file("unknown.toml", "[network]\nsize = 10\n").string()},
                   "network.size: unknown key (known keys of [network]: n, topology");
  require_rejected({"simulate", temp_file("table.toml", "[netwrk]\nn = 10\n").string()}, "netwrk: unknown table (tables: network, gossip, updates, users, churn, staleness, source, run, model, data, train, learning, modest, sapo, mixing, observe, target)");
  require_rejected({"simulate", temp_file("type.toml", "[network]\nn = \"ten\"\n").string()},
                   "network.n: expected an integer in [2, 100000000], got \"ten\"");
  require_rejected({"simulate", temp_file("array.toml", "[gossip]\nmode = [1, 2]\n").string()},
                   "gossip.mode: expected one of push, pull, exchange, got an array");
  require_rejected({"simulate", temp_file("syntax.toml", "[network\nn = 10\n").string()}, "syntax.toml:1:");
}

TEST_CASE("a directory or FIFO as the scenario, and an empty or flag-like --out, exit 2 saying so", "[cli]") {
  const auto dir = timely::testing::scratch_root("timely_cli_paths");
  std::filesystem::create_directories(dir / "scenario-dir");
  require_rejected({"simulate", (dir / "scenario-dir").string()}, "it is a directory, expected a TOML file");
  const auto fifo = dir / "scenario.fifo";
  std::filesystem::remove(fifo);
  if (::mkfifo(fifo.c_str(), 0600) == 0)  // never opened: a FIFO would block a reader
    require_rejected({"simulate", fifo.string()}, "not a regular file");
  require_rejected({"simulate", (dir / "missing.toml").string()}, "no such file");
  // An empty --out wrote nothing and exited 0; `--out=` took the next flag as the directory.
  require_rejected({"simulate", "--out", "", "--trials", "1"}, "--out: expected a directory path, got an empty one");
  require_rejected({"simulate", "--out=", "--trials", "1"}, "--out: expected a directory path");
  require_rejected({"sweep", "examples/sweep-topologies.toml", "--out", ""}, "--out: expected a directory path");
  require_rejected({"validate", "--out", "--quick"}, "--out: expected a directory path, got the flag-like '--quick'");
}

TEST_CASE("theory applies the quadratic model's memory check before drawing its optima", "[cli][robustness]") {
  // It ended in std::bad_alloc (exit 1): 10^6 users in 10^5 dimensions are 745 GiB of optima.
  require_rejected({"theory", "--set", "model.kind=quadratic", "--set", "network.n=1000000", "--set", "data.features=100000"},
                   "network.n, data.features: 1000000 users in 100000 dimensions need 745.1 GiB");
  // A size that fits still gets its exact theory.
  const Outcome o = run_cli({"theory", "--json", "--set", "model.kind=quadratic", "--set", "network.n=8", "--set",
                             "data.features=3"});
  CHECK(o.status == 0);
}

TEST_CASE("a random graph too large to build is refused before it is built, naming its keys", "[cli][resources]") {
  // Issue 28: G(n = 1e5, p = 0.1) has 5e8 edges; building it ended in std::bad_alloc, exit 1.
  for (const char* command : {"simulate", "theory"})
    require_rejected({command, "--set", "network.n=100000", "--set", "network.topology=erdos-renyi", "--set",
                      "network.p=0.1", "--set", "run.horizon=1e-6", "--set", "run.warmup=0", "--set", "run.trials=1"},
                     "network.p, network.n: building the G(n, p) graph of 100000 users would take about");
  require_rejected({"simulate", "--set", "network.n=40000000", "--set", "network.topology=random-regular", "--set",
                    "network.degree=64", "--set", "run.horizon=1e-6", "--set", "run.warmup=0", "--set", "run.trials=1"},
                   "network.degree, network.n: building the random-regular graph");
}

TEST_CASE("drawing a graph counts as work, for simulate and theory alike", "[cli][resources]") {
  // Issue 28: random-regular at n = 4e6 and degree 64 was still building after 30 s (now
  // about 4.4e9 steps, under the default limit), and `theory` built graphs with no limit.
  for (const char* command : {"simulate", "theory"})
    require_rejected({command, "--set", "staleness.model=source", "--set", "network.n=4000000", "--set",
                      "network.topology=random-regular", "--set", "network.degree=64", "--max-events", "1e7"},
                     "network.n, network.degree: building the random-regular graph of 4000000 users");
  // The theory's first-passage searches count too (64 users' neighbourhoods at this size).
  require_rejected({"theory", "--set", "staleness.model=source", "--set", "network.n=10000000", "--set",
                    "network.topology=erdos-renyi"},
                   "and searching it for the first-passage law would take about");
}

TEST_CASE("theory counts what it builds, not the trials it does not run", "[cli][resources]") {
  // The users model's views (4 n K bytes a trial: 3.7 TB here) belong to simulate; the theory
  // builds the graph alone.
  const auto o = run_cli({"theory", "--set", "network.n=1000000", "--set", "network.topology=random-regular", "--set",
                          "network.degree=3"});
  CHECK(o.status == 0);
  require_rejected({"simulate", "--set", "network.n=1000000", "--set", "run.horizon=1e-6", "--set", "run.warmup=0"},
                   "staleness.tracked");
}

TEST_CASE("a damaged text cell is refused, an axis value that reads 'nan' is not", "[cli][robustness]") {
  // Issue 28 (the fuzzer): --resume carried a law cell edited to 'nan' into the new results.csv;
  // timely never writes a non-finite token, so such a cell is damage. An axis column echoes the
  // sweep file's own values, and a directory may well be called "nan": that sweep must read
  // its own files back (its fits and --resume) and keep the value.
  const auto sweep = temp_file("axis-nan.toml", "[network]\nn = 6\n[run]\nhorizon = 20\nwarmup = 0\ntrials = 2\n"
                                                "[sweep]\n\"data.dir\" = [\"nan\"]\n");
  const auto out = sweep.parent_path() / "axis-nan-out";
  std::filesystem::remove_all(out);
  for (const char* flag : {"--force", "--resume"}) {
    const Outcome o = run_cli({"sweep", sweep.string(), "--out", out.string(), flag});
    INFO(flag << ": " << o.err);
    CHECK(o.status == 0);
  }
  std::ifstream in(out / "results.csv");
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  CHECK(row.starts_with("0,nan,"));
  // The law column (the last) edited to 'nan': refused, naming file, line and column.
  std::ofstream(out / "results.csv") << header << "\n" << row.substr(0, row.rfind(',') + 1) << "nan\n";
  require_rejected({"sweep", sweep.string(), "--out", out.string(), "--resume"},
                   "results.csv: line 2: column law: expected text (not a NaN or infinity), got 'nan'");
}
