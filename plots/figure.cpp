#include "plots/figure.hpp"

#include "plots/style.hpp"

#include <fmt/format.h>

#include <gnuplot-iostream.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace timely::plots {

namespace {

namespace fs = std::filesystem;

// Who a message is about: "figure 'NAME'", or for one panel of a multi-panel figure
// "figure 'NAME', panel 2 ('its title')".
std::string describe(const std::string& name) { return "figure '" + name + "'"; }

std::string describe_panel(const PanelFigure& figure, std::size_t p) {
  std::string d = describe(figure.name) + ", panel " + std::to_string(p);
  if (!figure.panels[p].title.empty()) d += " ('" + figure.panels[p].title + "')";
  return d;
}

std::string describe_series(const std::string& who, const Figure& figure, std::size_t k) {
  const Series& s = figure.series[k];
  std::string d = who + ", series " + std::to_string(k);
  if (!s.title.empty()) d += " ('" + s.title + "')";
  return d;
}

void validate_name(const std::string& name) {
  static const std::regex stem("[A-Za-z0-9_-]+");  // const after initialisation, thread-safe
  if (!std::regex_match(name, stem))
    throw std::invalid_argument("plots: figure name '" + name +
                                "' must be non-empty and use only [A-Za-z0-9_-]");
}

void validate_size(const std::string& who, const std::string& what, long width, long height) {
  if (width < 100 || height < 100 || width > 10000 || height > 10000)
    throw std::invalid_argument("plots: " + who + " " + what + " " + std::to_string(width) + "x" +
                                std::to_string(height) + " is outside 100..10000 pixels");
}

std::string number(double v) {
  // Shortest text that reads back as the same double: full precision, as %.17g, but readable.
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

void check_column(const std::string& who, const Figure& figure, std::size_t k,
                  const std::vector<double>& values, const char* column, bool log_axis,
                  const char* axis) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v))
      throw std::invalid_argument("plots: " + describe_series(who, figure, k) + ": " + column + "[" +
                                  std::to_string(i) + "] is not finite");
    // gnuplot silently drops such points on a log axis, so a curve would lose data unseen.
    if (log_axis && v <= 0.0)
      throw std::invalid_argument("plots: " + describe_series(who, figure, k) + ": " + column + "[" +
                                  std::to_string(i) + "] = " + number(v) + " is not positive, but " +
                                  axis + " is logarithmic");
  }
}

// The series of one figure or panel (`who` says which); its name and size are checked apart.
void validate_series(const std::string& who, const Figure& figure) {
  if (figure.series.empty()) throw std::invalid_argument("plots: " + who + " has no series");
  for (std::size_t k = 0; k < figure.series.size(); ++k) {
    const Series& s = figure.series[k];
    const std::string d = describe_series(who, figure, k);
    if (s.x.empty()) throw std::invalid_argument("plots: " + d + " is empty");
    if (s.x.size() != s.y.size())
      throw std::invalid_argument("plots: " + d + " has " + std::to_string(s.x.size()) +
                                  " x values but " + std::to_string(s.y.size()) + " y values");
    if (!s.err.empty() && s.err.size() != s.y.size())
      throw std::invalid_argument("plots: " + d + " has " + std::to_string(s.y.size()) +
                                  " y values but " + std::to_string(s.err.size()) + " error bars");
    if (s.style == Series::Style::errorbars && s.err.empty())
      throw std::invalid_argument("plots: " + d + " has style errorbars but no error values");
    if (s.style == Series::Style::steps && !s.err.empty())
      throw std::invalid_argument("plots: " + d + " has style steps, which cannot draw error bars");
    check_column(who, figure, k, s.x, "x", figure.logx, "the x axis");
    check_column(who, figure, k, s.y, "y", figure.logy, "the y axis");
    check_column(who, figure, k, s.err, "err", false, "");
    for (std::size_t i = 0; i < s.err.size(); ++i)
      if (s.err[i] < 0.0) throw std::invalid_argument("plots: " + d + ": err[" + std::to_string(i) + "] is negative");
  }
}

void validate(const Figure& figure) {
  validate_name(figure.name);
  const std::string who = describe(figure.name);
  validate_size(who, "size", figure.width, figure.height);
  validate_series(who, figure);
}

// Multiplot geometry: rows and columns of panels, and the whole canvas in pixels.
struct Layout {
  long rows, columns, width, height;
};

Layout layout(const PanelFigure& figure) {
  const long n = static_cast<long>(figure.panels.size());
  const long columns = figure.columns == 0 ? n : std::min<long>(figure.columns, n);
  const long rows = (n + columns - 1) / columns;
  const long title_strip = figure.title.empty() ? 0 : 30;  // the overall title, above the panels
  return {rows, columns, columns * figure.panel_width, rows * figure.panel_height + title_strip};
}

void validate(const PanelFigure& figure) {
  validate_name(figure.name);
  const std::string who = describe(figure.name);
  if (figure.panels.empty()) throw std::invalid_argument("plots: " + who + " has no panels");
  if (figure.columns < 0)
    throw std::invalid_argument("plots: " + who + " has " + std::to_string(figure.columns) +
                                " columns; give a positive number, or 0 for one row");
  validate_size(who, "panel size", figure.panel_width, figure.panel_height);
  const Layout l = layout(figure);
  validate_size(who, "size (" + std::to_string(l.rows) + "x" + std::to_string(l.columns) + " panels)",
                l.width, l.height);
  for (std::size_t p = 0; p < figure.panels.size(); ++p) validate_series(describe_panel(figure, p), figure.panels[p]);
}

}  // namespace

// A double-quoted gnuplot string showing `text` literally: quotes and backslashes escaped,
// control characters and '@' (gnuplot's macro character) written as octal escapes, so no
// text taken from a sweep file can end the string or run a command.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': break;
      default:
        if (u < 0x20 || u == 0x7f || c == '@') out += fmt::format("\\{:03o}", u);
        else out += c;
    }
  }
  return out + "\"";
}

namespace {

// A single-quoted POSIX shell word.
std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

void write_file(const std::string& who, const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    // No partial file under the final name (a full disk, a file-size limit).
    std::error_code ignored;
    fs::remove(path, ignored);
    throw std::runtime_error("plots: " + who + ": cannot write " + path.string());
  }
}

// The series of one figure or panel as data blocks `first`, `first` + 1, ..., each after two
// blank lines when it is not the file's first block, so that `index b` addresses block b; a
// comment line names the series (`label` says whose). gnuplot-iostream's file1d() is not used
// here: it writes one block with the stream's default 6 significant digits and no comments.
void write_blocks(std::ostream& out, const Figure& figure, std::size_t first, const std::string& label) {
  for (std::size_t k = 0; k < figure.series.size(); ++k) {
    const Series& s = figure.series[k];
    if (first + k > 0) out << "\n\n";
    std::string title = s.title;
    for (char& c : title)
      if (c == '\n' || c == '\r') c = ' ';
    out << "# " << label << "series " << k << ": " << title << "\n";
    out << (s.err.empty() ? "# x y\n" : "# x y err\n");
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      out << number(s.x[i]) << ' ' << number(s.y[i]);
      if (!s.err.empty()) out << ' ' << number(s.err[i]);
      out << '\n';
    }
  }
}

// ---- text ---------------------------------------------------------------------------------

// `text` with LaTeX's special characters escaped, for cairolatex (LaTeX typesets the text).
std::string latex_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\textbackslash{}"; break;
      case '{': case '}': case '$': case '&': case '#': case '_': case '%': out += '\\'; out += c; break;
      case '^': out += "\\^{}"; break;
      case '~': out += "\\~{}"; break;
      case '<': out += "\\textless{}"; break;
      case '>': out += "\\textgreater{}"; break;
      default: out += c;
    }
  }
  return out;
}

// How a script shows text: as a literal gnuplot string, or first escaped for LaTeX.
using Text = std::string (*)(const std::string&);
std::string plain_text(const std::string& text) { return quoted(text); }
std::string latex_text(const std::string& text) { return quoted(latex_escaped(text)); }

// ---- series and legend --------------------------------------------------------------------

// How a series is drawn: gnuplot's `with` and `using`, and whether it has points.
struct Drawn {
  std::string with, columns;
  bool points;
};

Drawn drawn(const Series& s) {
  const bool err = !s.err.empty();
  std::string with;
  switch (s.style) {
    case Series::Style::points: with = err ? "yerrorbars" : "points"; break;
    case Series::Style::lines: with = err ? "yerrorlines pointtype -1" : "lines"; break;
    case Series::Style::linespoints: with = err ? "yerrorlines" : "linespoints"; break;
    case Series::Style::errorbars: with = "yerrorbars"; break;
    case Series::Style::steps: with = "steps"; break;
  }
  return {with, err ? "1:2:3" : "1:2", s.style != Series::Style::steps && s.style != Series::Style::lines};
}

// The identity of series k of a figure whose blocks start at `first` (for its colour).
std::string identity(const Series& s, std::size_t block) {
  return style::identity(s, "\x01series " + std::to_string(block));
}

struct Entry {
  std::string title, with, options;
};

// The legend of one figure or of every panel of a multi-panel figure: one entry per curve,
// in the order the curves first appear. A theory or fit drawn beside data of its key is
// covered by one shared "theory" or "fitted law" entry (in the curve's colour when there is
// one curve, else dark grey), so the legend grows with the curves, not with what is drawn of them.
struct Legend {
  std::vector<Entry> entries;
  std::string title;
};

Legend legend(const std::vector<const Figure*>& figures, style::Slots& slots, bool fit_labels) {
  std::vector<std::string> with_data;  // identities of titled data series
  {
    std::size_t block = 0;
    for (const Figure* f : figures)
      for (const Series& s : f->series) {
        if (s.role == Series::Role::data && !s.title.empty()) with_data.push_back(identity(s, block));
        ++block;
      }
  }
  const auto has_data = [&](const std::string& id) {
    return std::find(with_data.begin(), with_data.end(), id) != with_data.end();
  };
  Legend l;
  std::vector<std::string> seen;  // identities (data) and titles (others) already listed
  std::vector<std::size_t> theory_slots, fit_slots;
  const auto add = [&](const std::string& seen_as, const Series& s, std::size_t slot) {
    if (std::find(seen.begin(), seen.end(), seen_as) != seen.end()) return;
    seen.push_back(seen_as);
    const Drawn d = drawn(s);
    l.entries.push_back({s.title, d.with, style::options(s, slot, d.points)});
  };
  std::size_t block = 0;
  for (const Figure* f : figures) {
    if (l.title.empty()) l.title = f->legend_title;
    for (const Series& s : f->series) {
      const std::string id = identity(s, block++);
      const std::size_t slot = slots(id);
      const bool covered = has_data(id);
      switch (s.role) {
        case Series::Role::data:
          if (!s.title.empty()) add("\x01" + id, s, slot);
          break;
        case Series::Role::theory:
          if (covered) theory_slots.push_back(slot);
          else if (!s.title.empty()) add(s.title, s, slot);
          break;
        case Series::Role::fit:
          if (covered && !fit_labels) fit_slots.push_back(slot);
          else if (!s.title.empty()) add(s.title, s, slot);
          break;
      }
    }
  }
  const auto shared = [&](std::vector<std::size_t>& used, const char* title, int dash) {
    if (used.empty()) return;
    std::sort(used.begin(), used.end());
    const bool one = used.front() == used.back();
    l.entries.push_back({title, "lines",
                         fmt::format("linecolor rgb '{}' dashtype {} linewidth 2",
                                     one ? style::slot(used.front()).colour : std::string("#555555"), dash)});
  };
  shared(theory_slots, "theory", 2);
  shared(fit_slots, "fitted law", 3);
  return l;
}

// Where the legend goes and what room it takes: below the plot, in as many columns as the
// canvas width holds, with the canvas growing by its rows. Sizes in points.
struct Placement {
  std::vector<std::string> commands;  // "set key ..." (and the bottom margin it needs)
  std::string options;                // the key's layout: columns, rows, spacing, box, title
  double below = 0.0;                 // height added below the plot
  std::size_t columns = 1, rows = 0;
};

// The characters of a legend title one key column holds on a canvas `width` points wide.
// gnuplot decides by its own estimate of text width whether a key fits (and warns when it does
// not); measured for the cairo terminals at 11 pt on 900, 8 pt on 252 and 18 pt on 720 points,
// a column holds about 1.3 width / font - 16 characters.
std::size_t key_characters(const style::Look& look, double width) {
  return static_cast<std::size_t>(std::max(12.0, 1.3 * width / look.font - 16.0));
}

// `title` broken into lines of at most `limit` characters: after a comma where one is near,
// else at a space, else anywhere.
std::string wrapped(const std::string& title, std::size_t limit) {
  std::string out, rest = title;
  while (rest.size() > limit) {
    std::size_t cut = rest.rfind(", ", limit - 1);
    if (cut != std::string::npos && cut > limit / 3) cut += 1;  // keep the comma on the first line
    else if (cut = rest.rfind(' ', limit); cut == std::string::npos || cut < limit / 3) cut = limit;
    out += rest.substr(0, cut) + "\n";
    rest = rest.substr(cut);
    rest.erase(0, rest.find_first_not_of(' '));
  }
  return out + rest;
}

std::string key_title(const Legend& l, Text text) { return l.title.empty() ? "" : " title " + text(l.title); }

// Fits the legend below a plot of `canvas_width` points: titles too long for one column are
// wrapped (so a figure keeps the look's width), and the entries fill as many columns as fit.
// `tics`: character heights the x tic labels take below the axis.
Placement place(Legend& l, const style::Look& look, double canvas_width, double tics, Text text) {
  Placement p;
  const std::size_t entries = l.entries.size();
  if (entries == 0) {
    p.commands.push_back("unset key");
    if (tics > 1.0) p.commands.push_back(fmt::format("set bmargin {:.0f}", tics + 3.0));
    return p;
  }
  const std::size_t limit = key_characters(look, canvas_width);
  std::size_t longest = 0, lines_per_entry = 1;
  for (Entry& e : l.entries) {
    e.title = wrapped(e.title, limit);
    std::size_t lines = 0;
    for (std::size_t at = 0, end; at <= e.title.size(); at = end + 1) {
      end = std::min(e.title.find('\n', at), e.title.size());
      longest = std::max(longest, end - at);
      ++lines;
    }
    lines_per_entry = std::max(lines_per_entry, lines);
  }
  // A column is its title and about 8 characters of sample and gaps.
  p.columns = std::clamp<std::size_t>((limit + 8) / (longest + 8), 1, entries);
  p.rows = (entries + p.columns - 1) / p.columns;
  p.columns = (entries + p.rows - 1) / p.rows;  // as few columns as the rows need: balanced
  const std::size_t lines = p.rows * lines_per_entry + (l.title.empty() ? 0 : 1);
  // An explicit bottom margin (the key's rows, the tics and the x label, in character
  // heights): gnuplot's own puts a large key's box over the x label.
  // Every entry is as tall as the tallest: gnuplot spaces key rows by one line unless told.
  p.options = fmt::format("horizontal maxcols {} maxrows {} box{}{}", p.columns, p.rows,
                          lines_per_entry > 1 ? fmt::format(" spacing {}", lines_per_entry) : "", key_title(l, text));
  p.commands.push_back("set key outside below center " + p.options);
  p.commands.push_back(fmt::format("set bmargin {:.0f}", static_cast<double>(lines) + tics + 3.0));
  p.below = style::line_height * look.font * (static_cast<double>(lines) + 0.5);
  return p;
}

// ---- scripts ------------------------------------------------------------------------------

// What a script draws: the images (png, svg, pdf; or latex alone) of a figure's file stem,
// its text, its look and legend choice.
struct Images {
  std::string stem;                   // NAME, or NAME_latex
  std::vector<std::string> kinds;     // "png", "svg", "pdf" or "latex"
  Text text;
  const style::Look* look;
  bool fit_labels;

  std::string file(const std::string& kind) const { return stem + "." + (kind == "latex" ? "tex" : kind); }
  std::string list() const {
    std::string out;
    for (const auto& k : kinds) out += (out.empty() ? "" : ", ") + file(k);
    return kinds.back() == "latex" ? out + " and " + stem + ".pdf" : out;
  }
};

// The legend's entries as plot elements that draw nothing (gnuplot's keyentry), each after
// a comma.
std::string key_entries(const std::vector<Entry>& entries, Text text) {
  std::string out;
  for (const Entry& e : entries) out += ", \\\n     keyentry with " + e.with + " " + e.options + " title " + text(e.title);
  return out;
}

// The plot command drawing `figure`'s series from data blocks `first`, `first` + 1, ... of
// `data`, each in the style of its key's slot in `slots`, followed by the legend's entries.
std::string plot_command(const Figure& figure, const std::string& data, std::size_t first, style::Slots& slots,
                         const std::vector<Entry>& entries, Text text) {
  std::string command = "plot ";
  for (std::size_t k = 0; k < figure.series.size(); ++k) {
    const Series& s = figure.series[k];
    const Drawn d = drawn(s);
    if (k > 0) command += ", \\\n     ";
    command += (k == 0 ? "'" + data + "'" : std::string("''")) + " index " + std::to_string(first + k) + " using " +
               d.columns + " with " + d.with + " " + style::options(s, slots(identity(s, first + k)), d.points) +
               " notitle";
  }
  return command + key_entries(entries, text) + "\n";
}

// Character heights the x tic labels take below the axis: one line, or the longest tic label
// drawn at -30 degrees (about half an em per character, times sin 30).
double tic_depth(const Figure& figure) {
  std::size_t longest = 0;
  for (const auto& tic : figure.xtic_labels) longest = std::max(longest, tic.second.size());
  return std::max(1.0, 0.3 * static_cast<double>(longest) + 1.0);
}

// The settings of one figure or panel before its plot command: title (unless `titled` is
// false), labels, log axes, tic labels, grid and its `extra` commands.
std::string settings(const Figure& figure, Text text, bool titled) {
  std::string out;
  if (titled && !figure.title.empty()) out += "set title " + text(figure.title) + "\n";
  if (!figure.xlabel.empty()) out += "set xlabel " + text(figure.xlabel) + "\n";
  if (!figure.ylabel.empty()) out += "set ylabel " + text(figure.ylabel) + "\n";
  if (figure.logx) out += "set logscale x\n";
  if (figure.logy) out += "set logscale y\n";
  // Log axes fit the data (gnuplot's autoscale would widen them to whole decades); the y
  // range holds the error bars, where they stay positive. `extra` can still set its own.
  // The data's own x values (not theory or fits) are the x tics when they are few whole numbers.
  double x_lo = HUGE_VAL, x_hi = -HUGE_VAL, y_lo = HUGE_VAL, y_hi = -HUGE_VAL;
  std::vector<double> measured;
  for (const Series& s : figure.series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (s.role == Series::Role::data) measured.push_back(s.x[i]);
      const double e = s.err.empty() ? 0.0 : s.err[i];
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i] - e > 0.0 ? s.y[i] - e : s.y[i]);
      y_hi = std::max(y_hi, s.y[i] + e);
    }
  if (figure.logx && x_lo <= x_hi)
    for (const std::string& line : style::log_axis("x", x_lo, x_hi, measured)) out += line + "\n";
  if (figure.logy && y_lo <= y_hi)
    for (const std::string& line : style::log_axis("y", y_lo, y_hi)) out += line + "\n";
  if (!figure.xtic_labels.empty()) {
    std::string tics;
    for (const auto& [x, label] : figure.xtic_labels) tics += (tics.empty() ? "" : ", ") + text(label) + " " + number(x);
    out += "set xtics (" + tics + ") rotate by -30\n";
  }
  out += "set grid\n";
  for (const std::string& line : figure.extra) out += line + "\n";
  return out;
}

std::string script_header(const Images& images, const std::string& name, const std::string& blocks) {
  return "# " + images.stem + ".gp -- written by timely (look: " + std::string(images.look->name) +
         "). Redraw after restyling with:\n" + "#   cd <this directory> && gnuplot " + images.stem + ".gp\n" +
         "# Reads " + name + ".dat (" + blocks + "); writes " + images.list() + ".\n" +
         (images.kinds.back() == "latex"
              ? "# The text is LaTeX: \\input{" + images.stem + "} in a document typesets it in the document's font.\n"
              : "# Text is shown literally (noenhanced); drop noenhanced below for ^ _ { } markup.\n");
}

// A single figure's canvas in points: its size relative to the default figure, in the look.
std::pair<double, double> canvas(const Figure& figure, const style::Look& look) {
  return {look.width * figure.width / default_width, look.height * figure.height / default_height};
}

// NAME.gp (or NAME_latex.gp) of a single figure: standalone, every path relative to the
// directory it lives in.
std::string script(const Figure& figure, const Images& images) {
  const style::Look& look = *images.look;
  style::Slots slots(figure.key_order);
  Legend l = legend({&figure}, slots, images.fit_labels);
  auto [width, height] = canvas(figure, look);
  const Placement key = place(l, look, width, tic_depth(figure), images.text);
  height += key.below;
  std::string out = script_header(images, figure.name, "series k is data block `index k`") +
                    settings(figure, images.text, look.titles);
  for (const std::string& line : key.commands) out += line + "\n";
  out += "\n";
  for (std::size_t k = 0; k < images.kinds.size(); ++k) {
    const std::string& kind = images.kinds[k];
    out += style::terminal(kind, width, height, look) + "set output '" + images.file(kind) + "'\n";
    out += k == 0 ? plot_command(figure, figure.name + ".dat", 0, slots, l.entries, images.text) : "replot\n";
  }
  return out + "unset output\n";
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A panel's canvas in points: its size relative to the default panel, in the look.
std::pair<double, double> panel_canvas(const PanelFigure& figure, const style::Look& look) {
  return {look.panel_width * figure.panel_width / default_panel_width,
          look.panel_height * figure.panel_height / default_panel_height};
}

// Panels per row: as the figure asks, fewer where the look's widest figure holds fewer.
long columns_in(const PanelFigure& figure, const style::Look& look) {
  const long n = static_cast<long>(figure.panels.size());
  long columns = figure.columns == 0 ? n : std::min<long>(figure.columns, n);
  const double panel = panel_canvas(figure, look).first;
  if (look.max_width > 0.0) columns = std::clamp<long>(static_cast<long>(look.max_width / panel), 1, columns);
  return columns;
}

// NAME.gp (or NAME_latex.gp) of a multi-panel figure. `replot` would redraw only the last
// panel, and commands inside a gnuplot loop or block get wrong line numbers in gnuplot's error
// messages; so the script, run on its own, loads itself once per image, and the panel commands
// stay top-level lines that exist once. Each panel is placed by origin and size (fractions of
// the canvas) over the legend's strip; `panel_lines` receives the script lines [first, last]
// (1-based) of each panel's commands.
std::string script(const PanelFigure& figure, const Images& images,
                   std::vector<std::pair<std::size_t, std::size_t>>& panel_lines) {
  const style::Look& look = *images.look;
  const std::string& self = images.stem;
  std::vector<std::string> order = figure.key_order;
  for (const Figure& panel : figure.panels) order.insert(order.end(), panel.key_order.begin(), panel.key_order.end());
  style::Slots slots(order);
  std::vector<const Figure*> panels;
  for (const Figure& panel : figure.panels) panels.push_back(&panel);
  Legend l = legend(panels, slots, images.fit_labels);

  const long n = static_cast<long>(figure.panels.size());
  const long columns = columns_in(figure, look), rows = (n + columns - 1) / columns;
  const auto [panel_w, panel_h] = panel_canvas(figure, look);
  const double width = panel_w * static_cast<double>(columns);
  const Placement key = place(l, look, width, 1.0, images.text);
  const double strip = key.rows == 0 ? 0.0 : key.below;
  const double top = figure.title.empty() || !look.titles ? 0.0 : 2.0 * look.font;
  const double height = strip + panel_h * static_cast<double>(rows) + top;

  std::string loads, terminals;
  for (const std::string& kind : images.kinds) {
    loads += "  timely_image = \"" + kind + "\"; load '" + self + ".gp'\n";
    std::string terminal = style::terminal(kind, width, height, look);
    terminal.pop_back();  // its newline
    terminals += "if (timely_image eq \"" + kind + "\") { " + terminal + "; set output '" + images.file(kind) + "' }\n";
  }
  std::string out =
      script_header(images, figure.name, "data block b is `index b`; each panel's comment lists its blocks") +
      "# Run on its own, the script loads itself once per image (timely_image = \"png\", ...): the\n"
      "# commands after this block draw one image, and exist once. Each panel begins with `reset`,\n"
      "# so nothing one panel sets (log axes, ranges, extra commands) reaches the next. Keep the\n"
      "# file name: the block loads '" + self + ".gp'.\n"
      "if (!exists(\"timely_image\")) {\n" + loads +
      "  unset output\n"
      "  undefine timely_image\n"
      "  exit\n"
      "}\n"
      "\n" + terminals +
      "set multiplot" + (top > 0.0 ? " title " + images.text(figure.title) : std::string()) + "\n";
  std::size_t block = 0;
  for (std::size_t p = 0; p < figure.panels.size(); ++p) {
    const Figure& panel = figure.panels[p];
    const long row = static_cast<long>(p) / columns, column = static_cast<long>(p) % columns;
    std::string title = panel.title;
    for (char& c : title)
      if (c == '\n' || c == '\r') c = ' ';
    out += "\n";
    const std::size_t first_line = count_lines(out) + 1;
    // The comment ends in a digit: a backslash at the end of a title would continue it.
    out += "# panel " + std::to_string(p) + (title.empty() ? "" : " (" + title + ")") + ": blocks " +
           std::to_string(block) + "-" + std::to_string(block + panel.series.size() - 1) + "\n" + "reset\n" +
           fmt::format("set origin {:.6g},{:.6g}\nset size {:.6g},{:.6g}\n", panel_w * column / width,
                       (strip + panel_h * static_cast<double>(rows - 1 - row)) / height, panel_w / width,
                       panel_h / height) +
           settings(panel, images.text, true) + "unset key\n" +
           plot_command(panel, figure.name + ".dat", block, slots, {}, images.text);
    panel_lines.emplace_back(first_line, count_lines(out));
    block += panel.series.size();
  }
  if (!l.entries.empty()) {
    // The legend: an empty graph filling the strip below the panels, showing only its key.
    out += "\n# the legend, once for every panel\nreset\n" +
           fmt::format("set origin 0,0\nset size 1,{:.6g}\n", strip / height) +
           "set margins 0,0,0,0\nunset border\nunset tics\nset xrange [0:1]\nset yrange [0:1]\n" +
           "set key inside center center " + key.options + "\n" +
           // A curve above the range, never drawn: gnuplot 5.4 fails an assertion on a plot of
           // key entries alone.
           "plot 2 notitle" + key_entries(l.entries, images.text) + "\n";
  }
  return out + "\nunset multiplot\n";
}

// The line of gnuplot's stderr that says what went wrong: its located message
// ("NAME.gp" line 7: ...) when there is one, else the first non-blank line.
std::string first_error_line(const std::string& log) {
  std::istringstream in(log);
  std::string line, first;
  static const std::regex located("\"[^\"]*\" line [0-9]+:");
  while (std::getline(in, line)) {
    if (std::regex_search(line, located)) return line;
    if (first.empty() && line.find_first_not_of(" \t\r") != std::string::npos) first = line;
  }
  return first;
}

// Whether an image gnuplot wrote is whole: it ends with its format's trailer (PNG's IEND
// chunk, SVG's closing tag, PDF's %%EOF). A full disk or a file-size limit cuts the file short
// without gnuplot always saying so, and a cut file has some size.
bool image_is_whole(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff tail_size = std::min<std::streamoff>(size, 64);
  std::string tail(static_cast<std::size_t>(tail_size), '\0');
  in.seekg(size - tail_size);
  in.read(tail.data(), tail_size);
  if (!in || tail.empty()) return false;
  const std::string extension = p.extension().string();
  if (extension == ".png") return tail.size() >= 8 && tail.compare(tail.size() - 8, 4, "IEND") == 0;
  if (extension == ".svg") return tail.find("</svg>") != std::string::npos;
  if (extension == ".pdf") return tail.find("%%EOF") != std::string::npos;
  return true;
}

// The paths of figure `n` in `dir`, made absolute; `dir` is created if needed.
Rendered paths(const fs::path& dir_in, const std::string& n, bool latex) {
  const fs::path dir = fs::absolute(dir_in);
  fs::create_directories(dir);
  Rendered r{dir / (n + ".dat"), dir / (n + ".gp"), dir / (n + ".png"), dir / (n + ".svg"), dir / (n + ".pdf"), {}, {}, {}};
  const fs::path latex_script = dir / (n + "_latex.gp"), tex = dir / (n + "_latex.tex"), pdf = dir / (n + "_latex.pdf");
  if (latex) {
    r.latex_script = latex_script;
    r.latex_tex = tex;
    r.latex_pdf = pdf;
  } else {
    // A LaTeX variant of an earlier drawing would no longer match the figure.
    for (const fs::path& stale : {latex_script, tex, pdf}) fs::remove(stale);
  }
  return r;
}

// Runs gnuplot on `script` in its directory and checks that it drew every file of `outputs`
// and said nothing; `who` names the figure in errors, and `where(line)` names the part of the
// script at a line that gnuplot's error message points to ("" = nothing more to say).
void run_gnuplot(const std::string& who, const fs::path& script, const std::vector<fs::path>& outputs,
                 const std::function<std::string(std::size_t)>& where) {
  const fs::path dir = script.parent_path();
  const fs::path log = fs::path(script).replace_extension(".log");
  // Stale images from an earlier run must not pass for fresh ones.
  for (const fs::path& output : outputs) fs::remove(output);
  fs::remove(log);

  // gnuplot runs the script as a file argument from the figure's directory, exactly as a user
  // would, with its stderr (and the shell's, e.g. "gnuplot: not found") captured in NAME.log.
  // gnuplot-iostream drops gnuplot's exit status, so a failing status is appended to the log
  // by the shell; the command itself then exits 0. Nothing is written into the pipe, so a
  // gnuplot that dies early cannot raise SIGPIPE in this process.
  const std::string command = "{ cd " + shell_quoted(dir.string()) + " && gnuplot " +
                              shell_quoted(script.filename().string()) +
                              " || echo \"gnuplot exited with status $?\" >&2; } 2> " +
                              shell_quoted(log.string());
  {
    Gnuplot gp(command);
  }  // ~Gnuplot pcloses the pipe, which waits for the shell and gnuplot to exit.

  // A figure not drawn leaves no image under its final name: a cut or stale one would pass
  // for the figure.
  const auto fail = [&](const std::string& message) {
    std::error_code ignored;
    for (const fs::path& image : outputs) fs::remove(image, ignored);
    throw std::runtime_error(message);
  };
  std::string messages;
  {
    std::ifstream in(log);
    if (!in) fail("plots: " + who + ": gnuplot did not run (no " + log.string() + ")");
    std::ostringstream text;
    text << in.rdbuf();
    messages = text.str();
  }
  // No whitelist: a gnuplot warning (empty range, dropped points, unknown font) means the
  // figure is not what was asked for.
  if (messages.find_first_not_of(" \t\r\n") != std::string::npos) {
    const std::string error = first_error_line(messages);
    std::string place;
    static const std::regex line_number("\" line ([0-9]+):");
    std::smatch m;
    if (std::regex_search(error, m, line_number)) {
      const std::string part = where(std::stoul(m[1].str()));
      if (!part.empty()) place = " in " + part;
    }
    fail("plots: " + who + ": gnuplot reported" + place + ": " + error + " (full log: " + log.string() + ")");
  }
  for (const fs::path& image : outputs)
    if (!image_is_whole(image))
      fail("plots: " + who + ": gnuplot left " + image.string() + " missing, empty or cut short");
  fs::remove(log);
}

Images images(const std::string& name, const Drawing& drawing) {
  return {name, {"png", "svg", "pdf"}, plain_text, drawing.look, drawing.fit_labels};
}
Images latex_images(const std::string& name, const Drawing& drawing) {
  return {name + "_latex", {"latex"}, latex_text, drawing.look, drawing.fit_labels};
}

}  // namespace

Rendered render(const Figure& figure, const std::filesystem::path& dir, const Drawing& drawing) {
  validate(figure);
  const std::string who = describe(figure.name);
  const Rendered r = paths(dir, figure.name, drawing.latex);
  std::ostringstream data;
  write_blocks(data, figure, 0, "");
  write_file(who, r.data, data.str());
  const auto nowhere = [](std::size_t) { return std::string(); };
  write_file(who, r.script, script(figure, images(figure.name, drawing)));
  run_gnuplot(who, r.script, {r.png, r.svg, r.pdf}, nowhere);
  if (drawing.latex) {
    write_file(who, r.latex_script, script(figure, latex_images(figure.name, drawing)));
    run_gnuplot(who, r.latex_script, {r.latex_tex, r.latex_pdf}, nowhere);
  }
  return r;
}

Rendered render(const PanelFigure& figure, const std::filesystem::path& dir, const Drawing& drawing) {
  validate(figure);
  const std::string who = describe(figure.name);
  const Rendered r = paths(dir, figure.name, drawing.latex);
  std::ostringstream data;
  std::size_t block = 0;
  for (std::size_t p = 0; p < figure.panels.size(); ++p) {
    write_blocks(data, figure.panels[p], block, "panel " + std::to_string(p) + ", ");
    block += figure.panels[p].series.size();
  }
  write_file(who, r.data, data.str());
  const auto draw = [&](const Images& how, const fs::path& script_path, const std::vector<fs::path>& outputs) {
    std::vector<std::pair<std::size_t, std::size_t>> panel_lines;
    write_file(who, script_path, script(figure, how, panel_lines));
    run_gnuplot(who, script_path, outputs, [&](std::size_t line) {
      for (std::size_t p = 0; p < panel_lines.size(); ++p)
        if (line >= panel_lines[p].first && line <= panel_lines[p].second) {
          const std::string panel = describe_panel(figure, p);
          return panel.substr(panel.find(", ") + 2);  // "panel 2 ('its title')"
        }
      return std::string();
    });
  };
  draw(images(figure.name, drawing), r.script, {r.png, r.svg, r.pdf});
  if (drawing.latex) draw(latex_images(figure.name, drawing), r.latex_script, {r.latex_tex, r.latex_pdf});
  return r;
}

bool gnuplot_available() { return std::system("gnuplot --version > /dev/null 2>&1") == 0; }

}  // namespace timely::plots
