#pragma once
// Publication figures drawn by gnuplot. Every figure is five files in one directory:
// NAME.dat (the data, one block per series), NAME.gp (a standalone script reading NAME.dat by
// relative path), and the NAME.png, NAME.svg and NAME.pdf it draws; `cd DIR && gnuplot NAME.gp`
// redraws them after restyling, without rerunning anything. On request (Drawing::latex) a
// LaTeX variant too: NAME_latex.gp draws NAME_latex.tex and NAME_latex.pdf (gnuplot's
// cairolatex; `\input{NAME_latex}` sets the text in the document's font). The styles
// (palette, dashes, looks, log axis ranges and tics) come from plots/style.hpp.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "plots/style.hpp"

namespace timely::plots {

// The sizes a figure's and a panel's are relative to: a look draws the defaults at its own
// canvas and panel size (style::Look), which in the screen look are these in pixels.
inline constexpr int default_width = 900, default_height = 600;
inline constexpr int default_panel_width = 500, default_panel_height = 450;

struct Series {
  std::string title;        // legend entry ("" = no legend entry)
  std::vector<double> x, y;
  std::vector<double> err;  // optional symmetric y error bars (same size as y), empty = none
  // errorbars: points with y error bars (needs err); steps: a step function, the value holds
  // until the next x (sample paths). With err, points and errorbars draw yerrorbars, lines and
  // linespoints draw yerrorlines; steps cannot carry error bars.
  enum class Style { points, lines, linespoints, errorbars, steps } style = Style::linespoints;
  // The series' identity, which picks its colour: every series with the same key has the same
  // colour in every panel of a figure (and, with the same key_order, in every figure). "" =
  // the title, or for an untitled series a colour of its own. E.g. a curve's label, shared by
  // its data, its theory and its fitted law.
  std::string key{};
  // What the series shows: data is drawn solid with points, theory dashed and a fitted law
  // dotted, in the colour of its key.
  enum class Role { data, theory, fit } role = Role::data;
};

struct Figure {
  std::string name;  // file stem, [A-Za-z0-9_-]+ only
  std::string title, xlabel, ylabel;  // shown literally (the terminals are noenhanced)
  bool logx = false, logy = false;
  std::vector<Series> series;
  std::vector<std::string> extra;  // gnuplot commands inserted before the plot, e.g. "set yrange [0:1]"
  // The canvas, relative to a default figure of 900 x 600 (the screen look's pixels): a look
  // draws a figure of width w at w / 900 of its own width (style::Look), so a wide figure is
  // wide in every look. The legend, when it goes below the plot, adds its rows on top of this.
  int width = default_width, height = default_height;
  // The legend goes below the plot, where it never covers data, in as many columns as the
  // canvas holds: one entry per curve (each titled data series), and one "theory" and one
  // "fitted law" entry for the theory and fits drawn beside data of their key
  // (Drawing::fit_labels lists each fit's own title instead).
  std::string legend_title{};  // e.g. "error bars: 95% CI" ("" = none)
  // Tic labels of the x axis at the given positions (e.g. sweep points by name), in place of
  // numbers: text set here is escaped for every output, LaTeX included.
  std::vector<std::pair<double, std::string>> xtic_labels{};
  // Series keys taking the palette's colours first, in this order (e.g. every curve label of a
  // run, so that a curve has one colour in all its figures); other keys follow as they appear.
  std::vector<std::string> key_order{};
};

struct Rendered {
  std::filesystem::path data, script, png, svg, pdf;
  std::filesystem::path latex_script, latex_tex, latex_pdf;  // empty unless Drawing::latex
};

// How a run's figures are drawn: in which look, whether the LaTeX variant is written too, and
// whether fitted laws are listed in the legend (by default they are one "fitted law" entry,
// their values being in the run's fits table).
struct Drawing {
  const style::Look* look = &style::screen();
  bool latex = false;
  bool fit_labels = false;
};

// Writes NAME.dat and NAME.gp into `dir` (created if needed) and runs gnuplot on the script.
// Throws std::invalid_argument for an invalid figure (bad name, no series, empty series, sizes
// that differ, non-finite values, negative error bars, non-positive values on a log axis) and
// std::runtime_error, naming the figure and quoting gnuplot's first error line, when gnuplot
// reports anything on stderr, exits with an error, or leaves an image missing or empty.
// Warnings count: e.g. a figure whose only data is constant gets "empty y range, adjusting";
// say the range meant with `extra` ("set yrange [0:3]").
Rendered render(const Figure& figure, const std::filesystem::path& dir, const Drawing& drawing = {});

// Several figures side by side in one image: gnuplot's multiplot, one panel per Figure, in
// rows of `columns` panels. Still five files: NAME.dat holds every panel's series as
// consecutive blocks (panel 0's series first, then panel 1's, ...), and NAME.gp draws NAME.png,
// NAME.svg and NAME.pdf, each panel placed by `set origin` and `set size`. Colours are given
// over the whole figure: a series key has one colour in every panel, and the figure has one
// legend, below the panels, listing each curve once. All three images come from one copy of
// the panel commands (the script loads itself once per image, so it must keep its name), so a
// restyle is one edit, and gnuplot's error messages give the true line of a failing command.
struct PanelFigure {
  std::string name;     // file stem, [A-Za-z0-9_-]+ only
  std::string title;    // overall title above the panels ("" = none), shown literally
  // Each drawn as one panel with its own title, labels, log axes, series and `extra` commands.
  // Every panel starts from gnuplot's defaults (the script runs `reset` before each), so what
  // one panel sets, in `extra` or by its log axes, never reaches the next. A panel's name,
  // width and height are ignored.
  std::vector<Figure> panels;
  // Panels per row; 0 (or more than there are panels) = all in one row. A look with a
  // largest width (paper: two columns) puts fewer per row when they would not fit.
  int columns = 0;
  // A panel's canvas relative to the default 500 x 450 (style::Look's panel size); the title
  // adds a strip above and the legend one below.
  int panel_width = default_panel_width, panel_height = default_panel_height;
  // As Figure::key_order, for every panel (the panels' own key_order follow it).
  std::vector<std::string> key_order{};
};

// As render(Figure): writes NAME.dat and NAME.gp into `dir` and runs gnuplot on the script.
// Every panel is validated as a single figure would be, and the invalid_argument names the
// panel ("figure 'NAME', panel 2 ('its title'), series 0 ..."); a figure with no panels, a
// negative `columns`, a panel size outside 100..10000 pixels or a whole canvas beyond 10000
// pixels is refused too. gnuplot's errors and warnings throw runtime_error as for a single
// figure; an error located in one panel's commands names that panel.
Rendered render(const PanelFigure& figure, const std::filesystem::path& dir, const Drawing& drawing = {});

// `text` as a double-quoted gnuplot string shown literally (for labels in `extra` commands);
// nothing in it can end the string or reach gnuplot's command line.
std::string quoted(const std::string& text);

// Whether `gnuplot --version` runs successfully.
bool gnuplot_available();

}  // namespace timely::plots
