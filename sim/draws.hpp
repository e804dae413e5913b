#pragma once
// The draws of the event loops' hot path, exact and cheap (issue 12):
//   uniform_below: an exactly uniform integer in [0, count) from 32 random bits, by
//     Lemire's multiply-and-reject method (D. Lemire, "Fast random integer generation in an
//     interval", ACM TOMACS 29(1), 2019): no division unless the low product word falls
//     below count (probability count / 2^32), and a redraw only below 2^32 mod count;
//   EventChoice: which superposed clock ticks, the class (gossip, update, ...) and its actor
//     from ONE 64-bit draw: the class by comparing the whole word with 64-bit cumulative
//     thresholds, the actor from the word's low 32 bits.
// Both replace Boost's uniform_int_distribution (a 64-bit division per call) and a
// uniform_01 double per event; the exponential gaps stay Boost's exact ziggurat.
#include <array>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <stdexcept>

namespace timely::sim {

// The draws below split and shift whole 64-bit words, so the generator must return 64-bit
// words, every value equally likely (boost::random::mt19937_64 does; Boost's min() and
// max() are not constexpr, so the concept checks the word type).
template <class R>
concept FullWordGenerator = std::same_as<typename R::result_type, std::uint64_t>;

// Exactly uniform in [0, count) (count >= 1), starting from the 32 uniform bits `bits`;
// draws more from rng (its top 32 bits) only on rejection.
template <FullWordGenerator R>
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
template <FullWordGenerator R>
[[gnu::always_inline]] inline std::uint32_t uniform_below(R& rng, std::uint32_t count) {
  return uniform_below(static_cast<std::uint32_t>(rng() >> 32), count, rng);
}

// Superposed Poisson clocks in `Classes` classes: class c has total rate rate[c], spread
// evenly over actors[c] actors (users or tracked sources). draw() returns the class of the
// next tick and its actor: the class with the probability rate[c] / total to double
// precision (the thresholds are rounded from doubles; the word resolves 2^-64, finer than
// the 53-bit uniform this replaces), the actor exactly uniform.
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
    for (std::size_t c = 0; c < Classes; ++c) {
      if (!(rate[c] >= 0.0)) throw std::invalid_argument("EventChoice: rates must be >= 0");
      total += rate[c];
      if (rate[c] > 0.0) last_positive_ = static_cast<std::uint32_t>(c);
    }
    if (!(total > 0.0 && std::isfinite(total))) throw std::invalid_argument("EventChoice: the total rate must be positive and finite");
    double cumulative = 0.0;
    for (std::size_t c = 0; c + 1 < Classes; ++c) {
      cumulative += rate[c];
      // P(kind <= c) in fixed point: 2^64 p, exact for a double p < 1, clamped below 2^64.
      // Where the clamp bites, every later class has rate 0; draw() never returns those.
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

  template <FullWordGenerator R>
  [[gnu::always_inline]] Event draw(R& rng) const {
    const std::uint64_t r = rng();
    std::uint32_t kind = 0;
    while (kind + 1 < Classes && r >= threshold_[kind]) ++kind;
    // The word 2^64 - 1 passes a clamped threshold; it belongs to the last class that ticks.
    kind = kind < last_positive_ ? kind : last_positive_;
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
  std::uint32_t last_positive_ = 0;  // the last class whose rate is positive
};

}  // namespace timely::sim
