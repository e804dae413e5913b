#pragma once
#include <filesystem>
#include <string_view>

namespace timely::cli {

// Writes `contents` to a temporary file beside `path` and renames it over `path`, so a
// reader never sees a partial file. Throws std::runtime_error naming the path on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace timely::cli
