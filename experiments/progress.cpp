#include "experiments/progress.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <unistd.h>

#include "sim/input_error.hpp"

namespace timely::experiments {
namespace {

// Length of the valid UTF-8 sequence at the start of `text`, 0 if it does not start with
// one (a stray continuation byte, an overlong form, a surrogate, a cut sequence).
std::size_t utf8_sequence(std::string_view text) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the allowed range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;   // overlong
    if (lead == 0xed) high = 0x9f;  // UTF-16 surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;   // overlong
    if (lead == 0xf4) high = 0x8f;  // beyond U+10FFFF
  }
  if (length == 0 || text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (byte(k) < 0x80 || byte(k) > 0xbf) return 0;
  return length;
}

}  // namespace

std::string printable_line(std::string_view text) {
  const std::string line = one_line(text);
  std::string out;
  out.reserve(line.size());
  for (std::size_t k = 0; k < line.size();) {
    const auto u = static_cast<unsigned char>(line[k]);
    const std::size_t length = u < 0x80 ? 1 : utf8_sequence(std::string_view(line).substr(k));
    if (length == 0) {
      out += fmt::format("\\x{:02x}", u);
      ++k;
    } else {
      out.append(line, k, length);
      k += length;
    }
  }
  return out;
}

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
