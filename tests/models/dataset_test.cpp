// Data sets and partitions (models/dataset.hpp, models/partition.hpp).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wrestrict inside Boost's gzip_compressor (std::string::insert).
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include <Eigen/Dense>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "models/dataset.hpp"
#include "models/partition.hpp"
#include "tests/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace timely::models;

namespace {

// Two-sided 99.9% acceptance interval of a chi-squared statistic.
struct ChiSquaredBounds {
  double low, high;
};
ChiSquaredBounds chi_squared_bounds(double degrees_of_freedom) {
  const boost::math::chi_squared law(degrees_of_freedom);
  return {boost::math::quantile(law, 0.0005), boost::math::quantile(law, 0.9995)};
}

// Least squares of targets on [x; 1], in double: returns [W (column-major), b].
Eigen::VectorXd least_squares(const Dataset& d) {
  const Eigen::Index f = d.features(), n = static_cast<Eigen::Index>(d.size());
  Eigen::MatrixXd a(f + 1, n);
  a.topRows(f) = d.x.cast<double>();
  a.row(f).setOnes();
  // theta^T = (A A^T)^{-1} A Y^T, rows of theta = outputs.
  const Eigen::MatrixXd theta = (a * a.transpose()).ldlt().solve(a * d.targets.cast<double>().transpose()).transpose();
  Eigen::VectorXd packed(theta.size());
  packed.head(theta.rows() * f) = Eigen::Map<const Eigen::VectorXd>(theta.leftCols(f).eval().data(), theta.rows() * f);
  packed.tail(theta.rows()) = theta.col(f);
  return packed;
}

double residual_sum_of_squares(const Dataset& d, const Eigen::VectorXd& theta) {
  const Eigen::Index outputs = d.targets.rows(), f = d.features();
  const Eigen::Map<const Eigen::MatrixXd> w(theta.data(), outputs, f);
  const Eigen::MatrixXd prediction = (w * d.x.cast<double>()).colwise() + theta.tail(outputs);
  return (d.targets.cast<double>() - prediction).squaredNorm();
}

std::vector<std::size_t> class_histogram(const Dataset& d) {
  std::vector<std::size_t> counts(static_cast<std::size_t>(d.classes), 0);
  for (Eigen::Index s = 0; s < d.labels.size(); ++s) ++counts.at(static_cast<std::size_t>(d.labels(s)));
  return counts;
}

// --- IDX files written by the test -----------------------------------------------------

void put_u32(std::vector<std::uint8_t>& bytes, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::vector<std::uint8_t> idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                                     const std::vector<std::uint8_t>& pixels, std::uint32_t magic = 0x00000803) {
  std::vector<std::uint8_t> bytes;
  put_u32(bytes, magic);
  put_u32(bytes, count);
  put_u32(bytes, rows);
  put_u32(bytes, cols);
  bytes.insert(bytes.end(), pixels.begin(), pixels.end());
  return bytes;
}

std::vector<std::uint8_t> idx_labels(std::uint32_t count, const std::vector<std::uint8_t>& labels) {
  std::vector<std::uint8_t> bytes;
  put_u32(bytes, 0x00000801);
  put_u32(bytes, count);
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

void write_plain(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream file(path, std::ios::binary);
  boost::iostreams::filtering_ostream out;
  out.push(boost::iostreams::gzip_compressor());
  out.push(file);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A small valid Fashion-MNIST-like directory: `train` images of 3x2 and `test` images.
struct FakeMnist {
  fs::path dir;
  std::vector<std::uint8_t> train_pixels, train_labels, test_pixels, test_labels;

  FakeMnist(const std::string& name, std::uint32_t train = 7, std::uint32_t test = 4) {
    dir = timely::testing::scratch_root("timely_data_test") / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (std::uint32_t k = 0; k < train * 6; ++k) train_pixels.push_back(static_cast<std::uint8_t>((k * 37) % 256));
    for (std::uint32_t k = 0; k < train; ++k) train_labels.push_back(static_cast<std::uint8_t>(k % 10));
    for (std::uint32_t k = 0; k < test * 6; ++k) test_pixels.push_back(static_cast<std::uint8_t>(255 - k));
    for (std::uint32_t k = 0; k < test; ++k) test_labels.push_back(static_cast<std::uint8_t>(9 - k));
    write_gzip(images("train"), idx_images(train, 3, 2, train_pixels));
    write_gzip(labels("train"), idx_labels(train, train_labels));
    write_gzip(images("t10k"), idx_images(test, 3, 2, test_pixels));
    write_gzip(labels("t10k"), idx_labels(test, test_labels));
  }
  ~FakeMnist() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path images(const std::string& set) const { return dir / (set + "-images-idx3-ubyte.gz"); }
  fs::path labels(const std::string& set) const { return dir / (set + "-labels-idx1-ubyte.gz"); }
};

// load_fashion_mnist(dir) must throw a DatasetError whose one-line message names `file` and
// contains `fragment`.
void require_dataset_error(const fs::path& dir, const fs::path& file, const std::string& fragment) {
  try {
    (void)load_fashion_mnist(dir);
    FAIL("no DatasetError; expected one naming " << file << " with \"" << fragment << "\"");
  } catch (const DatasetError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find(file.string()) != std::string::npos);
    CHECK(message.find(fragment) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

// --- partitions ----------------------------------------------------------------------

// Every sample index appears in exactly one shard.
bool covers_each_sample_once(const Partition& p, std::size_t samples) {
  std::vector<int> seen(samples, 0);
  for (const auto& shard : p.shards)
    for (const auto s : shard) {
      if (s >= samples) return false;
      ++seen[s];
    }
  return std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; });
}

std::size_t distinct_labels(const std::vector<std::uint32_t>& shard, const Dataset& d) {
  const auto counts = class_counts(shard, d);
  return static_cast<std::size_t>(std::count_if(counts.begin(), counts.end(), [](std::size_t c) { return c > 0; }));
}

Dataset labelled(std::size_t samples, int classes, std::uint64_t seed) {
  Rng rng(seed);
  return synthetic_mixture(2, classes, samples, 0, 1.0, rng).train;
}

}  // namespace

// --- synthetic regression --------------------------------------------------------------

TEST_CASE("synthetic regression: least squares on noiseless data recovers the stored optimum to 1e-4", "[data]") {
  Rng rng(11);
  const Split split = synthetic_regression(6, 3, 200, 50, 0.0, rng);
  REQUIRE(split.train.size() == 200);
  REQUIRE(split.test.size() == 50);
  REQUIRE(split.train.features() == 6);
  REQUIRE(split.train.targets.rows() == 3);
  REQUIRE(split.train.classes == 0);
  REQUIRE(split.train.labels.size() == 0);
  REQUIRE(split.train.optimum);
  REQUIRE(split.train.optimum->size() == 3 * 6 + 3);
  REQUIRE(split.test.optimum);
  CHECK(*split.test.optimum == *split.train.optimum);

  const Eigen::VectorXd fitted = least_squares(split.train);
  CHECK((fitted - split.train.optimum->cast<double>()).cwiseAbs().maxCoeff() < 1e-4);
  // The test set follows the same law: the optimum fits it exactly too.
  CHECK(residual_sum_of_squares(split.test, split.test.optimum->cast<double>()) < 1e-8 * 50 * 3);
}

TEST_CASE("synthetic regression: residual variance about the optimum is sigma^2 (chi-squared at 0.999)", "[data]") {
  Rng rng(12);
  const double sigma = 0.5;
  const int features = 4, outputs = 2;
  const std::size_t n = 5000;
  const Split split = synthetic_regression(features, outputs, n, 1000, sigma, rng);

  // About the true optimum: RSS / sigma^2 ~ chi^2(n * outputs).
  const double rss_true = residual_sum_of_squares(split.train, split.train.optimum->cast<double>());
  const auto bounds_true = chi_squared_bounds(static_cast<double>(n * outputs));
  INFO("RSS/sigma^2 = " << rss_true / (sigma * sigma) << " in [" << bounds_true.low << ", " << bounds_true.high << "]");
  CHECK(rss_true / (sigma * sigma) > bounds_true.low);
  CHECK(rss_true / (sigma * sigma) < bounds_true.high);

  // About the least-squares fit: chi^2 with outputs * (features + 1) fewer degrees of freedom.
  const double rss_fit = residual_sum_of_squares(split.train, least_squares(split.train));
  const auto bounds_fit = chi_squared_bounds(static_cast<double>(n * outputs - outputs * (features + 1)));
  CHECK(rss_fit / (sigma * sigma) > bounds_fit.low);
  CHECK(rss_fit / (sigma * sigma) < bounds_fit.high);

  // Features are standard normal: sum of squares ~ chi^2(n * features).
  const double x_squares = split.train.x.cast<double>().squaredNorm();
  const auto bounds_x = chi_squared_bounds(static_cast<double>(n * features));
  CHECK(x_squares > bounds_x.low);
  CHECK(x_squares < bounds_x.high);
}

TEST_CASE("synthetic regression: a seed fixes the data, and the features do not depend on the noise level", "[data]") {
  Rng a(5), b(5), c(5);
  const Split first = synthetic_regression(3, 1, 20, 5, 0.1, a);
  const Split again = synthetic_regression(3, 1, 20, 5, 0.1, b);
  const Split noisier = synthetic_regression(3, 1, 20, 5, 2.0, c);
  CHECK(first.train.x == again.train.x);
  CHECK(first.train.targets == again.train.targets);
  CHECK(first.test.x == again.test.x);
  CHECK(first.train.x == noisier.train.x);
  CHECK(first.test.x == noisier.test.x);
  CHECK(*first.train.optimum == *noisier.train.optimum);
  CHECK(first.train.targets != noisier.train.targets);
}

TEST_CASE("synthetic sets reject invalid sizes and noise levels", "[data]") {
  Rng rng(1);
  CHECK_THROWS_AS(synthetic_regression(0, 1, 10, 0, 0.1, rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_regression(2, 0, 10, 0, 0.1, rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_regression(2, 1, 0, 0, 0.1, rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_regression(2, 1, 10, 0, -0.1, rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_regression(2, 1, 10, 0, std::nan(""), rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_mixture(2, 1, 10, 0, 1.0, rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_mixture(0, 2, 10, 0, 1.0, rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_mixture(2, 2, 0, 0, 1.0, rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_mixture(2, 2, 10, 0, -1.0, rng), std::invalid_argument);
}

// --- Gaussian mixture --------------------------------------------------------------------

TEST_CASE("synthetic mixture: classes are balanced to within one sample in train and test", "[data]") {
  Rng rng(21);
  const Split split = synthetic_mixture(5, 7, 1003, 250, 3.0, rng);
  REQUIRE(split.train.size() == 1003);
  REQUIRE(split.test.size() == 250);
  REQUIRE(split.train.classes == 7);
  REQUIRE(split.train.targets.size() == 0);
  REQUIRE_FALSE(split.train.optimum);
  for (const Dataset* d : {&split.train, &split.test}) {
    REQUIRE(d->labels.size() == static_cast<Eigen::Index>(d->size()));
    CHECK(d->labels.minCoeff() >= 0);
    CHECK(d->labels.maxCoeff() < 7);
    const auto counts = class_histogram(*d);
    CHECK(*std::max_element(counts.begin(), counts.end()) - *std::min_element(counts.begin(), counts.end()) <= 1);
  }
  // Random order: the first 7 labels are not simply 0..6 (probability 1/7! for a shuffle).
  bool cyclic = true;
  for (Eigen::Index s = 0; s < 7; ++s) cyclic = cyclic && split.train.labels(s) == s;
  CHECK_FALSE(cyclic);
}

TEST_CASE("synthetic mixture: samples scatter about their class means with unit variance (chi-squared at 0.999)",
          "[data]") {
  Rng rng(22);
  const int features = 8, classes = 5;
  const std::size_t n = 4000;
  const Split split = synthetic_mixture(features, classes, n, 1000, 4.0, rng);
  const Dataset& d = split.train;

  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(features, classes);
  const auto counts = class_histogram(d);
  for (Eigen::Index s = 0; s < d.x.cols(); ++s) means.col(d.labels(s)) += d.x.col(s).cast<double>();
  for (int c = 0; c < classes; ++c) means.col(c) /= static_cast<double>(counts[static_cast<std::size_t>(c)]);

  // Squared deviations from the empirical class means: chi^2(features * (n - classes)).
  double scatter = 0.0;
  for (Eigen::Index s = 0; s < d.x.cols(); ++s) scatter += (d.x.col(s).cast<double>() - means.col(d.labels(s))).squaredNorm();
  const auto bounds = chi_squared_bounds(static_cast<double>(features) * static_cast<double>(n - classes));
  INFO("scatter " << scatter << " in [" << bounds.low << ", " << bounds.high << "]");
  CHECK(scatter > bounds.low);
  CHECK(scatter < bounds.high);

  // Means ~ N(0, 4^2 I_8): pairwise distances are about 4 sqrt(2 * 8) = 16 >> 1, so a test
  // sample lies nearest its own class mean (fixed seed; a sanity check, not a bound).
  std::size_t correct = 0;
  for (Eigen::Index s = 0; s < split.test.x.cols(); ++s) {
    Eigen::Index nearest = 0;
    (means.colwise() - split.test.x.col(s).cast<double>()).colwise().squaredNorm().minCoeff(&nearest);
    correct += nearest == split.test.labels(s) ? 1 : 0;
  }
  CHECK(static_cast<double>(correct) / static_cast<double>(split.test.size()) > 0.99);
}

// --- IDX / Fashion-MNIST -----------------------------------------------------------------

TEST_CASE("IDX: gzip files written by the test are read back exactly, pixels scaled by 1/255", "[data]") {
  const FakeMnist fake("roundtrip");
  REQUIRE(fashion_mnist_available(fake.dir));
  const Split split = load_fashion_mnist(fake.dir);
  REQUIRE(split.train.size() == 7);
  REQUIRE(split.train.features() == 6);
  REQUIRE(split.test.size() == 4);
  REQUIRE(split.train.classes == 10);
  for (Eigen::Index s = 0; s < 7; ++s) {
    CHECK(split.train.labels(s) == fake.train_labels[static_cast<std::size_t>(s)]);
    for (Eigen::Index i = 0; i < 6; ++i)
      CHECK(split.train.x(i, s) == static_cast<float>(fake.train_pixels[static_cast<std::size_t>(s * 6 + i)]) / 255.0f);
  }
  for (Eigen::Index s = 0; s < 4; ++s) {
    CHECK(split.test.labels(s) == fake.test_labels[static_cast<std::size_t>(s)]);
    for (Eigen::Index i = 0; i < 6; ++i)
      CHECK(split.test.x(i, s) == static_cast<float>(fake.test_pixels[static_cast<std::size_t>(s * 6 + i)]) / 255.0f);
  }

  const Split prefix = load_fashion_mnist(fake.dir, 3, 2);
  REQUIRE(prefix.train.size() == 3);
  REQUIRE(prefix.test.size() == 2);
  CHECK(prefix.train.x == split.train.x.leftCols(3));
  CHECK(prefix.test.labels == split.test.labels.head(2));
  CHECK(load_fashion_mnist(fake.dir, 100, 100).train.size() == 7);  // a larger maximum keeps all
}

TEST_CASE("IDX: missing, truncated, malformed or inconsistent files throw a one-line DatasetError naming the file",
          "[data]") {
  SECTION("missing directory names the file and the Debian package") {
    const FakeMnist fake("missing_dir");
    const fs::path gone = fake.dir / "nowhere";
    CHECK_FALSE(fashion_mnist_available(gone));
    require_dataset_error(gone, gone / "train-images-idx3-ubyte.gz", "not found (install the Debian package dataset-fashion-mnist)");
  }
  SECTION("missing label file") {
    const FakeMnist fake("missing_labels");
    fs::remove(fake.labels("t10k"));
    CHECK_FALSE(fashion_mnist_available(fake.dir));
    require_dataset_error(fake.dir, fake.labels("t10k"), "not found");
  }
  SECTION("image data shorter than the header says") {
    const FakeMnist fake("truncated");
    write_gzip(fake.images("train"), idx_images(7, 3, 2, std::vector<std::uint8_t>(20, 1)));
    require_dataset_error(fake.dir, fake.images("train"), "header says 7 images of 3x2 but the file ends after 36 bytes");
  }
  SECTION("file ends inside the header") {
    const FakeMnist fake("short_header");
    write_gzip(fake.labels("train"), {0, 0, 8, 1, 0, 0});
    require_dataset_error(fake.dir, fake.labels("train"), "ends after 6 bytes, inside the IDX header");
  }
  SECTION("empty file") {
    const FakeMnist fake("empty");
    write_plain(fake.images("t10k"), {});
    require_dataset_error(fake.dir, fake.images("t10k"), "empty file");
  }
  SECTION("wrong magic: a label file where images are expected") {
    const FakeMnist fake("magic");
    write_gzip(fake.images("train"), idx_labels(7, fake.train_labels));
    require_dataset_error(fake.dir, fake.images("train"), "not an IDX image file (magic 0x00000801");
  }
  SECTION("header claiming 2^31 images is rejected before any allocation") {
    const FakeMnist fake("huge_count");
    write_gzip(fake.images("train"), idx_images(0x80000000u, 3, 2, fake.train_pixels));
    require_dataset_error(fake.dir, fake.images("train"), "header claims 2147483648 images");
  }
  SECTION("header claiming 2^31 labels") {
    const FakeMnist fake("huge_labels");
    write_gzip(fake.labels("train"), idx_labels(0x80000000u, fake.train_labels));
    require_dataset_error(fake.dir, fake.labels("train"), "header claims 2147483648 labels");
  }
  SECTION("images larger than 4096x4096") {
    const FakeMnist fake("huge_image");
    write_gzip(fake.images("train"), idx_images(7, 5000, 28, fake.train_pixels));
    require_dataset_error(fake.dir, fake.images("train"), "images of 5000x28");
  }
  SECTION("large plausible header but little data: reports the early end") {
    const FakeMnist fake("lying_header");
    write_gzip(fake.images("train"), idx_images(9'000'000, 4096, 4096, std::vector<std::uint8_t>(100, 3)));
    write_gzip(fake.labels("train"), idx_labels(9'000'000, std::vector<std::uint8_t>(9'000'000, 1)));
    require_dataset_error(fake.dir, fake.images("train"), "the file ends after 116 bytes");
  }
  SECTION("image and label counts differ") {
    const FakeMnist fake("mismatch");
    write_gzip(fake.labels("train"), idx_labels(6, std::vector<std::uint8_t>(6, 0)));
    require_dataset_error(fake.dir, fake.images("train"), "7 images but " + fake.labels("train").string() + " has 6 labels");
  }
  SECTION("label outside [0, 10)") {
    const FakeMnist fake("bad_label");
    write_gzip(fake.labels("t10k"), idx_labels(4, {1, 2, 12, 3}));
    require_dataset_error(fake.dir, fake.labels("t10k"), "label 12 of sample 2");
  }
  SECTION("test images of another size than the training images") {
    const FakeMnist fake("other_size");
    write_gzip(fake.images("t10k"), idx_images(4, 2, 2, std::vector<std::uint8_t>(16, 0)));
    require_dataset_error(fake.dir, fake.images("t10k"), "images have 4 pixels");
  }
  SECTION("an uncompressed IDX file is not gzip") {
    const FakeMnist fake("plain");
    write_plain(fake.images("train"), idx_images(7, 3, 2, fake.train_pixels));
    require_dataset_error(fake.dir, fake.images("train"), "gzip");
  }
  SECTION("a gzip stream cut short") {
    const FakeMnist fake("cut_gzip");
    std::vector<std::uint8_t> pixels(6000);
    for (std::size_t k = 0; k < pixels.size(); ++k) pixels[k] = static_cast<std::uint8_t>((k * 7919) % 251);
    write_gzip(fake.images("train"), idx_images(1000, 3, 2, pixels));
    write_gzip(fake.labels("train"), idx_labels(1000, std::vector<std::uint8_t>(1000, 0)));
    fs::resize_file(fake.images("train"), fs::file_size(fake.images("train")) / 2);
    require_dataset_error(fake.dir, fake.images("train"), "");
  }
  SECTION("a directory where a file is expected") {
    const FakeMnist fake("directory");
    fs::remove(fake.images("train"));
    fs::create_directory(fake.images("train"));
    require_dataset_error(fake.dir, fake.images("train"), "not a regular file");
  }
}

TEST_CASE("Fashion-MNIST from the Debian package: 60000 + 10000 images of 784 pixels in [0,1], 10 balanced classes",
          "[data]") {
  if (!fashion_mnist_available()) {
    WARN("Fashion-MNIST not installed in " << fashion_mnist_default_dir << " (Debian package dataset-fashion-mnist); skipped");
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const Split split = load_fashion_mnist();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Speed is measured by the benchmarks, not asserted here (a loaded machine is slower).
  WARN("full Fashion-MNIST load took " << seconds << " s");

  REQUIRE(split.train.size() == 60000);
  REQUIRE(split.test.size() == 10000);
  REQUIRE(split.train.features() == 784);
  REQUIRE(split.test.features() == 784);
  CHECK(split.train.classes == 10);
  for (const Dataset* d : {&split.train, &split.test}) {
    CHECK(d->labels.minCoeff() >= 0);
    CHECK(d->labels.maxCoeff() < 10);
    CHECK(d->x.minCoeff() == 0.0f);
    CHECK(d->x.maxCoeff() == 1.0f);
  }
  // Fashion-MNIST is exactly balanced: 6000 per class in train, 1000 in test.
  for (const auto c : class_histogram(split.train)) CHECK(c == 6000);
  for (const auto c : class_histogram(split.test)) CHECK(c == 1000);

  const Split prefix = load_fashion_mnist(fashion_mnist_default_dir, 500, 100);
  REQUIRE(prefix.train.size() == 500);
  REQUIRE(prefix.test.size() == 100);
  CHECK(prefix.train.x == split.train.x.leftCols(500));
  CHECK(prefix.test.labels == split.test.labels.head(100));
}

// --- partitions ------------------------------------------------------------------------

TEST_CASE("iid partition: shard sizes differ by at most one and every sample is dealt exactly once", "[data]") {
  const Dataset d = labelled(1003, 10, 31);
  Rng rng(32);
  const Partition p = make_partition(d, 10, PartitionKind::iid, 1.0, 1, rng);
  REQUIRE(p.shards.size() == 10);
  CHECK(covers_each_sample_once(p, d.size()));
  const ShardSummary s = summarize(p, d);
  CHECK(s.max_size - s.min_size <= 1);
  CHECK(s.min_size == 100);
  CHECK(s.mean_size == Approx(100.3));
  for (const auto& shard : p.shards) CHECK(std::is_sorted(shard.begin(), shard.end()));

  // Regression data (no labels) may be split IID; every user gets one sample when users = samples.
  Rng data_rng(33);
  const Dataset r = synthetic_regression(2, 1, 40, 0, 0.1, data_rng).train;
  const Partition q = make_partition(r, 40, PartitionKind::iid, 0.0, 0, rng);
  CHECK(covers_each_sample_once(q, 40));
  CHECK(summarize(q, r).max_size == 1);
  CHECK(summarize(q, r).mean_classes_per_user == 0.0);
}

TEST_CASE("dirichlet partition: alpha = 0.1 gives far fewer classes per user than alpha = 100, no user empty",
          "[data]") {
  const Dataset d = labelled(5000, 10, 41);
  Rng rng(42);
  const Partition skewed = make_partition(d, 50, PartitionKind::dirichlet, 0.1, 0, rng);
  const Partition mixed = make_partition(d, 50, PartitionKind::dirichlet, 100.0, 0, rng);
  for (const Partition* p : {&skewed, &mixed}) {
    REQUIRE(p->shards.size() == 50);
    CHECK(covers_each_sample_once(*p, d.size()));
    CHECK(summarize(*p, d).min_size >= 1);
  }
  const double few = summarize(skewed, d).mean_classes_per_user;
  const double many = summarize(mixed, d).mean_classes_per_user;
  INFO("classes per user: alpha 0.1 -> " << few << ", alpha 100 -> " << many);
  // A user's share of a class is Beta(alpha, 49 alpha) (a Dirichlet marginal), and it gets
  // some of the class's 500 samples about when the share exceeds 1/1000. alpha = 100: the
  // share is 1/50 +- 0.14%, so every user sees all 10 classes. alpha = 0.1: expected
  // 10 P(share > 1/1000) = 3.9 classes; the mean over 50 users has a standard deviation of
  // about 0.2 (10 Bernoulli(0.39) per user), so a margin of 1 is about 4.5 of them.
  const double expected_few = 10.0 * (1.0 - boost::math::ibeta(0.1, 4.9, 1.0 / 1000.0));
  CHECK(many > 9.9);
  CHECK(few < 5.0);
  CHECK(few == Approx(expected_few).margin(1.0));
}

TEST_CASE("dirichlet partition: a user left empty by a tiny alpha still gets a sample", "[data]") {
  const Dataset d = labelled(300, 3, 43);
  Rng rng(44);
  const Partition p = make_partition(d, 200, PartitionKind::dirichlet, 0.01, 0, rng);
  CHECK(covers_each_sample_once(p, d.size()));
  CHECK(summarize(p, d).min_size >= 1);
  // users = samples: everyone gets exactly one.
  const Partition all = make_partition(d, 300, PartitionKind::dirichlet, 0.05, 0, rng);
  CHECK(covers_each_sample_once(all, d.size()));
  CHECK(summarize(all, d).max_size == 1);
}

TEST_CASE("shards partition: each user sees at most shards_per_user labels when shards align with classes", "[data]") {
  // 5000 balanced samples over 10 classes, 50 users x 2 shards of 50: no shard straddles a label.
  const Dataset d = labelled(5000, 10, 51);
  Rng rng(52);
  const Partition p = make_partition(d, 50, PartitionKind::shards, 1.0, 2, rng);
  CHECK(covers_each_sample_once(p, d.size()));
  const ShardSummary s = summarize(p, d);
  CHECK(s.min_size == 100);
  CHECK(s.max_size == 100);
  for (const auto& shard : p.shards) CHECK(distinct_labels(shard, d) <= 2);

  // Shards that do not align may straddle two labels: at most 2 per shard.
  const Dataset odd = labelled(997, 7, 53);
  const Partition q = make_partition(odd, 30, PartitionKind::shards, 1.0, 3, rng);
  CHECK(covers_each_sample_once(q, odd.size()));
  CHECK(summarize(q, odd).max_size - summarize(q, odd).min_size <= 3);
  for (const auto& shard : q.shards) CHECK(distinct_labels(shard, odd) <= 6);
  CHECK(summarize(q, odd).mean_classes_per_user < 4.5);
}

TEST_CASE("partitions are fixed by the seed", "[data]") {
  const Dataset d = labelled(500, 5, 61);
  for (const auto kind : {PartitionKind::iid, PartitionKind::dirichlet, PartitionKind::shards}) {
    Rng a(62), b(62);
    CHECK(make_partition(d, 20, kind, 0.5, 2, a).shards == make_partition(d, 20, kind, 0.5, 2, b).shards);
  }
}

TEST_CASE("make_partition rejects invalid arguments", "[data]") {
  const Dataset d = labelled(100, 4, 71);
  Rng data_rng(72);
  const Dataset r = synthetic_regression(2, 1, 100, 0, 0.1, data_rng).train;
  Rng rng(73);
  CHECK_THROWS_AS(make_partition(d, 0, PartitionKind::iid, 1.0, 1, rng), std::invalid_argument);
  CHECK_THROWS_AS(make_partition(d, 101, PartitionKind::iid, 1.0, 1, rng), std::invalid_argument);
  CHECK_THROWS_AS(make_partition(d, 10, PartitionKind::dirichlet, 0.0, 1, rng), std::invalid_argument);
  CHECK_THROWS_AS(make_partition(d, 10, PartitionKind::dirichlet, -1.0, 1, rng), std::invalid_argument);
  CHECK_THROWS_AS(make_partition(d, 10, PartitionKind::dirichlet, std::nan(""), 1, rng), std::invalid_argument);
  CHECK_THROWS_AS(make_partition(d, 10, PartitionKind::shards, 1.0, 0, rng), std::invalid_argument);
  CHECK_THROWS_AS(make_partition(d, 10, PartitionKind::shards, 1.0, 11, rng), std::invalid_argument);
  CHECK_THROWS_AS(make_partition(r, 10, PartitionKind::dirichlet, 1.0, 1, rng), std::invalid_argument);
  CHECK_THROWS_AS(make_partition(r, 10, PartitionKind::shards, 1.0, 1, rng), std::invalid_argument);
  CHECK_NOTHROW(make_partition(d, 10, PartitionKind::shards, 1.0, 10, rng));
  CHECK_NOTHROW(make_partition(r, 10, PartitionKind::iid, 0.0, 0, rng));
}
