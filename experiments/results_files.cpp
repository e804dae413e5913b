// Reading results.csv, trials.csv and learning_curves.csv back (plot, --resume, validate):
// every field checked against its column's type, every header against the sweep's.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "experiments/columns.hpp"
#include "experiments/csv.hpp"
#include "experiments/files.hpp"
#include "sim/input_error.hpp"

namespace timely::experiments {
namespace {

using timely::InputError;

// "nan", "inf", "-Infinity", ...: what a non-finite number prints as, which timely never
// writes, not even in a text column (a method or a law), so a file holding one was damaged.
bool nonfinite_token(std::string_view field) {
  std::string lower;
  for (const char c : field.substr(field.starts_with('-') || field.starts_with('+') ? 1 : 0))
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "nan" || lower == "inf" || lower == "infinity";
}

bool valid(std::string_view field, ColumnType type) {
  if (field.empty()) return true;  // no value
  switch (type) {
    case ColumnType::integer: {
      std::uint64_t x = 0;
      const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), x);
      return ec == std::errc() && end == field.data() + field.size();
    }
    case ColumnType::number: {
      double x = 0;
      const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), x);
      return ec == std::errc() && end == field.data() + field.size() && std::isfinite(x);
    }
    case ColumnType::boolean: return field == "true" || field == "false";
    case ColumnType::text: return !nonfinite_token(field);
    case ColumnType::number_list:
      for (std::size_t start = 0;;) {
        const std::size_t end = std::min(field.find(';', start), field.size());
        if (!valid(field.substr(start, end - start), ColumnType::number) || end == start) return false;
        if (end == field.size()) return true;
        start = end + 1;
      }
  }
  return false;
}

std::string_view type_text(ColumnType type) {
  switch (type) {
    case ColumnType::integer: return "an integer in [0, 2^64)";
    case ColumnType::number: return "a finite number";
    case ColumnType::boolean: return "true or false";
    case ColumnType::text: return "text (not a NaN or infinity)";
    case ColumnType::number_list: return "a ';'-separated list of finite numbers";
  }
  return "";
}

}  // namespace

bool header_is_learning(const std::vector<std::string>& header) {
  return std::find(header.begin(), header.end(), "final_accuracy") != header.end();
}

TableGroups header_groups(const std::vector<std::string>& header) {
  const auto has = [&](std::string_view column) { return std::find(header.begin(), header.end(), column) != header.end(); };
  return {header_is_learning(header), has("messages_sent"), has("online_fraction"), has("sends_per_user"), has("rounds_completed"),
          has("total_reward"), has("freshness")};
}

CsvTable read_results_file(const std::filesystem::path& path, ResultsFile file, const std::vector<std::string>& axes,
                           TableGroups groups, bool allow_torn_tail) {
  const std::string name = path.string();
  require_regular_file(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open", name));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string content = buffer.str();
  if (!content.empty() && content.back() != '\n') {
    // timely ends every row with a newline: a last line without one was cut short by a kill
    // or a full disk. --resume drops it (the point is redone); a reader of finished results
    // refuses it, since its last fields may be cut mid-number and still parse.
    if (!allow_torn_tail)
      throw InputError(fmt::format("{}: the last line is cut short (no newline at its end: an interrupted write); "
                                   "rerun the sweep with --resume to complete it",
                                   name));
    content.erase(content.rfind('\n') + 1);
  }
  const std::vector<std::string> expected = file == ResultsFile::results  ? results_header(axes, groups)
                                            : file == ResultsFile::trials ? trials_header(axes, groups)
                                                                          : curves_header(axes, groups);
  const std::vector<ColumnType> types = column_types(file, axes, groups);
  // The axis columns (after `point`) echo the sweep file's values, which may be any text (a
  // directory may be called "nan"); timely's own text columns never hold a non-finite number.
  const auto echoed = [&](std::size_t k) { return k >= 1 && k <= axes.size(); };
  CsvTable table;
  std::set<std::string> seen_points;
  std::size_t line_no = 0, start = 0;
  while (start < content.size()) {
    // A record ends at a newline outside quotes (a quoted field may hold a newline).
    std::size_t end = start;
    for (bool quoted = false; end < content.size() && (quoted || content[end] != '\n'); ++end)
      if (content[end] == '"') quoted = !quoted;
    const std::string_view line(content.data() + start, end - start);
    start = end + 1;
    ++line_no;
    if (line_no == 1) {
      table.header = parse_csv_line(line);
      if (table.header != expected)
        throw InputError(fmt::format("{}: line 1: the columns differ from this sweep's (expected {} columns starting "
                                     "'{}')",
                                     name, expected.size(), csv_line(expected).substr(0, 60)));
      continue;
    }
    if (line.empty()) continue;
    auto fields = parse_csv_line(line);
    if (fields.size() != expected.size())
      throw InputError(fmt::format("{}: line {}: expected {} fields, got {}", name, line_no, expected.size(), fields.size()));
    for (std::size_t k = 0; k < fields.size(); ++k)
      if (!(echoed(k) || valid(fields[k], types[k])) || (k == 0 && fields[k].empty()))
        throw InputError(fmt::format("{}: line {}: column {}: expected {}, got '{}'", name, line_no, expected[k],
                                     type_text(types[k]), fields[k].substr(0, 40)));
    // results.csv has one row per point: a repeated point (edited by hand) is refused.
    if (file == ResultsFile::results && !seen_points.insert(fields[0]).second)
      throw InputError(fmt::format("{}: line {}: point {} appears twice", name, line_no, fields[0]));
    table.rows.push_back(std::move(fields));
  }
  if (table.header.empty()) throw InputError(fmt::format("{}: empty file (expected a CSV header)", name));
  return table;
}

}  // namespace timely::experiments
