// The flat-parameter networks of models/mlp.hpp: layout, exact gradients (against
// central finite differences), initialisation variances (docs/model.md §3.9) and training sanity.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "models/mlp.hpp"

namespace {

using namespace timely::models;
using VectorD = Eigen::VectorXd;
using MatrixD = Eigen::MatrixXd;

MatrixD gaussian_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  boost::random::normal_distribution<double> normal;
  MatrixD m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = normal(rng);
  return m;
}

Eigen::VectorXi random_labels(Eigen::Index n, int classes, Rng& rng) {
  boost::random::uniform_int_distribution<int> pick(0, classes - 1);
  Eigen::VectorXi labels(n);
  for (Eigen::Index i = 0; i < n; ++i) labels[i] = pick(rng);
  return labels;
}

// Central differences (f(p + h e_i) - f(p - h e_i)) / 2h: truncation error O(h^2 f'''),
// rounding error O(eps |f| / h); with h = 1e-6 both are far below the 1e-6 tolerance.
template <class LossOf>
void require_gradient_matches_finite_differences(const VectorD& params, const VectorD& grad, LossOf loss_of) {
  const double h = 1e-6;
  VectorD p = params;
  for (Eigen::Index i = 0; i < p.size(); ++i) {
    p[i] = params[i] + h;
    const double up = loss_of(p);
    p[i] = params[i] - h;
    const double down = loss_of(p);
    p[i] = params[i];
    const double fd = (up - down) / (2 * h);
    INFO("coordinate " << i << ": gradient " << grad[i] << ", finite difference " << fd);
    CHECK(std::abs(grad[i] - fd) <= 1e-6 * std::max(1.0, std::abs(grad[i])));
  }
}

// Classification gradient check on a batch of 6 random samples, random Xavier parameters
// plus random biases (so the bias gradients are not checked at the trivial point only).
void check_classification_gradient(const Architecture& a, std::uint64_t seed) {
  const int batch = 6;
  Network<double> net(a, batch);
  Rng rng(seed);
  VectorD params(net.layout().parameters());
  net.initialize(params, Init::xavier, rng);
  for (const Tensor& t : net.layout().tensors())
    if (t.bias) params.segment(t.offset, t.size()) = 0.1 * gaussian_matrix(t.size(), 1, rng);
  const MatrixD x = gaussian_matrix(a.inputs, batch, rng);
  const Eigen::VectorXi labels = random_labels(batch, a.outputs, rng);
  VectorD grad;
  net.loss_gradient(params, x, labels, &grad);
  REQUIRE(grad.size() == static_cast<Eigen::Index>(net.layout().parameters()));
  require_gradient_matches_finite_differences(
      params, grad, [&](const VectorD& p) { return net.loss_gradient(p, x, labels, nullptr); });
}

}  // namespace

TEST_CASE("Layout of a 784-128-64-10 network: shapes, contiguous offsets, total size", "[models]") {
  Architecture a;
  a.inputs = 784;
  a.hidden = {128, 64};
  a.outputs = 10;
  const Layout layout(a);
  const auto& t = layout.tensors();
  REQUIRE(t.size() == 6);
  const std::vector<std::string> names{"W1", "b1", "W2", "b2", "W3", "b3"};
  const std::vector<std::pair<int, int>> shapes{{128, 784}, {128, 1}, {64, 128}, {64, 1}, {10, 64}, {10, 1}};
  const std::vector<std::pair<int, int>> fans{{784, 128}, {784, 128}, {128, 64}, {128, 64}, {64, 10}, {64, 10}};
  std::size_t offset = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    CHECK(t[i].name == names[i]);
    CHECK(t[i].rows == shapes[i].first);
    CHECK(t[i].cols == shapes[i].second);
    CHECK(t[i].bias == (i % 2 == 1));
    CHECK(t[i].fan_in == fans[i].first);
    CHECK(t[i].fan_out == fans[i].second);
    CHECK(t[i].offset == offset);
    offset += t[i].size();
  }
  CHECK(layout.parameters() == offset);
  CHECK(layout.parameters() == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10);
}

TEST_CASE("parameter_count is the Layout's length without building it", "[models]") {
  // The cost estimates (sim/cost.hpp) size a model with it before anything is allocated.
  const std::vector<std::pair<int, std::vector<int>>> shapes{{784, {128, 64}}, {20, {}}, {3, {1}}, {100000, {7, 5, 3}}};
  for (const auto& [inputs, hidden] : shapes)
    for (const int outputs : {1, 2, 10}) {
      Architecture a;
      a.inputs = inputs;
      a.hidden = hidden;
      a.outputs = outputs;
      a.loss = outputs == 1 ? Loss::squared : Loss::softmax_cross_entropy;
      CHECK(parameter_count(a) == Layout(a).parameters());
    }
}

TEST_CASE("Layout rejects empty layers and one-class softmax", "[models]") {
  Architecture a;
  a.inputs = 4;
  a.outputs = 1;
  CHECK_THROWS_AS(Layout(a), std::invalid_argument);  // softmax needs two classes
  a.loss = Loss::squared;
  CHECK_NOTHROW(Layout(a));
  a.hidden = {0};
  CHECK_THROWS_AS(Layout(a), std::invalid_argument);
}

TEST_CASE("Linear regression gradient equals central finite differences", "[models]") {
  Architecture a;
  a.inputs = 5;
  a.outputs = 3;
  a.loss = Loss::squared;
  const int batch = 6;
  Network<double> net(a, batch);
  Rng rng(11);
  VectorD params(net.layout().parameters());
  net.initialize(params, Init::xavier, rng);
  params.tail(3) = gaussian_matrix(3, 1, rng);
  const MatrixD x = gaussian_matrix(a.inputs, batch, rng);
  const MatrixD y = gaussian_matrix(a.outputs, batch, rng);
  VectorD grad;
  const double loss = net.loss_gradient(params, x, y, &grad);
  // The loss is the definition: mean over samples of 0.5 ||W x + b - y||^2.
  const Eigen::Map<const MatrixD> w(params.data(), 3, 5);
  const MatrixD residual = (w * x).colwise() + params.tail(3) - y;
  CHECK(loss == Approx(0.5 * residual.squaredNorm() / batch).epsilon(1e-12));
  require_gradient_matches_finite_differences(
      params, grad, [&](const VectorD& p) { return net.loss_gradient(p, x, y, nullptr); });
}

TEST_CASE("Logistic regression (softmax cross-entropy) gradient equals central finite differences", "[models]") {
  Architecture a;
  a.inputs = 5;
  a.outputs = 3;
  check_classification_gradient(a, 12);
}

TEST_CASE("MLP gradient with ReLU equals central finite differences", "[models]") {
  // A ReLU kink within h of a pre-activation would show as an isolated failing coordinate;
  // with this seed no pre-activation is that close to 0.
  Architecture a;
  a.inputs = 5;
  a.hidden = {7, 4};
  a.outputs = 3;
  a.activation = Activation::relu;
  check_classification_gradient(a, 13);
}

TEST_CASE("MLP gradient with tanh equals central finite differences", "[models]") {
  Architecture a;
  a.inputs = 5;
  a.hidden = {7, 4};
  a.outputs = 3;
  a.activation = Activation::tanh;
  check_classification_gradient(a, 14);
}

TEST_CASE("MLP regression (squared loss through hidden layers) gradient equals finite differences", "[models]") {
  Architecture a;
  a.inputs = 5;
  a.hidden = {7, 4};
  a.outputs = 2;
  a.activation = Activation::tanh;
  a.loss = Loss::squared;
  Network<double> net(a, 6);
  Rng rng(15);
  VectorD params(net.layout().parameters());
  net.initialize(params, Init::he, rng);
  const MatrixD x = gaussian_matrix(a.inputs, 6, rng);
  const MatrixD y = gaussian_matrix(a.outputs, 6, rng);
  VectorD grad;
  net.loss_gradient(params, x, y, &grad);
  require_gradient_matches_finite_differences(
      params, grad, [&](const VectorD& p) { return net.loss_gradient(p, x, y, nullptr); });
}

TEST_CASE("Softmax cross-entropy stays finite for huge logits", "[models]") {
  // Without subtracting the column maximum, exp(1000) overflows to inf.
  Architecture a;
  a.inputs = 1;
  a.outputs = 2;
  Network<double> net(a, 1);
  VectorD params(4);
  params << 1000, -1000, 0, 0;  // logits (1000, -1000) for x = 1
  const MatrixD x = MatrixD::Ones(1, 1);
  VectorD grad;
  CHECK(net.loss_gradient(params, x, Eigen::VectorXi::Constant(1, 0), &grad) == Approx(0.0).margin(1e-300));
  CHECK(net.loss_gradient(params, x, Eigen::VectorXi::Constant(1, 1), &grad) == Approx(2000.0));
  CHECK(grad.allFinite());
}

TEST_CASE("Float and double networks agree on the loss to 1e-5 relative", "[models]") {
  Architecture a;
  a.inputs = 20;
  a.hidden = {16, 8};
  a.outputs = 4;
  a.activation = Activation::tanh;
  Network<double> net_d(a, 32);
  Network<float> net_f(a, 32);
  Rng rng(21);
  VectorD params(net_d.layout().parameters());
  net_d.initialize(params, Init::xavier, rng);
  const MatrixD x = gaussian_matrix(a.inputs, 32, rng);
  const Eigen::VectorXi labels = random_labels(32, a.outputs, rng);
  const double loss_d = net_d.loss_gradient(params, x, labels, nullptr);
  const Eigen::VectorXf params_f = params.cast<float>();
  const Eigen::MatrixXf x_f = x.cast<float>();
  const float loss_f = net_f.loss_gradient(params_f, x_f, labels, nullptr);
  CHECK(loss_f == Approx(loss_d).epsilon(1e-5));
  // The same engine state gives the same initial model in both precisions.
  Rng r1(5), r2(5);
  VectorD p_d(params.size());
  Eigen::VectorXf p_f(params.size());
  net_d.initialize(p_d, Init::he, r1);
  net_f.initialize(p_f, Init::he, r2);
  CHECK((p_d.cast<float>() - p_f).cwiseAbs().maxCoeff() == 0.0f);
}

// The sample variance of N iid normals has relative standard deviation sqrt(2/(N-1))
// (chi-square with N-1 degrees of freedom); 4 sd bounds a false failure by about 6e-5.
// tensor_variance divides by N, so its expectation is (N-1)/N of the true variance.
static void require_variance(double sample, double truth, std::size_t n) {
  const double expected = truth * static_cast<double>(n - 1) / static_cast<double>(n);
  const double bound = 4 * std::sqrt(2.0 / static_cast<double>(n - 1));
  INFO("sample variance " << sample << ", expected " << expected << ", relative bound " << bound);
  CHECK(std::abs(sample / expected - 1) <= bound);
}

TEST_CASE("Xavier initialisation has weight variance 2/(fan_in+fan_out) and zero biases", "[models]") {
  Architecture a;
  a.inputs = 512;
  a.outputs = 256;  // W1 is 256 x 512
  Network<double> net(a, 1);
  Rng rng(31);
  VectorD params(net.layout().parameters());
  net.initialize(params, Init::xavier, rng);
  const Tensor& w = net.layout().weights(0);
  REQUIRE(w.size() == 256 * 512);
  require_variance(tensor_variance<double>(params, w), 2.0 / (256 + 512), w.size());
  CHECK(std::abs(tensor_mean<double>(params, w)) <= 4 * std::sqrt(2.0 / (256 + 512) / w.size()));
  CHECK(params.segment(net.layout().biases(0).offset, 256).isZero(0.0));
}

TEST_CASE("He initialisation has weight variance 2/fan_in and zero biases", "[models]") {
  Architecture a;
  a.inputs = 512;
  a.outputs = 256;
  Network<float> net(a, 1);
  Rng rng(32);
  Eigen::VectorXf params(net.layout().parameters());
  net.initialize(params, Init::he, rng);
  const Tensor& w = net.layout().weights(0);
  require_variance(tensor_variance<float>(params, w), 2.0 / 512, w.size());
  CHECK(params.segment(net.layout().biases(0).offset, 256).isZero(0.0f));
}

TEST_CASE("Averaging k independent Xavier models divides each weight tensor's variance by k (docs/model.md, section 3.9)",
          "[models]") {
  // Each entry of the average of k independent N(0, s^2) models is N(0, s^2/k), and the
  // entries stay independent, so the averaged tensor's sample variance obeys the same
  // chi-square bound as a fresh tensor, around s^2/k with s^2 = 2/(fan_in+fan_out).
  Architecture a;
  a.inputs = 784;
  a.hidden = {128, 64};
  a.outputs = 10;
  Network<double> net(a, 1);
  for (int k : {4, 16}) {
    VectorD sum = VectorD::Zero(net.layout().parameters());
    VectorD model(net.layout().parameters());
    for (int i = 0; i < k; ++i) {
      Rng rng(1000 + 100 * k + i);
      net.initialize(model, Init::xavier, rng);
      sum += model;
    }
    const VectorD average = sum / k;
    for (int l = 0; l < net.layout().layers(); ++l) {
      const Tensor& w = net.layout().weights(l);
      INFO("k = " << k << ", tensor " << w.name);
      require_variance(tensor_variance<double>(average, w), 2.0 / (w.fan_in + w.fan_out) / k, w.size());
    }
  }
}

TEST_CASE("SGD on a linearly separable two-class problem reaches training accuracy 1", "[models]") {
  // Labels by the side of the line 2 x0 - x1 = 0.3; points within 0.2 of it are dropped, so
  // the classes are separated by a margin and logistic regression can classify all.
  Rng rng(41);
  boost::random::normal_distribution<double> normal;
  const int n = 200;
  MatrixD x(2, n);
  Eigen::VectorXi labels(n);
  for (int i = 0; i < n;) {
    const double x0 = normal(rng), x1 = normal(rng);
    const double side = (2 * x0 - x1 - 0.3) / std::sqrt(5.0);
    if (std::abs(side) < 0.2) continue;
    x(0, i) = x0;
    x(1, i) = x1;
    labels[i] = side > 0 ? 1 : 0;
    ++i;
  }
  Architecture a;
  a.inputs = 2;
  a.outputs = 2;
  const int batch = 20;
  Network<double> net(a, batch);
  VectorD params(net.layout().parameters());
  net.initialize(params, Init::xavier, rng);
  const double before = net.evaluate(params, x, labels).loss;
  VectorD grad;
  for (int step = 0; step < 3000; ++step) {
    const int start = (step % (n / batch)) * batch;
    net.loss_gradient(params, x.middleCols(start, batch), labels.segment(start, batch), &grad);
    params -= 1.0 * grad;
  }
  const auto result = net.evaluate(params, x, labels);
  CHECK(result.accuracy == 1.0);
  CHECK(result.loss < before);
}

TEST_CASE("SGD on noise-free linear regression converges to theta* within 1e-3", "[models]") {
  Architecture a;
  a.inputs = 3;
  a.outputs = 2;
  a.loss = Loss::squared;
  const int batch = 16;
  Network<double> net(a, batch);
  Rng rng(51);
  VectorD theta_star(net.layout().parameters());  // W* (2 x 3) then b* (2)
  theta_star << 1.5, -0.5, 2.0, 0.25, -1.0, 0.75, 0.3, -2.0;
  const Eigen::Map<const MatrixD> w_star(theta_star.data(), 2, 3);
  VectorD params(theta_star.size());
  net.initialize(params, Init::xavier, rng);
  VectorD grad;
  for (int step = 0; step < 2000; ++step) {
    const MatrixD x = gaussian_matrix(3, batch, rng);
    const MatrixD y = (w_star * x).colwise() + theta_star.tail(2);
    net.loss_gradient(params, x, y, &grad);
    params -= 0.1 * grad;
  }
  CHECK((params - theta_star).cwiseAbs().maxCoeff() < 1e-3);
  const MatrixD x = gaussian_matrix(3, 100, rng);
  const MatrixD y = (w_star * x).colwise() + theta_star.tail(2);
  CHECK(net.evaluate_squared(params, x, y) < 1e-6);
}

TEST_CASE("Evaluation in chunks of max_batch equals the mean of per-sample losses", "[models]") {
  Architecture a;
  a.inputs = 6;
  a.hidden = {5};
  a.outputs = 3;
  const int max_batch = 4;
  Network<double> net(a, max_batch);
  Rng rng(61);
  VectorD params(net.layout().parameters());
  net.initialize(params, Init::he, rng);
  const int n = 10;  // two full chunks and a partial one
  const MatrixD x = gaussian_matrix(a.inputs, n, rng);
  const Eigen::VectorXi labels = random_labels(n, a.outputs, rng);
  double total = 0;
  int correct = 0;
  for (int i = 0; i < n; ++i) {
    total += net.loss_gradient(params, x.col(i), labels.segment(i, 1), nullptr);
    // Recompute the argmax by hand from the definition of the forward pass.
    const Tensor& w1 = net.layout().weights(0);
    const Tensor& w2 = net.layout().weights(1);
    const Eigen::VectorXd h = (Eigen::Map<const MatrixD>(params.data() + w1.offset, 5, 6) * x.col(i) +
                               params.segment(net.layout().biases(0).offset, 5))
                                  .cwiseMax(0.0);
    const Eigen::VectorXd z = Eigen::Map<const MatrixD>(params.data() + w2.offset, 3, 5) * h +
                              params.segment(net.layout().biases(1).offset, 3);
    Eigen::Index argmax;
    z.maxCoeff(&argmax);
    correct += argmax == labels[i];
  }
  const auto result = net.evaluate(params, x, labels);
  CHECK(result.loss == Approx(total / n).epsilon(1e-12));
  CHECK(result.accuracy == Approx(static_cast<double>(correct) / n));
}

TEST_CASE("loss_gradient without a gradient returns the same loss and leaves the parameters alone", "[models]") {
  Architecture a;
  a.inputs = 5;
  a.hidden = {7};
  a.outputs = 3;
  Network<double> net(a, 8);
  Rng rng(71);
  VectorD params(net.layout().parameters());
  net.initialize(params, Init::xavier, rng);
  const VectorD original = params;
  const MatrixD x = gaussian_matrix(a.inputs, 8, rng);
  const Eigen::VectorXi labels = random_labels(8, a.outputs, rng);
  VectorD grad;
  const double with_gradient = net.loss_gradient(params, x, labels, &grad);
  const VectorD grad_before = grad;
  const double without = net.loss_gradient(params, x, labels, nullptr);
  CHECK(without == with_gradient);  // bit-identical: the same forward pass
  CHECK(params == original);
  CHECK(grad == grad_before);
}

TEST_CASE("loss_gradient rejects mismatched inputs", "[models]") {
  Architecture a;
  a.inputs = 3;
  a.outputs = 2;
  Network<double> net(a, 4);
  const VectorD params = VectorD::Zero(net.layout().parameters());
  CHECK_THROWS_AS(net.loss_gradient(params, MatrixD::Zero(3, 5), Eigen::VectorXi::Zero(5), nullptr),
                  std::invalid_argument);  // batch above max_batch
  CHECK_THROWS_AS(net.loss_gradient(params, MatrixD::Zero(4, 2), Eigen::VectorXi::Zero(2), nullptr),
                  std::invalid_argument);  // wrong number of features
  CHECK_THROWS_AS(net.loss_gradient(params, MatrixD::Zero(3, 2), Eigen::VectorXi::Constant(2, 2), nullptr),
                  std::out_of_range);  // label outside [0, outputs)
  CHECK_THROWS_AS(net.loss_gradient(params, MatrixD::Zero(3, 2), MatrixD::Zero(2, 2), nullptr),
                  std::invalid_argument);  // targets for a classification network
}

namespace {

// sgd_step against the two-pass step it replaces: gradient, then params -= lr * grad. Float,
// as in training. On a 16-byte-aligned parameter vector the same bits are required
// (Network::sgd_step), except in a native build, where FMA rounds the fused update once.
// `column` > 0 steps column `column` of a parameter matrix instead, as training does: with
// an odd row count that column starts unaligned, and Eigen may sum bias rows in another
// order, so there the steps must agree to float rounding only.
template <class Targets>
void require_sgd_step_is_two_pass_step(const Architecture& a, int batch, std::uint64_t seed, const Targets& make_targets,
                                       Eigen::Index column = 0) {
  using VectorF = Eigen::VectorXf;
  using MatrixF = Eigen::MatrixXf;
  Network<float> net(a, batch);
  Rng rng(seed);
  MatrixF matrix(static_cast<Eigen::Index>(net.layout().parameters()), column + 1);
  auto params = matrix.col(column);
  net.initialize(params, Init::xavier, rng);
  boost::random::normal_distribution<float> normal;
  MatrixF x(a.inputs, batch);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = normal(rng);
  const auto targets = make_targets(rng);
  const float lr = 0.1f;
  for (int step = 0; step < 3; ++step) {
    VectorF two_pass = params, grad;
    const float loss_before = net.loss_gradient(two_pass, x, targets, &grad);
    two_pass -= lr * grad;
    const float loss = net.sgd_step(params, x, targets, lr);
    CHECK(std::bit_cast<std::uint32_t>(loss) == std::bit_cast<std::uint32_t>(loss_before));
    REQUIRE(params.size() == two_pass.size());
    bool bits = column == 0;
#ifdef TIMELY_NATIVE
    // FMA: the fused update rounds r + (-lr) acc once, the two-pass step twice.
    if (bits) WARN("native build (FMA): sgd_step compared with the two-pass step to float rounding, not bits");
    bits = false;
#endif
    if (bits)
      CHECK(std::equal(params.data(), params.data() + params.size(), two_pass.data(),
                       [](float p, float q) { return std::bit_cast<std::uint32_t>(p) == std::bit_cast<std::uint32_t>(q); }));
    else
      CHECK(((params - two_pass).cwiseAbs().array() <= 1e-6f * (1.0f + two_pass.cwiseAbs().array())).all());
  }
}

}  // namespace

TEST_CASE("sgd_step is the gradient step it fuses: bit for bit on aligned vectors", "[models]") {
  const auto labels = [](int batch, int classes) {
    return [=](Rng& rng) {
      Eigen::VectorXi y(batch);
      boost::random::uniform_int_distribution<int> label(0, classes - 1);
      for (int k = 0; k < batch; ++k) y[k] = label(rng);
      return y;
    };
  };
  SECTION("logistic regression, Fashion-MNIST's shape (GEMM products)") {
    require_sgd_step_is_two_pass_step({784, {}, 10, Activation::relu, Loss::softmax_cross_entropy}, 32, 1, labels(32, 10));
  }
  SECTION("ReLU MLP, 784-128-64-10") {
    require_sgd_step_is_two_pass_step({784, {128, 64}, 10, Activation::relu, Loss::softmax_cross_entropy}, 32, 2,
                                      labels(32, 10));
  }
  SECTION("tanh MLP, small (coefficient-wise products)") {
    require_sgd_step_is_two_pass_step({6, {5}, 3, Activation::tanh, Loss::softmax_cross_entropy}, 8, 3, labels(8, 3));
  }
  SECTION("an unaligned user column of a parameter matrix (odd length), as in training") {
    require_sgd_step_is_two_pass_step({9, {13}, 12, Activation::relu, Loss::softmax_cross_entropy}, 32, 5, labels(32, 12), 1);
  }
  SECTION("regression through a hidden layer") {
    require_sgd_step_is_two_pass_step({7, {9}, 2, Activation::relu, Loss::squared}, 16, 4, [](Rng& rng) {
      Eigen::MatrixXf y(2, 16);
      boost::random::normal_distribution<float> normal;
      for (Eigen::Index k = 0; k < y.size(); ++k) y.data()[k] = normal(rng);
      return y;
    });
  }
}
