#pragma once
// A scratch directory private to this test process: CTest runs test cases in parallel,
// and two checkouts may run their suites on one machine at once.
#include <filesystem>
#include <string>
#include <unistd.h>

namespace timely::testing {

inline std::filesystem::path scratch_root(const std::string& suite) {
  return std::filesystem::temp_directory_path() / (suite + "_" + std::to_string(::getpid()));
}

}  // namespace timely::testing
