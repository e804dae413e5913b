// Figures: every style renders to data, a standalone script and three images (PNG, SVG, PDF); gnuplot's errors
// surface as exceptions; invalid figures are refused before gnuplot sees them. Multi-panel
// figures keep every one of these guarantees, panel by panel.
// The rendering tests REQUIRE gnuplot instead of skipping without it: a figure test that passes
// without gnuplot proves nothing, and CI installs gnuplot.
#include <catch2/catch.hpp>

#include "tests/scratch_dir.hpp"
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "plots/figure.hpp"
#include "plots/scaling_figures.hpp"

namespace fs = std::filesystem;
using timely::plots::Figure;
using timely::plots::PanelFigure;
using timely::plots::Series;

namespace {

// One directory per test case: CTest runs test cases in parallel processes.
fs::path fresh_dir(const std::string& test) {
  const fs::path dir = timely::testing::scratch_root("timely_plots_test") / test;
  fs::remove_all(dir);
  return dir;
}

using timely::testing::slurp;

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

// A PNG's width and height, from its IHDR chunk (bytes 16-23, big-endian).
std::pair<long, long> png_size(const fs::path& p) {
  const std::string bytes = slurp(p);
  REQUIRE(bytes.size() > 24);
  const auto word = [&](std::size_t at) {
    long v = 0;
    for (std::size_t k = 0; k < 4; ++k) v = v * 256 + static_cast<unsigned char>(bytes[at + k]);
    return v;
  };
  return {word(16), word(20)};
}

// Occurrences of `what` in `text`.
int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

bool pdf_signature(const fs::path& p) {
  const std::string bytes = slurp(p);
  return bytes.size() > 100 && bytes.compare(0, 5, "%PDF-") == 0;
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

// Four versus-n panels as a scaling study draws them: a log-y panel with theory and a power
// fit, a linear panel with error bars, a flat panel (versus_n_figure sets its y range) and a
// panel of several joined curves.
PanelFigure four_panels(const std::string& name) {
  using timely::plots::CurveGroup;
  using timely::plots::VersusN;
  const std::vector<double> n{16, 32, 64, 128, 256};
  timely::analysis::Fit power;
  power.law = timely::analysis::Law::power;
  power.a = {0.5, 0.01};
  power.b = {0.5, 0.02};
  std::vector<VersusN> specs;
  specs.push_back({"ignored", "Staleness (log y)", "mean staleness", true,
                   {{"complete", n, {2, 2.8, 4, 5.7, 8}, {0.1, 0.1, 0.2, 0.2, 0.3}, {2, 2.83, 4, 5.66, 8}, power}}});
  specs.push_back({"ignored", "Age (linear)", "mean age", false,
                   {{"ring", n, {-1, 0, 1, 2, 3}, {0.3, 0.3, 0.3, 0.3, 0.3}, {}, std::nullopt}}});
  specs.push_back({"ignored", "Flat", "versions", false, {{"", n, {1, 1, 1, 1, 1}, {}, {}, std::nullopt}}});
  VersusN joined{"ignored", "Several curves", "rate", false, {}};
  for (int k = 0; k < 3; ++k)
    joined.groups.push_back({"k=" + std::to_string(k), n, {1.0 + k, 1.5 + k, 2.0 + k, 2.2 + k, 2.3 + k}, {}, {}, std::nullopt});
  specs.push_back(joined);
  PanelFigure f = timely::plots::versus_n_panels(name, "Scaling: \"four\" panels @ a_b", specs);
  f.columns = 2;
  return f;
}

std::size_t series_count(const PanelFigure& f) {
  std::size_t count = 0;
  for (const Figure& panel : f.panels) count += panel.series.size();
  return count;
}

}  // namespace

TEST_CASE("rendering a figure in all five styles writes non-empty data, script, PNG, SVG and PDF",
          "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("all_styles");
  const Figure f = all_styles("all_styles");
  const auto r = timely::plots::render(f, dir);

  CHECK(r.data == fs::absolute(dir / "all_styles.dat"));
  for (const fs::path& p : {r.data, r.script, r.png, r.svg, r.pdf}) {
    INFO(p);
    REQUIRE(fs::exists(p));
    CHECK(fs::file_size(p) > 0);
  }
  CHECK_FALSE(fs::exists(dir / "all_styles.log"));  // only the five files remain on success
  CHECK(png_signature(r.png));
  CHECK(r.pdf == fs::absolute(dir / "all_styles.pdf"));
  CHECK(pdf_signature(r.pdf));
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

TEST_CASE("the script is standalone: gnuplot NAME.gp in its directory redraws all three images",
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
    fs::remove(dir / (name + ".pdf"));
    const std::string command = "cd '" + dir.string() + "' && gnuplot " + name + ".gp";
    CHECK(std::system(command.c_str()) == 0);
    CHECK(png_signature(dir / (name + ".png")));
    CHECK(pdf_signature(dir / (name + ".pdf")));
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

TEST_CASE("figures with many long legend titles wrap them and grow, instead of squeezing the key", "[plots]") {
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
  for (const auto* look : {&timely::plots::style::screen(), timely::plots::style::find_look("paper"),
                           timely::plots::style::find_look("slides")})
    for (const Figure& f : {in_time, in_n}) {
      INFO(f.name << " in " << look->name);
      timely::plots::Drawing drawing;
      drawing.look = look;
      const auto r = timely::plots::render(f, dir, drawing);
      CHECK(png_signature(r.png));
      // The canvas keeps the look's width and grows below for the key's rows.
      const auto [width, height] = png_size(r.png);
      CHECK(width == std::lround(look->width * look->png_scale));
      CHECK(height > std::lround(look->height * look->png_scale) + 36 * look->font);
      // Titles longer than a column holds are broken into lines, every entry still listed.
      const std::string script = slurp(r.script);
      CHECK(count(script, "keyentry") == 36);
      if (look->name == "paper") CHECK(script.find("\\n") != std::string::npos);
    }
}

TEST_CASE("a legend lists each curve once and one theory and one fitted-law entry, below the plot", "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("legend");
  timely::plots::VersusN spec{"legend_vs_n", "Three curves", "value", true, {}};
  for (int k = 0; k < 3; ++k) {
    timely::plots::CurveGroup g{"gossip.scaling=" + std::to_string(k), {16.0, 64.0, 256.0}, {1.0 + k, 2.0 + k, 3.0 + k},
                                {0.2, 0.2, 0.2}, {1.1 + k, 2.1 + k, 3.1 + k}, std::nullopt};
    g.title = "capacity " + std::to_string(k);
    g.fit = timely::analysis::Fit{};
    g.fit->law = timely::analysis::Law::power;
    g.fit->a = {1.0 + k, 0.1};
    g.fit->b = {0.3, 0.01};
    spec.groups.push_back(g);
  }
  const Figure f = timely::plots::versus_n_figure(spec);
  CHECK(f.series.size() == 9);  // data, theory and fit of each curve
  const auto r = timely::plots::render(f, dir);
  const std::string script = slurp(r.script);
  CHECK(count(script, "keyentry") == 5);  // three curves, "theory", "fitted law"
  CHECK(script.find("title \"capacity 0\"") != std::string::npos);
  CHECK(script.find("title \"theory\"") != std::string::npos);
  CHECK(script.find("title \"fitted law\"") != std::string::npos);
  CHECK(script.find("n^0.300") == std::string::npos);  // the laws are not in the legend...
  CHECK(script.find("set key outside below") != std::string::npos);
  CHECK(script.find("title \"error bars: 95% CI\"") != std::string::npos);
  // ... unless asked for: then each fit is listed with its law, and no shared entry.
  timely::plots::Drawing with_laws;
  with_laws.fit_labels = true;
  const std::string labelled = slurp(timely::plots::render(f, dir, with_laws).script);
  CHECK(count(labelled, "keyentry") == 7);
  CHECK(labelled.find("capacity 2: 3 n^0.300 (+-0.010)") != std::string::npos);
  CHECK(labelled.find("title \"fitted law\"") == std::string::npos);

  // One curve: the shared entries take its colour.
  spec.groups.resize(1);
  const std::string one = slurp(timely::plots::render(timely::plots::versus_n_figure(spec), dir).script);
  const std::string colour = "linecolor rgb '" + timely::plots::style::slot(0).colour + "'";
  const std::size_t theory = one.find("title \"theory\"");
  REQUIRE(theory != std::string::npos);
  CHECK(one.rfind(colour, theory) > one.rfind("keyentry", theory));
}

TEST_CASE("the paper look draws one-column figures, 8 pt text, a 300 dpi PNG and no figure title", "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("paper");
  const auto* paper = timely::plots::style::find_look("paper");
  REQUIRE(paper != nullptr);
  CHECK(paper->width == 3.5 * 72);
  timely::plots::Drawing drawing;
  drawing.look = paper;
  const Figure f = all_styles("one_column");
  const auto r = timely::plots::render(f, dir, drawing);
  const std::string script = slurp(r.script);
  CHECK(script.find("set terminal pdfcairo size 3.5in,") != std::string::npos);
  CHECK(script.find("font \"sans,8\"") != std::string::npos);
  CHECK(script.find("set title") == std::string::npos);
  CHECK(png_size(r.png).first == 1050);  // 3.5 in at 300 dpi
  CHECK(pdf_signature(r.pdf));
  // Multi-panel figures span the two columns: 7 in, two panels a row.
  const auto panels = timely::plots::render(four_panels("two_column"), dir, drawing);
  const std::string panel_script = slurp(panels.script);
  CHECK(panel_script.find("size 7in,") != std::string::npos);
  CHECK(png_size(panels.png).first == 2100);
  // An unknown look is not one.
  CHECK(timely::plots::style::find_look("poster") == nullptr);
  CHECK(timely::plots::style::looks_accepted() == "one of screen, paper, slides");
}

TEST_CASE("the LaTeX variant writes NAME_latex.tex and .pdf with LaTeX's special characters escaped", "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("latex");
  Figure f = all_styles("latex_fig");
  f.xlabel = "lambda_e & 50% of n^2 {#}";
  timely::plots::Drawing drawing;
  drawing.latex = true;
  const auto r = timely::plots::render(f, dir, drawing);
  CHECK(r.latex_tex == fs::absolute(dir / "latex_fig_latex.tex"));
  CHECK(fs::file_size(r.latex_tex) > 0);
  CHECK(pdf_signature(r.latex_pdf));
  CHECK(pdf_signature(r.pdf));  // the image's own PDF is not the LaTeX one's
  CHECK(slurp(r.pdf) != slurp(r.latex_pdf));
  const std::string tex = slurp(r.latex_tex);
  CHECK(tex.find("lambda\\_e \\& 50\\% of n\\^{}2 \\{\\#\\}") != std::string::npos);
  // Drawn again without it, the stale LaTeX files go.
  timely::plots::render(f, dir);
  CHECK_FALSE(fs::exists(r.latex_tex));
  CHECK_FALSE(fs::exists(r.latex_pdf));
  CHECK_FALSE(fs::exists(r.latex_script));
}

TEST_CASE("a four-panel figure renders one data file, a standalone script and all three images", "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("panels");
  const PanelFigure f = four_panels("four_panels");
  REQUIRE(f.panels.size() == 4);
  const std::size_t blocks = series_count(f);
  CHECK(blocks == 8);  // 3 (points, theory, fit) + 1 + 1 + 3
  const auto r = timely::plots::render(f, dir);

  CHECK(r.data == fs::absolute(dir / "four_panels.dat"));
  for (const fs::path& p : {r.data, r.script, r.png, r.svg, r.pdf}) {
    INFO(p);
    REQUIRE(fs::exists(p));
    CHECK(fs::file_size(p) > 0);
  }
  CHECK_FALSE(fs::exists(dir / "four_panels.log"));
  CHECK(png_signature(r.png));
  CHECK(pdf_signature(r.pdf));

  // Every panel is in the SVG, not only the last one that a `replot` would redraw.
  const std::string svg = slurp(r.svg);
  for (const Figure& panel : f.panels) {
    INFO(panel.title);
    CHECK(svg.find(panel.title) != std::string::npos);
  }
  CHECK(svg.find("Scaling: \"four\" panels @ a_b") != std::string::npos);  // shown literally

  // One block per series across all panels, numbered on from panel to panel.
  const std::string data = slurp(r.data);
  CHECK(count_blocks(data) == static_cast<int>(blocks));
  CHECK(data.find("# panel 3, series 2: k=2") != std::string::npos);

  const std::string script = slurp(r.script);
  CHECK(script.find("set multiplot title") != std::string::npos);
  // Two rows of two panels, placed by origin and size, and one legend for all of them.
  CHECK(count(script, "set origin") == 5);
  CHECK(count(script, "unset key") == 4);
  CHECK(script.find("# the legend, once for every panel") != std::string::npos);
  CHECK(script.find("'four_panels.dat' index 0 using") != std::string::npos);
  CHECK(script.find("'four_panels.dat' index 3 using") != std::string::npos);  // panel 1's first
  CHECK(script.find("index " + std::to_string(blocks - 1) + " using") != std::string::npos);
  CHECK(script.find("index " + std::to_string(blocks) + " ") == std::string::npos);
  CHECK(script.find(dir.string()) == std::string::npos);  // no absolute paths
  CHECK(script.find("replot") == std::string::npos);

  // Standalone: gnuplot on the script in its directory reproduces both images.
  const std::string png = slurp(r.png);
  fs::remove(r.png);
  fs::remove(r.svg);
  fs::remove(r.pdf);
  const std::string command = "cd '" + dir.string() + "' && gnuplot four_panels.gp";
  REQUIRE(std::system(command.c_str()) == 0);
  CHECK(png_signature(r.png));
  CHECK(pdf_signature(r.pdf));
  CHECK(slurp(r.png) == png);
  CHECK(slurp(r.svg) == svg);
}

TEST_CASE("what one panel sets does not reach the next panel", "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("panel_state");
  PanelFigure f;
  f.name = "log_then_linear";
  Figure log_panel;
  log_panel.title = "log panel";
  log_panel.logx = log_panel.logy = true;
  log_panel.extra = {"set yrange [0.1:1000]", "set key bottom right"};
  log_panel.series.push_back(series("log", Series::Style::lines, 1));
  Figure linear;
  linear.title = "linear panel";
  // Non-positive values: on an inherited log axis gnuplot would drop them and warn.
  linear.series.push_back(Series{"signed", {-2, -1, 0, 1, 2}, {-3, 0, 1, 2, 5}, {}, Series::Style::linespoints});
  f.panels = {log_panel, linear};
  const auto r = timely::plots::render(f, dir);
  CHECK(png_signature(r.png));

  const std::string script = slurp(r.script);
  CHECK(script.find("set multiplot\n") != std::string::npos);
  const std::size_t log_plot = script.find("plot 'log_then_linear.dat' index 0");
  const std::size_t linear_plot = script.find("plot 'log_then_linear.dat' index 1");
  REQUIRE(log_plot != std::string::npos);
  REQUIRE(linear_plot != std::string::npos);
  REQUIRE(log_plot < linear_plot);
  const std::string log_part = script.substr(0, log_plot);
  CHECK(log_part.find("set logscale y") != std::string::npos);
  CHECK(log_part.find("set yrange [0.1:1000]") != std::string::npos);
  // Between the two plots the second panel starts from gnuplot's defaults and sets nothing
  // of the first panel's.
  const std::string linear_part = script.substr(log_plot, linear_plot - log_plot);
  CHECK(linear_part.find("\nreset\n") != std::string::npos);
  CHECK(linear_part.find("logscale") == std::string::npos);
  CHECK(linear_part.find("yrange") == std::string::npos);
  CHECK(linear_part.find("\nset key") == std::string::npos);
  CHECK(linear_part.find("bottom right") == std::string::npos);
  // The panels are drawn twice (PNG, then SVG): the first panel resets too, so the SVG pass
  // does not start from the last panel's settings.
  const std::string first_part = script.substr(script.find("set multiplot"), log_plot - script.find("set multiplot"));
  CHECK(first_part.find("\nreset\n") != std::string::npos);
}

TEST_CASE("invalid panels are refused naming the panel, before anything is written", "[plots]") {
  const fs::path dir = fresh_dir("invalid_panels");
  using Catch::Matchers::Contains;
  using timely::plots::render;

  PanelFigure nan = four_panels("nan");
  nan.panels[1].series[0].y[2] = std::nan("");
  CHECK_THROWS_MATCHES(render(nan, dir), std::invalid_argument,
                       Catch::Matchers::Predicate<std::invalid_argument>([](const auto& e) {
                         const std::string what = e.what();
                         return what.find("figure 'nan', panel 1 ('Age (linear)'), series 0") != std::string::npos &&
                                what.find("y[2] is not finite") != std::string::npos;
                       }));

  PanelFigure log = four_panels("log");
  log.panels[0].series[1].y[0] = 0.0;  // the theory curve of the log-y panel
  CHECK_THROWS_WITH(render(log, dir), Contains("panel 0 ('Staleness (log y)')") && Contains("series 1") &&
                                          Contains("y[0] = 0 is not positive") && Contains("logarithmic"));

  PanelFigure logx = four_panels("logx");
  logx.panels[3].series[2].x[4] = -1.0;  // versus n: x is logarithmic in every panel
  CHECK_THROWS_WITH(render(logx, dir), Contains("panel 3") && Contains("x[4]") && Contains("logarithmic"));

  PanelFigure empty = four_panels("empty");
  empty.panels[2].series.clear();
  CHECK_THROWS_WITH(render(empty, dir), Contains("panel 2 ('Flat') has no series"));

  PanelFigure sizes = four_panels("sizes");
  sizes.panels[1].series[0].err.pop_back();
  CHECK_THROWS_WITH(render(sizes, dir), Contains("panel 1") && Contains("error bars"));

  PanelFigure none = four_panels("none");
  none.panels.clear();
  CHECK_THROWS_WITH(render(none, dir), Contains("has no panels"));

  PanelFigure columns = four_panels("columns");
  columns.columns = -1;
  CHECK_THROWS_WITH(render(columns, dir), Contains("columns"));

  PanelFigure small = four_panels("small");
  small.panel_height = 50;
  CHECK_THROWS_WITH(render(small, dir), Contains("panel size"));

  PanelFigure wide = four_panels("wide");
  wide.columns = 0;  // one row of four 3000-pixel panels
  wide.panel_width = 3000;
  CHECK_THROWS_WITH(render(wide, dir), Contains("12000x") && Contains("outside"));

  for (const std::string name : {"", "a b", "../escape"}) {
    INFO("name: " << name);
    CHECK_THROWS_AS(render(four_panels(name), dir), std::invalid_argument);
  }

  CHECK_FALSE(fs::exists(dir));  // refused before anything was written
}

TEST_CASE("a gnuplot error in one panel's commands names the figure and the panel", "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("broken_panel");
  PanelFigure f = four_panels("broken_panels");
  f.panels[2].extra.push_back("set nonsense 1");
  CHECK_THROWS_MATCHES(timely::plots::render(f, dir), std::runtime_error,
                       Catch::Matchers::Predicate<std::runtime_error>([](const auto& e) {
                         const std::string what = e.what();
                         return what.find("figure 'broken_panels'") != std::string::npos &&
                                what.find("in panel 2 ('Flat')") != std::string::npos &&
                                what.find("unrecognized option") != std::string::npos;
                       }));
}

TEST_CASE("a multi-panel figure has one legend below its panels, listing every panel's curves once", "[plots]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("many_panels");
  timely::plots::VersusN many{"many", "Many curves", "value", false, {}};
  for (int k = 0; k < 12; ++k)
    many.groups.push_back({"network.topology=random-regular, mixing.rule=variance-corrected " + std::to_string(k),
                           {16.0, 64.0}, {1.0 + k, 2.0 + k}, {0.2, 0.2}, {}, std::nullopt});
  timely::plots::VersusN few{"few", "Few curves", "value", true, {}};
  few.groups.push_back({"a", {16.0, 64.0}, {1.0, 2.0}, {0.2, 0.2}, {}, std::nullopt});
  few.groups.push_back(many.groups[3]);  // a curve of both panels: listed once
  const PanelFigure f = timely::plots::versus_n_panels("many_panels", "", {few, many});
  CHECK(f.panels.size() == 2);
  CHECK(f.panels[0].logy);
  CHECK_FALSE(f.panels[1].logy);
  for (const auto* look : {&timely::plots::style::screen(), timely::plots::style::find_look("paper")}) {
    INFO(look->name);
    timely::plots::Drawing drawing;
    drawing.look = look;
    const auto r = timely::plots::render(f, dir, drawing);
    const std::string script = slurp(r.script);
    CHECK(count(script, "keyentry") == 13);
    CHECK(count(script, "unset key") == 2);  // no panel has a legend of its own
    // The panels keep their size; the legend's strip is added below them.
    const auto [width, height] = png_size(r.png);
    const long columns = look->max_width > 0 ? 2 : 2;
    CHECK(width == std::lround(columns * look->panel_width * look->png_scale));
    CHECK(height > std::lround(look->panel_height * look->png_scale));
  }
}

namespace {

// The style options of the series titled `title` in a written figure (its script and data):
// for each data block whose comment names the title, the text between "with" and "notitle"
// of the plot element drawing that block.
std::vector<std::string> styles_of(const std::string& script, const std::string& data, const std::string& title) {
  std::vector<std::string> out;
  std::size_t block = 0;
  for (std::size_t at = data.find("# "); at != std::string::npos; at = data.find("\n# ", at + 1)) {
    const std::size_t start = at == 0 ? 0 : at + 1;
    const std::size_t end = data.find('\n', start);
    const std::string comment = data.substr(start, end - start);
    if (comment.find("series ") == std::string::npos) continue;  // the "# x y" line
    const std::size_t colon = comment.find(": ");
    if (comment.substr(colon + 2) == title) {
      const std::size_t element = script.find(" index " + std::to_string(block) + " using ");
      REQUIRE(element != std::string::npos);
      const std::size_t with = script.find(" with ", element);
      out.push_back(script.substr(with, script.find(" notitle", with) - with));
    }
    ++block;
  }
  return out;
}

// The style of the legend entry titled `title`.
std::string entry_style(const std::string& script, const std::string& title) {
  const std::size_t at = script.find("title \"" + title + "\"");
  REQUIRE(at != std::string::npos);
  const std::size_t entry = script.rfind("keyentry", at);
  REQUIRE(entry != std::string::npos);
  return script.substr(entry, at - entry);
}

std::string colour_in(const std::string& style) {
  const std::size_t at = style.find("linecolor rgb '");
  return at == std::string::npos ? std::string() : style.substr(at + 15, 7);
}

}  // namespace

TEST_CASE("a series keeps its colour in every panel, its theory dashed and its fit dotted in that colour",
          "[plots][figure]") {
  REQUIRE(timely::plots::gnuplot_available());
  using timely::plots::CurveGroup;
  using timely::plots::VersusN;
  const fs::path dir = fresh_dir("colours");
  const std::vector<double> n{16, 64, 256, 1024};
  timely::analysis::Fit power;
  power.law = timely::analysis::Law::power;
  power.a = {1.0, 0.01};
  power.b = {0.5, 0.02};
  const CurveGroup ring{"setup=ring", n, {2, 4, 8, 16}, {0.1, 0.1, 0.2, 0.2}, {2.1, 4.1, 8.1, 16.1}, power};
  const CurveGroup complete{"setup=complete", n, {1, 1.5, 2, 2.5}, {0.1, 0.1, 0.1, 0.1}, {1.1, 1.6, 2.1, 2.6}, std::nullopt};
  const CurveGroup star{"setup=star", n, {3, 5, 7, 9}, {}, {}, std::nullopt};
  // The panels list the curves in different orders, and the second lacks one.
  const VersusN first{"", "first", "value", true, {ring, complete, star}};
  const VersusN second{"", "second", "value", false, {star, ring}};
  const PanelFigure f = timely::plots::versus_n_panels("colours", "", {first, second});
  const auto r = timely::plots::render(f, dir);
  CHECK(pdf_signature(r.pdf));
  const std::string script = slurp(r.script);

  const std::string data = slurp(r.data);

  std::vector<std::string> colours;
  for (const std::string label : {"setup=ring", "setup=complete", "setup=star"}) {
    INFO(label);
    const auto drawn = styles_of(script, data, label);
    REQUIRE(drawn.size() == (label == "setup=complete" ? 1u : 2u));
    const std::string colour = colour_in(drawn[0]);
    REQUIRE(colour.size() == 7);
    CHECK(colour != "#F0E442");  // the palette's yellow is too pale for lines
    for (const std::string& style : drawn) {
      CHECK(colour_in(style) == colour);  // the same in every panel
      CHECK(style.find("dashtype 1 ") != std::string::npos);
    }
    CHECK(colour_in(entry_style(script, label)) == colour);  // and in the one legend
    colours.push_back(colour);
    if (label == "setup=star") continue;
    const auto theory = styles_of(script, data, label + " theory");
    REQUIRE(theory.size() == (label == "setup=ring" ? 2u : 1u));
    for (const std::string& style : theory) {
      CHECK(colour_in(style) == colour);
      CHECK(style.find("dashtype 2 ") != std::string::npos);  // dashed
    }
  }
  // The ring's fitted law: dotted, in the ring's colour, in both panels.
  const auto fits = styles_of(script, data, "setup=ring: 1 n^0.500 (+-0.020)");
  CHECK(fits.size() == 2);
  for (const std::string& style : fits) {
    CHECK(colour_in(style) == colours[0]);
    CHECK(style.find("dashtype 3 ") != std::string::npos);
  }
  // The legend lists theory and fits once each, dashed and dotted.
  CHECK(entry_style(script, "theory").find("dashtype 2") != std::string::npos);
  CHECK(entry_style(script, "fitted law").find("dashtype 3") != std::string::npos);
  // Different series, different colours.
  CHECK(colours[0] != colours[1]);
  CHECK(colours[1] != colours[2]);
  CHECK(colours[0] != colours[2]);

  // The same key order gives the same colours in a single figure whose curves come in another order.
  VersusN alone{"alone", "alone", "value", false, {complete, star}};
  alone.key_order = {"setup=ring", "setup=complete", "setup=star"};
  const auto single = timely::plots::render(timely::plots::versus_n_figure(alone), dir);
  const std::string single_script = slurp(single.script), single_data = slurp(single.data);
  CHECK(colour_in(styles_of(single_script, single_data, "setup=complete").at(0)) == colours[1]);
  CHECK(colour_in(styles_of(single_script, single_data, "setup=star").at(0)) == colours[2]);
}

TEST_CASE("log axes fit the data, within a factor 1.5 of its range, not whole decades", "[plots][figure]") {
  REQUIRE(timely::plots::gnuplot_available());
  const fs::path dir = fresh_dir("log_range");
  timely::plots::VersusN spec{"log_range", "range", "value", true, {}};
  spec.groups.push_back({"a", {16, 32, 64, 128, 256, 512, 1024}, {3, 4, 5, 6, 7, 8, 9}, {}, {}, std::nullopt});
  const auto r = timely::plots::render(timely::plots::versus_n_figure(spec), dir);
  const std::string script = slurp(r.script);
  const auto range = [&](const std::string& axis) {
    const std::size_t at = script.find("set " + axis + "range [");
    REQUIRE(at != std::string::npos);
    const char* p = script.c_str() + at + 12;
    char* end = nullptr;
    const double lo = std::strtod(p, &end);
    REQUIRE(*end == ':');
    const double hi = std::strtod(end + 1, nullptr);
    return std::pair<double, double>{lo, hi};
  };
  const auto [x_lo, x_hi] = range("x");
  CHECK(x_lo < 16);
  CHECK(x_lo > 16 / 1.5);
  CHECK(x_hi > 1024);
  CHECK(x_hi < 1024 * 1.5);
  const auto [y_lo, y_hi] = range("y");
  CHECK(y_lo < 3);
  CHECK(y_lo > 3 / 1.5);
  CHECK(y_hi > 9);
  CHECK(y_hi < 9 * 1.5);
  // Tics at the measured sizes, as plain numbers (the terminals are noenhanced).
  CHECK(script.find("set xtics (16, 32, 64, 128, 256, 512, 1024)") != std::string::npos);
  CHECK(script.find("set format x '%g'") != std::string::npos);

  // What gnuplot drew: ask it for the x axis it used, from the written script.
  const std::string command = "cd '" + dir.string() +
                              "' && gnuplot -e \"load 'log_range.gp'; set print 'range.txt'; print GPVAL_X_MIN, GPVAL_X_MAX\"";
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream in(dir / "range.txt");
  double drawn_lo = 0, drawn_hi = 0;
  in >> drawn_lo >> drawn_hi;
  CHECK(drawn_lo == Approx(x_lo).epsilon(1e-3));
  CHECK(drawn_hi == Approx(x_hi).epsilon(1e-3));
}
