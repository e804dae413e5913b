#pragma once
// Progress on stderr: a live line when stderr is a terminal, nothing otherwise (logs and
// pipes get only the final result). A RunControl installed on the constructing thread
// (run_control.hpp) gets every update, shown or not.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

#include "experiments/run_control.hpp"

namespace timely::experiments {

// An error or log line as printed: timely::one_line's escapes (sim/input_error.hpp), and
// bytes that are not valid UTF-8 (a Latin-1 file name or value, a binary file) as \xNN.
// Echoed raw, they made the line invalid text for a terminal, a log reader and Python
// (which decodes the message as UTF-8). Valid UTF-8 stays as it is.
std::string printable_line(std::string_view text);

class Progress {
 public:
  Progress(std::ostream& err, std::string label, std::uint64_t total, bool enabled);
  ~Progress();
  // Thread-safe; throttled to a few redraws per second. advance() shows "done/total";
  // update() shows the caller's status with the fraction of work done.
  void advance(std::uint64_t done);
  void update(double fraction, const std::string& status);
  double elapsed_seconds() const;

 private:
  void draw(double fraction, const std::string& status);
  std::ostream& err_;
  std::string label_;
  std::uint64_t total_;
  bool enabled_;
  RunControl* control_ = current_control();
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
  std::mutex mutex_;
};

// True when stderr is an interactive terminal.
bool stderr_is_terminal();

}  // namespace timely::experiments
