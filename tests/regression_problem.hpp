#pragma once
// The small linear regression the learning tests share (docs/model.md §5): a linear model on
// the synthetic regression set of 5 features, with the given numbers of training and test
// samples.
#include <cstdint>

#include "sim/scenario.hpp"

namespace timely::tests {

inline void use_linear_regression(sim::Scenario& s, std::uint32_t train_samples, std::uint32_t test_samples) {
  s.learning.model.kind = sim::ModelKind::linear;
  s.learning.data.source = sim::DataSource::synthetic_regression;
  s.learning.data.features = 5;
  s.learning.data.train_samples = train_samples;
  s.learning.data.test_samples = test_samples;
}

}  // namespace timely::tests
