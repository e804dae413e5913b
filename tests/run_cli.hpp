#pragma once
// Runs the command line in-process, as a user would type it after "timely".
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

}  // namespace timely::testing
