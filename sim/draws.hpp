#pragma once
// The draws of the event loops' hot path, exact and cheap (issue 12):
//   uniform_below: an exactly uniform integer in [0, count) from 32 random bits, by
//     Lemire's multiply-and-reject method (D. Lemire, "Fast random integer generation in an
//     interval", ACM TOMACS 29(1), 2019): no division unless the low product word falls in
//     the rejection zone, which has probability count / 2^32;
//   EventChoice: which superposed clock ticks, the class (gossip, update, ...) and its actor
//     from ONE 64-bit draw: the class by comparing the whole word with 64-bit cumulative
//     thresholds, the actor from the word's low 32 bits.
// Both replace Boost's uniform_int_distribution (a 64-bit division per call) and a
// uniform_01 double per event; the exponential gaps stay Boost's exact ziggurat.
#include <array>
#include <cstdint>

namespace timely::sim {

// Exactly uniform in [0, count) (count >= 1), starting from the 32 uniform bits `bits`;
// draws more from rng (its top 32 bits) only on rejection.
template <class R>
[[gnu::always_inline]] inline std::uint32_t uniform_below(std::uint32_t bits, std::uint32_t count, R& rng) {
  std::uint64_t m = std::uint64_t{bits} * count;
  auto low = static_cast<std::uint32_t>(m);
  if (low < count) {
    // 2^32 mod count: products whose low word lies below it would over-represent some
    // results; they are rejected.
    const std::uint32_t reject_below = static_cast<std::uint32_t>(-count) % count;
    while (low < reject_below) {
      m = (rng() >> 32) * count;
      low = static_cast<std::uint32_t>(m);
    }
  }
  return static_cast<std::uint32_t>(m >> 32);
}

// Exactly uniform in [0, count), from one fresh draw of rng.
template <class R>
[[gnu::always_inline]] inline std::uint32_t uniform_below(R& rng, std::uint32_t count) {
  return uniform_below(static_cast<std::uint32_t>(rng() >> 32), count, rng);
}

// Superposed Poisson clocks in `Classes` classes: class c has total rate rate[c], spread
// evenly over actors[c] actors (users or tracked sources). draw() returns the class of the
// next tick and its actor, each with its exact probability (to 2^-64, finer than the
// double-precision uniform this replaces).
//
// Why the low 32 bits may serve as the actor: given the class, the 64-bit word is uniform
// on [T_{c-1}, T_c). Where its high word lies strictly inside that range, the low word is
// uniform on all 2^32 values and independent of the class; only when the high word equals
// the high word of a boundary (probability at most 2^-31 per event) is it constrained, and
// then the actor's bits come from a fresh draw instead.
template <std::size_t Classes>
class EventChoice {
 public:
  struct Event {
    std::uint32_t kind;
    std::uint32_t actor;
  };

  EventChoice(const std::array<double, Classes>& rate, const std::array<std::uint32_t, Classes>& actors)
      : actors_(actors) {
    double total = 0.0;
    for (double r : rate) total += r;
    double cumulative = 0.0;
    for (std::size_t c = 0; c + 1 < Classes; ++c) {
      cumulative += rate[c];
      // P(kind <= c) in fixed point; 2^64 * p computed in long double (64-bit mantissa on
      // x86-64) and clamped below 2^64.
      const long double scaled = static_cast<long double>(cumulative / total) * 18446744073709551616.0L;
      threshold_[c] = scaled >= 18446744073709551615.0L ? ~std::uint64_t{0} : static_cast<std::uint64_t>(scaled);
    }
    for (std::size_t c = 0; c < Classes; ++c) {
      // The high words of class c's lower and upper boundaries (0 and 2^32 - 1 at the ends,
      // where the low word is unconstrained but a needless fresh draw costs nothing).
      low_word_[c] = c == 0 ? ~std::uint32_t{0} : static_cast<std::uint32_t>(threshold_[c - 1] >> 32);
      high_word_[c] = c + 1 == Classes ? ~std::uint32_t{0} : static_cast<std::uint32_t>(threshold_[c] >> 32);
    }
  }

  template <class R>
  [[gnu::always_inline]] Event draw(R& rng) const {
    const std::uint64_t r = rng();
    std::uint32_t kind = 0;
    while (kind + 1 < Classes && r >= threshold_[kind]) ++kind;
    const auto high = static_cast<std::uint32_t>(r >> 32);
    auto bits = static_cast<std::uint32_t>(r);
    if (high == low_word_[kind] || high == high_word_[kind]) [[unlikely]]
      bits = static_cast<std::uint32_t>(rng() >> 32);
    return {kind, uniform_below(bits, actors_[kind], rng)};
  }

 private:
  std::array<std::uint32_t, Classes> actors_;
  std::array<std::uint64_t, Classes> threshold_{};  // threshold_[c]: 2^64 P(kind <= c); last unused
  std::array<std::uint32_t, Classes> low_word_{}, high_word_{};
};

}  // namespace timely::sim
