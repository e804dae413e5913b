#pragma once
// Every style choice of timely's figures, in one place: the palette, how a series' role
// (data, theory, fitted law) is drawn, the fonts and terminals, and how log axes are ranged
// and labelled. figure.cpp asks this file and decides nothing of its own.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace timely::plots {

struct Series;

namespace style {

// The Okabe-Ito colour-blind-safe palette without its yellow (#F0E442), which is too pale for
// lines on white: black, orange, sky blue, bluish green, blue, vermillion, reddish purple.
const std::vector<std::string>& palette();

// Slot k of the palette: a colour, and a point type that changes once the colours run out, so
// that two slots below palette().size() * point types never look the same.
struct Slot {
  std::string colour;  // "#RRGGBB"
  int point_type;      // gnuplot pointtype (filled circle, square, triangles, ...)
};
Slot slot(std::size_t k);

// Gives each series identity (Series::key, else its title) a palette slot: the keys of
// `order` first, in that order, then every other key in the order it is first asked for.
// One Slots for a whole figure (every panel of a PanelFigure) gives a series the same colour
// wherever it appears; the same `order` gives it the same colour in every figure of a run.
class Slots {
 public:
  explicit Slots(const std::vector<std::string>& order = {});
  std::size_t operator()(const std::string& key);

 private:
  std::vector<std::string> keys_;
};

// The identity a series is coloured by: its key, else its title, else `fallback` (a name no
// key can take, unique to the series).
std::string identity(const Series& s, const std::string& fallback);

// The gnuplot style options of a series drawn in `slot` ("linecolor rgb '#E69F00' dashtype 2
// linewidth 2 pointtype 7 ..."): data solid with points, theory dashed, a fitted law dotted,
// all in the slot's colour; `points` when the series is drawn with points (gnuplot refuses a
// point type for lines and steps).
std::string options(const Series& s, std::size_t slot, bool points);

// A look: the canvas, fonts and output resolution figures are drawn in, chosen per run
// (`timely plot DIR --style NAME`). Sizes are in points (1/72 in), the unit of the PDF and of
// fonts, so a look is what it prints at: the PDF is the canvas, the SVG the same in its own
// units, and the PNG the same layout at `png_scale` pixels per point (fonts, lines and points
// scaled with it), so the three images always agree.
struct Look {
  std::string_view name, description;
  double width, height;              // one figure's canvas, in points
  double panel_width, panel_height;  // one panel of a multi-panel figure
  double max_width;                  // the widest a multi-panel figure may be (0 = no limit)
  double font;                       // font size, in points
  double png_scale;                  // PNG pixels per point
  bool titles;                       // a figure's overall title is drawn (panel titles always are)
};
// screen (the default; as on a monitor, 900 x 600 PNG), paper (one-column 3.5 in figures,
// two-column 7 in multi-panel figures, 8 pt fonts, 300 dpi PNG) and slides (10 in wide, 18 pt).
std::span<const Look> looks();
const Look& screen();
const Look* find_look(std::string_view name);  // null if there is none of that name
std::string looks_accepted();                  // "one of screen, paper, slides"

// The terminals: "set terminal ..." for an image kind ("png", "svg", "pdf", or "latex" for
// cairolatex) drawing a canvas of `width` x `height` points in `look`.
std::string terminal(std::string_view image, double width, double height, const Look& look);

// gnuplot's character height (the unit of margins and key rows) in the cairo terminals, as a
// multiple of the font size: measured as the bottom margin's height over its characters.
inline constexpr double line_height = 1.55;

// A gnuplot file of the look for hand-written scripts (`load 'timely_style.gp'`): the palette
// and point shapes as line types 1-7, grid, a boxed key below the plot (with room for two
// rows of it), and the look's
// terminals as macros: @timely_png, @timely_svg, @timely_pdf for one figure, and the same with
// _wide for a row of two panels (with the key's room below them).
std::string gnuplot_style(const Look& look);

// Log axes: the range that holds [lo, hi] with a margin of `log_margin` on each side (a factor,
// not whole decades), and its tic marks: 1-2-5 steps when the range is short enough for them to
// be readable, else decades; labels are plain numbers (the terminals are noenhanced).
inline constexpr double log_margin = 1.15;
// "set Xrange [..]", "set Xtics (...)" and "set format X '%g'" for axis "x" or "y". `measured`:
// the data's own values on the axis (e.g. the network sizes of a sweep); when they are 2 to 10
// whole numbers they are the tics.
std::vector<std::string> log_axis(const char* axis, double lo, double hi, const std::vector<double>& measured = {});

}  // namespace style
}  // namespace timely::plots
