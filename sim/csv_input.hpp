#pragma once
// Small CSV input files named by a scenario key (users.file, churn.trace_file): opened only
// when they are regular files of at most 1 GiB (a FIFO or a device would block or never
// end), read line by line with the forms spreadsheets and editors leave (a UTF-8 byte-order
// mark, CR line ends, blank lines, spaces around cells).
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace timely::sim {

// The cells of a CSV line, with the spaces around each cell and a CR line end removed.
std::vector<std::string_view> split_csv_cells(std::string_view line);

// Opens `path`, the value of `key`, for reading; `what` names the kind of file in errors
// ("users file"). Throws InputError naming the key: empty path, missing, not a regular
// file, larger than 1 GiB.
std::ifstream open_csv_input(std::string_view key, const std::string& path, std::string_view what);

// Calls row(line_number, cells) for every line of `in` that holds something: blank lines,
// and with `comments` lines whose first non-blank character is '#', are skipped; a
// byte-order mark before the first line is dropped. A NUL byte calls
// error(line_number, message), which must throw. Returns the number of lines read.
template <class Row, class Error>
std::size_t read_csv_lines(std::istream& in, bool comments, Row&& row, Error&& error) {
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find('\0') != std::string::npos) error(line_no, "not a text file (NUL byte)");
    if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || (comments && line[first] == '#')) continue;
    row(line_no, split_csv_cells(line));
  }
  return line_no;
}

}  // namespace timely::sim
