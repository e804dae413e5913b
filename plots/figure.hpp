#pragma once
// Publication figures drawn by gnuplot. Every figure is four files in one directory:
// NAME.dat (the data, one block per series), NAME.gp (a standalone script reading NAME.dat by
// relative path), and the NAME.png and NAME.svg it draws; `cd DIR && gnuplot NAME.gp` redraws
// them after restyling, without rerunning anything.
#include <filesystem>
#include <string>
#include <vector>

namespace timely::plots {

struct Series {
  std::string title;        // legend entry ("" = no legend entry)
  std::vector<double> x, y;
  std::vector<double> err;  // optional symmetric y error bars (same size as y), empty = none
  // errorbars: points with y error bars (needs err); steps: a step function, the value holds
  // until the next x (sample paths). With err, points and errorbars draw yerrorbars, lines and
  // linespoints draw yerrorlines; steps cannot carry error bars.
  enum class Style { points, lines, linespoints, errorbars, steps } style = Style::linespoints;
};

struct Figure {
  std::string name;  // file stem, [A-Za-z0-9_-]+ only
  std::string title, xlabel, ylabel;  // shown literally (the terminals are noenhanced)
  bool logx = false, logy = false;
  std::vector<Series> series;
  std::vector<std::string> extra;  // gnuplot commands inserted before the plot, e.g. "set key top left"
  int width = 900, height = 600;   // pixels of the PNG (and SVG units)
};

struct Rendered {
  std::filesystem::path data, script, png, svg;
};

// Writes NAME.dat and NAME.gp into `dir` (created if needed) and runs gnuplot on the script.
// Throws std::invalid_argument for an invalid figure (bad name, no series, empty series, sizes
// that differ, non-finite values, negative error bars, non-positive values on a log axis) and
// std::runtime_error, naming the figure and quoting gnuplot's first error line, when gnuplot
// reports anything on stderr, exits with an error, or leaves an image missing or empty.
// Warnings count: e.g. a figure whose only data is constant gets "empty y range, adjusting";
// say the range meant with `extra` ("set yrange [0:3]").
Rendered render(const Figure& figure, const std::filesystem::path& dir);

// `text` as a double-quoted gnuplot string shown literally (for labels in `extra` commands);
// nothing in it can end the string or reach gnuplot's command line.
std::string quoted(const std::string& text);

// Whether `gnuplot --version` runs successfully.
bool gnuplot_available();

}  // namespace timely::plots
