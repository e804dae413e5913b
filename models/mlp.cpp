#include "models/mlp.hpp"

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>

namespace timely::models {

Layout::Layout(const Architecture& architecture) : architecture_(architecture) {
  const Architecture& a = architecture_;
  if (a.inputs <= 0) throw std::invalid_argument("models: the number of inputs must be positive");
  if (a.outputs <= 0) throw std::invalid_argument("models: the number of outputs must be positive");
  if (a.loss == Loss::softmax_cross_entropy && a.outputs < 2)
    throw std::invalid_argument("models: softmax cross-entropy needs at least 2 classes");
  std::vector<int> widths{a.inputs};
  for (int h : a.hidden) {
    if (h <= 0) throw std::invalid_argument("models: hidden layer widths must be positive");
    widths.push_back(h);
  }
  widths.push_back(a.outputs);
  for (std::size_t l = 1; l < widths.size(); ++l) {
    const int fan_in = widths[l - 1];
    const int fan_out = widths[l];
    const std::string index = std::to_string(l);
    tensors_.push_back({"W" + index, fan_out, fan_in, parameters_, false, fan_in, fan_out});
    parameters_ += tensors_.back().size();
    tensors_.push_back({"b" + index, fan_out, 1, parameters_, true, fan_in, fan_out});
    parameters_ += tensors_.back().size();
  }
}

std::size_t parameter_count(const Architecture& a) {
  // Each layer as the Layout lays it out: W (fan_out x fan_in), then b (fan_out).
  std::size_t parameters = 0, fan_in = static_cast<std::size_t>(a.inputs);
  for (int h : a.hidden) {
    const auto fan_out = static_cast<std::size_t>(h);
    parameters += fan_out * fan_in + fan_out;
    fan_in = fan_out;
  }
  const auto outputs = static_cast<std::size_t>(a.outputs);
  return parameters + outputs * fan_in + outputs;
}

void pin_product_blocking() {
  // Before any Network exists, so before any thread runs a model product: std::call_once
  // makes concurrent first callers wait until the sizes are set.
  static std::once_flag once;
  std::call_once(once, [] { Eigen::setCpuCacheSizes(48 * 1024, 1024 * 1024, 508 * 1024 * 1024); });
}

template <class Scalar>
Network<Scalar>::Network(const Architecture& architecture, int max_batch)
    : layout_(architecture), max_batch_(max_batch) {
  pin_product_blocking();
  if (max_batch <= 0) throw std::invalid_argument("models: max_batch must be positive");
  for (int l = 0; l < layout_.layers(); ++l) {
    const int units = layout_.weights(l).rows;
    activations_.emplace_back(units, max_batch);
    deltas_.emplace_back(units, max_batch);
  }
}

template <class Scalar>
void Network<Scalar>::initialize(Eigen::Ref<Vector> params, Init init, Rng& rng) const {
  if (static_cast<std::size_t>(params.size()) != layout_.parameters())
    throw std::invalid_argument("models: parameter vector has the wrong length");
  for (const Tensor& t : layout_.tensors()) {
    auto entries = params.segment(static_cast<Eigen::Index>(t.offset), static_cast<Eigen::Index>(t.size()));
    if (t.bias) {
      entries.setZero();
      continue;
    }
    // Glorot & Bengio (2010): Var = 2/(fan_in+fan_out); He et al. (2015): Var = 2/fan_in.
    const double variance = init == Init::xavier ? 2.0 / (t.fan_in + t.fan_out) : 2.0 / t.fan_in;
    boost::random::normal_distribution<double> normal(0.0, std::sqrt(variance));
    for (Eigen::Index i = 0; i < entries.size(); ++i) entries[i] = static_cast<Scalar>(normal(rng));
  }
}

template <class Scalar>
void Network<Scalar>::check(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x,
                            Loss loss) const {
  const Architecture& a = layout_.architecture();
  if (a.loss != loss)
    throw std::invalid_argument(loss == Loss::squared ? "models: targets given to a classification network"
                                                      : "models: labels given to a regression network");
  if (static_cast<std::size_t>(params.size()) != layout_.parameters())
    throw std::invalid_argument("models: parameter vector has the wrong length");
  if (x.rows() != a.inputs) throw std::invalid_argument("models: samples have the wrong number of features");
}

template <class Scalar>
typename Network<Scalar>::MatrixMap Network<Scalar>::forward(const Scalar* params,
                                                            const Eigen::Ref<const Matrix>& x) {
  const Eigen::Index batch = x.cols();
  const int layers = layout_.layers();
  const Activation activation = layout_.architecture().activation;
  for (int l = 0; l < layers; ++l) {
    const Tensor& w = layout_.weights(l);
    const Tensor& b = layout_.biases(l);
    const ConstMatrixMap weights(params + w.offset, w.rows, w.cols);
    const Eigen::Map<const Vector> biases(params + b.offset, b.rows);
    MatrixMap z(activations_[l].data(), w.rows, batch);
    if (l == 0) {
      z.noalias() = weights * x;
    } else {
      const MatrixMap previous(activations_[l - 1].data(), layout_.weights(l - 1).rows, batch);
      z.noalias() = weights * previous;
    }
    z.colwise() += biases;
    if (l + 1 == layers) return z;  // output: identity (regression) or logits (softmax)
    if (activation == Activation::relu)
      z = z.cwiseMax(Scalar(0));
    else
      z = z.array().tanh().matrix();
  }
  throw std::logic_error("models: network without layers");  // Layout guarantees one
}

template <class Scalar>
double Network<Scalar>::cross_entropy(const MatrixMap& logits, const Eigen::Ref<const Eigen::VectorXi>& labels,
                                      Scalar delta_scale, int* correct) {
  const int classes = static_cast<int>(logits.rows());
  MatrixMap delta(deltas_.back().data(), logits.rows(), logits.cols());
  double total = 0;
  for (Eigen::Index j = 0; j < logits.cols(); ++j) {
    const int label = labels[j];
    if (label < 0 || label >= classes) throw std::out_of_range("models: label outside [0, outputs)");
    // Stable softmax and log-sum-exp: subtract the column maximum before exponentiating.
    Eigen::Index argmax = 0;
    const Scalar m = logits.col(j).maxCoeff(&argmax);
    if (correct && argmax == label) ++*correct;
    auto e = delta.col(j);
    e = (logits.col(j).array() - m).exp().matrix();
    const Scalar sum = e.sum();
    total += static_cast<double>(std::log(sum) + m - logits(label, j));
    if (delta_scale != Scalar(0)) {
      e *= delta_scale / sum;  // delta_scale * p
      e[label] -= delta_scale;
    }
  }
  return total;
}

template <class Scalar>
template <bool Update>
void Network<Scalar>::backward(Scalar* params, const Eigen::Ref<const Matrix>& x, Scalar* grad, Scalar lr) {
  const Eigen::Index batch = x.cols();
  const Activation activation = layout_.architecture().activation;
  for (int l = layout_.layers() - 1; l >= 0; --l) {
    const Tensor& w = layout_.weights(l);
    const Tensor& b = layout_.biases(l);
    const MatrixMap delta(deltas_[l].data(), w.rows, batch);
    if (l > 0) {
      // The delta of the layer below, through this layer's weights as they were before the
      // step. The derivative of the activation is written in terms of its output a:
      // relu' = [a > 0], tanh' = 1 - a^2.
      const MatrixMap input(activations_[l - 1].data(), w.cols, batch);
      MatrixMap previous_delta(deltas_[l - 1].data(), w.cols, batch);
      previous_delta.noalias() = ConstMatrixMap(params + w.offset, w.rows, w.cols).transpose() * delta;
      if (activation == Activation::relu)
        previous_delta.array() = (input.array() > Scalar(0)).select(previous_delta.array(), Scalar(0));
      else
        previous_delta.array() *= Scalar(1) - input.array().square();
    }
    Scalar* out = Update ? params : grad;
    MatrixMap weights(out + w.offset, w.rows, w.cols);
    Eigen::Map<Vector> biases(out + b.offset, b.rows);
    const auto apply = [&](const auto& input) {
      if constexpr (Update) {
        biases.noalias() -= lr * delta.rowwise().sum();
        weights.noalias() -= lr * (delta * input.transpose());
      } else {
        biases.noalias() = delta.rowwise().sum();
        weights.noalias() = delta * input.transpose();
      }
    };
    if (l == 0) apply(x);
    else apply(MatrixMap(activations_[l - 1].data(), w.cols, batch));
  }
}

template <class Scalar>
double Network<Scalar>::output_delta(const Scalar* params, const Eigen::Ref<const Matrix>& x,
                                     const Eigen::Ref<const Eigen::VectorXi>& labels, bool delta) {
  const Eigen::Index batch = x.cols();
  if (batch <= 0 || batch > max_batch_) throw std::invalid_argument("models: batch size outside [1, max_batch]");
  if (labels.size() != batch) throw std::invalid_argument("models: one label per sample");
  const MatrixMap logits = forward(params, x);
  // Output delta of softmax + cross-entropy, averaged over the batch: (p - onehot)/B.
  return cross_entropy(logits, labels, delta ? Scalar(1) / static_cast<Scalar>(batch) : Scalar(0), nullptr);
}

template <class Scalar>
double Network<Scalar>::output_delta(const Scalar* params, const Eigen::Ref<const Matrix>& x,
                                     const Eigen::Ref<const Matrix>& targets, bool delta) {
  const Eigen::Index batch = x.cols();
  if (batch <= 0 || batch > max_batch_) throw std::invalid_argument("models: batch size outside [1, max_batch]");
  if (targets.cols() != batch || targets.rows() != layout_.architecture().outputs)
    throw std::invalid_argument("models: targets must be outputs x batch");
  const MatrixMap output = forward(params, x);
  MatrixMap residual(deltas_.back().data(), output.rows(), batch);
  residual.noalias() = output - targets;
  const double total = 0.5 * static_cast<double>(residual.squaredNorm());
  // d/df of (1/B) sum 0.5 ||f - y||^2 is (f - y)/B.
  if (delta) residual *= Scalar(1) / static_cast<Scalar>(batch);
  return total;
}

template <class Scalar>
Scalar Network<Scalar>::loss_gradient(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x,
                                      const Eigen::Ref<const Eigen::VectorXi>& labels, Vector* grad) {
  check(params, x, Loss::softmax_cross_entropy);
  const double total = output_delta(params.data(), x, labels, grad != nullptr);
  if (!grad) return static_cast<Scalar>(total / static_cast<double>(x.cols()));
  grad->resize(static_cast<Eigen::Index>(layout_.parameters()));
  backward<false>(const_cast<Scalar*>(params.data()), x, grad->data(), Scalar(0));  // reads params only
  return static_cast<Scalar>(total / static_cast<double>(x.cols()));
}

template <class Scalar>
Scalar Network<Scalar>::loss_gradient(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x,
                                      const Eigen::Ref<const Matrix>& targets, Vector* grad) {
  check(params, x, Loss::squared);
  const double total = output_delta(params.data(), x, targets, grad != nullptr);
  if (!grad) return static_cast<Scalar>(total / static_cast<double>(x.cols()));
  grad->resize(static_cast<Eigen::Index>(layout_.parameters()));
  backward<false>(const_cast<Scalar*>(params.data()), x, grad->data(), Scalar(0));  // reads params only
  return static_cast<Scalar>(total / static_cast<double>(x.cols()));
}

template <class Scalar>
Scalar Network<Scalar>::sgd_step(Eigen::Ref<Vector> params, const Eigen::Ref<const Matrix>& x,
                                 const Eigen::Ref<const Eigen::VectorXi>& labels, Scalar lr) {
  check(params, x, Loss::softmax_cross_entropy);
  const double total = output_delta(params.data(), x, labels, true);
  backward<true>(params.data(), x, nullptr, lr);
  return static_cast<Scalar>(total / static_cast<double>(x.cols()));
}

template <class Scalar>
Scalar Network<Scalar>::sgd_step(Eigen::Ref<Vector> params, const Eigen::Ref<const Matrix>& x,
                                 const Eigen::Ref<const Matrix>& targets, Scalar lr) {
  check(params, x, Loss::squared);
  const double total = output_delta(params.data(), x, targets, true);
  backward<true>(params.data(), x, nullptr, lr);
  return static_cast<Scalar>(total / static_cast<double>(x.cols()));
}

namespace {

// log-sum-exp of one column of logits, in double: the maximum subtracted before exponentiating.
template <class Column>
double log_sum_exp(const Column& logits) {
  const double m = static_cast<double>(logits.maxCoeff());
  double sum = 0.0;
  for (Eigen::Index c = 0; c < logits.size(); ++c) sum += std::exp(static_cast<double>(logits[c]) - m);
  return m + std::log(sum);
}

}  // namespace

template <class Scalar>
void Network<Scalar>::log_policy(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x,
                                 Eigen::Ref<Eigen::MatrixXd> out) {
  check(params, x, Loss::softmax_cross_entropy);
  const Eigen::Index n = x.cols(), classes = layout_.architecture().outputs;
  if (out.rows() != classes || out.cols() != n) throw std::invalid_argument("models: log_policy's output must be classes x samples");
  for (Eigen::Index start = 0; start < n; start += max_batch_) {
    const Eigen::Index count = std::min<Eigen::Index>(max_batch_, n - start);
    const MatrixMap logits = forward(params.data(), x.middleCols(start, count));
    for (Eigen::Index j = 0; j < count; ++j) {
      const double lse = log_sum_exp(logits.col(j));
      for (Eigen::Index c = 0; c < classes; ++c) out(c, start + j) = static_cast<double>(logits(c, j)) - lse;
    }
  }
}

template <class Scalar>
typename Network<Scalar>::PolicyStep Network<Scalar>::policy_step(Eigen::Ref<Vector> params,
                                                                   const Eigen::Ref<const Matrix>& x,
                                                                   const PolicyBatch& batch, double clip_low,
                                                                   double clip_high, Scalar lr) {
  check(params, x, Loss::softmax_cross_entropy);
  const Eigen::Index questions = x.cols(), group = batch.answers.rows();
  const int classes = layout_.architecture().outputs;
  if (questions <= 0 || questions > max_batch_) throw std::invalid_argument("models: batch size outside [1, max_batch]");
  if (group <= 0 || batch.answers.cols() != questions || batch.old_log_probs.rows() != group ||
      batch.old_log_probs.cols() != questions || batch.advantages.rows() != group || batch.advantages.cols() != questions)
    throw std::invalid_argument("models: answers, old log-probabilities and advantages must be G x questions");
  const MatrixMap logits = forward(params.data(), x);
  MatrixMap delta(deltas_.back().data(), classes, questions);
  const double norm = 1.0 / static_cast<double>(group * questions);
  PolicyStep out{0.0, 0};
  for (Eigen::Index j = 0; j < questions; ++j) {
    const double lse = log_sum_exp(logits.col(j));
    // delta_j = d(-J)/d(logits_j) = sum_i w_i (p - e_{a_i}), w_i = A_i rho_i / N where unclipped.
    double weight_sum = 0.0;
    auto d = delta.col(j);
    d.setZero();
    for (Eigen::Index i = 0; i < group; ++i) {
      const int a = batch.answers(i, j);
      if (a < 0 || a >= classes) throw std::out_of_range("models: answer outside [0, outputs)");
      const double advantage = batch.advantages(i, j);
      const double rho = std::exp(static_cast<double>(logits(a, j)) - lse - batch.old_log_probs(i, j));
      const double clipped = std::clamp(rho, 1.0 - clip_low, 1.0 + clip_high);
      out.objective += std::min(rho * advantage, clipped * advantage) * norm;
      if ((advantage > 0.0 && rho > 1.0 + clip_high) || (advantage < 0.0 && rho < 1.0 - clip_low)) {
        ++out.clipped;
        continue;
      }
      const double w = advantage * rho * norm;
      weight_sum += w;
      d[a] -= static_cast<Scalar>(w);
    }
    for (int c = 0; c < classes; ++c)
      d[c] += static_cast<Scalar>(weight_sum * std::exp(static_cast<double>(logits(c, j)) - lse));
  }
  backward<true>(params.data(), x, nullptr, lr);
  return out;
}

template <class Scalar>
typename Network<Scalar>::Evaluation Network<Scalar>::evaluate(const Eigen::Ref<const Vector>& params,
                                                               const Eigen::Ref<const Matrix>& x,
                                                               const Eigen::Ref<const Eigen::VectorXi>& labels) {
  check(params, x, Loss::softmax_cross_entropy);
  const Eigen::Index n = x.cols();
  if (n <= 0) throw std::invalid_argument("models: nothing to evaluate");
  if (labels.size() != n) throw std::invalid_argument("models: one label per sample");
  double total = 0;
  int correct = 0;
  for (Eigen::Index start = 0; start < n; start += max_batch_) {
    const Eigen::Index count = std::min<Eigen::Index>(max_batch_, n - start);
    const auto chunk = x.middleCols(start, count);
    const MatrixMap logits = forward(params.data(), chunk);
    total += cross_entropy(logits, labels.segment(start, count), Scalar(0), &correct);
  }
  return {total / static_cast<double>(n), static_cast<double>(correct) / static_cast<double>(n)};
}

template <class Scalar>
double Network<Scalar>::evaluate_squared(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x,
                                         const Eigen::Ref<const Matrix>& targets) {
  check(params, x, Loss::squared);
  const Eigen::Index n = x.cols();
  if (n <= 0) throw std::invalid_argument("models: nothing to evaluate");
  if (targets.cols() != n || targets.rows() != layout_.architecture().outputs)
    throw std::invalid_argument("models: targets must be outputs x samples");
  double total = 0;
  for (Eigen::Index start = 0; start < n; start += max_batch_) {
    const Eigen::Index count = std::min<Eigen::Index>(max_batch_, n - start);
    const MatrixMap output = forward(params.data(), x.middleCols(start, count));
    total += 0.5 * static_cast<double>((output - targets.middleCols(start, count)).squaredNorm());
  }
  return total / static_cast<double>(n);
}

template <class Scalar>
double tensor_mean(const Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>& params, const Tensor& tensor) {
  const auto entries =
      params.segment(static_cast<Eigen::Index>(tensor.offset), static_cast<Eigen::Index>(tensor.size()));
  return entries.template cast<double>().mean();
}

template <class Scalar>
double tensor_variance(const Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>& params,
                       const Tensor& tensor) {
  // Two passes (mean, then squared deviations) in double: no cancellation.
  const auto entries =
      params.segment(static_cast<Eigen::Index>(tensor.offset), static_cast<Eigen::Index>(tensor.size()));
  const double mean = entries.template cast<double>().mean();
  return (entries.template cast<double>().array() - mean).square().mean();
}

template class Network<float>;
template class Network<double>;
template double tensor_mean<float>(const Eigen::Ref<const Eigen::VectorXf>&, const Tensor&);
template double tensor_mean<double>(const Eigen::Ref<const Eigen::VectorXd>&, const Tensor&);
template double tensor_variance<float>(const Eigen::Ref<const Eigen::VectorXf>&, const Tensor&);
template double tensor_variance<double>(const Eigen::Ref<const Eigen::VectorXd>&, const Tensor&);

}  // namespace timely::models
