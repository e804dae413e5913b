#include "experiments/csv.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "sim/input_error.hpp"

namespace timely::experiments {

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

std::string csv_line(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) line += ',';
    line += csv_field(fields[i]);
  }
  return line + "\n";
}

std::vector<std::string> parse_csv_line(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else fields.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

std::size_t CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  throw InputError(fmt::format("CSV file has no column '{}'", name));
}

void require_regular_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  // A symlink loop or an unsearchable directory is not "no such file": say what it is.
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    throw InputError(fmt::format("{}: cannot be read ({})", path, ec.message()));
  if (ec || !std::filesystem::exists(status)) throw InputError(fmt::format("{}: no such file", path));
  if (!std::filesystem::is_regular_file(status))
    throw InputError(fmt::format("{}: not a regular file (a directory, FIFO or device cannot be read as results)", path));
}

double parse_number(std::string_view field, std::string_view where) {
  double x = 0.0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), x);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size() || !std::isfinite(x))
    throw InputError(fmt::format("{}: expected a finite number, got '{}'", where, field.substr(0, 40)));
  return x;
}

namespace {

// Opens a CSV file and reads its header row into `table`; the stream is left after it.
std::ifstream open_with_header(const std::string& path, CsvTable& table) {
  require_regular_file(path);
  std::ifstream file(path);
  if (!file) throw InputError(fmt::format("{}: cannot open", path));
  std::string line;
  if (!std::getline(file, line)) throw InputError(fmt::format("{}: empty file (expected a CSV header)", path));
  table.header = parse_csv_line(line);
  return file;
}

}  // namespace

CsvTable read_csv_header(const std::string& path) {
  CsvTable table;
  open_with_header(path, table);
  return table;
}

CsvTable read_csv(const std::string& path) {
  CsvTable table;
  std::ifstream file = open_with_header(path, table);
  std::string line;
  std::size_t number = 1;
  while (std::getline(file, line)) {
    ++number;
    if (line.empty()) continue;
    auto fields = parse_csv_line(line);
    if (fields.size() != table.header.size())
      throw InputError(fmt::format("{}: line {}: expected {} fields, got {}", path, number, table.header.size(),
                                   fields.size()));
    table.rows.push_back(std::move(fields));
  }
  return table;
}

}  // namespace timely::experiments
