#pragma once
// Minimal RFC 4180 CSV: fields with a comma, quote or newline are quoted, quotes doubled.
#include <string>
#include <string_view>
#include <vector>

namespace timely::experiments {

std::string csv_field(std::string_view text);
std::string csv_line(const std::vector<std::string>& fields);  // ends with "\n"
// Splits one line (without its newline) into fields, undoing the quoting.
std::vector<std::string> parse_csv_line(std::string_view line);

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Index of a column; throws std::runtime_error naming the file's column if absent.
  std::size_t column(std::string_view name) const;
};
// Reads a whole CSV file with a header row. Throws InputError naming the file.
CsvTable read_csv(const std::string& path);
// Refuses (InputError naming the path) anything but an existing regular file: a FIFO or a
// device in a results directory must not block or flood a reader.
void require_regular_file(const std::string& path);

// A finite number from a CSV field; InputError naming `where` (file, line, column) otherwise.
double parse_number(std::string_view field, std::string_view where);

// Reads the header row alone.
CsvTable read_csv_header(const std::string& path);

}  // namespace timely::experiments
