#pragma once
// Data sets users train on (docs/model.md §5): synthetic sets with known answers and
// Fashion-MNIST read from the Debian package dataset-fashion-mnist.
//
// Samples are COLUMNS (features x samples), as in models/network.hpp. Depends on nothing of
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

namespace timely::models {

// Boost.Random rather than <random>: Boost's distributions give the same draws on every
// platform and standard library, which bit-identical results need. (Same alias as
// models/network.hpp; an identical redeclaration is allowed.)
using Rng = boost::random::mt19937_64;

// A data file that is missing, unreadable, truncated or malformed. The message is one line
// that names the file, e.g. ".../train-images-idx3-ubyte.gz: not found (install the Debian
// package dataset-fashion-mnist)".
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Dataset {
  Eigen::MatrixXf x;        // features x samples (one column per sample)
  Eigen::VectorXi labels;   // classification: class of each sample in [0, classes); empty for regression
  Eigen::MatrixXf targets;  // regression: outputs x samples; empty for classification
  int classes = 0;          // 0 for regression
  // Known minimiser theta* (linear regression), laid out as [W (outputs x features,
  // column-major), b (outputs)]: the parameter layout of a network with no hidden layer.
  std::optional<Eigen::VectorXf> optimum;

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

// Gaussian-mixture classification: class means mu_c ~ N(0, separation^2 I) drawn first, then
// samples x ~ N(mu_c, I). Classes are balanced (counts differ by at most one) and appear in
// random order. Throws std::invalid_argument for features < 1, classes < 2,
// train_samples = 0 or separation < 0 (or not finite).
Split synthetic_mixture(int features, int classes, std::size_t train_samples, std::size_t test_samples,
                        double separation, Rng& rng);

inline const std::filesystem::path fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

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
