// Reliability at the edges (issue 28): values that overflow short of infinity, damaged or
// locked result directories, file-size limits. Each case is a reproducer from the issue.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "analysis/statistics.hpp"
#include "experiments/csv.hpp"
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
  const auto plot = run_timely({"plot", out.string()});
  INFO(plot.err);
  CHECK(plot.status == 0);
  const auto resume = run_timely({"sweep", file.string(), "--out", out.string(), "--resume"});
  INFO(resume.err);
  CHECK(resume.status == 0);
}

TEST_CASE("a large finite mean in results.csv is plotted and resumed, without a fit where none is possible",
          "[edges][sweep]") {
  const fs::path dir = scratch("huge_mean");
  const fs::path file = quadratic_sweep(dir, 0.3, 40);
  const fs::path out = dir / "out";
  REQUIRE(run_timely({"sweep", file.string(), "--out", out.string()}).status == 0);
  edit_results(out, 1, "mean", "1e+25");  // the singular weighted design of the issue
  const auto plot = run_timely({"plot", out.string()});
  INFO(plot.err);
  CHECK(plot.status == 0);
  const auto resume = run_timely({"sweep", file.string(), "--out", out.string(), "--resume"});
  INFO(resume.err);
  CHECK(resume.status == 0);
}
