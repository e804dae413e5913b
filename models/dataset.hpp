#pragma once
// Data sets users train on (docs/model.md §5): synthetic sets with known answers and
// Fashion-MNIST read from the Debian package dataset-fashion-mnist.
//
// Samples are COLUMNS (features x samples), as in models/mlp.hpp. Depends on nothing of
// timely's.

#include <Eigen/Core>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>
#include <cstdint>

namespace timely::models {

// Boost.Random rather than <random>: Boost's distributions give the same draws on every
// platform and standard library, which bit-identical results need. (Same alias as
// models/mlp.hpp; an identical redeclaration is allowed.)
using Rng = boost::random::mt19937_64;

// A data file that is missing, unreadable, truncated or malformed. The message is one line
// that names the file, e.g. ".../train-images-idx3-ubyte.gz: not found (install the Debian
// package dataset-fashion-mnist)".
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The fixed random teacher network of synthetic_teacher_regression (docs/model.md §5):
// f(x) = v tanh(A x + a) + c, one tanh hidden layer.
struct Teacher {
  Eigen::MatrixXf hidden_weights;  // A: hidden x features
  Eigen::VectorXf hidden_biases;   // a: hidden
  Eigen::MatrixXf output_weights;  // v: outputs x hidden
  Eigen::VectorXf output_biases;   // c: outputs
};

struct Dataset {
  Eigen::MatrixXf x;        // features x samples (one column per sample)
  Eigen::VectorXi labels;   // classification: class of each sample in [0, classes); empty for regression
  Eigen::MatrixXf targets;  // regression: outputs x samples; empty for classification
  int classes = 0;          // 0 for regression
  // Known minimiser theta* (linear regression), laid out as [W (outputs x features,
  // column-major), b (outputs)]: the parameter layout of a network with no hidden layer.
  std::optional<Eigen::VectorXf> optimum;
  // The teacher whose outputs are the regression targets (synthetic_teacher_regression).
  std::optional<Teacher> teacher;
  // synthetic_arithmetic: the task kind of each sample, in [0, kinds), which decides whose
  // shard it may go to (sapo.specialties, docs/model.md §5). Empty for the other sources.
  std::vector<std::uint32_t> kinds;

  std::size_t size() const { return static_cast<std::size_t>(x.cols()); }
  int features() const { return static_cast<int>(x.rows()); }
};

struct Split {
  Dataset train, test;
};

// Linear-Gaussian regression: x ~ N(0, I_features), y = W* x + b* + e, e ~ N(0, noise_sd^2 I),
// with W*, b* ~ N(0, 1) entrywise, drawn first from `rng`. The test set follows the same law.
// optimum = [W*, b*] on both sets. The noise is drawn even when noise_sd = 0, so the same rng
// state gives the same x for every noise level. Throws std::invalid_argument for
// features < 1, outputs < 1, train_samples = 0 or noise_sd < 0 (or not finite).
Split synthetic_regression(int features, int outputs, std::size_t train_samples, std::size_t test_samples,
                           double noise_sd, Rng& rng);

// Teacher-network regression: x ~ N(0, I_features) and y = v tanh(A x + a) + c + e,
// e ~ N(0, noise_sd^2 I), with a fixed random teacher drawn first from `rng`: A (hidden x
// features) ~ N(0, teacher_gain^2 / features), a ~ N(0, 1), v (outputs x hidden) ~ N(0, 1 / hidden)
// and c ~ N(0, 1) entrywise, in that order (each matrix column-major), then the training and
// the test samples as in synthetic_regression. The teacher is kept in both sets; there is no
// `optimum` (the minimiser depends on the student). Throws std::invalid_argument as
// synthetic_regression does, and for hidden < 1.
inline constexpr double teacher_gain = 2.0;
Split synthetic_teacher_regression(int features, int outputs, int hidden, std::size_t train_samples,
                                   std::size_t test_samples, double noise_sd, Rng& rng);

// The features phi(x) that the output layer of the regression law acts on, in double: the
// teacher's hidden activations tanh(A x + a) if the set has a teacher, else x itself; with a
// final 1 for the bias. One column per sample of `set`.
Eigen::MatrixXd regression_features(const Dataset& set);

// Users with their own regression laws (docs/model.md §5): user u's output layer (W*, b*,
// or the teacher's v, c) is shifted by spread * delta_u, delta_u ~ N(0, I) entrywise drawn
// from `rng` for u = 0, 1, ... (each outputs x (k + 1), column-major, the bias column last),
// so its training samples' targets grow by delta_u phi(x). The test targets grow by the
// users' mean shift (1/n) sum_u delta_u phi(x). `shards[u]` lists user u's training samples.
// The sets' `optimum` is dropped (it no longer minimises anything). Throws
// std::invalid_argument for a regression-free split or spread < 0.
void spread_regression(Split& split, std::span<const std::vector<std::uint32_t>> shards, double spread, Rng& rng);

// The exact global optimum of linear least squares over users: the minimiser of
// sum_u (1 / |S_u|) sum_{s in S_u} ||y_s - W x_s - b||^2 / 2, laid out as Dataset::optimum,
// from the normal equations in double (LDLT). With shards of equal size it is the ordinary
// least-squares fit to the union of the training data. Throws std::invalid_argument for
// classification data, an empty shard, or a singular system (fewer samples than
// features + 1).
Eigen::VectorXf global_least_squares(const Dataset& train, std::span<const std::vector<std::uint32_t>> shards);

// Gaussian-mixture classification: class means mu_c ~ N(0, separation^2 I) drawn first, then
// samples x ~ N(mu_c, I). Classes are balanced (counts differ by at most one) and appear in
// random order. Throws std::invalid_argument for features < 1, classes < 2,
// train_samples = 0 or separation < 0 (or not finite).
Split synthetic_mixture(int features, int classes, std::size_t train_samples, std::size_t test_samples,
                        double separation, Rng& rng);

// Modular arithmetic, SAPO's synthetic task family (docs/model.md §5): a question is
// (k, a, b), kind k uniform in [0, kinds) and a, b uniform in [0, modulus), drawn in that order
// per sample, the training samples then the test samples; its answer (the label) is
// (a + (k + 1) b) mod modulus, so the kinds are different tasks. The features are the one-hot
// code of the question's index (k modulus + a) modulus + b: kinds * modulus^2 features and
// `modulus` classes, and Dataset::kinds holds each sample's k.
// Tabular on purpose: a logistic model (a softmax over the answers) can represent every
// answer exactly, so what is measured is how the users find the answers, with sparse 0/1
// rewards (a random policy is right with probability 1 / modulus), not what a model can fit.
// Throws std::invalid_argument for kinds < 1, modulus < 2, train_samples = 0 or more than
// arithmetic_max_features features.
inline constexpr std::size_t arithmetic_max_features = 1'000'000;
Split synthetic_arithmetic(int kinds, int modulus, std::size_t train_samples, std::size_t test_samples, Rng& rng);

inline const std::filesystem::path fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

// Fashion-MNIST's shape (its files are checked against the classes on load; the features
// are the images' pixels, 28 x 28): for estimates made before the files are read.
inline constexpr int fashion_mnist_features = 784;
inline constexpr int fashion_mnist_classes = 10;
inline constexpr std::size_t fashion_mnist_test_samples = 10000;  // the t10k files

// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) from dir/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
// Pixels scaled to [0, 1] (x / 255), 784 features, 10 classes. max_train / max_test keep only
// the first samples (0 = all); then only that prefix of each file is read and checked.
// Throws DatasetError (one line naming the file) for missing, unreadable, truncated or
// malformed files, label/image count mismatches and labels outside [0, 10).
Split load_fashion_mnist(const std::filesystem::path& dir = fashion_mnist_default_dir, std::size_t max_train = 0,
                         std::size_t max_test = 0);

// True if the four Fashion-MNIST files exist in `dir` (their content is checked only on load).
bool fashion_mnist_available(const std::filesystem::path& dir = fashion_mnist_default_dir);

// Fisher-Yates with Boost's uniform_int_distribution: std::shuffle's algorithm is left to the
// standard library, so it would not give the same order on every platform.
template <class T>
void shuffle(std::span<T> items, Rng& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
    using std::swap;
    swap(items[i - 1], items[pick(rng)]);
  }
}

}  // namespace timely::models
