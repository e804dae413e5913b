#pragma once
// Argument checks shared by the theory functions: they throw std::invalid_argument rather
// than return NaN or infinity for an impossible input.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace timely::theory::detail {

inline void require_positive(double x, const char* what) {
  if (!(x > 0.0) || !std::isfinite(x))
    throw std::invalid_argument(std::string("timely::theory: ") + what + " must be positive and finite, got " +
                                std::to_string(x));
}

inline void require_users(std::uint64_t n, std::uint64_t n_min) {
  if (n < n_min)
    throw std::invalid_argument("timely::theory: need n >= " + std::to_string(n_min) + " users, got n = " +
                                std::to_string(n));
}

}  // namespace timely::theory::detail
