#pragma once
#include <stdexcept>
#include <string>

namespace timely {

// Bad input from the user (a config key, a value, a file). The command line reports the
// message on one line and exits with status 2. The message names the key or file and
// what was expected, e.g. "network.n: expected an integer >= 2, got 1".
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace timely
