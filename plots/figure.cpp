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

// The plot command drawing `figure`'s series from data blocks `first`, `first` + 1, ... of
// `data`, each in the style of its key's slot in `slots`.
std::string plot_command(const Figure& figure, const std::string& data, std::size_t first, style::Slots& slots) {
  std::string command = "plot ";
  for (std::size_t k = 0; k < figure.series.size(); ++k) {
    const Series& s = figure.series[k];
    const bool err = !s.err.empty();
    std::string with;
    switch (s.style) {
      case Series::Style::points: with = err ? "yerrorbars" : "points"; break;
      case Series::Style::lines: with = err ? "yerrorlines pointtype -1" : "lines"; break;
      case Series::Style::linespoints: with = err ? "yerrorlines" : "linespoints"; break;
      case Series::Style::errorbars: with = "yerrorbars"; break;
      case Series::Style::steps: with = "steps"; break;
    }
    if (k > 0) command += ", \\\n     ";
    command += (k == 0 ? "'" + data + "'" : std::string("''")) + " index " + std::to_string(first + k) +
               " using " + (err ? "1:2:3" : "1:2") + " with " + with;
    const bool points = s.style != Series::Style::steps && s.style != Series::Style::lines;
    command += " " + style::options(s, slots(style::identity(s, "\x01series " + std::to_string(first + k))), points);
    command += s.title.empty() ? " notitle" : " title " + quoted(s.title);
  }
  return command + "\n";
}

// The settings of one figure or panel before its plot command: title, labels, log axes, grid
// and its `extra` commands.
std::string settings(const Figure& figure) {
  std::string out;
  if (!figure.title.empty()) out += "set title " + quoted(figure.title) + "\n";
  if (!figure.xlabel.empty()) out += "set xlabel " + quoted(figure.xlabel) + "\n";
  if (!figure.ylabel.empty()) out += "set ylabel " + quoted(figure.ylabel) + "\n";
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
  out += "set grid\n";
  for (const std::string& line : figure.extra) out += line + "\n";
  return out;
}

std::string script_header(const std::string& n, const std::string& blocks) {
  return "# " + n + ".gp -- written by timely. Redraw after restyling with:\n" +
         "#   cd <this directory> && gnuplot " + n + ".gp\n" + "# Reads " + n + ".dat (" + blocks +
         "); writes " + n + ".png, " + n + ".svg and " + n + ".pdf.\n" +
         "# Text is shown literally (noenhanced); drop noenhanced below for ^ _ { } markup.\n";
}

std::string terminal(const char* type, const std::string& size) {
  return std::string("set terminal ") + type + " size " + size + " font \"" + style::font + "\" noenhanced\n";
}

std::string pixels(long width, long height) { return std::to_string(width) + "," + std::to_string(height); }

// NAME.gp of a single figure: standalone, every path relative to the directory it lives in.
std::string script(const Figure& figure) {
  const std::string& n = figure.name;
  style::Slots slots(figure.key_order);
  return script_header(n, "series k is data block `index k`") + settings(figure) + "\n" +
         terminal("pngcairo", pixels(figure.width, figure.height)) + "set output '" + n + ".png'\n" +
         plot_command(figure, n + ".dat", 0, slots) + "\n" + terminal("svg", pixels(figure.width, figure.height)) +
         "set output '" + n + ".svg'\n" + "replot\n" + terminal("pdfcairo", style::pdf_size(figure.width, figure.height)) +
         "set output '" + n + ".pdf'\n" + "replot\n" + "unset output\n";
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// NAME.gp of a multi-panel figure. `replot` would redraw only the last panel, and commands
// inside a gnuplot loop or block get wrong line numbers in gnuplot's error messages; so the
// script, run on its own, loads itself once per image, and the panel commands stay top-level
// lines that exist once. `panel_lines` receives the script lines [first, last] (1-based) of
// each panel's commands.
std::string script(const PanelFigure& figure, std::vector<std::pair<std::size_t, std::size_t>>& panel_lines) {
  const std::string& n = figure.name;
  const Layout l = layout(figure);
  const std::string size = pixels(l.width, l.height);
  std::vector<std::string> order = figure.key_order;
  for (const Figure& panel : figure.panels) order.insert(order.end(), panel.key_order.begin(), panel.key_order.end());
  style::Slots slots(order);
  std::string out =
      script_header(n, "data block b is `index b`; each panel's comment lists its blocks") +
      "# Run on its own, the script loads itself three times, with timely_image = \"png\", \"svg\"\n"
      "# and \"pdf\": the commands after this block draw one image, and exist once. Each panel begins\n"
      "# with `reset`, so nothing one panel sets (log axes, ranges, key, extra commands) reaches\n"
      "# the next. Keep the file name: the block loads '" + n + ".gp'.\n"
      "if (!exists(\"timely_image\")) {\n"
      "  timely_image = \"png\"; load '" + n + ".gp'\n"
      "  timely_image = \"svg\"; load '" + n + ".gp'\n"
      "  timely_image = \"pdf\"; load '" + n + ".gp'\n"
      "  unset output\n"
      "  undefine timely_image timely_terminal timely_size\n"
      "  exit\n"
      "}\n"
      "\n"
      "timely_terminal = timely_image eq \"png\" ? \"pngcairo\" : timely_image eq \"pdf\" ? \"pdfcairo\" : \"svg\"\n"
      "timely_size = timely_image eq \"pdf\" ? \"" + style::pdf_size(l.width, l.height) + "\" : \"" + size + "\"\n"
      "set terminal @timely_terminal size @timely_size font \"" + style::font + "\" noenhanced\n"
      "set output '" + n + ".'.timely_image\n"
      "set multiplot layout " + std::to_string(l.rows) + "," + std::to_string(l.columns) +
      (figure.title.empty() ? std::string() : " title " + quoted(figure.title)) + "\n";
  std::size_t block = 0;
  for (std::size_t p = 0; p < figure.panels.size(); ++p) {
    const Figure& panel = figure.panels[p];
    std::string title = panel.title;
    for (char& c : title)
      if (c == '\n' || c == '\r') c = ' ';
    out += "\n";
    const std::size_t first_line = count_lines(out) + 1;
    // The comment ends in a digit: a backslash at the end of a title would continue it.
    out += "# panel " + std::to_string(p) + (title.empty() ? "" : " (" + title + ")") + ": blocks " +
           std::to_string(block) + "-" + std::to_string(block + panel.series.size() - 1) + "\n" +
           "reset\n" + settings(panel) + plot_command(panel, n + ".dat", block, slots);
    panel_lines.emplace_back(first_line, count_lines(out));
    block += panel.series.size();
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

// The five paths of figure `n` in `dir`, made absolute; `dir` is created if needed.
Rendered paths(const fs::path& dir_in, const std::string& n) {
  const fs::path dir = fs::absolute(dir_in);
  fs::create_directories(dir);
  return {dir / (n + ".dat"), dir / (n + ".gp"), dir / (n + ".png"), dir / (n + ".svg"), dir / (n + ".pdf")};
}

// Runs gnuplot on the script `r.script` in its directory and checks that it drew all three images
// and said nothing; `who` names the figure in errors, and `where(line)` names the part of the
// script at a line that gnuplot's error message points to ("" = nothing more to say).
void run_gnuplot(const std::string& who, const Rendered& r,
                 const std::function<std::string(std::size_t)>& where) {
  const fs::path dir = r.script.parent_path();
  const fs::path log = fs::path(r.script).replace_extension(".log");
  // Stale images from an earlier run must not pass for fresh ones.
  fs::remove(r.png);
  fs::remove(r.svg);
  fs::remove(r.pdf);
  fs::remove(log);

  // gnuplot runs the script as a file argument from the figure's directory, exactly as a user
  // would, with its stderr (and the shell's, e.g. "gnuplot: not found") captured in NAME.log.
  // gnuplot-iostream drops gnuplot's exit status, so a failing status is appended to the log
  // by the shell; the command itself then exits 0. Nothing is written into the pipe, so a
  // gnuplot that dies early cannot raise SIGPIPE in this process.
  const std::string command = "{ cd " + shell_quoted(dir.string()) + " && gnuplot " +
                              shell_quoted(r.script.filename().string()) +
                              " || echo \"gnuplot exited with status $?\" >&2; } 2> " +
                              shell_quoted(log.string());
  {
    Gnuplot gp(command);
  }  // ~Gnuplot pcloses the pipe, which waits for the shell and gnuplot to exit.

  // A figure not drawn leaves no image under its final name: a cut or stale one would pass
  // for the figure.
  const auto fail = [&](const std::string& message) {
    std::error_code ignored;
    for (const fs::path& image : {r.png, r.svg, r.pdf}) fs::remove(image, ignored);
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
  for (const fs::path& image : {r.png, r.svg, r.pdf})
    if (!image_is_whole(image))
      fail("plots: " + who + ": gnuplot left " + image.string() + " missing, empty or cut short");
  fs::remove(log);
}

}  // namespace

Rendered render(const Figure& figure, const std::filesystem::path& dir) {
  validate(figure);
  const std::string who = describe(figure.name);
  const Rendered r = paths(dir, figure.name);
  std::ostringstream data;
  write_blocks(data, figure, 0, "");
  write_file(who, r.data, data.str());
  write_file(who, r.script, script(figure));
  run_gnuplot(who, r, [](std::size_t) { return std::string(); });
  return r;
}

Rendered render(const PanelFigure& figure, const std::filesystem::path& dir) {
  validate(figure);
  const std::string who = describe(figure.name);
  const Rendered r = paths(dir, figure.name);
  std::ostringstream data;
  std::size_t block = 0;
  for (std::size_t p = 0; p < figure.panels.size(); ++p) {
    write_blocks(data, figure.panels[p], block, "panel " + std::to_string(p) + ", ");
    block += figure.panels[p].series.size();
  }
  write_file(who, r.data, data.str());
  std::vector<std::pair<std::size_t, std::size_t>> panel_lines;
  write_file(who, r.script, script(figure, panel_lines));
  run_gnuplot(who, r, [&](std::size_t line) {
    for (std::size_t p = 0; p < panel_lines.size(); ++p)
      if (line >= panel_lines[p].first && line <= panel_lines[p].second) {
        const std::string panel = describe_panel(figure, p);
        return panel.substr(panel.find(", ") + 2);  // "panel 2 ('its title')"
      }
    return std::string();
  });
  return r;
}

bool gnuplot_available() { return std::system("gnuplot --version > /dev/null 2>&1") == 0; }

}  // namespace timely::plots
