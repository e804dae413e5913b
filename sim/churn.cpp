#include "sim/churn.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <string_view>
#include <vector>

#include "sim/csv_input.hpp"
#include "sim/input_error.hpp"

namespace timely::sim {
namespace {

constexpr std::uint64_t max_user_id = 9'999'999;  // ids below 10^7: online[] stays a few hundred MB at most
constexpr double max_time = 1e12;

// One interval as read, with the line that gave it, so that an overlap names both lines.
struct Interval {
  double start, end;
  std::size_t line;
};

[[noreturn]] void trace_error(const std::string& path, std::size_t line, const std::string& what) {
  throw InputError(fmt::format("churn.trace_file: '{}' line {}: {}", path, line, what));
}

std::uint32_t user_id(std::string_view cell, const std::string& path, std::size_t line) {
  std::uint64_t id = 0;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), id);
  if (cell.empty() || ec != std::errc() || end != cell.data() + cell.size() || id > max_user_id)
    trace_error(path, line, fmt::format("expected a user id (an integer in [0, {}]), got '{}'", max_user_id, cell));
  return static_cast<std::uint32_t>(id);
}

double time_cell(std::string_view cell, std::string_view name, const std::string& path, std::size_t line) {
  double x = 0.0;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), x);
  if (cell.empty() || ec != std::errc() || end != cell.data() + cell.size() || !std::isfinite(x))
    trace_error(path, line, fmt::format("{}: expected a number, got '{}'", name, cell));
  if (!(x >= 0.0 && x <= max_time))
    trace_error(path, line, fmt::format("{}: expected a time in [0, 1e12], got {}", name, cell));
  return x;
}

}  // namespace

std::shared_ptr<const ChurnTrace> read_churn_trace(const std::string& path) {
  std::ifstream in = open_csv_input("churn.trace_file", path, "churn trace");
  std::vector<std::vector<Interval>> by_user;
  std::size_t intervals = 0;
  bool header = false;
  const auto error = [&](std::size_t line_no, const std::string& what) { trace_error(path, line_no, what); };
  const std::size_t lines = read_csv_lines(in, true, [&](std::size_t line_no, const std::vector<std::string_view>& cells) {
    if (!header) {
      if (cells.size() != 3 || cells[0] != "user" || cells[1] != "start" || cells[2] != "end")
        trace_error(path, line_no, fmt::format("expected the header user,start,end, got '{}'", fmt::join(cells, ",")));
      header = true;
      return;
    }
    if (cells.size() != 3)
      trace_error(path, line_no, fmt::format("expected 3 cells (user,start,end), got {}", cells.size()));
    const std::uint32_t user = user_id(cells[0], path, line_no);
    const double start = time_cell(cells[1], "start", path, line_no);
    const double end = time_cell(cells[2], "end", path, line_no);
    if (!(start < end))
      trace_error(path, line_no, fmt::format("expected start < end, got the interval [{}, {})", start, end));
    if (user >= by_user.size()) by_user.resize(user + 1);
    by_user[user].push_back({start, end, line_no});
    ++intervals;
  }, error);
  if (!header) throw InputError(fmt::format("churn.trace_file: '{}' is empty (expected the header line user,start,end)", path));
  if (intervals == 0)
    trace_error(path, lines, "no intervals after the header (expected one line user,start,end per online interval)");

  auto trace = std::make_shared<ChurnTrace>();
  trace->path = path;
  trace->online.resize(by_user.size());
  for (std::uint32_t user = 0; user < by_user.size(); ++user) {
    auto& list = by_user[user];
    std::sort(list.begin(), list.end(),
              [](const Interval& a, const Interval& b) { return a.start != b.start ? a.start < b.start : a.line < b.line; });
    auto& merged = trace->online[user];
    const Interval* last = nullptr;  // the interval that gives the merged one its end
    for (const Interval& next : list) {
      if (last && next.start < merged.back().second) {
        // Name the later line of the two, as a reader scanning the file meets it.
        const Interval& later = next.line > last->line ? next : *last;
        const Interval& earlier = next.line > last->line ? *last : next;
        trace_error(path, later.line,
                    fmt::format("user {}'s interval [{}, {}) overlaps [{}, {}) from line {}", user, later.start, later.end,
                                earlier.start, earlier.end, earlier.line));
      }
      if (last && next.start == merged.back().second) merged.back().second = next.end;  // touching: one interval
      else merged.emplace_back(next.start, next.end);
      last = &next;
    }
  }
  return trace;
}

}  // namespace timely::sim
