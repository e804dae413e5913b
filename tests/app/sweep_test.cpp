// Sweeps as users and scripts rely on them: the files of docs/interface.md, atomic rows,
// --resume after a real kill, identical results for every thread count, figures drawn.
#include <catch2/catch.hpp>

#include "tests/run_cli.hpp"
#include "tests/scratch_dir.hpp"
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "app/cli.hpp"
#include "experiments/csv.hpp"
#include "tests/paths.hpp"

namespace fs = std::filesystem;

namespace {

int run_cli(std::vector<std::string> args, std::string* out_text = nullptr, std::string* err_text = nullptr) {
  const auto o = timely::testing::run_timely(std::move(args));
  if (out_text) *out_text = o.out;
  if (err_text) *err_text = o.err;
  return o.status;
}

fs::path scratch(const std::string& name) { return timely::testing::fresh_scratch("timely_sweep_test", name); }

using timely::testing::slurp;

std::size_t lines(const fs::path& p) {
  const std::string text = slurp(p);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Ring, source model: points get slower with n, so a kill lands in the middle.
fs::path ring_sweep(const fs::path& dir, const std::string& extra = "") {
  const fs::path file = dir / "ring.toml";
  std::ofstream(file) << "[network]\ntopology = \"ring\"\n[staleness]\nmodel = \"source\"\n"
                         "[run]\nhorizon = 6000\nwarmup = 100\ntrials = 4\n" << extra
                      << "[sweep]\n\"network.n\" = { from = 16, to = 2048, times = 2 }\n";
  return file;
}

}  // namespace

TEST_CASE("a sweep writes results.csv, trials.csv and meta.json as docs/interface.md says", "[sweep]") {
  const fs::path dir = scratch("files");
  const fs::path file = dir / "s.toml";
  std::ofstream(file) << "[run]\nhorizon = 200\nwarmup = 20\ntrials = 3\n[sweep]\n"
                         "\"gossip.mode\" = [\"push\", \"exchange\"]\n\"network.n\" = [8, 16, 32]\n";
  REQUIRE(run_cli({"sweep", file.string(), "--out", (dir / "out").string()}) == 0);
  const auto results = timely::experiments::read_csv((dir / "out" / "results.csv").string());
  REQUIRE(results.rows.size() == 6);
  for (const char* column : {"gossip.mode", "network.n", "mean", "ci95", "theory", "ratio"}) CHECK_NOTHROW(results.column(column));
  // Axes in file order, last one fastest; each point carries its own seed.
  CHECK(results.rows[0][results.column("gossip.mode")] == "push");
  CHECK(results.rows[1][results.column("network.n")] == "16");
  CHECK(results.rows[3][results.column("gossip.mode")] == "exchange");
  CHECK(results.rows[4][results.column("seed")] == "5");
  const auto trials = timely::experiments::read_csv((dir / "out" / "trials.csv").string());
  CHECK(trials.rows.size() == 18);
  nlohmann::json meta;
  std::ifstream(dir / "out" / "meta.json") >> meta;
  for (const char* key : {"timely_version", "git_revision", "seed", "threads", "wall_seconds", "base_scenario", "axes"})
    CHECK(meta.contains(key));
  CHECK(meta["complete"] == true);
  CHECK(meta["points"] == 6);
  // Figures: each with its data and script, drawn by gnuplot without error.
  for (const char* figure : {"staleness_vs_n", "staleness_loglog", "worst_vs_n", "exceed_vs_n"})
    for (const char* ext : {".png", ".svg", ".pdf", ".gp", ".dat"}) {
      INFO(figure << ext);
      CHECK(fs::file_size(dir / "out" / (std::string(figure) + ext)) > 0);
    }
  // A curve has one colour in every figure of the run, and its name from the key registry.
  for (const char* curve : {"push gossip", "exchange gossip"}) {
    INFO(curve);
    std::vector<std::string> colours;
    for (const char* figure : {"staleness_vs_n", "staleness_loglog", "exceed_vs_n"}) {
      const std::string gp = slurp(dir / "out" / (std::string(figure) + ".gp"));
      CHECK(gp.find("gossip.mode=") == std::string::npos);
      const std::size_t title = gp.find("title \"" + std::string(curve) + "\"");
      REQUIRE(title != std::string::npos);
      const std::size_t colour = gp.rfind("linecolor rgb '", title);
      REQUIRE(colour != std::string::npos);
      colours.push_back(gp.substr(colour + 15, 7));
    }
    CHECK(colours[0] == colours[1]);
    CHECK(colours[0] == colours[2]);
  }
  CHECK(fs::exists(dir / "out" / "fits.csv"));
  // timely plot redraws from the files alone.
  fs::remove(dir / "out" / "staleness_vs_n.png");
  CHECK(run_cli({"plot", (dir / "out").string()}) == 0);
  CHECK(fs::file_size(dir / "out" / "staleness_vs_n.png") > 0);
  // ... in another look: the paper's one-column width, with the LaTeX variant on request.
  CHECK(run_cli({"plot", (dir / "out").string(), "--style", "paper", "--latex"}) == 0);
  for (const char* figure : {"staleness_vs_n", "staleness_loglog", "worst_vs_n", "exceed_vs_n"}) {
    INFO(figure);
    const std::string gp = slurp(dir / "out" / (std::string(figure) + ".gp"));
    CHECK(gp.find("(look: paper)") != std::string::npos);
    CHECK(gp.find("set terminal pdfcairo size 3.5in,") != std::string::npos);
    CHECK(fs::file_size(dir / "out" / (std::string(figure) + "_latex.tex")) > 0);
    CHECK(fs::file_size(dir / "out" / (std::string(figure) + "_latex.pdf")) > 0);
  }
  std::string err;
  CHECK(run_cli({"plot", (dir / "out").string(), "--style", "poster"}, nullptr, &err) == 2);
  CHECK(err.find("--style: expected one of screen, paper, slides, got 'poster'") != std::string::npos);
  // Back to the screen: the LaTeX files of the paper drawing go with it.
  CHECK(run_cli({"plot", (dir / "out").string()}) == 0);
  CHECK_FALSE(fs::exists(dir / "out" / "staleness_vs_n_latex.tex"));
}

TEST_CASE("sweep results are identical for 1 and 2 threads", "[sweep][determinism]") {
  const fs::path dir = scratch("threads");
  const fs::path file = dir / "s.toml";
  std::ofstream(file) << "[run]\nhorizon = 100\nwarmup = 10\ntrials = 5\n[sweep]\n\"network.n\" = [8, 16, 32, 64]\n";
  REQUIRE(run_cli({"sweep", file.string(), "--out", (dir / "one").string(), "--threads", "1"}) == 0);
  REQUIRE(run_cli({"sweep", file.string(), "--out", (dir / "two").string(), "--threads", "2"}) == 0);
  CHECK(slurp(dir / "one" / "results.csv") == slurp(dir / "two" / "results.csv"));
  CHECK(slurp(dir / "one" / "trials.csv") == slurp(dir / "two" / "trials.csv"));
}

TEST_CASE("killing a sweep midway and resuming gives the same files as an uninterrupted run", "[sweep][resume]") {
  const fs::path dir = scratch("resume");
  const fs::path file = ring_sweep(dir);
  const fs::path killed = dir / "killed", whole = dir / "whole";

  // Start the real program, wait until some points are written, then SIGKILL it.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const std::string out = killed.string(), sweep = file.string();
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(devnull, STDERR_FILENO);
    ::execl(TIMELY_BINARY, "timely", "sweep", sweep.c_str(), "--out", out.c_str(), "--threads", "1", nullptr);
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         !(fs::exists(killed / "results.csv") && lines(killed / "results.csv") >= 1 + 3))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));  // it really was interrupted, not finished
  const std::size_t rows_before = lines(killed / "results.csv") - 1;
  REQUIRE(rows_before >= 3);
  REQUIRE(rows_before < 8);

  std::string out, err;
  const int resumed = run_cli({"sweep", file.string(), "--out", killed.string(), "--resume"}, &out, &err);
  INFO("resume stderr: " << err);
  REQUIRE(resumed == 0);
  CHECK(out.find(fmt::format("{} resumed", rows_before)) != std::string::npos);
  REQUIRE(run_cli({"sweep", file.string(), "--out", whole.string()}) == 0);
  CHECK(slurp(killed / "results.csv") == slurp(whole / "results.csv"));
  CHECK(slurp(killed / "trials.csv") == slurp(whole / "trials.csv"));

  // Resuming a finished sweep runs nothing and changes nothing.
  REQUIRE(run_cli({"sweep", file.string(), "--out", killed.string(), "--resume"}, &out) == 0);
  CHECK(out.find("(0 run, 8 resumed)") != std::string::npos);
  CHECK(slurp(killed / "results.csv") == slurp(whole / "results.csv"));
}

TEST_CASE("a sweep never silently overwrites or mixes results", "[sweep]") {
  const fs::path dir = scratch("refuse");
  const fs::path file = dir / "s.toml";
  std::ofstream(file) << "[run]\nhorizon = 50\nwarmup = 5\ntrials = 2\n[sweep]\n\"network.n\" = [8, 16]\n";
  const std::string out = (dir / "out").string();
  REQUIRE(run_cli({"sweep", file.string(), "--out", out}) == 0);
  std::string err;
  CHECK(run_cli({"sweep", file.string(), "--out", out}, nullptr, &err) == 2);
  CHECK(err.find("--resume") != std::string::npos);
  const fs::path other = dir / "other.toml";
  std::ofstream(other) << "[run]\nhorizon = 50\nwarmup = 5\ntrials = 2\n[sweep]\n\"network.n\" = [8, 32]\n";
  CHECK(run_cli({"sweep", other.string(), "--out", out, "--resume"}, nullptr, &err) == 2);
  CHECK(err.find("different sweep") != std::string::npos);
  CHECK(run_cli({"sweep", other.string(), "--out", out, "--force"}) == 0);
}

TEST_CASE("bad sweep files exit 2 naming the key", "[sweep]") {
  const fs::path dir = scratch("bad");
  const auto rejected = [&](const std::string& text, const std::string& names) {
    const fs::path file = dir / "bad.toml";
    std::ofstream(file) << text;
    std::string err;
    INFO(text);
    CHECK(run_cli({"sweep", file.string(), "--out", (dir / "out").string()}, nullptr, &err) == 2);
    CHECK(err.find(names) != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  };
  rejected("[network]\nn = 10\n", "no [sweep] table");
  rejected("[sweep]\n\"network.size\" = [1, 2]\n", "network.size: unknown key");
  rejected("[sweep]\n\"network.n\" = []\n", "network.n");
  rejected("[sweep]\n\"network.n\" = [16, 1]\n", "network.n: expected an integer in [2,");
  rejected("[sweep]\n\"network.n\" = 5\n", "sweep.network.n: expected an array");
  rejected("[sweep]\n\"network.n\" = { from = 8, to = 64 }\n", "exactly one of times");
  rejected("[network]\ntopology = \"torus\"\n[sweep]\n\"network.n\" = [16, 20]\n", "sweep point 1 (network.n=20)");
}

TEST_CASE("setups run setup by setup over the other axes, with a setup column and one column per setup key",
          "[sweep][setup]") {
  const fs::path dir = scratch("setups");
  const fs::path file = dir / "setups.toml";
  std::ofstream(file) << "[run]\nhorizon = 50\nwarmup = 5\ntrials = 2\n[sweep]\n\"network.n\" = [8, 16]\n"
                         "[[sweep.setup]]\nname = \"fast\"\n\"updates.rate\" = 2.0\n"
                         "[[sweep.setup]]\nname = \"exchange\"\n\"gossip.mode\" = \"exchange\"\n";
  REQUIRE(run_cli({"sweep", file.string(), "--out", (dir / "out").string()}) == 0);
  const auto table = timely::experiments::read_csv((dir / "out" / "results.csv").string());
  REQUIRE(table.header.size() > 5);
  CHECK(std::vector<std::string>(table.header.begin(), table.header.begin() + 5) ==
        std::vector<std::string>{"point", "setup", "updates.rate", "gossip.mode", "network.n"});
  REQUIRE(table.rows.size() == 4);
  const auto cell = [&](std::size_t row, std::size_t col) { return table.rows[row][col]; };
  CHECK((cell(0, 1) == "fast" && cell(1, 1) == "fast" && cell(2, 1) == "exchange" && cell(3, 1) == "exchange"));
  CHECK((cell(0, 2) == "2" && cell(0, 3) == "push"));      // the fast setup keeps the base's mode
  CHECK((cell(2, 2) == "1.0" && cell(2, 3) == "exchange"));  // the exchange setup keeps the base's rate (its effective value)
  CHECK((cell(0, 4) == "8" && cell(1, 4) == "16" && cell(2, 4) == "8"));
  // Theory follows each point's keys: exchange halves r H_{n-1}/lambda, rate 2 doubles it.
  const std::size_t theory = table.column("theory");
  CHECK(std::stod(cell(0, theory)) == Approx(2.0 * 2.5928571428571425));
  CHECK(std::stod(cell(2, theory)) == Approx(0.5 * 2.5928571428571425));
  // Curves are labelled by the setup alone, not by the keys it sets.
  const std::string gp = slurp(dir / "out" / "staleness_vs_n.gp");
  CHECK(gp.find("title \"exchange\"") != std::string::npos);
  CHECK(gp.find("gossip.mode=") == std::string::npos);
  CHECK(gp.find("exchange gossip") == std::string::npos);

  const auto rejected = [&](const std::string& text, const std::string& names) {
    const fs::path bad = dir / "bad.toml";
    std::ofstream(bad) << "[sweep]\n\"network.n\" = [8, 16]\n" << text;
    std::string err;
    INFO(text);
    CHECK(run_cli({"sweep", bad.string(), "--out", (dir / "bad").string()}, nullptr, &err) == 2);
    CHECK(err.find(names) != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  };
  rejected("[[sweep.setup]]\n\"updates.rate\" = 2\n", "sweep.setup 1: expected name");
  rejected("[[sweep.setup]]\nname = \"a\"\n[[sweep.setup]]\nname = \"a\"\n", "the name \"a\" appears twice");
  rejected("[[sweep.setup]]\nname = \"a\"\n\"updates.speed\" = 2\n", "sweep.setup \"a\": updates.speed: unknown key");
  rejected("[[sweep.setup]]\nname = \"a\"\n\"updates.rate\" = -2\n", "sweep.setup \"a\": updates.rate: expected");
  rejected("[[sweep.setup]]\nname = \"a\"\n\"network.n\" = [32, -1]\n", "sweep.setup \"a\": network.n: expected");
  rejected("[[sweep.setup]]\nname = \"a\"\n\"network.n\" = []\n", "sweep.setup \"a\": network.n: expected a non-empty list");
  rejected("[[sweep.setup]]\nname = \"a\"\n\"network.n\" = { from = 8, to = 64 }\n", "network.n");
  rejected("setup = 3\n", "sweep.setup: expected an array of tables");
}

TEST_CASE("a setup may give a sweep axis values of its own: each setup runs over its own sizes",
          "[sweep][setup]") {
  const fs::path dir = scratch("setup-axes");
  const fs::path file = dir / "axes.toml";
  // The torus needs perfect squares, the hypercube powers of two; the ring takes the sweep's list.
  std::ofstream(file) << "[staleness]\nmodel = \"source\"\n[run]\nhorizon = 40\nwarmup = 5\ntrials = 2\n"
                         "[sweep]\n\"network.n\" = [8, 12]\n\"gossip.mode\" = [\"push\", \"pull\"]\n"
                         "[[sweep.setup]]\nname = \"torus\"\n\"network.topology\" = \"torus\"\n\"network.n\" = [9, 16, 25]\n"
                         "[[sweep.setup]]\nname = \"hypercube\"\n\"network.topology\" = \"hypercube\"\n"
                         "\"network.n\" = { from = 4, to = 32, times = 2 }\n"
                         "[[sweep.setup]]\nname = \"ring\"\n\"network.topology\" = \"ring\"\n"
                         "[[sweep.setup]]\nname = \"one\"\n\"network.topology\" = \"complete\"\n\"gossip.mode\" = \"pull\"\n";
  REQUIRE(run_cli({"sweep", file.string(), "--out", (dir / "out").string()}) == 0);
  const auto table = timely::experiments::read_csv((dir / "out" / "results.csv").string());
  const std::size_t setup = table.column("setup"), n = table.column("network.n"), mode = table.column("gossip.mode");
  std::vector<std::string> got;
  for (const auto& row : table.rows) got.push_back(row[setup] + ":" + row[n] + ":" + row[mode]);
  // Setups outermost, then the sweep's axes in file order, each with the setup's values if it gives them.
  CHECK(got == std::vector<std::string>{"torus:9:push", "torus:9:pull", "torus:16:push", "torus:16:pull", "torus:25:push",
                                        "torus:25:pull", "hypercube:4:push", "hypercube:4:pull", "hypercube:8:push",
                                        "hypercube:8:pull", "hypercube:16:push", "hypercube:16:pull", "hypercube:32:push",
                                        "hypercube:32:pull", "ring:8:push", "ring:8:pull", "ring:12:push", "ring:12:pull",
                                        "one:8:pull", "one:12:pull"});
  // A curve per setup and mode, fitted over that setup's sizes.
  const auto fits = timely::experiments::read_csv((dir / "out" / "fits.csv").string());
  bool hypercube_fitted = false;
  for (const auto& row : fits.rows) hypercube_fitted = hypercube_fitted || row[fits.column("curve")] == "setup=hypercube, gossip.mode=push";
  CHECK(hypercube_fitted);
  // Resuming the finished sweep finds the same plan.
  CHECK(run_cli({"sweep", file.string(), "--out", (dir / "out").string(), "--resume"}) == 0);
}

TEST_CASE("a learning sweep with setups over n draws one study figure per setup and writes study.csv",
          "[sweep][setup][study]") {
  const fs::path dir = scratch("study");
  const fs::path file = dir / "study.toml";
  std::ofstream(file) << "[run]\nhorizon = 40\nwarmup = 10\ntrials = 3\n[observe]\nevery = 10\n[staleness]\ntracked = 4\n"
                         "[sweep]\n\"network.n\" = [8, 16, 32]\n\"gossip.scaling\" = [\"constant\", \"linear\"]\n"
                         "[[sweep.setup]]\nname = \"quadratic\"\n\"model.kind\" = \"quadratic\"\n\"data.spread\" = 1\n"
                         "\"data.features\" = 3\n\"train.lr\" = 0.5\n";
  REQUIRE(run_cli({"sweep", file.string(), "--out", (dir / "out").string()}) == 0);
  CHECK(fs::file_size(dir / "out" / "study_quadratic.png") > 0);
  CHECK(fs::file_size(dir / "out" / "study_quadratic.svg") > 0);
  CHECK(fs::file_size(dir / "out" / "study_quadratic.pdf") > 0);
  const auto study = timely::experiments::read_csv((dir / "out" / "study.csv").string());
  REQUIRE(study.rows.size() == 6);
  const std::size_t error = study.column("error"), theory = study.column("error_theory"), n = study.column("n");
  const auto results = timely::experiments::read_csv((dir / "out" / "results.csv").string());
  // study.csv carries the results' numbers: each row's error is a point's stationary error,
  // and the exact theory sits beside it.
  for (const auto& row : study.rows) {
    CHECK(!row[theory].empty());
    bool found = false;
    for (const auto& r : results.rows)
      found = found || (r[results.column("network.n")] == row[n] &&
                        std::abs(std::stod(r[results.column("stationary_error")]) - std::stod(row[error])) <=
                            1e-5 * std::stod(row[error]));
    CHECK(found);
  }
  const auto fits = timely::experiments::read_csv((dir / "out" / "study_fits.csv").string());
  CHECK(fits.rows.size() == 8);  // 2 curves x 4 quantities, each with three sizes
  // Linear capacity: the normalized error falls like 1/n (model §6.4), so its exponent is negative.
  for (const auto& row : fits.rows)
    if (row[fits.column("curve")] == "gossip.scaling=linear" && row[fits.column("quantity")] == "error")
      CHECK(std::stod(row[fits.column("power_exponent")]) < -0.5);
}

TEST_CASE("CSV fields with commas and quotes survive a round trip", "[sweep][csv]") {
  const std::vector<std::string> fields{"plain", "with, comma", "with \"quotes\"", "", "exact: r H_{n-1} / lambda"};
  const std::string line = timely::experiments::csv_line(fields);
  CHECK(line == "plain,\"with, comma\",\"with \"\"quotes\"\"\",,exact: r H_{n-1} / lambda\n");
  CHECK(timely::experiments::parse_csv_line(line.substr(0, line.size() - 1)) == fields);
}

TEST_CASE("validate --quick passes and writes report.md, CSVs and at least four figures", "[validate]") {
  const fs::path dir = scratch("validate");
  std::string out;
  REQUIRE(run_cli({"validate", "--quick", "--out", dir.string()}, &out) == 0);
  const std::string report = slurp(dir / "report.md");
  CHECK(report.find("| check | docs/model.md | simulated | theory | result |") != std::string::npos);
  CHECK(report.find("FAIL") == std::string::npos);
  CHECK(fs::file_size(dir / "checks.csv") > 0);
  CHECK(fs::file_size(dir / "exact" / "results.csv") > 0);
  std::size_t figures = 0;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".png" && fs::file_size(entry.path()) > 0) ++figures;
  CHECK(figures >= 4);
}

TEST_CASE("a learning sweep writes learning columns, curves and figures, and resumes", "[sweep][learning]") {
  const fs::path dir = scratch("learning");
  const fs::path file = dir / "learn.toml";
  std::ofstream(file) << "[model]\nkind = \"logistic\"\n[data]\ntrain_samples = 2000\ntest_samples = 500\n"
                         "[observe]\nevery = 5\nusers = 2\n[target]\naccuracy = 0.5\n[run]\nhorizon = 20\nwarmup = 0\ntrials = 2\n"
                         "[sweep]\n\"mixing.rule\" = [\"average\", \"fedavg\"]\n\"network.n\" = [8, 16, 32]\n";
  const std::string out = (dir / "out").string();
  REQUIRE(run_cli({"sweep", file.string(), "--out", out}) == 0);
  const auto results = timely::experiments::read_csv((dir / "out" / "results.csv").string());
  REQUIRE(results.rows.size() == 6);
  for (const auto& row : results.rows) {
    CHECK(std::stod(row[results.column("final_accuracy")]) > 0.5);
    CHECK(!row[results.column("time_to_target")].empty());
  }
  const auto curves = timely::experiments::read_csv((dir / "out" / "learning_curves.csv").string());
  CHECK(curves.rows.size() == 6 * 5);  // observations at 0, 5, 10, 15, 20
  for (const char* figure : {"accuracy_vs_time", "loss_vs_time", "convergence_time_vs_n"})
    CHECK(fs::file_size(dir / "out" / (std::string(figure) + ".png")) > 0);
  // FedAvg measures no staleness: its curve is left out of the staleness figures, not drawn at 0.
  const std::string staleness = slurp(dir / "out" / "staleness_vs_n.dat");
  CHECK(staleness.find("average mixing") != std::string::npos);
  CHECK(staleness.find("fedavg") == std::string::npos);
  const std::string before = slurp(dir / "out" / "learning_curves.csv");
  std::string text;
  REQUIRE(run_cli({"sweep", file.string(), "--out", out, "--resume"}, &text) == 0);
  CHECK(text.find("(0 run, 6 resumed)") != std::string::npos);
  CHECK(slurp(dir / "out" / "learning_curves.csv") == before);
}

namespace {

// A small logistic-regression learning sweep on synthetic data, run to completion; `tables`
// adds scenario tables, `axes` is the body of [sweep]. Returns the output directory.
fs::path small_learning_sweep(const std::string& name, const std::string& tables, const std::string& axes) {
  const fs::path dir = scratch(name);
  const fs::path file = dir / (name + ".toml");
  std::ofstream(file) << "[model]\nkind = \"logistic\"\n[data]\ntrain_samples = 1000\ntest_samples = 300\n"
                         "[observe]\nevery = 5\nusers = 2\n[target]\naccuracy = 0.5\n[run]\nhorizon = 10\nwarmup = 0\n"
                         "trials = 2\n"
                      << tables << "[sweep]\n" << axes;
  const fs::path out = dir / "out";
  REQUIRE(run_cli({"sweep", file.string(), "--out", out.string()}) == 0);
  return out;
}

}  // namespace

TEST_CASE("a learning sweep of many points draws one set of time figures per panel of the other axes",
          "[sweep][learning]") {
  const fs::path out = small_learning_sweep("panels", "",
                                            "\"network.n\" = [8, 16]\n\"network.topology\" = [\"complete\", \"ring\"]\n"
                                            "\"mixing.rule\" = [\"average\", \"variance-corrected\"]\n");
  // Eight points: four panels (n x topology), each with one curve per mixing rule.
  for (const char* panel : {"_8_complete", "_8_ring", "_16_complete", "_16_ring"})
    for (const char* figure : {"accuracy_vs_time", "loss_vs_time", "weight_variance_vs_time"}) {
      const fs::path png = out / (std::string(figure) + panel + ".png");
      INFO(png);
      REQUIRE(fs::exists(png));
      const std::string script = slurp(out / (std::string(figure) + panel + ".gp"));
      CHECK(script.find("title \"average mixing") != std::string::npos);  // weight variance: ", W1", ...
      CHECK(script.find("title \"variance-corrected mixing") != std::string::npos);
      CHECK(script.find("mixing.rule=") == std::string::npos);
    }
  CHECK_FALSE(fs::exists(out / "accuracy_vs_time.png"));
  for (const char* figure : {"convergence_time_vs_n", "plateau_delay_vs_n"}) CHECK(fs::exists(out / (std::string(figure) + ".png")));
}

TEST_CASE("a FedAvg-only sweep, which measures no staleness, draws its learning figures and no staleness ones",
          "[sweep][learning]") {
  const fs::path out = small_learning_sweep("fedavg-only", "[mixing]\nrule = \"fedavg\"\n", "\"network.n\" = [8, 16]\n");
  CHECK(fs::exists(out / "accuracy_vs_time.png"));
  CHECK_FALSE(fs::exists(out / "staleness_vs_n.png"));
}
