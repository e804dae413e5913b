#include "models/dataset.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>
#include <Eigen/Cholesky>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

namespace timely::models {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------
// Synthetic sets

namespace {

void require(bool condition, const char* message) {
  if (!condition) throw std::invalid_argument(message);
}

Eigen::Index as_index(std::size_t n, const char* what) {
  require(n <= static_cast<std::size_t>(std::numeric_limits<int>::max()), what);
  return static_cast<Eigen::Index>(n);
}

// Values are stored as float; drawing in double and rounding once keeps the stream of
// draws independent of the storage type.
float draw_float(boost::random::normal_distribution<double>& normal, Rng& rng) {
  return static_cast<float>(normal(rng));
}

// n samples, one at a time: features x ~ N(0, I) stored as floats, then targets
// clean(x) + N(0, noise_sd^2), with clean evaluated in double on the stored features.
template <class Clean>
Dataset draw_regression_samples(Eigen::Index features, Eigen::Index outputs, Eigen::Index n, double noise_sd,
                                Clean&& clean, boost::random::normal_distribution<double>& normal, Rng& rng) {
  Dataset d;
  d.x.resize(features, n);
  d.targets.resize(outputs, n);
  for (Eigen::Index s = 0; s < n; ++s) {
    for (Eigen::Index i = 0; i < features; ++i) d.x(i, s) = draw_float(normal, rng);
    const Eigen::VectorXd y = clean(d.x.col(s).cast<double>());
    for (Eigen::Index k = 0; k < outputs; ++k) d.targets(k, s) = static_cast<float>(y(k) + noise_sd * normal(rng));
  }
  return d;
}

}  // namespace

Split synthetic_regression(int features, int outputs, std::size_t train_samples, std::size_t test_samples,
                           double noise_sd, Rng& rng) {
  require(features >= 1, "synthetic_regression: features must be >= 1");
  require(outputs >= 1, "synthetic_regression: outputs must be >= 1");
  require(train_samples >= 1, "synthetic_regression: train_samples must be >= 1");
  require(std::isfinite(noise_sd) && noise_sd >= 0.0, "synthetic_regression: noise_sd must be finite and >= 0");
  const Eigen::Index n_train = as_index(train_samples, "synthetic_regression: too many train samples");
  const Eigen::Index n_test = as_index(test_samples, "synthetic_regression: too many test samples");

  boost::random::normal_distribution<double> normal(0.0, 1.0);
  // W* and b* in float, so that the noiseless targets are an exact linear function (up to
  // one rounding) of the stored features and the stored optimum.
  Eigen::MatrixXf w(outputs, features);
  for (Eigen::Index j = 0; j < w.cols(); ++j)
    for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, j) = draw_float(normal, rng);
  Eigen::VectorXf b(outputs);
  for (Eigen::Index i = 0; i < b.size(); ++i) b(i) = draw_float(normal, rng);

  Eigen::VectorXf optimum(w.size() + b.size());
  optimum.head(w.size()) = Eigen::Map<const Eigen::VectorXf>(w.data(), w.size());
  optimum.tail(b.size()) = b;

  const Eigen::MatrixXd wd = w.cast<double>();
  const Eigen::VectorXd bd = b.cast<double>();
  const auto clean = [&](const Eigen::VectorXd& x) -> Eigen::VectorXd { return wd * x + bd; };
  auto draw = [&](Eigen::Index n) {
    Dataset d = draw_regression_samples(features, outputs, n, noise_sd, clean, normal, rng);
    d.optimum = optimum;
    return d;
  };
  Split split;
  split.train = draw(n_train);
  split.test = draw(n_test);
  return split;
}

Split synthetic_teacher_regression(int features, int outputs, int hidden, std::size_t train_samples,
                                   std::size_t test_samples, double noise_sd, Rng& rng) {
  require(features >= 1, "synthetic_teacher_regression: features must be >= 1");
  require(outputs >= 1, "synthetic_teacher_regression: outputs must be >= 1");
  require(hidden >= 1, "synthetic_teacher_regression: hidden must be >= 1");
  require(train_samples >= 1, "synthetic_teacher_regression: train_samples must be >= 1");
  require(std::isfinite(noise_sd) && noise_sd >= 0.0, "synthetic_teacher_regression: noise_sd must be finite and >= 0");
  const Eigen::Index n_train = as_index(train_samples, "synthetic_teacher_regression: too many train samples");
  const Eigen::Index n_test = as_index(test_samples, "synthetic_teacher_regression: too many test samples");

  boost::random::normal_distribution<double> normal(0.0, 1.0);
  const auto draw_matrix = [&](Eigen::Index rows, Eigen::Index cols, double scale) {
    Eigen::MatrixXf m(rows, cols);
    for (Eigen::Index j = 0; j < cols; ++j)
      for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = static_cast<float>(scale * normal(rng));
    return m;
  };
  Teacher teacher;
  teacher.hidden_weights = draw_matrix(hidden, features, teacher_gain / std::sqrt(static_cast<double>(features)));
  teacher.hidden_biases = draw_matrix(hidden, 1, 1.0);
  teacher.output_weights = draw_matrix(outputs, hidden, 1.0 / std::sqrt(static_cast<double>(hidden)));
  teacher.output_biases = draw_matrix(outputs, 1, 1.0);

  // The teacher is evaluated in double from its stored float weights.
  const Eigen::MatrixXd a = teacher.hidden_weights.cast<double>();
  const Eigen::VectorXd a0 = teacher.hidden_biases.cast<double>();
  const Eigen::MatrixXd v = teacher.output_weights.cast<double>();
  const Eigen::VectorXd c = teacher.output_biases.cast<double>();
  const auto clean = [&](const Eigen::VectorXd& x) -> Eigen::VectorXd {
    const Eigen::VectorXd h = (a * x + a0).array().tanh().matrix();
    return v * h + c;
  };
  auto draw = [&](Eigen::Index n) {
    Dataset d = draw_regression_samples(features, outputs, n, noise_sd, clean, normal, rng);
    d.teacher = teacher;
    return d;
  };
  Split split;
  split.train = draw(n_train);
  split.test = draw(n_test);
  return split;
}

Eigen::MatrixXd regression_features(const Dataset& set) {
  const Eigen::Index n = set.x.cols();
  const Eigen::MatrixXd x = set.x.cast<double>();
  Eigen::MatrixXd phi;
  if (set.teacher) {
    const Eigen::MatrixXd a = set.teacher->hidden_weights.cast<double>();
    const Eigen::VectorXd a0 = set.teacher->hidden_biases.cast<double>();
    phi.resize(a.rows() + 1, n);
    phi.topRows(a.rows()) = ((a * x).colwise() + a0).array().tanh().matrix();
  } else {
    phi.resize(x.rows() + 1, n);
    phi.topRows(x.rows()) = x;
  }
  phi.bottomRows(1).setOnes();
  return phi;
}

void spread_regression(Split& split, std::span<const std::vector<std::uint32_t>> shards, double spread, Rng& rng) {
  require(split.train.classes == 0 && split.train.targets.cols() == split.train.x.cols(),
          "spread_regression: needs regression data");
  require(std::isfinite(spread) && spread >= 0.0, "spread_regression: spread must be finite and >= 0");
  require(!shards.empty(), "spread_regression: needs at least one user");
  const Eigen::Index outputs = split.train.targets.rows();
  const Eigen::MatrixXd phi = regression_features(split.train);
  const Eigen::Index k = phi.rows();
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd mean_shift = Eigen::MatrixXd::Zero(outputs, k);
  for (const auto& shard : shards) {
    Eigen::MatrixXd shift(outputs, k);
    for (Eigen::Index j = 0; j < k; ++j)
      for (Eigen::Index i = 0; i < outputs; ++i) shift(i, j) = spread * normal(rng);
    mean_shift += shift;
    for (const std::uint32_t s : shard) {
      const Eigen::VectorXd y = split.train.targets.col(s).cast<double>() + shift * phi.col(s);
      split.train.targets.col(s) = y.cast<float>();
    }
  }
  mean_shift /= static_cast<double>(shards.size());
  if (split.test.size() > 0) {
    const Eigen::MatrixXd y = split.test.targets.cast<double>() + mean_shift * regression_features(split.test);
    split.test.targets = y.cast<float>();
  }
  split.train.optimum.reset();
  split.test.optimum.reset();
}

Eigen::VectorXf global_least_squares(const Dataset& train, std::span<const std::vector<std::uint32_t>> shards) {
  require(train.classes == 0 && train.targets.cols() == train.x.cols(), "global_least_squares: needs regression data");
  const Eigen::Index d = train.x.rows(), outputs = train.targets.rows();
  // Normal equations of the augmented features z = (x, 1): (sum w_s z z^T) theta^T = sum w_s z y^T.
  Eigen::MatrixXd normal = Eigen::MatrixXd::Zero(d + 1, d + 1);
  Eigen::MatrixXd right = Eigen::MatrixXd::Zero(d + 1, outputs);
  for (const auto& shard : shards) {
    require(!shard.empty(), "global_least_squares: every user needs a sample");
    Eigen::MatrixXd z(d + 1, static_cast<Eigen::Index>(shard.size()));
    Eigen::MatrixXd y(outputs, z.cols());
    for (Eigen::Index k = 0; k < z.cols(); ++k) {
      const auto s = static_cast<Eigen::Index>(shard[static_cast<std::size_t>(k)]);
      z.col(k).head(d) = train.x.col(s).cast<double>();
      z(d, k) = 1.0;
      y.col(k) = train.targets.col(s).cast<double>();
    }
    const double weight = 1.0 / static_cast<double>(z.cols());
    normal.selfadjointView<Eigen::Lower>().rankUpdate(z, weight);
    right.noalias() += weight * (z * y.transpose());
  }
  normal.triangularView<Eigen::StrictlyUpper>() = normal.transpose();
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(normal);
  // Singular (e.g. fewer samples than features + 1): a pivot that vanishes against the largest.
  const Eigen::VectorXd pivots = ldlt.vectorD().cwiseAbs();
  require(ldlt.info() == Eigen::Success && pivots.minCoeff() > 1e-12 * pivots.maxCoeff(),
          "global_least_squares: the normal equations are singular (need more samples than features)");
  const Eigen::MatrixXd theta = ldlt.solve(right).transpose();  // outputs x (d + 1): [W, b]
  Eigen::VectorXf optimum(outputs * (d + 1));
  const Eigen::MatrixXf w = theta.leftCols(d).cast<float>();
  optimum.head(w.size()) = Eigen::Map<const Eigen::VectorXf>(w.data(), w.size());
  optimum.tail(outputs) = theta.col(d).cast<float>();
  return optimum;
}

Split synthetic_mixture(int features, int classes, std::size_t train_samples, std::size_t test_samples,
                        double separation, Rng& rng) {
  require(features >= 1, "synthetic_mixture: features must be >= 1");
  require(classes >= 2, "synthetic_mixture: classes must be >= 2");
  require(train_samples >= 1, "synthetic_mixture: train_samples must be >= 1");
  require(std::isfinite(separation) && separation >= 0.0, "synthetic_mixture: separation must be finite and >= 0");
  const Eigen::Index n_train = as_index(train_samples, "synthetic_mixture: too many train samples");
  const Eigen::Index n_test = as_index(test_samples, "synthetic_mixture: too many test samples");

  boost::random::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd means(features, classes);
  for (Eigen::Index c = 0; c < classes; ++c)
    for (Eigen::Index i = 0; i < features; ++i) means(i, c) = separation * normal(rng);

  auto draw = [&](Eigen::Index n) {
    Dataset d;
    d.classes = classes;
    d.labels.resize(n);
    for (Eigen::Index s = 0; s < n; ++s) d.labels(s) = static_cast<int>(s % classes);  // balanced
    shuffle(std::span<int>(d.labels.data(), static_cast<std::size_t>(n)), rng);         // no order structure
    d.x.resize(features, n);
    for (Eigen::Index s = 0; s < n; ++s)
      for (Eigen::Index i = 0; i < features; ++i)
        d.x(i, s) = static_cast<float>(means(i, d.labels(s)) + normal(rng));
    return d;
  };
  Split split;
  split.train = draw(n_train);
  split.test = draw(n_test);
  return split;
}

Split synthetic_arithmetic(int kinds, int modulus, std::size_t train_samples, std::size_t test_samples, Rng& rng) {
  require(kinds >= 1, "synthetic_arithmetic: kinds must be >= 1");
  require(modulus >= 2, "synthetic_arithmetic: modulus must be >= 2");
  require(train_samples >= 1, "synthetic_arithmetic: train_samples must be >= 1");
  const auto m = static_cast<std::uint64_t>(modulus);
  const std::uint64_t features = static_cast<std::uint64_t>(kinds) * m * m;  // no overflow: both are ints
  require(features <= arithmetic_max_features,
          "synthetic_arithmetic: kinds * modulus^2 features must be at most 1000000 (the one-hot questions)");
  const Eigen::Index n_train = as_index(train_samples, "synthetic_arithmetic: too many train samples");
  const Eigen::Index n_test = as_index(test_samples, "synthetic_arithmetic: too many test samples");

  boost::random::uniform_int_distribution<std::uint32_t> kind(0, static_cast<std::uint32_t>(kinds - 1));
  boost::random::uniform_int_distribution<std::uint64_t> operand(0, m - 1);
  auto draw = [&](Eigen::Index n) {
    Dataset d;
    d.classes = modulus;
    d.labels.resize(n);
    d.kinds.resize(static_cast<std::size_t>(n));
    d.x = Eigen::MatrixXf::Zero(static_cast<Eigen::Index>(features), n);
    for (Eigen::Index s = 0; s < n; ++s) {
      const std::uint32_t k = kind(rng);
      const std::uint64_t a = operand(rng);
      const std::uint64_t b = operand(rng);
      d.kinds[static_cast<std::size_t>(s)] = k;
      d.labels(s) = static_cast<int>((a + (k + 1) * b) % m);
      d.x(static_cast<Eigen::Index>((k * m + a) * m + b), s) = 1.0f;
    }
    return d;
  };
  Split split;
  split.train = draw(n_train);
  split.test = draw(n_test);
  return split;
}

// ---------------------------------------------------------------------------------------
// IDX files
//
// The IDX format (LeCun, Cortes & Burges, http://yann.lecun.com/exdb/mnist/): a 4-byte
// big-endian magic number 0x0000TTDD, where TT is the element type (0x08 = unsigned byte) and
// DD the number of dimensions; then DD dimension sizes as big-endian uint32; then the
// elements, last dimension varying fastest. Label files are 0x00000801 [count] followed by
// count bytes; image files are 0x00000803 [count][rows][cols] followed by count*rows*cols
// bytes, each image row-major. Fashion-MNIST ships them gzip-compressed.

namespace {

constexpr std::uint32_t idx_labels_magic = 0x00000801;
constexpr std::uint32_t idx_images_magic = 0x00000803;
// Sanity limits checked before anything sized by the header is allocated.
constexpr std::uint32_t idx_max_items = 10'000'000;
constexpr std::uint32_t idx_max_side = 4096;
constexpr std::size_t idx_chunk = std::size_t{1} << 20;
constexpr std::size_t idx_buffer = std::size_t{1} << 16;
constexpr std::size_t idx_initial_reserve = std::size_t{64} << 20;
constexpr const char* fashion_mnist_package = "dataset-fashion-mnist";

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw DatasetError(path.string() + ": " + what);
}

std::string hex32(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

// One gzip-compressed IDX file. The header is parsed on construction, so that the sizes of
// the image and label files can be compared before either payload is read.
class IdxFile {
 public:
  IdxFile(fs::path path, std::uint32_t magic) : path_(std::move(path)) {
    const char* kind = magic == idx_images_magic ? "image" : "label";
    std::error_code ec;
    const auto status = fs::status(path_, ec);
    if (!fs::exists(status))
      fail(path_, std::string("not found (install the Debian package ") + fashion_mnist_package + ")");
    if (!fs::is_regular_file(status)) fail(path_, "not a regular file");
    file_.open(path_, std::ios::binary);
    if (!file_) fail(path_, std::string("cannot be opened (") + std::strerror(errno) + ")");
    if (fs::file_size(path_, ec) == 0) fail(path_, "empty file (0 bytes)");
    // Larger buffers than Boost's defaults: fewer, larger inflate calls.
    in_.push(boost::iostreams::gzip_decompressor(boost::iostreams::zlib::default_window_bits, idx_buffer), idx_buffer);
    in_.push(file_, idx_buffer);

    const std::uint32_t found = read_u32("the IDX header");
    if (found != magic)
      fail(path_, std::string("not an IDX ") + kind + " file (magic " + hex32(found) + ", expected " + hex32(magic) + ")");
    count_ = read_u32("the IDX header");
    if (magic == idx_images_magic) {
      rows_ = read_u32("the IDX header");
      cols_ = read_u32("the IDX header");
    }
    header_bytes_ = consumed_;
    if (count_ > idx_max_items)
      fail(path_, "header claims " + std::to_string(count_) + " " + kind + "s (more than " +
                      std::to_string(idx_max_items) + ")");
    if (rows_ == 0 || cols_ == 0 || rows_ > idx_max_side || cols_ > idx_max_side)
      fail(path_, "header says images of " + std::to_string(rows_) + "x" + std::to_string(cols_) +
                      " (each side must be 1 to " + std::to_string(idx_max_side) + ")");
    description_ = "header says " + std::to_string(count_) + " " + kind + "s";
    if (magic == idx_images_magic) description_ += " of " + std::to_string(rows_) + "x" + std::to_string(cols_);
  }
  IdxFile(const IdxFile&) = delete;
  IdxFile& operator=(const IdxFile&) = delete;

  const fs::path& path() const { return path_; }
  std::size_t count() const { return count_; }
  std::size_t item_bytes() const { return std::size_t{rows_} * cols_; }

  // The first `items` items (items <= count()), read in chunks: memory grows with the data
  // actually present, so a header that lies about its size cannot force a large allocation.
  std::vector<std::uint8_t> read_items(std::size_t items) {
    const std::size_t wanted = items * item_bytes();  // <= 10^7 * 4096^2 < 2^64
    std::vector<std::uint8_t> data;
    data.reserve(std::min(wanted, idx_initial_reserve));
    while (data.size() < wanted) {
      const std::size_t old = data.size();
      const std::size_t step = std::min(idx_chunk, wanted - old);
      data.resize(old + step);
      const std::size_t got = read(reinterpret_cast<char*>(data.data() + old), step);
      if (got < step)
        fail(path_, description_ + " but the file ends after " + std::to_string(consumed_) + " bytes (expected " +
                        std::to_string(header_bytes_ + wanted) + ", uncompressed)");
    }
    return data;
  }

 private:
  // Reads up to n bytes; fewer only at the end of the data. Throws on I/O or gzip errors.
  std::size_t read(char* destination, std::size_t n) {
    try {
      in_.read(destination, static_cast<std::streamsize>(n));
    } catch (const std::exception& e) {  // only if the stream was set to throw; kept as a guard
      fail(path_, std::string("corrupt gzip data (") + e.what() + ")");
    }
    // The istream catches a decompressor's exception and sets badbit.
    if (in_.bad())
      fail(path_, "not gzip-compressed, or the compressed data is corrupt or cut short (after " +
                      std::to_string(consumed_) + " uncompressed bytes)");
    const auto got = static_cast<std::size_t>(in_.gcount());
    consumed_ += got;
    return got;
  }

  std::uint32_t read_u32(const char* where) {
    std::array<unsigned char, 4> bytes{};
    if (read(reinterpret_cast<char*>(bytes.data()), bytes.size()) < bytes.size())
      fail(path_, "the file ends after " + std::to_string(consumed_) + " bytes, inside " + where);
    return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
           std::uint32_t{bytes[3]};
  }

  fs::path path_;
  std::ifstream file_;
  boost::iostreams::filtering_istream in_;
  std::uint32_t count_ = 0, rows_ = 1, cols_ = 1;
  std::string description_;
  std::uint64_t header_bytes_ = 0;
  std::uint64_t consumed_ = 0;  // uncompressed bytes read so far, header included
};

Dataset load_idx_pair(const fs::path& images_path, const fs::path& labels_path, std::size_t max_items) {
  IdxFile images(images_path, idx_images_magic);
  IdxFile labels(labels_path, idx_labels_magic);
  if (images.count() != labels.count())
    fail(images_path, std::to_string(images.count()) + " images but " + labels_path.string() + " has " +
                          std::to_string(labels.count()) + " labels");
  const std::size_t n = max_items == 0 ? images.count() : std::min(max_items, images.count());

  const std::vector<std::uint8_t> label_bytes = labels.read_items(n);
  Dataset d;
  d.classes = fashion_mnist_classes;
  d.labels.resize(static_cast<Eigen::Index>(n));
  for (std::size_t s = 0; s < n; ++s) {
    if (label_bytes[s] >= fashion_mnist_classes)
      fail(labels_path, "label " + std::to_string(label_bytes[s]) + " of sample " + std::to_string(s) +
                            " is outside [0, " + std::to_string(fashion_mnist_classes) + ")");
    d.labels(static_cast<Eigen::Index>(s)) = label_bytes[s];
  }

  const std::vector<std::uint8_t> pixels = images.read_items(n);
  // Each image is item_bytes() contiguous bytes: exactly one column of a column-major
  // (features x samples) matrix. The pixel order within the column is the file's (row-major).
  using ByteMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;
  const Eigen::Map<const ByteMatrix> raw(pixels.data(), static_cast<Eigen::Index>(images.item_bytes()),
                                         static_cast<Eigen::Index>(n));
  d.x = raw.cast<float>() / 255.0f;
  return d;
}

const std::array<const char*, 4> fashion_mnist_files{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

}  // namespace

Split load_fashion_mnist(const fs::path& dir, std::size_t max_train, std::size_t max_test) {
  Split split;
  split.train = load_idx_pair(dir / fashion_mnist_files[0], dir / fashion_mnist_files[1], max_train);
  split.test = load_idx_pair(dir / fashion_mnist_files[2], dir / fashion_mnist_files[3], max_test);
  if (split.test.features() != split.train.features())
    fail(dir / fashion_mnist_files[2], "images have " + std::to_string(split.test.features()) + " pixels but " +
                                           fashion_mnist_files[0] + " has " + std::to_string(split.train.features()));
  return split;
}

bool fashion_mnist_available(const fs::path& dir) {
  std::error_code ec;
  return std::all_of(fashion_mnist_files.begin(), fashion_mnist_files.end(),
                     [&](const char* name) { return fs::is_regular_file(dir / name, ec); });
}

}  // namespace timely::models
