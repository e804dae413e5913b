#include "experiments/progress.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <unistd.h>

namespace timely::experiments {

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::ostream& err, std::string label, std::uint64_t total, bool enabled)
    : err_(err), label_(std::move(label)), total_(total), enabled_(enabled) {}

Progress::~Progress() {
  if (drawn_) err_ << "\r\033[K" << std::flush;  // leave the terminal clean for the result
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::uint64_t done) {
  update(total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0, fmt::format("{}/{}", done, total_));
}

void Progress::update(double fraction, const std::string& status) {
  if (control_) control_->report(label_, fraction, status);
  if (!enabled_) return;
  const std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (fraction < 1.0 && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  draw(fraction, status);
}

void Progress::draw(double fraction, const std::string& status) {
  const double elapsed = elapsed_seconds();
  constexpr int width = 24;
  const int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  std::string eta = "--";
  if (fraction > 0.0 && fraction < 1.0) eta = fmt::format("{:.0f} s", elapsed * (1.0 / fraction - 1.0));
  err_ << fmt::format("\r\033[K{} [{}] {}  {:.1f} s elapsed, ~{} left", label_, bar, status, elapsed, eta)
       << std::flush;
  drawn_ = true;
}

}  // namespace timely::experiments
