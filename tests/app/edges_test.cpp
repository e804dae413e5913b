// Reliability at the edges (issue 28): values that overflow short of infinity, damaged or
// locked result directories, file-size limits. Each case is a reproducer from the issue.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <thread>
#include <string>
#include <vector>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/statistics.hpp"
#include "experiments/csv.hpp"
#include "experiments/files.hpp"
#include "plots/figure.hpp"
#include "experiments/progress.hpp"
#include "tests/paths.hpp"
#include "tests/run_cli.hpp"
#include "tests/scratch_dir.hpp"

namespace fs = std::filesystem;
using timely::testing::run_timely;
using timely::testing::slurp;

namespace {

fs::path scratch(const std::string& name) { return timely::testing::fresh_scratch("timely_edges_test", name); }

// "inf" or "nan" as a word (not "informed").
bool has_non_finite_text(const std::string& text) {
  static const std::regex word("(^|[^A-Za-z])(inf|nan|INF|NAN)([^A-Za-z]|$)");
  return std::regex_search(text, word);
}

// A small sweep over network.n of the quadratic model at train.lr = `lr`, into dir/out.
fs::path quadratic_sweep(const fs::path& dir, double lr, double horizon) {
  const fs::path file = dir / "q.toml";
  std::ofstream(file) << "[model]\nkind = \"quadratic\"\n[data]\nspread = 1\nfeatures = 4\n[train]\nlr = " << lr
                      << "\n[run]\nhorizon = " << horizon << "\nwarmup = 10\ntrials = 2\n[sweep]\n\"network.n\" = [4, 8, 16]\n";
  return file;
}

// Replaces column `column` of results.csv's data row `row` (0 = first point) by `value`.
void edit_results(const fs::path& out, std::size_t row, const std::string& column, const std::string& value) {
  auto table = timely::experiments::read_csv((out / "results.csv").string());
  const auto it = std::find(table.header.begin(), table.header.end(), column);
  REQUIRE(it != table.header.end());
  table.rows.at(row).at(static_cast<std::size_t>(it - table.header.begin())) = value;
  std::string text = timely::experiments::csv_line(table.header);
  for (const auto& r : table.rows) text += timely::experiments::csv_line(r);
  std::ofstream(out / "results.csv", std::ios::binary | std::ios::trunc) << text;
}

// Runs the program on `args` in a child process, after `setup` (in the child); stderr goes
// to `err_file` and then `err`. The exit status, or 128 + the signal that ended it.
template <class Setup>
int run_child(const std::vector<std::string>& args, const fs::path& err_file, std::string& err, Setup setup) {
  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = ::open("/dev/null", O_WRONLY);
    if (fd < 0 || ::dup2(fd, 2) < 0 || null < 0 || ::dup2(null, 1) < 0) ::_exit(120);
    ::signal(SIGXFSZ, SIG_DFL);  // as a shell leaves it
    setup();
    std::vector<char*> argv{const_cast<char*>(TIMELY_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(TIMELY_BINARY, argv.data());
    ::_exit(122);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  err = slurp(err_file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A file-size limit of `bytes` (ulimit -f) in the child.
auto file_size_limit(rlim_t bytes) {
  return [bytes] {
    const rlimit limit{bytes, bytes};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(123);
  };
}

// Whether an image ends with its format's trailer (PNG's IEND chunk, SVG's closing tag, PDF's %%EOF).
bool whole_image(const fs::path& p) {
  const std::string text = slurp(p);
  const std::string ext = p.extension().string();
  if (ext == ".png") return text.size() >= 12 && text.compare(text.size() - 8, 4, "IEND") == 0;
  if (ext == ".svg") return text.find("</svg>", text.size() > 64 ? text.size() - 64 : 0) != std::string::npos;
  if (ext == ".pdf") return text.find("%%EOF", text.size() > 64 ? text.size() - 64 : 0) != std::string::npos;
  return true;
}

// Runs the program on `args` as a user who cannot write `dir`: `dir` is made read-only, and
// as root (who writes anywhere) the child drops the capabilities that override file modes
// from its bounding set,
// staying root so that it can still reach the binary wherever the build lives (a CI clone
// in a 0700 temporary directory is out of reach for `nobody`). Returns the exit status;
// `err` gets stderr.
int run_without_write_access(const fs::path& dir, const std::vector<std::string>& args, std::string& err) {
  const fs::path err_file = dir.parent_path() / "stderr.txt";
  const bool root = ::geteuid() == 0;
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace);
  const int status = run_child(args, err_file, err, [root] {
    if (!root) return;
    // From the bounding set: root regains its permitted set at execve from it.
    for (const int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER})
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) ::_exit(121);
  });
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  return status;
}

// A finished staleness sweep over network.n into dir/out.
fs::path small_sweep(const fs::path& dir) {
  const fs::path file = dir / "s.toml";
  std::ofstream(file) << "[run]\nhorizon = 60\nwarmup = 10\ntrials = 2\n[sweep]\n\"network.n\" = [4, 8, 16]\n";
  const auto o = run_timely({"sweep", file.string(), "--out", (dir / "out").string()});
  INFO(o.err);
  REQUIRE(o.status == 0);
  return file;
}

// `plot` and `sweep --resume` accept a finished sweep directory (exit 0).
void plots_and_resumes(const fs::path& file, const fs::path& out) {
  const auto plot = run_timely({"plot", out.string()});
  INFO(plot.err);
  CHECK(plot.status == 0);
  const auto resume = run_timely({"sweep", file.string(), "--out", out.string(), "--resume"});
  INFO(resume.err);
  CHECK(resume.status == 0);
}

}  // namespace

TEST_CASE("summaries of huge finite samples stay finite (no overflow in the variance)", "[edges][statistics]") {
  const std::vector<double> huge{1e200, 3e200, 2e200};
  const auto s = timely::analysis::summarize(huge);
  CHECK(s.mean == Approx(2e200));
  CHECK(std::isfinite(s.sd));
  CHECK(s.sd == Approx(1e200));
  REQUIRE(s.ci_half_width);
  CHECK(std::isfinite(*s.ci_half_width));
  // Up to the largest double: the mean does not overflow in the sum either.
  const double big = std::numeric_limits<double>::max() / 2;
  const std::vector<double> biggest{big, big, big};
  CHECK(timely::analysis::summarize(biggest).mean == big);
  // Ordinary samples: the same bits as the plain formulas.
  const std::vector<double> plain{0.1, 0.7, 0.3};
  const auto p = timely::analysis::summarize(plain);
  CHECK(p.mean == (0.1 + 0.7 + 0.3) / 3.0);
}

TEST_CASE("an unstable quadratic step that stays finite is reported as diverged, never as 'x ± inf'", "[edges][quadratic]") {
  // rho = 1 - lr = -2: the errors double at every step and reach ~1e290 by t = 560, finite.
  const std::vector<std::string> args{"--set", "model.kind=quadratic", "--set", "train.lr=3", "--set", "data.spread=1",
                                      "--set", "network.n=4", "--set", "run.horizon=560"};
  std::vector<std::string> text_args{"simulate"}, json_args{"simulate", "--json"};
  text_args.insert(text_args.end(), args.begin(), args.end());
  json_args.insert(json_args.end(), args.begin(), args.end());
  const auto text = run_timely(text_args);
  INFO(text.out);
  REQUIRE(text.status == 0);
  CHECK(text.out.find("DIVERGED") != std::string::npos);
  CHECK(!has_non_finite_text(text.out));
  const auto json = run_timely(json_args);
  REQUIRE(json.status == 0);
  const auto j = nlohmann::json::parse(json.out);
  CHECK(j["learning"]["status"] == "diverged");
}

TEST_CASE("a sweep of an unstable quadratic step writes finite files that plot and --resume accept", "[edges][sweep]") {
  const fs::path dir = scratch("unstable_sweep");
  const fs::path file = quadratic_sweep(dir, 3.0, 560);
  const fs::path out = dir / "out";
  const auto run = run_timely({"sweep", file.string(), "--out", out.string()});
  INFO(run.err);
  REQUIRE(run.status == 0);
  CHECK(!has_non_finite_text(slurp(out / "results.csv")));
  CHECK(!has_non_finite_text(slurp(out / "learning_curves.csv")));
  CHECK(nlohmann::json::parse(slurp(out / "meta.json"))["complete"] == true);
  plots_and_resumes(file, out);
}

TEST_CASE("a large finite mean in results.csv is plotted and resumed, without a fit where none is possible",
          "[edges][sweep]") {
  const fs::path dir = scratch("huge_mean");
  const fs::path file = quadratic_sweep(dir, 0.3, 40);
  const fs::path out = dir / "out";
  REQUIRE(run_timely({"sweep", file.string(), "--out", out.string()}).status == 0);
  edit_results(out, 1, "mean", "1e+25");  // the singular weighted design of the issue
  plots_and_resumes(file, out);
}

TEST_CASE("a damaged results directory is exit 2 naming the file, never exit 1", "[edges][sweep]") {
  const fs::path dir = scratch("damaged");
  const fs::path file = small_sweep(dir);
  const fs::path out = dir / "out";
  const auto refused = [](const timely::testing::CliOutcome& o, const std::string& needle) {
    timely::testing::refused(o, needle);
  };
  SECTION("meta.json a symlink loop") {
    fs::remove(out / "meta.json");
    fs::create_symlink("meta.json", out / "meta.json");
    refused(run_timely({"plot", out.string()}), "meta.json: cannot be read");
    refused(run_timely({"sweep", file.string(), "--out", out.string(), "--resume"}), "meta.json: cannot be read");
  }
  SECTION("results.csv a symlink loop") {
    fs::remove(out / "results.csv");
    fs::create_symlink("results.csv", out / "results.csv");
    refused(run_timely({"plot", out.string()}), "results.csv: cannot be read");
    refused(run_timely({"sweep", file.string(), "--out", out.string(), "--resume"}), "results.csv: cannot be read");
  }
  SECTION("trials.csv a directory, replaced with --force") {
    fs::remove(out / "trials.csv");
    fs::create_directory(out / "trials.csv");
    refused(run_timely({"sweep", file.string(), "--out", out.string(), "--force"}), "trials.csv is not a regular file");
  }
  SECTION("results.csv torn: its last line cut short") {
    std::string text = slurp(out / "results.csv");
    text.resize(text.size() - 20);
    std::ofstream(out / "results.csv", std::ios::binary | std::ios::trunc) << text;
    refused(run_timely({"plot", out.string()}), "results.csv: the last line is cut short");
    // --resume redoes the torn point.
    const auto resumed = run_timely({"sweep", file.string(), "--out", out.string(), "--resume"});
    INFO(resumed.err);
    CHECK(resumed.status == 0);
    CHECK(run_timely({"plot", out.string()}).status == 0);
  }
  SECTION("results.csv with a row deleted") {
    std::string text = slurp(out / "results.csv");
    text.erase(text.rfind('\n', text.size() - 2) + 1);
    std::ofstream(out / "results.csv", std::ios::binary | std::ios::trunc) << text;
    refused(run_timely({"plot", out.string()}), "rows missing");
  }
}

TEST_CASE("a finished sweep directory that cannot be written is exit 2 naming it", "[edges][sweep]") {
  const fs::path dir = scratch("read_only");
  const fs::path file = small_sweep(dir);
  const fs::path out = dir / "out";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"plot", out.string()},
        std::vector<std::string>{"sweep", file.string(), "--out", out.string(), "--resume"},
        std::vector<std::string>{"sweep", file.string(), "--out", out.string(), "--force"}}) {
    std::string err;
    const int status = run_without_write_access(out, args, err);
    INFO(args[0] << " " << args.back() << ": " << err);
    CHECK(status == 2);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(err.find(out.string()) != std::string::npos);
  }
}

TEST_CASE("simulate --out locks the directory before its trials, and plot takes the lock too", "[edges][lock]") {
  const fs::path dir = scratch("lock");
  const fs::path file = small_sweep(dir);
  const fs::path out = dir / "out";
  const timely::experiments::DirectoryLock held(out);  // another run writing the directory
  const auto plot = run_timely({"plot", out.string()});
  timely::testing::refused(plot, "in use by another timely run");
  // A simulation of several seconds is refused at once, not after its trials.
  const auto start = std::chrono::steady_clock::now();
  const auto sim = run_timely({"simulate", "--out", out.string(), "--set", "network.n=2000", "--set",
                               "run.horizon=5000", "--set", "run.trials=4"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  timely::testing::refused(sim, "in use by another timely run");
  CHECK(seconds < 2.0);
}

TEST_CASE("a reused simulate --out directory holds only the new run's files", "[edges][lock]") {
  const fs::path out = scratch("reused") / "out";
  const auto learning = run_timely({"simulate", "--out", out.string(), "--set", "model.kind=quadratic", "--set",
                                    "data.features=4", "--set", "network.n=8", "--set", "run.horizon=60", "--set",
                                    "run.warmup=10", "--set", "run.trials=2"});
  INFO(learning.err);
  REQUIRE(learning.status == 0);
  REQUIRE(fs::exists(out / "learning.csv"));
  const auto staleness = run_timely({"simulate", "--out", out.string(), "--set", "network.n=8", "--set",
                                     "run.horizon=60", "--set", "run.warmup=10", "--set", "run.trials=2"});
  REQUIRE(staleness.status == 0);
  CHECK(fs::exists(out / "result.json"));
  CHECK(fs::exists(out / "trials.csv"));
  CHECK(!fs::exists(out / "learning.csv"));
  for (const char* name : {"loss_vs_time.png", "loss_vs_time.svg", "loss_vs_time.pdf", "loss_vs_time.dat",
                           "loss_vs_time.gp"})
    CHECK(!fs::exists(out / name));
}

TEST_CASE("a file-size limit ends a sweep with exit 1 and one line, leaving whole rows and no temporary",
          "[edges][files]") {
  const fs::path dir = scratch("fsize");
  const fs::path file = quadratic_sweep(dir, 3.0, 560);  // learning_curves.csv passes 2 KB at the second point
  const fs::path out = dir / "out";
  std::string err;
  const int status = run_child({"sweep", file.string(), "--out", out.string()}, dir / "stderr.txt", err,
                               file_size_limit(2048));
  INFO(err);
  CHECK(status == 1);  // was 153: killed by SIGXFSZ, without a word
  REQUIRE(!err.empty());
  CHECK(err.find("File too large") != std::string::npos);
  CHECK(err.substr(err.rfind('\n', err.size() - 2) + 1).rfind("timely: failed: ", 0) == 0);
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    INFO(name);
    CHECK(name.find(".tmp") == std::string::npos);
    const std::string text = slurp(entry.path());
    if (entry.path().extension() == ".csv" || name == "meta.json") CHECK((text.empty() || text.back() == '\n'));
  }
}

TEST_CASE("a figure cut short by a file-size limit is not left under its name", "[edges][files][plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = scratch("fsize_figures");
  small_sweep(dir);
  const fs::path out = dir / "out";
  for (const auto& entry : fs::directory_iterator(out))
    if (entry.path().extension() == ".png" || entry.path().extension() == ".svg" || entry.path().extension() == ".pdf")
      fs::remove(entry.path());
  std::string err;
  const int status = run_child({"plot", out.string()}, dir / "stderr.txt", err, file_size_limit(16 * 1024));
  INFO(err);
  CHECK(status == 0);  // figures never fail results
  CHECK(err.find("not drawn") != std::string::npos);
  for (const auto& entry : fs::directory_iterator(out)) {
    INFO(entry.path().string());
    CHECK(whole_image(entry.path()));
  }
}

TEST_CASE("bytes that are not UTF-8 are escaped in error lines, valid UTF-8 stays as it is", "[edges][robustness]") {
  CHECK(timely::experiments::printable_line("caf\xc3\xa9 \xff\xfe x") == "caf\xc3\xa9 \\xff\\xfe x");
  CHECK(timely::experiments::printable_line("\xe2\x82") == "\\xe2\\x82");                 // a cut sequence
  CHECK(timely::experiments::printable_line("\xed\xa0\x80") == "\\xed\\xa0\\x80");        // a UTF-16 surrogate
  CHECK(timely::experiments::printable_line("\xc0\xaf") == "\\xc0\\xaf");                 // an overlong '/'
  CHECK(timely::experiments::printable_line("\xf0\x9f\x99\x82!") == "\xf0\x9f\x99\x82!");  // beyond the BMP
  timely::testing::refused(run_timely({"simulate", "--set", "network.topology=ri\xffng"}), "ri\\xffng");
  const fs::path dir = scratch("latin1");
  std::ofstream(dir / "s.toml") << "[network]\ntopology = \"caf\xe9\"\n";  // Latin-1: not valid TOML text
  const auto o = run_timely({"simulate", (dir / "s.toml").string()});
  CHECK(o.status == 2);
  CHECK(o.err.find('\xe9') == std::string::npos);
}

TEST_CASE("meta.json's points_done follows the files while a slow point runs", "[edges][sweep]") {
  const fs::path dir = scratch("points_done");
  const fs::path file = dir / "s.toml";
  // Point 0 takes milliseconds, point 1 seconds: points_done must say 1 long before point 1 ends.
  std::ofstream(file) << "[run]\nhorizon = 2000\nwarmup = 10\ntrials = 2\n[sweep]\n\"network.n\" = [4, 500]\n";
  const fs::path out = dir / "out";
  timely::testing::CliOutcome outcome{};
  std::thread run([&] { outcome = run_timely({"sweep", file.string(), "--out", out.string(), "--threads", "2"}); });
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::optional<double> row_seen, meta_seen;
  while (elapsed() < 60 && !(row_seen && meta_seen)) {
    const std::string results = slurp(out / "results.csv");
    if (!row_seen && std::count(results.begin(), results.end(), '\n') >= 2) row_seen = elapsed();
    const std::string meta = slurp(out / "meta.json");
    try {
      if (!meta_seen && !meta.empty() && nlohmann::json::parse(meta)["points_done"].get<int>() >= 1) meta_seen = elapsed();
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  run.join();
  INFO(outcome.err);
  REQUIRE(outcome.status == 0);
  REQUIRE(row_seen);
  REQUIRE(meta_seen);
  const double run_seconds = elapsed();
  INFO("row at " << *row_seen << " s, points_done at " << *meta_seen << " s, sweep " << run_seconds << " s");
  CHECK(*meta_seen - *row_seen < 0.5);
}
