#pragma once
// Runs the command line in-process, as a user would type it after "timely".
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli.hpp"

namespace timely::testing {

struct CliOutcome {
  int status;
  std::string out, err;
};

inline CliOutcome run_timely(std::vector<std::string> args) {
  args.insert(args.begin(), "timely");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int status = cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

// Exit 2 with exactly one line on stderr that contains `needle` (docs/interface.md, exit statuses).
inline void refused(const CliOutcome& o, const std::string& needle) {
  INFO(o.err);
  CHECK(o.status == 2);
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  CHECK(o.err.find(needle) != std::string::npos);
}

}  // namespace timely::testing
