#pragma once
#include <iosfwd>

namespace timely::cli {

// The whole command line; returns the exit status (0 ok, 2 bad input, 1 other failure).
// Streams are parameters so tests can run commands in-process.
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace timely::cli
