// Figures: every style renders to data, a standalone script and two images; gnuplot's errors
// surface as exceptions; invalid figures are refused before gnuplot sees them.
// The rendering tests REQUIRE gnuplot instead of skipping without it: a figure test that passes
// without gnuplot proves nothing, and CI installs gnuplot.
#include <catch2/catch.hpp>

#include "scratch_dir.hpp"
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "plots/figure.hpp"
#include "plots/scaling_figures.hpp"

namespace fs = std::filesystem;
using timely::plots::Figure;
using timely::plots::Series;

namespace {

// One directory per test case: CTest runs test cases in parallel processes.
fs::path fresh_dir(const std::string& test) {
  const fs::path dir = timely::testing::scratch_root("timely_plots_test") / test;
  fs::remove_all(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Series series(std::string title, Series::Style style, double shift) {
  Series s;
  s.title = std::move(title);
  s.style = style;
  for (int i = 1; i <= 6; ++i) {
    s.x.push_back(i / 3.0);
    s.y.push_back(shift + i * i / 7.0);
  }
  return s;
}

Figure all_styles(const std::string& name) {
  Figure f;
  f.name = name;
  f.title = "All \"five\" styles: a_b @macro $x \\ 100%";
  f.xlabel = "time t";
  f.ylabel = "staleness";
  f.series.push_back(series("points", Series::Style::points, 0));
  f.series.push_back(series("lines 'quoted'", Series::Style::lines, 1));
  f.series.push_back(series("", Series::Style::linespoints, 2));  // no legend entry
  Series bars = series("errorbars", Series::Style::errorbars, 3);
  bars.err.assign(bars.y.size(), 0.25);
  f.series.push_back(bars);
  f.series.push_back(series("steps", Series::Style::steps, 4));
  f.extra.push_back("set key top left");
  return f;
}

bool png_signature(const fs::path& p) {
  const std::string bytes = slurp(p);
  return bytes.size() > 8 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) == 0;
}

// Blocks of a gnuplot data file: non-empty runs separated by two blank lines.
int count_blocks(const std::string& text) {
  int blocks = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find("\n\n\n", start);
    if (end == std::string::npos) end = text.size();
    if (text.find_first_not_of('\n', start) < end) ++blocks;
    start = end + 3;
  }
  return blocks;
}

}  // namespace

TEST_CASE("rendering a figure in all five styles writes non-empty data, script, PNG and SVG",
          "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("all_styles");
  const Figure f = all_styles("all_styles");
  const auto r = timely::plots::render(f, dir);

  CHECK(r.data == fs::absolute(dir / "all_styles.dat"));
  for (const fs::path& p : {r.data, r.script, r.png, r.svg}) {
    INFO(p);
    REQUIRE(fs::exists(p));
    CHECK(fs::file_size(p) > 0);
  }
  CHECK_FALSE(fs::exists(dir / "all_styles.log"));  // only the four files remain on success
  CHECK(png_signature(r.png));
  CHECK(slurp(r.svg).find("<svg") != std::string::npos);

  const std::string data = slurp(r.data);
  CHECK(count_blocks(data) == 5);
  // Full precision: the first x (1/3) reads back as the same double.
  const std::size_t first = data.find("\n", data.find("# x y")) + 1;
  CHECK(std::strtod(data.c_str() + first, nullptr) == 1.0 / 3.0);

  const std::string script = slurp(r.script);
  CHECK(script.find("'all_styles.dat' index 0") != std::string::npos);
  CHECK(script.find("index 4 using 1:2 with steps") != std::string::npos);
  CHECK(script.find("index 3 using 1:2:3 with yerrorbars") != std::string::npos);
  CHECK(script.find(dir.string()) == std::string::npos);  // no absolute paths
}

TEST_CASE("the script is standalone: gnuplot NAME.gp in its directory redraws both images",
          "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("standalone");
  // Two figures one after another into one directory: no state carries between renders.
  Figure log_figure;
  log_figure.name = "log-axes_2";
  log_figure.logx = log_figure.logy = true;
  log_figure.series.push_back(series("log", Series::Style::lines, 1));
  timely::plots::render(all_styles("redraw"), dir);
  timely::plots::render(log_figure, dir);

  for (const std::string name : {"redraw", "log-axes_2"}) {
    INFO(name);
    fs::remove(dir / (name + ".png"));
    fs::remove(dir / (name + ".svg"));
    const std::string command = "cd '" + dir.string() + "' && gnuplot " + name + ".gp";
    CHECK(std::system(command.c_str()) == 0);
    CHECK(png_signature(dir / (name + ".png")));
    CHECK(slurp(dir / (name + ".svg")).find("<svg") != std::string::npos);
  }
}

TEST_CASE("a gnuplot error makes render throw runtime_error naming the figure and the error",
          "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("broken");
  Figure f = all_styles("broken_figure");
  f.extra.push_back("set nonsense 1");
  using Catch::Matchers::Contains;
  CHECK_THROWS_MATCHES(timely::plots::render(f, dir), std::runtime_error,
                       Catch::Matchers::Predicate<std::runtime_error>([](const auto& e) {
                         const std::string what = e.what();
                         return what.find("broken_figure") != std::string::npos &&
                                what.find("unrecognized option") != std::string::npos;
                       }));

  // A warning is a failure too: gnuplot adjusted the figure behind the caller's back.
  Figure flat;
  flat.name = "flat_figure";
  flat.series.push_back(Series{"constant", {1, 2, 3}, {2, 2, 2}, {}, Series::Style::lines});
  CHECK_THROWS_WITH(timely::plots::render(flat, dir),
                    Contains("flat_figure") && Contains("empty y range"));
  flat.extra.push_back("set yrange [0:3]");  // the remedy: say what range is meant
  CHECK_NOTHROW(timely::plots::render(flat, dir));
}

TEST_CASE("invalid names, mismatched sizes and non-positive data on log axes are refused",
          "[plots]") {
  const fs::path dir = fresh_dir("invalid");
  using timely::plots::render;

  for (const std::string name : {"", "a b", "../escape", "a.b", "quote'", "x/y"}) {
    Figure f = all_styles(name);
    INFO("name: " << name);
    CHECK_THROWS_AS(render(f, dir), std::invalid_argument);
  }

  Figure none = all_styles("none");
  none.series.clear();
  CHECK_THROWS_AS(render(none, dir), std::invalid_argument);

  Figure empty = all_styles("empty");
  empty.series[1].x.clear();
  empty.series[1].y.clear();
  CHECK_THROWS_AS(render(empty, dir), std::invalid_argument);

  Figure sizes = all_styles("sizes");
  sizes.series[0].y.pop_back();
  CHECK_THROWS_AS(render(sizes, dir), std::invalid_argument);

  Figure errors = all_styles("errors");
  errors.series[3].err.pop_back();
  CHECK_THROWS_AS(render(errors, dir), std::invalid_argument);

  Figure bars_without_err = all_styles("bars");
  bars_without_err.series[3].err.clear();
  CHECK_THROWS_AS(render(bars_without_err, dir), std::invalid_argument);

  using Catch::Matchers::Contains;
  Figure logx = all_styles("logx");
  logx.logx = true;
  logx.series[2].x[0] = 0.0;
  CHECK_THROWS_WITH(render(logx, dir), Contains("logarithmic") && Contains("x[0]"));

  Figure logy = all_styles("logy");
  logy.logy = true;
  logy.series[0].y[0] = -1.0;
  CHECK_THROWS_WITH(render(logy, dir), Contains("logarithmic") && Contains("y[0]"));

  Figure tiny = all_styles("tiny");
  tiny.height = 10;
  CHECK_THROWS_WITH(render(tiny, dir), Contains("size"));

  CHECK_FALSE(fs::exists(dir));  // refused before anything was written
}

TEST_CASE("figures with many long legend titles grow to fit them instead of squeezing the key", "[plots]") {
  // gnuplot warns "difficulty fitting plot titles into key" when a key does not fit, and
  // render treats any warning as an error; a 36-point learning sweep produced such a key.
  const fs::path dir = fresh_dir("many");
  std::vector<timely::plots::TimeSeries> series;
  timely::plots::VersusN spec{"many_vs_n", "Many curves", "value", false, {}};
  for (int k = 0; k < 36; ++k) {
    const std::string label = "network.topology=random-regular, data.partition=dirichlet, mixing.rule=variance-corrected " +
                              std::to_string(k);
    series.push_back({label, {0.0, 1.0, 2.0}, {1.0 + k, 2.0 + k, 3.0 + k}, {0.1, 0.1, 0.1}});
    spec.groups.push_back({label, {16.0, 64.0}, {1.0 + k, 2.0 + k}, {0.2, 0.2}, {}, std::nullopt});
  }
  const Figure in_time = timely::plots::versus_time_figure("many_vs_time", "Many curves", "value", series, false);
  const Figure in_n = timely::plots::versus_n_figure(spec);
  for (const Figure& f : {in_time, in_n}) {
    INFO(f.name);
    CHECK(f.height >= 600 + 20 * 36);
    CHECK_NOTHROW(timely::plots::render(f, dir));
    CHECK(png_signature(dir / (f.name + ".png")));
  }
  // A few curves keep the key inside, on the default canvas.
  spec.groups.resize(3);
  CHECK(timely::plots::versus_n_figure(spec).height == 600);
}
