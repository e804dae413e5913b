#pragma once
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace timely {

// Text that stays on one line: control characters (a newline in a value, bytes of a binary
// file) become escapes such as \n or \x01, so an error that echoes input keeps the one-line
// rule whatever the input holds.
inline std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (u < 0x20 || u == 0x7f) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", u);
      out += escaped;
    } else out += c;
  }
  return out;
}

// Bad input from the user (a config key, a value, a file). The command line reports the
// message on one line and exits with status 2. The message names the key or file and
// what was expected, e.g. "network.n: expected an integer >= 2, got 1".
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(one_line(message)) {}
  explicit InputError(const char* message) : InputError(std::string(message)) {}
};

}  // namespace timely
