#include "plots/figure.hpp"

#include <fmt/format.h>

#include <gnuplot-iostream.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace timely::plots {

namespace {

namespace fs = std::filesystem;

std::string describe(const Figure& figure) { return "figure '" + figure.name + "'"; }

std::string describe(const Figure& figure, std::size_t k) {
  const Series& s = figure.series[k];
  std::string d = describe(figure) + ", series " + std::to_string(k);
  if (!s.title.empty()) d += " ('" + s.title + "')";
  return d;
}

void validate_name(const std::string& name) {
  static const std::regex stem("[A-Za-z0-9_-]+");  // const after initialisation, thread-safe
  if (!std::regex_match(name, stem))
    throw std::invalid_argument("plots: figure name '" + name +
                                "' must be non-empty and use only [A-Za-z0-9_-]");
}

std::string number(double v) {
  // Shortest text that reads back as the same double: full precision, as %.17g, but readable.
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

void check_column(const Figure& figure, std::size_t k, const std::vector<double>& values,
                  const char* column, bool log_axis, const char* axis) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v))
      throw std::invalid_argument("plots: " + describe(figure, k) + ": " + column + "[" +
                                  std::to_string(i) + "] is not finite");
    // gnuplot silently drops such points on a log axis, so a curve would lose data unseen.
    if (log_axis && v <= 0.0)
      throw std::invalid_argument("plots: " + describe(figure, k) + ": " + column + "[" +
                                  std::to_string(i) + "] = " + number(v) + " is not positive, but " +
                                  axis + " is logarithmic");
  }
}

void validate(const Figure& figure) {
  validate_name(figure.name);
  if (figure.series.empty())
    throw std::invalid_argument("plots: " + describe(figure) + " has no series");
  if (figure.width < 100 || figure.height < 100 || figure.width > 10000 || figure.height > 10000)
    throw std::invalid_argument("plots: " + describe(figure) + " size " + std::to_string(figure.width) + "x" +
                                std::to_string(figure.height) + " is outside 100..10000 pixels");
  for (std::size_t k = 0; k < figure.series.size(); ++k) {
    const Series& s = figure.series[k];
    if (s.x.empty())
      throw std::invalid_argument("plots: " + describe(figure, k) + " is empty");
    if (s.x.size() != s.y.size())
      throw std::invalid_argument("plots: " + describe(figure, k) + " has " +
                                  std::to_string(s.x.size()) + " x values but " +
                                  std::to_string(s.y.size()) + " y values");
    if (!s.err.empty() && s.err.size() != s.y.size())
      throw std::invalid_argument("plots: " + describe(figure, k) + " has " +
                                  std::to_string(s.y.size()) + " y values but " +
                                  std::to_string(s.err.size()) + " error bars");
    if (s.style == Series::Style::errorbars && s.err.empty())
      throw std::invalid_argument("plots: " + describe(figure, k) +
                                  " has style errorbars but no error values");
    if (s.style == Series::Style::steps && !s.err.empty())
      throw std::invalid_argument("plots: " + describe(figure, k) +
                                  " has style steps, which cannot draw error bars");
    check_column(figure, k, s.x, "x", figure.logx, "the x axis");
    check_column(figure, k, s.y, "y", figure.logy, "the y axis");
    check_column(figure, k, s.err, "err", false, "");
    for (std::size_t i = 0; i < s.err.size(); ++i)
      if (s.err[i] < 0.0)
        throw std::invalid_argument("plots: " + describe(figure, k) + ": err[" +
                                    std::to_string(i) + "] is negative");
  }
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

// NAME.dat: one block per series, separated by two blank lines so that `index k` addresses
// series k; a comment line names the series. gnuplot-iostream's file1d() is not used here: it
// writes one block with the stream's default 6 significant digits and no comments.
void write_data(const Figure& figure, const fs::path& path) {
  std::ofstream out(path);
  for (std::size_t k = 0; k < figure.series.size(); ++k) {
    const Series& s = figure.series[k];
    if (k > 0) out << "\n\n";
    std::string title = s.title;
    for (char& c : title)
      if (c == '\n' || c == '\r') c = ' ';
    out << "# series " << k << ": " << title << "\n";
    out << (s.err.empty() ? "# x y\n" : "# x y err\n");
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      out << number(s.x[i]) << ' ' << number(s.y[i]);
      if (!s.err.empty()) out << ' ' << number(s.err[i]);
      out << '\n';
    }
  }
  out.close();
  if (!out) throw std::runtime_error("plots: " + describe(figure) + ": cannot write " + path.string());
}

std::string plot_clause(const Figure& figure, std::size_t k) {
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
  std::string clause = (k == 0 ? "'" + figure.name + ".dat'" : std::string("''")) + " index " +
                       std::to_string(k) + " using " + (err ? "1:2:3" : "1:2") + " with " + with;
  clause += s.title.empty() ? " notitle" : " title " + quoted(s.title);
  return clause;
}

// NAME.gp: standalone, every path relative to the directory it lives in.
void write_script(const Figure& figure, const fs::path& path) {
  const std::string& n = figure.name;
  std::ofstream out(path);
  out << "# " << n << ".gp -- written by timely. Redraw after restyling with:\n"
      << "#   cd <this directory> && gnuplot " << n << ".gp\n"
      << "# Reads " << n << ".dat (series k is data block `index k`); writes " << n << ".png and "
      << n << ".svg.\n"
      << "# Text is shown literally (noenhanced); drop noenhanced below for ^ _ { } markup.\n";
  if (!figure.title.empty()) out << "set title " << quoted(figure.title) << "\n";
  if (!figure.xlabel.empty()) out << "set xlabel " << quoted(figure.xlabel) << "\n";
  if (!figure.ylabel.empty()) out << "set ylabel " << quoted(figure.ylabel) << "\n";
  if (figure.logx) out << "set logscale x\n";
  if (figure.logy) out << "set logscale y\n";
  out << "set grid\n";
  for (const std::string& line : figure.extra) out << line << "\n";
  const std::string size = std::to_string(figure.width) + "," + std::to_string(figure.height);
  out << "\nset terminal pngcairo size " << size << " font \"sans,11\" noenhanced\n"
      << "set output '" << n << ".png'\n"
      << "plot ";
  for (std::size_t k = 0; k < figure.series.size(); ++k)
    out << (k == 0 ? "" : ", \\\n     ") << plot_clause(figure, k);
  out << "\n\nset terminal svg size " << size << " font \"sans,11\" noenhanced\n"
      << "set output '" << n << ".svg'\n"
      << "replot\n"
      << "unset output\n";
  out.close();
  if (!out) throw std::runtime_error("plots: " + describe(figure) + ": cannot write " + path.string());
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

std::uintmax_t size_or_zero(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  return ec ? 0 : size;
}

}  // namespace

Rendered render(const Figure& figure, const std::filesystem::path& dir_in) {
  validate(figure);
  const fs::path dir = fs::absolute(dir_in);
  fs::create_directories(dir);
  const std::string& n = figure.name;
  Rendered r{dir / (n + ".dat"), dir / (n + ".gp"), dir / (n + ".png"), dir / (n + ".svg")};
  const fs::path log = dir / (n + ".log");
  write_data(figure, r.data);
  write_script(figure, r.script);
  // Stale images from an earlier run must not pass for fresh ones.
  fs::remove(r.png);
  fs::remove(r.svg);
  fs::remove(log);

  // gnuplot runs the script as a file argument from the figure's directory, exactly as a user
  // would, with its stderr (and the shell's, e.g. "gnuplot: not found") captured in NAME.log.
  // gnuplot-iostream drops gnuplot's exit status, so a failing status is appended to the log
  // by the shell; the command itself then exits 0. Nothing is written into the pipe, so a
  // gnuplot that dies early cannot raise SIGPIPE in this process.
  const std::string command = "{ cd " + shell_quoted(dir.string()) + " && gnuplot " +
                              shell_quoted(n + ".gp") +
                              " || echo \"gnuplot exited with status $?\" >&2; } 2> " +
                              shell_quoted(log.string());
  {
    Gnuplot gp(command);
  }  // ~Gnuplot pcloses the pipe, which waits for the shell and gnuplot to exit.

  std::string messages;
  {
    std::ifstream in(log);
    if (!in)
      throw std::runtime_error("plots: " + describe(figure) + ": gnuplot did not run (no " +
                               log.string() + ")");
    std::ostringstream text;
    text << in.rdbuf();
    messages = text.str();
  }
  // No whitelist: a gnuplot warning (empty range, dropped points, unknown font) means the
  // figure is not what was asked for.
  if (messages.find_first_not_of(" \t\r\n") != std::string::npos)
    throw std::runtime_error("plots: " + describe(figure) + ": gnuplot reported: " +
                             first_error_line(messages) + " (full log: " + log.string() + ")");
  for (const fs::path& image : {r.png, r.svg})
    if (size_or_zero(image) == 0)
      throw std::runtime_error("plots: " + describe(figure) + ": gnuplot left " + image.string() +
                               " missing or empty");
  fs::remove(log);
  return r;
}

bool gnuplot_available() { return std::system("gnuplot --version > /dev/null 2>&1") == 0; }

}  // namespace timely::plots
