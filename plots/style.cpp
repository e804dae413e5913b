#include "plots/style.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "plots/figure.hpp"

namespace timely::plots::style {

const std::vector<std::string>& palette() {
  static const std::vector<std::string> colours{"#000000", "#E69F00", "#56B4E9", "#009E73",
                                                "#0072B2", "#D55E00", "#CC79A7"};
  return colours;
}

Slot slot(std::size_t k) {
  // Filled circle, square, upward and downward triangles, diamond, pentagon: six shapes
  // against seven colours, so slot k and slot k + 7 differ in shape.
  static constexpr int shapes[] = {7, 5, 9, 11, 13, 15};
  constexpr std::size_t count = sizeof shapes / sizeof shapes[0];
  return {palette()[k % palette().size()], shapes[k % count]};
}

Slots::Slots(const std::vector<std::string>& order) {
  for (const std::string& key : order)
    if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) keys_.push_back(key);
}

std::size_t Slots::operator()(const std::string& key) {
  const auto at = std::find(keys_.begin(), keys_.end(), key);
  if (at != keys_.end()) return static_cast<std::size_t>(at - keys_.begin());
  keys_.push_back(key);
  return keys_.size() - 1;
}

std::string identity(const Series& s, const std::string& fallback) {
  if (!s.key.empty()) return s.key;
  if (!s.title.empty()) return s.title;
  return fallback;
}

std::string options(const Series& s, std::size_t k, bool points) {
  const Slot slot = style::slot(k);
  int dash = 1;  // solid
  switch (s.role) {
    case Series::Role::data: dash = 1; break;
    case Series::Role::theory: dash = 2; break;  // dashed
    case Series::Role::fit: dash = 3; break;     // dotted
  }
  std::string out = fmt::format("linecolor rgb '{}' dashtype {} linewidth {}", slot.colour, dash,
                                s.role == Series::Role::data ? 1.5 : 2);
  // Theory or a fit drawn as points: the open shape of the data's filled one.
  if (points)
    out += fmt::format(" pointtype {} pointsize 1", s.role == Series::Role::data ? slot.point_type : slot.point_type - 1);
  return out;
}

std::span<const Look> looks() {
  // screen keeps the canvas and 11 pt font of timely's first figures (its PNG is 900 x 600
  // pixels). paper: 3.5 in is one column of a two-column paper and 7 in the full text width;
  // 8 pt is the smallest text most venues accept in figures; the caption carries a figure's
  // title. slides: a 16:9 slide's width less margins, text readable from the back of a room.
  static constexpr Look table[] = {
      {"screen", "for the screen: 900 x 600 PNG, 11 pt text (the default)", 900, 600, 500, 450, 0, 11, 1.0, true},
      {"paper", "for print: one-column (3.5 in) figures, two-column (7 in) panels, 8 pt text, 300 dpi PNG", 252,
       189, 252, 216, 504, 8, 300.0 / 72.0, false},
      {"slides", "for slides: 10 in wide, 18 pt text, 144 dpi PNG", 720, 405, 360, 300, 720, 18, 2.0, true},
  };
  return table;
}

const Look& screen() { return looks()[0]; }

const Look* find_look(std::string_view name) {
  for (const Look& look : looks())
    if (look.name == name) return &look;
  return nullptr;
}

std::string looks_accepted() {
  std::string out = "one of ";
  for (const Look& look : looks()) out += (out.size() > 7 ? ", " : "") + std::string(look.name);
  return out;
}

std::string terminal(std::string_view image, double width, double height, const Look& look) {
  const std::string inches = fmt::format("{:.4g}in,{:.4g}in", width / 72.0, height / 72.0);
  if (image == "png") {
    // Scaled as a whole: the PNG is the PDF rasterised at png_scale pixels per point. The
    // screen look (scale 1) draws at gnuplot's own scales.
    const double k = look.png_scale;
    std::string out = fmt::format("set terminal pngcairo size {},{} font \"sans,{:g}\" noenhanced",
                                  std::lround(width * k), std::lround(height * k), look.font);
    if (k != 1.0) out += fmt::format(" fontscale {0:.4g} linewidth {0:.4g} pointscale {0:.4g}", k);
    return out + "\n";
  }
  if (image == "svg")
    return fmt::format("set terminal svg size {},{} font \"sans,{:g}\" noenhanced\n", std::lround(width),
                       std::lround(height), look.font);
  if (image == "pdf") return fmt::format("set terminal pdfcairo size {} font \"sans,{:g}\" noenhanced\n", inches, look.font);
  // cairolatex: the text is typeset by LaTeX in the document's font, at the look's size.
  return fmt::format("set terminal cairolatex pdf size {} font \",{:g}\"\n", inches, look.font);
}

std::string gnuplot_style(const Look& look) {
  std::string out = fmt::format(
      "# timely's figure style, look '{}' ({}).\n"
      "# load it in a gnuplot script to draw as timely does: line types 1-{} are the palette (data solid;\n"
      "# add dashtype 2 for theory, 3 for a fitted law), the key sits below the plot, and the\n"
      "# terminals are macros: @timely_png, @timely_svg, @timely_pdf (one figure) and\n"
      "# @timely_png_wide, ... (a row of two panels). The bottom margin holds two rows of key:\n"
      "# raise it for more.\n",
      look.name, look.description, palette().size());
  for (std::size_t k = 0; k < palette().size(); ++k)
    out += fmt::format("set linetype {} linecolor rgb '{}' linewidth 1.5 pointtype {} pointsize 1 dashtype 1\n", k + 1,
                       slot(k).colour, slot(k).point_type);
  // An explicit bottom margin, as timely's own figures set it: gnuplot's own puts a key below
  // the plot over the x label. 6 lines hold the tics, the label and two rows of key.
  out += fmt::format("set linetype cycle {}\nset grid\nset key outside below center horizontal box\nset bmargin 6\n",
                     palette().size());
  // The key's room: a few rows below the plot, as a figure's legend takes.
  const double key = line_height * look.font * 4.0;
  const double wide = look.max_width > 0.0 ? look.max_width : 2.0 * look.panel_width;
  for (const auto& [suffix, width, height] :
       {std::tuple{"", look.width, look.height + key}, std::tuple{"_wide", wide, look.panel_height + key}})
    for (const char* image : {"png", "svg", "pdf"}) {
      std::string terminal = style::terminal(image, width, height, look);
      terminal.pop_back();
      std::string escaped;
      for (char c : terminal) escaped += c == '"' ? std::string("\\\"") : std::string(1, c);
      out += fmt::format("timely_{}{} = \"{}\"\n", image, suffix, escaped);
    }
  return out;
}

namespace {

// The tics 1-2-5 (or 1..9, `fine`) times a power of ten within [lo, hi].
std::vector<double> tics(double lo, double hi, bool fine) {
  static const std::vector<double> coarse_steps{1, 2, 5}, fine_steps{1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<double> out;
  for (int e = static_cast<int>(std::floor(std::log10(lo))); e <= static_cast<int>(std::ceil(std::log10(hi))); ++e)
    for (double m : fine ? fine_steps : coarse_steps) {
      const double t = std::stod(fmt::format("{:g}", m * std::pow(10.0, e)));
      if (t >= lo && t <= hi) out.push_back(t);
    }
  return out;
}

}  // namespace

std::vector<std::string> log_axis(const char* axis, double lo, double hi, const std::vector<double>& measured) {
  const double left = lo / log_margin, right = hi * log_margin;
  std::vector<std::string> out{fmt::format("set {}range [{:.6g}:{:.6g}]", axis, left, right),
                               fmt::format("set format {} '%g'", axis)};
  // Decades when 1-2-5 steps would crowd the axis; finer steps when they would leave it bare.
  std::vector<double> t = tics(left, right, false);
  if (t.size() > 10) {
    t.erase(std::remove_if(t.begin(), t.end(), [](double x) { return std::abs(std::log10(x) - std::round(std::log10(x))) > 1e-9; }),
            t.end());
    if (t.size() > 12) t.clear();  // many decades: gnuplot's own tics
  } else if (t.size() < 3) {
    const std::vector<double> fine = tics(left, right, true);
    if (fine.size() <= 10) t = fine;
  }
  std::vector<double> own = measured;
  std::sort(own.begin(), own.end());
  own.erase(std::unique(own.begin(), own.end()), own.end());
  if (own.size() >= 2 && own.size() <= 10 &&
      std::all_of(own.begin(), own.end(), [](double x) { return x == std::round(x) && std::abs(x) < 1e15; }))
    t = own;
  if (t.size() >= 2) {
    std::string list;
    for (double x : t) list += fmt::format("{}{:g}", list.empty() ? "" : ", ", x);
    out.push_back(fmt::format("set {}tics ({})", axis, list));
  }
  return out;
}

}  // namespace timely::plots::style
