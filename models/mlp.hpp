#pragma once
// Feed-forward networks whose parameters live in one flat vector (docs/model.md §4).
//
// One class covers the three model kinds:
//   linear least-squares regression = no hidden layer, identity output, Loss::squared;
//   multinomial logistic regression = no hidden layer, Loss::softmax_cross_entropy;
//   multilayer perceptron           = hidden layers (ReLU or tanh), softmax cross-entropy.
// The parameters of one model are ONE contiguous vector, so gossip averaging is a vector
// operation and a user costs exactly one vector; a Layout says where each tensor lies in it.
// A Network holds no parameters, only the scratch (activations, deltas) for one batch: a
// worker thread owns one Network and applies it to the parameter vectors of many users.
// Depends on nothing of timely's.

#include <Eigen/Core>
#include <boost/random/mersenne_twister.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "models/kinds.hpp"

namespace timely::models {

// Boost.Random rather than <random>: Boost's distributions give the same draws on every
// platform and standard library, which bit-identical results need.
using Rng = boost::random::mt19937_64;

enum class Loss { squared, softmax_cross_entropy };  // Activation and Init: models/kinds.hpp

struct Architecture {
  int inputs = 0;
  std::vector<int> hidden;  // empty: linear or logistic model
  int outputs = 0;          // regression targets or classes
  Activation activation = Activation::relu;
  Loss loss = Loss::softmax_cross_entropy;
};

// One weight matrix or bias vector inside the flat parameter vector.
struct Tensor {
  std::string name;    // "W1", "b1", "W2", ...
  int rows = 0;        // W_l is (fan_out x fan_in), column-major; b_l is (fan_out x 1)
  int cols = 0;
  std::size_t offset = 0;  // into the parameter vector
  bool bias = false;
  int fan_in = 0;  // of the layer the tensor belongs to (biases too)
  int fan_out = 0;
  std::size_t size() const { return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols); }
};

// The length of a model's parameter vector, Layout(architecture).parameters(), without
// building the layout or checking the sizes: for estimates before anything is allocated.
std::size_t parameter_count(const Architecture& architecture);

// Tensors in the order W1, b1, W2, b2, ..., contiguous from offset 0.
class Layout {
 public:
  // Throws std::invalid_argument for non-positive sizes, or fewer than 2 classes with softmax.
  explicit Layout(const Architecture& architecture);
  const std::vector<Tensor>& tensors() const { return tensors_; }
  std::size_t parameters() const { return parameters_; }  // total length
  const Architecture& architecture() const { return architecture_; }
  int layers() const { return static_cast<int>(tensors_.size() / 2); }
  const Tensor& weights(int layer) const { return tensors_[2 * static_cast<std::size_t>(layer)]; }  // layer in [0, layers())
  const Tensor& biases(int layer) const { return tensors_[2 * static_cast<std::size_t>(layer) + 1]; }

 private:
  Architecture architecture_;
  std::vector<Tensor> tensors_;
  std::size_t parameters_ = 0;
};

// Pins the cache sizes from which Eigen chooses its matrix-product blocking. Eigen reads
// them from the CPU at run time, and the blocking decides how long dot products are split
// and summed, hence the last bits of every model. With them pinned (to the development
// machine's 48 KiB L1, 1 MiB L2 and 508 MiB L3, where the pinned golden and study results
// were computed), a build gives the same bits on every machine of its instruction set.
// Called by every Network constructor (once per process); safe to call more often.
void pin_product_blocking();

// Explicitly instantiated for float and double in mlp.cpp. Not thread-safe: the scratch
// is per object; copy the Network for each thread.
template <class Scalar>
class Network {
 public:
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  // column-major; samples are COLUMNS

  struct Evaluation {
    double loss;      // mean over samples
    double accuracy;  // fraction of samples whose argmax output equals the label
  };

  // Allocates all scratch for up to max_batch samples: loss, gradient and evaluation calls
  // allocate nothing themselves (except resizing *grad on first use). Eigen's GEMM still
  // heap-allocates its packing buffer when a panel exceeds EIGEN_STACK_ALLOCATION_LIMIT
  // (128 KiB; e.g. the 128 x 784 first layer of an MLP in float), which malloc serves from
  // its free lists after the first call.
  Network(const Architecture& architecture, int max_batch);

  const Layout& layout() const { return layout_; }
  int max_batch() const { return max_batch_; }

  // Weights ~ N(0, 2/(fan_in+fan_out)) for Init::xavier (Glorot & Bengio 2010) or
  // N(0, 2/fan_in) for Init::he (He et al. 2015); biases 0. Draws in double and rounds, so
  // float and double models from the same engine state agree.
  void initialize(Eigen::Ref<Vector> params, Init init, Rng& rng) const;

  // Mean loss over the batch (the columns of x, at most max_batch) and, if grad is not null,
  // its gradient with respect to params (overwritten; resized if needed).
  // Classification (Loss::softmax_cross_entropy): labels[k] in [0, outputs).
  Scalar loss_gradient(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x,
                       const Eigen::Ref<const Eigen::VectorXi>& labels, Vector* grad);
  // Regression (Loss::squared): targets is outputs x B; loss = mean over samples of
  // 0.5 * ||f(x) - y||^2.
  Scalar loss_gradient(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x,
                       const Eigen::Ref<const Matrix>& targets, Vector* grad);

  // One plain SGD step, params -= lr * gradient of the batch's mean loss, applied layer by
  // layer as backpropagation reaches it, so no gradient vector is written or read back.
  // Each layer's W^T delta is taken before its W changes, so it is the step of
  // loss_gradient followed by params -= lr * grad, up to the order of floating-point sums:
  // the update GEMM accumulates r + (-lr) * acc, which is r - lr * acc, but Eigen sums a
  // bias row in an order that depends on the destination's alignment, and splits very deep
  // products (batches over about 128 with one output, or over the blocking depth). For a
  // 16-byte-aligned parameter vector and the batches of timely's models the two agree bit
  // for bit (tests/models/mlp_test.cpp); a user's column of the parameter matrix may start
  // unaligned. Returns the loss before the step.
  Scalar sgd_step(Eigen::Ref<Vector> params, const Eigen::Ref<const Matrix>& x,
                  const Eigen::Ref<const Eigen::VectorXi>& labels, Scalar lr);
  Scalar sgd_step(Eigen::Ref<Vector> params, const Eigen::Ref<const Matrix>& x,
                  const Eigen::Ref<const Matrix>& targets, Scalar lr);

  // ---- the network as a policy over its classes (softmax outputs; SAPO, docs/model.md §4.3) ----
  // log pi(c | x_j) for every class c and column j of x, in double (a stable log-softmax of
  // the float logits, so no probability underflows to a log of -inf), into out (classes x
  // x.cols()). Any number of columns, in chunks of max_batch.
  void log_policy(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x,
                  Eigen::Ref<Eigen::MatrixXd> out);

  // The answers to one batch of questions and what a clipped policy-gradient step needs of
  // them, G answers per question: column j of each matrix belongs to question x_j.
  struct PolicyBatch {
    Eigen::Ref<const Eigen::MatrixXi> answers;        // G x Q, classes
    Eigen::Ref<const Eigen::MatrixXd> old_log_probs;  // G x Q: log pi_old(answer | question)
    Eigen::Ref<const Eigen::MatrixXd> advantages;     // G x Q
  };
  struct PolicyStep {
    double objective;  // the surrogate below, before the step
    std::size_t clipped;  // answers whose gradient the clip cut off
  };
  // One gradient-ascent step on the clipped surrogate of PPO (Schulman et al., arXiv
  // 1707.06347) in GRPO's form (Shao et al., arXiv 2402.03300) without a KL term, with DAPO's
  // asymmetric clip (Yu et al., arXiv 2503.14476):
  //   J = (1/N) sum_{j,i} min(rho_ij A_ij, clip(rho_ij, 1 - clip_low, 1 + clip_high) A_ij),
  //   rho_ij = pi(a_ij | x_j) / pi_old(a_ij | x_j), N = G Q,
  // params += lr * grad J. The gradient of an answer is A rho grad log pi(a | x) where the
  // unclipped term is the minimum, and 0 where the clip binds (A > 0 and rho > 1 + clip_high,
  // or A < 0 and rho < 1 - clip_low). The questions share one forward pass: x has Q <=
  // max_batch columns.
  PolicyStep policy_step(Eigen::Ref<Vector> params, const Eigen::Ref<const Matrix>& x, const PolicyBatch& batch,
                         double clip_low, double clip_high, Scalar lr);

  // Any number of samples (> 0), processed in chunks of max_batch without allocation.
  Evaluation evaluate(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x,
                      const Eigen::Ref<const Eigen::VectorXi>& labels);
  // Mean over samples of 0.5 * ||f(x) - y||^2 (Loss::squared).
  double evaluate_squared(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x,
                          const Eigen::Ref<const Matrix>& targets);

 private:
  using MatrixMap = Eigen::Map<Matrix>;
  using ConstMatrixMap = Eigen::Map<const Matrix>;

  void check(const Eigen::Ref<const Vector>& params, const Eigen::Ref<const Matrix>& x, Loss loss) const;
  // Fills the hidden activations and the output logits for the columns of x; returns the
  // logits (outputs x x.cols()).
  MatrixMap forward(const Scalar* params, const Eigen::Ref<const Matrix>& x);
  // Softmax cross-entropy summed over the batch; if delta_scale != 0, writes
  // delta_scale * (p - onehot) into the output delta.
  double cross_entropy(const MatrixMap& logits, const Eigen::Ref<const Eigen::VectorXi>& labels,
                       Scalar delta_scale, int* correct);
  // Backpropagates the output delta (already in deltas_.back()): into grad (Update =
  // false), or as the update params -= lr * gradient (Update = true, grad unused).
  template <bool Update>
  void backward(Scalar* params, const Eigen::Ref<const Matrix>& x, Scalar* grad, Scalar lr);
  // Forward pass of a training batch (at most max_batch samples) and, if delta, the output
  // delta averaged over the batch (in deltas_.back()); returns the summed loss.
  double output_delta(const Scalar* params, const Eigen::Ref<const Matrix>& x,
                      const Eigen::Ref<const Eigen::VectorXi>& labels, bool delta);
  double output_delta(const Scalar* params, const Eigen::Ref<const Matrix>& x, const Eigen::Ref<const Matrix>& targets,
                      bool delta);

  Layout layout_;
  int max_batch_;
  std::vector<Matrix> activations_;  // one per layer: hidden activations, then the output logits
  std::vector<Matrix> deltas_;       // dLoss/d(pre-activation), one per layer
};

// Population variance of the entries of one tensor (the per-layer weight variance of
// docs/model.md §3.9 and of the variance-corrected mixing rule, §4). Computed in double.
template <class Scalar>
double tensor_variance(const Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>& params,
                       const Tensor& tensor);

// Mean of the entries of one tensor. Computed in double.
template <class Scalar>
double tensor_mean(const Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>& params,
                   const Tensor& tensor);

extern template class Network<float>;
extern template class Network<double>;

}  // namespace timely::models
