// Variance-corrected averaging (docs/model.md §3.9, §4; issue 5).
#include <catch2/catch.hpp>

#include <boost/random/mersenne_twister.hpp>
#include <cmath>

#include "models/mlp.hpp"
#include "models/variance_correction.hpp"

using namespace timely::models;

namespace {

Architecture mlp() {
  Architecture a;
  a.inputs = 784;
  a.hidden = {128, 64};
  a.outputs = 10;
  return a;
}

Eigen::VectorXf xavier_model(const Network<float>& net, std::uint64_t seed) {
  Rng rng(seed);
  Eigen::VectorXf p(static_cast<Eigen::Index>(net.layout().parameters()));
  net.initialize(p, Init::xavier, rng);
  return p;
}

}  // namespace

TEST_CASE("averaging k independent Xavier models divides each weight variance by about k", "[models][variance]") {
  Network<float> net(mlp(), 1);
  for (int k : {2, 8}) {
    Eigen::VectorXf sum = Eigen::VectorXf::Zero(static_cast<Eigen::Index>(net.layout().parameters()));
    for (int m = 0; m < k; ++m) sum += xavier_model(net, 100 + static_cast<std::uint64_t>(m));
    const Eigen::VectorXf average = sum / static_cast<float>(k);
    for (const Tensor& t : net.layout().tensors()) {
      if (t.bias) continue;
      const double expected = 2.0 / (t.fan_in + t.fan_out) / k;
      // Sample variance of N iid normals: relative sd sqrt(2/(N-1)); allow 4 sd.
      const double bound = 4.0 * std::sqrt(2.0 / (static_cast<double>(t.size()) - 1.0));
      INFO(t.name << " k = " << k);
      CHECK(std::abs(tensor_variance<float>(average, t) / expected - 1.0) < bound);
    }
  }
}

TEST_CASE("after correction every tensor's variance equals its target to floating-point precision", "[models][variance]") {
  Network<float> net(mlp(), 1);
  const Eigen::VectorXf a = xavier_model(net, 1), b = xavier_model(net, 2);
  Eigen::VectorXf average = 0.5f * (a + b);
  const auto va = tensor_variances(a, net.layout()), vb = tensor_variances(b, net.layout());
  std::vector<double> target(va.size());
  for (std::size_t k = 0; k < va.size(); ++k) target[k] = 0.5 * (va[k] + vb[k]);
  correct_variance(average, net.layout(), target);
  for (std::size_t k = 0; k < net.layout().tensors().size(); ++k) {
    const Tensor& t = net.layout().tensors()[k];
    if (t.bias) continue;
    CHECK(tensor_variance<float>(average, t) == Approx(target[k]).epsilon(1e-5));
    // The mean is kept.
    CHECK(tensor_mean<float>(average, t) == Approx(tensor_mean<float>(Eigen::VectorXf(0.5f * (a + b)), t)).margin(1e-7));
  }
}

TEST_CASE("correction leaves identical models unchanged and zero-variance tensors without NaN", "[models][variance]") {
  Network<float> net(mlp(), 1);
  const Eigen::VectorXf a = xavier_model(net, 5);
  Eigen::VectorXf same = 0.5f * (a + a);
  correct_variance(same, net.layout(), tensor_variances(a, net.layout()));
  CHECK((same - a).cwiseAbs().maxCoeff() <= 1e-6f * a.cwiseAbs().maxCoeff());

  Eigen::VectorXf zero = Eigen::VectorXf::Zero(a.size());
  correct_variance(zero, net.layout(), tensor_variances(a, net.layout()), CorrectionOptions{true});
  CHECK(zero.allFinite());
  CHECK(zero.isZero());
}
