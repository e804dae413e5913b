#pragma once
// A scratch directory private to this test process: CTest runs test cases in parallel,
// and two checkouts may run their suites on one machine at once.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

namespace timely::testing {

inline std::filesystem::path scratch_root(const std::string& suite) {
  return std::filesystem::temp_directory_path() / (suite + "_" + std::to_string(::getpid()));
}

// An empty directory `name` under the suite's scratch root (emptied if it exists).
inline std::filesystem::path fresh_scratch(const std::string& suite, const std::string& name) {
  const std::filesystem::path dir = scratch_root(suite) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// The whole content of a file, byte for byte ("" if it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace timely::testing
