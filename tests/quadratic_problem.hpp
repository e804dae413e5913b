#pragma once
// The small quadratic problem the quadratic tests share (docs/model.md §6): d = 3 optima
// spread 1 around their mean, and local updates of tau = 2 gradient steps of eta = 0.3, so a
// constant step contracts by rho = (1 - eta)^tau = 0.49.
#include <cstdint>
#include <string_view>

#include "sim/choices.hpp"
#include "sim/scenario.hpp"

namespace timely::tests {

inline void use_small_quadratic(sim::Scenario& s) {
  s.learning.model.kind = sim::ModelKind::quadratic;
  s.learning.data.features = 3;
  s.learning.data.spread = 1.0;
  s.learning.train.steps = 2;
  s.learning.train.lr = 0.3;  // rho = 0.49
}

// The small quadratic problem on n users under a learning protocol (its registry name).
inline sim::Scenario small_quadratic(std::string_view protocol, std::uint32_t n) {
  sim::Scenario s;
  use_small_quadratic(s);
  s.network.n = n;
  s.learning.protocol = *sim::learning_protocols().parse(protocol);
  return s;
}

}  // namespace timely::tests
