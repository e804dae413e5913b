#include "sim/csv_input.hpp"

#include <cstdint>
#include <fmt/format.h>
#include <sys/stat.h>

#include "sim/input_error.hpp"

namespace timely::sim {

std::vector<std::string_view> split_csv_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  for (;;) {
    const auto comma = line.find(',');
    std::string_view cell = line.substr(0, comma);
    while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
    while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t' || cell.back() == '\r')) cell.remove_suffix(1);
    cells.push_back(cell);
    if (comma == std::string_view::npos) return cells;
    line.remove_prefix(comma + 1);
  }
}

std::ifstream open_csv_input(std::string_view key, const std::string& path, std::string_view what) {
  struct stat st {};
  if (path.empty()) throw InputError(fmt::format("{}: expected the path of a {} (CSV), got ''", key, what));
  if (::stat(path.c_str(), &st) != 0) throw InputError(fmt::format("{}: cannot open '{}'", key, path));
  if (!S_ISREG(st.st_mode)) throw InputError(fmt::format("{}: '{}' is not a regular file", key, path));
  if (st.st_size > (std::int64_t{1} << 30))
    throw InputError(fmt::format("{}: '{}' has {} bytes; a {} may have at most 1 GiB", key, path, st.st_size, what));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open '{}'", key, path));
  return in;
}

}  // namespace timely::sim
